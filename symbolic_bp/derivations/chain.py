"""Derivation chains: a derivation checked line by line.

People make their mistakes in the middle lines, so a chain states every
line of a derivation with its relation to an earlier line, and each line is
checked against that line with the same engine as a gradient claim (exact
and numeric checks, counterexample, diagnosis):

==================  ==============================================================
relation            the line ...
==================  ==============================================================
``=``               equals the previous line (:func:`~symbolic_bp.checks.identity.check_equal`)
``up-to-constant``  equals it up to an additive term that does not depend on the
                    variables listed in ``in`` (the post drops yᵀy this way) --
                    never a silent ``=``
``gradient``        is the gradient, with respect to ``wrt``, of the latest line
                    that is not a gradient (``C = … ⇒ ∂C/∂X = …``)
``candidate``       is a guess the source tries and discards: checked (as a
                    gradient when ``wrt`` is given, else as ``=``) and reported,
                    but the next line is compared with the line before it
``reading``         is the other reading of an ambiguous line (the chain follows
                    the chosen one): checked like a candidate, reported as such
==================  ==============================================================

Displayed lines that the claim language cannot state (operator notation
such as ``\\frac{\\delta}{\\delta A}(\\ldots)`` left unevaluated) are listed
under ``[[chain.unchecked]]`` with the reason, never silently dropped.

Definitions (``D = W23 @ W12``, ``u = W01 @ x0``) are listed with the chain
and substituted into every line before it is checked, so that a gradient
with respect to W01 sees through ``x3``.  In a derivation file::

    [[chain]]
    name = "dW01"
    shapes = "W01:h,n W12:p,h x0:n y:p"
    start = "(x2 - y).T @ (x2 - y) / 2"
    latex = 'C = \\frac{(x_2-y)^T(x_2-y)}{2}'
    expect = "verified"          # of the chain as a whole

    [[chain.define]]
    name = "x2"
    expr = "W12 @ W01 @ x0"

    [[step]]                     # belongs to the [[chain]] above it
    relation = "gradient"
    wrt = "W01"
    expr = "W12.T @ (x2 - y) @ x0.T"
    latex = '\\frac{\\delta C}{\\delta W_{01}} = W_{12}^T(x_2-y)x_0^T'

The report shows one row per line (named ``chain/1``, ``chain/2``, ... unless
named) and one row for the chain, which names the first wrong line, and says
which later lines hold given the lines before them.

>>> text = '''title = "t"
... shapes = "x:n y:n"
... [[chain]]
... name = "c"
... start = "(x - y).T @ (x - y)"
... expect = "refuted"
... [[step]]
... relation = "="
... expr = "x.T @ x - 2 * y.T @ x"
... expect = "refuted"
... [[step]]
... relation = "gradient"
... wrt = "x"
... expr = "2 * x - 2 * y"
... '''
>>> from symbolic_bp.derivations.derivation import loads
>>> d = loads(text, "t.toml")
>>> [e.name for e in d.entries]
['c', 'c/1', 'c/2']
>>> [e.run(60, 0).verdict for e in d.entries[1:]]
['refuted', 'verified']
>>> d.entries[0].run(60, 0).diagnosis.split(";")[0]
'line 1 of 2 is the first wrong line'
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from ..checks.checker import check
from ..checks.claim import Claim
from .derivation import Context, Entry, check_keys, common_fields, header_lines
from ..errors import InputError
from ..core.expression import Node, Sym
from ..core.expression import substitute as substitute_nodes
from ..checks.identity import check_equal, check_up_to_constant
from ..language.parser import parse
from ..language.printer import to_text
from ..checks.result import Evidence, Result
from ..language.shapes import parse_declarations

CHAIN_KEYS = {"name": True, "start": True, "latex": False, "shapes": False, "section": False, "expect": False,
              "note": False, "define": False, "unchecked": False}
UNCHECKED_KEYS = {"latex": True, "reason": True}
DEFINE_KEYS = {"name": True, "expr": True, "latex": False, "note": False}
STEP_KEYS = {"relation": True, "expr": True, "wrt": False, "in": False, "from": False, "name": False,
             "latex": False, "section": False, "expect": False, "note": False}
RELATIONS = ("=", "up-to-constant", "gradient", "candidate", "reading")
_WORD = {"=": "=", "up-to-constant": "= (up to a constant)", "gradient": "gradient", "candidate": "candidate",
         "reading": "other reading"}
ASIDE = ("candidate", "reading")        # checked and reported, but the chain goes on without them
_WRONG = ("refuted", "invalid")


@dataclass(frozen=True)
class Definition:
    """``name = expr``; ``text`` has the earlier definitions substituted."""

    name: str
    expr: str
    text: str
    latex: str = ""


@dataclass(frozen=True)
class Step:
    """One line of a chain and what it is checked against."""

    index: int                   # 1-based; line 0 is the chain's start
    relation: str
    expr: str                    # as written in the file
    text: str                    # definitions substituted
    previous: int                # the line it is compared with
    cost: int                    # the line whose gradient it claims (relation gradient)
    wrt: str = ""
    variables: tuple[str, ...] = ()


@dataclass(eq=False)
class Chain:
    """A parsed chain; it remembers the results of its lines per (budget, seed)."""

    path: str
    name: str
    shapes: str
    start: str                   # as written
    start_text: str              # definitions substituted
    definitions: tuple[Definition, ...]
    unchecked: tuple[tuple[str, str], ...] = ()     # (latex, why it cannot be stated), recorded honestly
    steps: list[Step] = field(default_factory=list)
    results: dict = field(default_factory=dict)

    def text(self, index: int) -> str:
        return self.start_text if index == 0 else self.steps[index - 1].text

    def check_line(self, index: int, seconds: float, seed: int) -> Result:
        """The verdict on line ``index`` (1-based), computed once."""
        key = (index, seconds, seed)
        if key not in self.results:
            step = self.steps[index - 1]
            result = _CHECKS[_relation_of(step)](self, step, seconds, seed)
            if result.verdict == "invalid" and step.text != step.expr:
                result.error += f" (the line with the definitions substituted: {step.text[:300]})"
            self.results[key] = result
        return self.results[key]

    def summary(self, seconds: float, seed: int) -> Result:
        """The chain as a whole: verified when every line that is not a
        discarded candidate holds; otherwise the verdict, counterexample and
        diagnosis of its first wrong line."""
        results = [self.check_line(s.index, seconds, seed) for s in self.steps]
        lines = [(s, r) for s, r in zip(self.steps, results) if s.relation not in ASIDE]
        wrong = [s.index for s, r in lines if r.verdict in _WRONG]
        evidence = [Evidence(f"line {s.index}", r.verdict, f"{_WORD[s.relation]} {s.expr}")
                    for s, r in zip(self.steps, results)]
        tail = ""
        for relation, label in (("candidate", "discarded candidates"), ("reading", "other readings")):
            aside = [(s.index, r.verdict) for s, r in zip(self.steps, results) if s.relation == relation]
            if aside:
                tail += f"; {label}: " + ", ".join(f"line {i} {v}" for i, v in aside)
        if not wrong:
            undecided = [s.index for s, r in lines if r.verdict != "verified"]
            verdict = "undecided" if undecided else "verified"
            out = Result(verdict, self.name, evidence=_aggregate(results, "agree") + evidence)
            out.derived = f"all {len(lines)} lines hold" + tail if verdict == "verified" else None
            if undecided:
                out.error = f"lines {', '.join(map(str, undecided))} could not be decided" + tail
            return out
        first = wrong[0]
        r = results[first - 1]
        after = [s.index for s, _ in lines if s.index > first]
        held = [i for i in after if results[i - 1].verdict == "verified"]
        also = [i for i in after if i in wrong]
        text = f"line {first} of {len(self.steps)} is the first wrong line"
        if after:
            text += (f"; after it, {_lines(held) or 'no line'} hold{'s' if len(held) == 1 else ''} "
                     "(each follows from the line it is compared with)")
            if also:
                text += f" and {_lines(also)} {'is' if len(also) == 1 else 'are'} wrong too"
        out = Result(r.verdict, self.steps[first - 1].expr, derived=r.derived,
                     evidence=_aggregate([r], None) + evidence, counterexample=r.counterexample,
                     suggestion=r.suggestion)
        out.diagnosis = f"{text}: {r.diagnosis or r.error}{tail}"
        if r.verdict == "invalid":
            out.error = f"line {first}: {r.error}"
        return out


def _lines(indices: list[int]) -> str:
    if not indices:
        return ""
    return ("line " if len(indices) == 1 else "lines ") + ", ".join(map(str, indices))


def _aggregate(results: list[Result], outcome: str | None) -> list[Evidence]:
    """exact and numeric evidence of the chain: the first wrong line's, or a count."""
    if outcome is None:
        return [e for e in results[0].evidence if e.method in ("exact", "numeric")]
    return [Evidence(m, outcome, f"{len(results)} lines, each by the {m} check") for m in ("exact", "numeric")
            if results and all(m in r.methods for r in results)]


