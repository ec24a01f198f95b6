"""Modules imported on first use, so that the registry's entries can be
declared -- and the parser and the type pass can read their names, arities
and shape rules -- without loading SymPy and NumPy.

>>> import sys
>>> space = {}
>>> space["fr"] = LazyModule("fractions", space, "fr")
>>> space["fr"].Fraction(1, 2), space["fr"] is sys.modules["fractions"]
(Fraction(1, 2), True)
"""
from __future__ import annotations

import importlib


class LazyModule:
    """``np = LazyModule("numpy", globals(), "np")``: the module is imported on
    the first attribute access, and the global ``np`` then names the module
    itself (no cost per access afterwards)."""

    def __init__(self, module: str, namespace: dict, name: str):
        self._module, self._namespace, self._name = module, namespace, name

    def __getattr__(self, attr: str):
        if attr.startswith("__"):                  # copy, pickle, doctest finders: not a use
            raise AttributeError(attr)
        module = importlib.import_module(self._module)
        self._namespace[self._name] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._module!r}, imported on first use>"
