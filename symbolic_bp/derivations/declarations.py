"""The side file of declarations: ``notes.symbolic-bp.toml`` next to ``notes.md``.

What a document leaves unsaid and ``symbolic-bp extract`` needs -- the shapes,
which function names are the sigmoid (tanh, relu ...), the cost's name, a
row-vector layout, a definition written in prose -- is declared here and
picked up by the next run::

    cost = "L"                            # or ["L", "J"]
    layout = "row"                        # vectors are rows (default "column")
    shapes = "x:1,n W:n,m b:1,m"          # as --shapes of check
    [functions]
    sigma = "sigmoid"                     # or "function": any differentiable one
    [definitions]
    L = '\\frac{1}{2} \\Vert W x - y \\Vert^2'   # LaTeX, as in the document

A key it does not know, or a value of the wrong kind, is a one-line error
naming the file and the key.

>>> d = loads('cost = "L"\\nshapes = "x:1,n W:n,m"\\n[functions]\\nsigma = "sigmoid"', "n.symbolic-bp.toml")
>>> d.costs, d.shapes, d.functions, d.layout
(('L',), {'x': '1,n', 'W': 'n,m'}, {'sigma': 'sigmoid'}, 'column')
>>> loads('colour = "red"', "n.symbolic-bp.toml")
Traceback (most recent call last):
symbolic_bp.errors.InputError: n.symbolic-bp.toml: unknown key 'colour' (known: cost, definitions, functions, layout, shapes)
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core import registry
from ..errors import InputError

SUFFIX = ".symbolic-bp.toml"
KEYS = ("cost", "definitions", "functions", "layout", "shapes")
LAYOUTS = ("column", "row")


@dataclass(frozen=True)
class Declarations:
    """What a side file declares (empty: nothing)."""

    path: str = ""
    costs: tuple[str, ...] = ()
    layout: str = "column"
    shapes: dict[str, str] = field(default_factory=dict)        # name -> "n,m", "scalar", "1,n" ...
    functions: dict[str, str] = field(default_factory=dict)     # sigma -> sigmoid ("function": opaque)
    definitions: dict[str, str] = field(default_factory=dict)   # name -> LaTeX
    layout_said: bool = False         # the side file has the layout key (prose then does not decide it)
    layout_from: str = ""             # the document's words the layout was read from, if any


def side_file(document: str | Path) -> Path:
    """Where the side file of ``document`` is: ``notes.md`` -> ``notes.symbolic-bp.toml``.

    >>> side_file("docs/notes.md").as_posix()
    'docs/notes.symbolic-bp.toml'
    """
    p = Path(document)
    return p.with_name(p.stem + SUFFIX)


def _string(value, path: str, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path}: {key}: expected a string, found {type(value).__name__}")
    return value


def _table(value, path: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"{path}: {key}: expected a table [{key}], found {type(value).__name__}")
    return value


def loads(text: str, path: str) -> Declarations:
    """The declarations of a side file's text (InputError naming the file and key)."""
    from ..language.shapes import parse_declarations
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not TOML: {e}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    cost = data.get("cost", ())
    costs = (cost,) if isinstance(cost, str) else cost
    if not isinstance(costs, (list, tuple)) or not all(isinstance(c, str) and c for c in costs):
        raise InputError(f"{path}: cost: expected a name or a list of names")
    layout = _string(data.get("layout", ""), path, "layout") or ""
    if layout and layout not in LAYOUTS:
        raise InputError(f"{path}: layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
    shapes: dict[str, str] = {}
    text_shapes = _string(data.get("shapes", ""), path, "shapes")
    if text_shapes.strip():
        try:
            parse_declarations(text_shapes)
        except InputError as e:
            raise InputError(f"{path}: shapes: {e}") from None
        for part in text_shapes.split():
            name, _, rest = part.partition(":")
            shapes[name] = rest
    functions = {}
    for name, value in _table(data.get("functions", {}), path, "functions").items():
        value = _string(value, path, f"functions.{name}")
        if value != "function" and registry.elementwise(value) is None:
            raise InputError(f"{path}: functions.{name}: {value!r} is not an elementwise function "
                             "(sigmoid, tanh, relu, softplus ... or \"function\")")
        functions[name] = value
    definitions = {name: _string(v, path, f"definitions.{name}")
                   for name, v in _table(data.get("definitions", {}), path, "definitions").items()}
    return Declarations(path, tuple(costs), layout or "column", shapes, functions, definitions, bool(layout))


def load_for(document: str | Path) -> Declarations:
    """The side file next to ``document`` if there is one, else no declarations."""
    p = side_file(document)
    if not p.is_file():
        return Declarations()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    return loads(text, str(p))