def _relation_of(step: Step) -> str:
    if step.relation in ASIDE:
        return "gradient" if step.wrt else "="
    return step.relation


def _equal(chain: Chain, step: Step, seconds: float, seed: int) -> Result:
    return check_equal(chain.shapes, chain.text(step.previous), step.text, seconds=seconds, seed=seed)


def _up_to_constant(chain: Chain, step: Step, seconds: float, seed: int) -> Result:
    return check_up_to_constant(chain.shapes, chain.text(step.previous), step.text, list(step.variables),
                                seconds=seconds, seed=seed)


def _gradient(chain: Chain, step: Step, seconds: float, seed: int) -> Result:
    return check(Claim(chain.shapes, chain.text(step.cost), step.wrt, step.text), seconds=seconds, seed=seed)


# relation -> check(chain, step, seconds, seed) -> Result
_CHECKS = {"=": _equal, "up-to-constant": _up_to_constant, "gradient": _gradient}


def substitute(text: str, definitions: dict[str, Node]) -> str:
    """``text`` with every defined name replaced by its definition.

    >>> substitute("W23 @ D @ x", {"D": parse("W12 @ W01")})
    'W23 @ (W12 @ W01) @ x'

    Text that does not parse is returned as is: the check then reports the
    parse error with its column."""
    try:
        tree = parse(text)
    except InputError:
        return text
    return to_text(_replace(tree, definitions))


