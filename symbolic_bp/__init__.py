"""symbolic_bp: verify hand-derived backpropagation gradients.

>>> from symbolic_bp import Claim, check
>>> check(Claim(shapes="A:m,n x:n y:m", cost="y.T @ A @ x", wrt="A", claim="y @ x.T")).verdict
'verified'

Names are imported on first use, so that importing a light part of the
package (the pytest plugin, the derivation-file reader) does not pay for
SymPy and NumPy.

In a notebook, ``%load_ext symbolic_bp`` registers the ``%%bp`` cell magic
(:mod:`symbolic_bp.integrations.notebook`).
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "check": "checks.checker", "Claim": "checks.claim", "InputError": "errors",
    "Result": "checks.result", "Evidence": "checks.result", "Counterexample": "checks.result",
}
__all__ = sorted(_EXPORTS)


def load_ipython_extension(ipython) -> None:
    """``%load_ext symbolic_bp``: register the ``%%bp`` cell magic (IPython is
    imported here, on use, never when the package is imported)."""
    from .integrations.notebook import load_ipython_extension as load
    load(ipython)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
