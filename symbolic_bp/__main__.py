"""``python -m symbolic_bp``"""
import sys

from .cli import main

sys.exit(main())