def _replace(node: Node, definitions: dict[str, Node]) -> Node:
    """``node`` with each defined name replaced by its definition (as it is)."""
    return substitute_nodes(node, lambda n: definitions.get(n.name) if isinstance(n, Sym) else None)


# -- reading [[chain]] and [[step]] tables -----------------------------------------------

@dataclass(frozen=True)
class ChainEntry(Entry):
    """The [[chain]] row of a report: the verdict on the chain as a whole."""

    chain: Chain | None = field(default=None, compare=False)
    kind = "chain"

    @property
    def group(self) -> str:
        return self.name

    def run(self, seconds: float, seed: int) -> Result:
        """All lines, then the summary (see :meth:`Chain.summary`)."""
        return self.chain.summary(seconds, seed)

    def statement(self) -> str:
        unchecked = f" ({len(self.chain.unchecked)} more not checkable, listed)" if self.chain.unchecked else ""
        return f"chain of {len(self.chain.steps)} lines from {self.chain.start}{unchecked}"

    def fields(self) -> dict:
        return {"shapes": self.chain.shapes, "start": self.chain.start, "lines": len(self.chain.steps),
                "definitions": {d.name: d.expr for d in self.chain.definitions},
                "unchecked": [{"latex": l, "reason": r} for l, r in self.chain.unchecked]}


