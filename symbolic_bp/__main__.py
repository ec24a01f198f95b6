"""``python -m symbolic_bp``"""
import sys

from .integrations.cli import main

sys.exit(main())
