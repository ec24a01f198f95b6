"""The package's layers: each imports only the layers before it, and no module
imports itself back through others (no cycles).

    core -> language -> calculus -> checks -> networks -> derivations -> rendering -> integrations

The one arrow against the order is ``checks/result.py`` importing the
renderers lazily, inside ``Result._repr_latex_`` / ``_repr_markdown_`` / ``_repr_html_``: that is
how Jupyter asks an object for its display.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "symbolic_bp"
LAYERS = ("core", "language", "calculus", "checks", "networks", "derivations", "rendering", "integrations")
ALLOWED_UPWARD = {("symbolic_bp.checks.result", "rendering")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The symbolic_bp modules ``path`` imports, at any depth of the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("symbolic_bp"):
                # ``from . import x`` imports the module x
                out |= {f"{target}.{a.name}" if (PACKAGE.parent / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                        else target for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("symbolic_bp")}
    return out


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_is_in_a_layer():
    loose = sorted(m for m in GRAPH if layer(m) < 0 and m not in
                   ("symbolic_bp", "symbolic_bp.__main__", "symbolic_bp.errors"))
    assert loose == []


def test_no_layer_imports_a_later_one():
    upward = sorted((m, t) for m, targets in GRAPH.items() for t in targets
                    if layer(m) >= 0 and layer(t) > layer(m) and (m, LAYERS[layer(t)]) not in ALLOWED_UPWARD)
    assert upward == []


def test_the_base_modules_import_no_layer():
    assert GRAPH["symbolic_bp.errors"] == set()


def test_no_import_cycles():
    graph = {m: {t for t in ts if t in GRAPH and (m, LAYERS[layer(t)] if layer(t) >= 0 else "") not in ALLOWED_UPWARD}
             for m, ts in GRAPH.items() if m != "symbolic_bp"}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append(path[path.index(t):] + [t] if t in path else [m, t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_checker_can_fail_on_a_cycle(monkeypatch):
    # the cycle search itself must be able to fail
    monkeypatch.setitem(GRAPH, "symbolic_bp.core.dims", GRAPH["symbolic_bp.core.dims"] | {"symbolic_bp.core.registry"})
    monkeypatch.setitem(GRAPH, "symbolic_bp.core.registry", GRAPH["symbolic_bp.core.registry"] | {"symbolic_bp.core.dims"})
    try:
        test_no_import_cycles()
    except AssertionError:
        return
    raise AssertionError("a planted cycle went unnoticed")