@dataclass(frozen=True)
class StepEntry(Entry):
    """One line of a chain, checked against the line it names."""

    chain: Chain | None = field(default=None, compare=False)
    index: int = 0
    kind = "step"

    @property
    def step(self) -> Step:
        return self.chain.steps[self.index - 1]

    @property
    def group(self) -> str:
        return self.chain.name

    def run(self, seconds: float, seed: int) -> Result:
        return self.chain.check_line(self.index, seconds, seed)

    def statement(self) -> str:
        s = self.step
        if _relation_of(s) == "gradient":
            text = f"dC/d{s.wrt} = {s.expr}   for C = line {s.cost}"
        elif s.relation == "up-to-constant":
            text = f"line {s.previous} = {s.expr}   up to a term constant in {', '.join(s.variables)}"
        else:
            text = f"line {s.previous} = {s.expr}"
        prefix = {"candidate": "candidate (discarded by the source): ", "reading": "other reading: "}
        return prefix.get(s.relation, "") + text

    def fields(self) -> dict:
        s = self.step
        return {"shapes": self.chain.shapes, "chain": self.chain.name, "line": s.index, "relation": s.relation,
                "expr": s.expr, "substituted": s.text, "compared_with": s.cost if _relation_of(s) == "gradient"
                else s.previous, "wrt": s.wrt or None, "variables": list(s.variables)}


def _keys(table: dict, spec: dict, where: str) -> None:
    # define, from and unchecked hold tables or numbers, not strings
    check_keys(table, spec, where, nested=("define", "from", "unchecked"))


@lru_cache(maxsize=32)
def _read(path: str, text: str, shapes: str) -> tuple[tuple, tuple]:
    """(chains, steps): every chain of the file and, per [[step]], (chain, index)."""
    data = tomllib.loads(text)      # derivation.loads has parsed it already: no error here
    chain_lines, step_lines = header_lines(text, "chain"), header_lines(text, "step")
    chains = [_chain(t, path, chain_lines[i] if i < len(chain_lines) else 0, shapes)
              for i, t in enumerate(data.get("chain", []))]
    steps = []
    for i, table in enumerate(data.get("step", [])):
        line = step_lines[i] if i < len(step_lines) else 0
        owner = sum(1 for c in chain_lines if c < line) - 1
        if owner < 0:
            raise InputError(f"{path}:{line}: a [[step]] must follow the [[chain]] it belongs to")
        chain = chains[owner]
        chain.steps.append(read_step(table, chain, f"{path}:{line}"))
        steps.append((owner, len(chain.steps)))
    for c, line in zip(chains, chain_lines):
        if not c.steps:
            raise InputError(f"{path}:{line}: chain {c.name!r} has no [[step]] lines")
    return tuple(chains), tuple(steps)


def _chain(table: dict, path: str, line: int, default_shapes: str) -> Chain:
    where = f"{path}:{line}"
    _keys(table, CHAIN_KEYS, where)
    shapes = table.get("shapes", default_shapes)
    if not shapes:
        raise InputError(f"{where}: chain {table['name']!r} has no 'shapes' and the file gives no default")
    try:
        declared = parse_declarations(shapes).symbols
    except InputError as e:
        raise InputError(f"{where}: shapes: {e}") from None
    raw = table.get("define", [])
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise InputError(f"{where}: 'define' must be [[chain.define]] tables")
    trees: dict[str, Node] = {}
    for d in raw:
        _keys(d, DEFINE_KEYS, f"{where}: define")
        name = d["name"].strip()
        if name in declared or name in trees:
            raise InputError(f"{where}: define {name!r}: the name is already "
                             f"{'declared in shapes' if name in declared else 'defined'}")
        try:
            if not isinstance(parse(name), Sym):
                raise InputError("not a name")
            trees[name] = parse(d["expr"])
        except InputError as e:
            raise InputError(f"{where}: define {name!r}: {e}") from None
    defined = _resolve(trees, where)
    definitions = [Definition(d["name"].strip(), d["expr"], to_text(defined[d["name"].strip()]), d.get("latex", ""))
                   for d in raw]
    unchecked = table.get("unchecked", [])
    if not isinstance(unchecked, list) or not all(isinstance(u, dict) for u in unchecked):
        raise InputError(f"{where}: 'unchecked' must be [[chain.unchecked]] tables")
    for u in unchecked:
        _keys(u, UNCHECKED_KEYS, f"{where}: unchecked")
    return Chain(path, table["name"], shapes, table["start"], substitute(table["start"], defined),
                 tuple(definitions), tuple((u["latex"], u["reason"]) for u in unchecked))


