"""symbolic_bp: verify hand-derived backpropagation gradients.

>>> from symbolic_bp import Claim, check
>>> check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T")).verdict
'verified'
"""
from .checker import check
from .claim import Claim
from .errors import InputError
from .result import Counterexample, Evidence, Result

__all__ = ["Claim", "Counterexample", "Evidence", "InputError", "Result", "check"]
__version__ = "0.1.0"