def _resolve(trees: dict[str, Node], where: str) -> dict[str, Node]:
    """Definitions with every defined name inside them substituted, in any
    order of definition; a definition that uses itself is an error."""
    resolved: dict[str, Node] = {}

    def visit(name: str, path: tuple[str, ...]) -> Node:
        if name in path:
            raise InputError(f"{where}: define {name!r}: the definitions are circular ({' -> '.join(path + (name,))})")
        if name not in resolved:
            used = {n.name for n in trees[name].walk() if isinstance(n, Sym) and n.name in trees}
            resolved[name] = _replace(trees[name], {u: visit(u, path + (name,)) for u in used})
        return resolved[name]

    for name in trees:
        visit(name, ())
    return resolved


def read_step(table: dict, chain: Chain, where: str) -> Step:
    """One line of a chain from its table (``relation``, ``expr``, ``wrt``, ``from`` ...), checked
    against the lines before it (``where`` names it in an error); the derivation file's
    ``[[chain.step]]`` and the notebook's ``%%bp`` lines are read by it."""
    _keys(table, STEP_KEYS, where)
    relation = table["relation"].strip()
    if relation not in RELATIONS:
        raise InputError(f"{where}: relation must be one of {', '.join(RELATIONS)}, got {relation!r}")
    index = len(chain.steps) + 1
    # the lines that can be compared with: the start and earlier non-candidates
    usable = [0] + [s.index for s in chain.steps if s.relation not in ASIDE]
    previous = table.get("from", usable[-1])
    if not isinstance(previous, int) or isinstance(previous, bool) or previous not in usable:
        raise InputError(f"{where}: 'from' must be the number of an earlier line that is not a candidate or reading "
                         f"(0 is the start; usable: {', '.join(map(str, usable))})")
    wrt = table.get("wrt", "").strip()
    if relation == "gradient" and not wrt:
        raise InputError(f"{where}: a gradient line needs 'wrt'")
    variables = tuple(v.strip() for v in table.get("in", "").split(",") if v.strip())
    if relation == "up-to-constant" and not variables:
        raise InputError(f"{where}: an up-to-constant line needs 'in' (the variables, e.g. \"W01, W12\")")
    kinds = {0: "value"}
    for s in chain.steps:
        kinds[s.index] = "gradient" if _relation_of(s) == "gradient" else kinds[s.previous]
    cost = previous
    while kinds[cost] == "gradient":
        cost = chain.steps[cost - 1].previous
    definitions = {d.name: parse(d.text) for d in chain.definitions}
    return Step(index, relation, table["expr"], substitute(table["expr"], definitions), previous, cost, wrt,
                variables)


def _defaults_shapes(ctx: Context) -> str:
    shapes = ctx.defaults.get("shapes", "")
    return shapes if isinstance(shapes, str) else ""


def parse_chain(table: dict, ctx: Context) -> ChainEntry:
    """The [[chain]] section parser (registered in derivation.SECTIONS)."""
    chains, _ = _read(ctx.path, ctx.text, _defaults_shapes(ctx))
    index = header_lines(ctx.text, "chain").index(ctx.line)
    chain = chains[index]
    return ChainEntry(name=chain.name, claim=None, chain=chain, **common_fields(table, ctx))


def parse_step(table: dict, ctx: Context) -> StepEntry:
    """The [[step]] section parser (registered in derivation.SECTIONS)."""
    chains, steps = _read(ctx.path, ctx.text, _defaults_shapes(ctx))
    owner, index = steps[header_lines(ctx.text, "step").index(ctx.line)]
    chain = chains[owner]
    s = chain.steps[index - 1]
    name = table.get("name") or f"{chain.name}/{index}"
    claim = Claim(chain.shapes, chain.text(s.cost), s.wrt, s.text) if _relation_of(s) == "gradient" else None
    fields = common_fields(table, ctx)
    if "section" not in table:
        chain_table = tomllib.loads(ctx.text)["chain"][owner]
        fields["section"] = chain_table.get("section", fields["section"])
    return StepEntry(name=name, claim=claim, chain=chain, index=index, **fields)
