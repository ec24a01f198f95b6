"""The ``%%bp`` cell magic: check a claim, or a derivation line by line, in a notebook.

``%load_ext symbolic_bp`` registers it.  The cell is a small block of
``key: value`` lines; a value may continue on indented lines, and ``#``
starts a comment (the claim language has no ``#``).  A **claim**::

    %%bp
    shapes: A:m,n x:n y:m
    cost:   y.T @ A @ x
    wrt:    A
    claim:  x @ y.T
    budget: 20          # optional: seconds (default 60, as the CLI)
    seed:   0           # optional

shows the result (:func:`symbolic_bp.rendering.html.result_html`): the
verdict badge, claim and derived gradient typeset, a counterexample's
matrices with the differing entry highlighted, the diagnosis, the corrected
claim, the evidence folded.

A **derivation** has ``shapes`` and ``cost`` (its first line, line 0), no
``wrt`` or ``claim``, then one line per step, each checked against the line
before it exactly as a ``[[chain]]`` of a derivation file
(:mod:`symbolic_bp.derivations.chain`) checks it::

    %%bp
    shapes: x:n y:n
    cost:   (x - y).T @ (x - y)
    = x.T @ x - 2 * y.T @ x + y.T @ y        # equals the line before
    = x.T @ x - 2 * y.T @ x + const(x)       # equal up to a term constant in x
    dC/dx = 2 * x - 2 * y                    # the gradient, in x, of the last line that is not one

The display lists each line with its verdict, each expandable to its result,
under the verdict on the whole derivation (the first wrong line, with its
counterexample).  ``budget`` is per line.

Checks run through the same budgeted path as ``symbolic-bp check``
(:func:`symbolic_bp.checks.checker.check`, a forked worker under a time
budget).  A bad block -- an unknown, missing or repeated key, a line that is
neither -- is shown as a one-line error naming its line, never a traceback.

>>> block = parse_block("shapes: x:n\\ncost: x.T @ x\\nwrt: x\\nclaim: 2 *\\n  x")
>>> block.fields["claim"], block.steps
('2 * x', [])
>>> parse_block("shapes: x:n\\ncots: x.T @ x")
Traceback (most recent call last):
...
symbolic_bp.errors.InputError: line 2: unknown key 'cots' (did you mean 'cost'?)
"""
from __future__ import annotations

import argparse
import difflib
import re
from dataclasses import dataclass, field

from ..errors import InputError

KEYS = ("shapes", "cost", "wrt", "claim", "budget", "seed")
CLAIM_KEYS = ("shapes", "cost", "wrt", "claim")       # required in a claim block
CHAIN_KEYS = ("shapes", "cost")                       # required in a derivation block

_KEY = re.compile(r"([A-Za-z_][\w-]*)\s*:(.*)\Z")
_EQUAL = re.compile(r"=\s*(.*)\Z")
_GRADIENT = re.compile(r"d[A-Za-z]*\s*/\s*d([A-Za-z_]\w*)\s*=\s*(.*)\Z")
_CONSTANT = re.compile(r"(.*?)\s*\+\s*const\s*\(([^()]*)\)\s*\Z")     # "... + const(x, y)"


@dataclass
class Line:
    """One step of a derivation block: its relation to the line before it."""

    number: int                  # in the cell
    relation: str                # = | up-to-constant | gradient
    expr: str
    wrt: str = ""
    variables: str = ""          # up-to-constant: "x, y"


@dataclass
class Block:
    """A parsed cell: ``fields`` (key -> value) and, for a derivation, its ``steps``."""

    fields: dict[str, str] = field(default_factory=dict)
    steps: list[Line] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)     # key -> its line

    @property
    def budget(self) -> float:
        from .options import budget_seconds
        from ..checks.budget import DEFAULT_SECONDS
        return self._option("budget", budget_seconds, DEFAULT_SECONDS)

    @property
    def seed(self) -> int:
        from .options import seed_number
        return self._option("seed", seed_number, 0)

    def _option(self, key: str, read, default):
        if key not in self.fields:
            return default
        try:
            return read(self.fields[key])
        except argparse.ArgumentTypeError as e:
            raise InputError(f"line {self.where[key]}: {key}: {e}") from None


def _step(text: str, number: int) -> Line | None:
    """A derivation line (``= …``, ``= … + const(x)``, ``dC/dX = …``), or None."""
    if m := _GRADIENT.match(text):
        return Line(number, "gradient", m.group(2), wrt=m.group(1))
    if m := _EQUAL.match(text):
        return Line(number, "=", m.group(1))       # "+ const(...)" is read when the line is whole
    return None


def parse_block(text: str, first_line: int = 1) -> Block:
    """The cell ``text`` as a :class:`Block`; lines are numbered from
    ``first_line`` (2 in a cell: line 1 is ``%%bp``).  Raises InputError,
    one line naming the line, on a bad block."""
    block = Block()
    current = None               # what an indented line continues: a key, or a Line
    for number, raw in enumerate(text.splitlines(), start=first_line):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if line[0] in " \t":
            if current is None:
                raise InputError(f"line {number}: an indented line continues a value, but none comes before it")
            if isinstance(current, Line):
                current.expr += " " + line.strip()
            else:
                block.fields[current] = (block.fields[current] + " " + line.strip()).strip()
            continue
        if (step := _step(line, number)) is not None:
            block.steps.append(step)
            current = step
            continue
        m = _KEY.match(line)
        if m is None:
            raise InputError(f"line {number}: expected 'key: value', '= …' or 'dC/dX = …', got {_short(line)!r}")
        key = m.group(1)
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (the keys: {', '.join(KEYS)})"
            raise InputError(f"line {number}: unknown key {key!r}{hint}")
        if key in block.fields:
            raise InputError(f"line {number}: duplicate key {key!r} (first on line {block.where[key]})")
        block.fields[key], block.where[key] = m.group(2).strip(), number
        current = key
    _complete(block)
    return block


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _complete(block: Block) -> None:
    """Every required key present and non-empty; no claim keys in a derivation."""
    if block.steps:
        extra = [k for k in ("wrt", "claim") if k in block.fields]
        if extra:
            raise InputError(f"line {block.where[extra[0]]}: a derivation block (lines '= …', 'dC/dX = …') "
                             f"takes no {extra[0]!r}: its gradient lines name the variable")
        required, kind = CHAIN_KEYS, "a derivation"
    else:
        required, kind = CLAIM_KEYS, "a claim"
    missing = [k for k in required if k not in block.fields]
    if missing:
        raise InputError(f"missing key {missing[0]!r}: {kind} block needs {', '.join(required)}"
                         + ("" if block.steps else " (or lines '= …' for a derivation)"))
    for key, value in block.fields.items():
        if not value:
            raise InputError(f"line {block.where[key]}: {key!r} is empty")
    for step in block.steps:
        if step.relation == "=" and (c := _CONSTANT.match(step.expr)):
            step.relation, step.expr, step.variables = "up-to-constant", c.group(1), c.group(2)
        if not step.expr.strip():
            raise InputError(f"line {step.number}: the line has no expression")
        if step.relation == "up-to-constant" and not step.variables.strip():
            raise InputError(f"line {step.number}: const() needs the variables the dropped term does not "
                             "depend on, e.g. const(x, y)")


# -- running a block -------------------------------------------------------------------------------

def claim_html(block: Block) -> str:
    """A claim block checked and rendered."""
    from ..checks.checker import check
    from ..checks.claim import Claim
    from ..rendering.html import result_html
    f = block.fields
    budget, seed = block.budget, block.seed
    result = check(Claim(f["shapes"], f["cost"], f["wrt"], f["claim"]), seconds=budget, seed=seed)
    return result_html(result, wrt=f["wrt"])


def chain_html(block: Block) -> str:
    """A derivation block checked line by line: the verdict on the whole,
    then a table of its lines, each expandable to its result."""
    import html
    from ..derivations.chain import Chain, read_step
    from ..rendering.html import STYLE, badge, formula_html, result_html, results_table_html
    budget, seed = block.budget, block.seed
    start = block.fields["cost"]
    chain = Chain("<cell>", "cell", block.fields["shapes"], start, start, ())
    for line in block.steps:
        table = {"relation": line.relation, "expr": line.expr}
        if line.wrt:
            table["wrt"] = line.wrt
        if line.variables:
            table["in"] = line.variables
        chain.steps.append(read_step(table, chain, f"line {line.number}"))   # validates, finds the line compared with
    summary = chain.summary(budget, seed)
    rows = []
    for line, step in zip(block.steps, chain.steps):
        result = chain.check_line(step.index, budget, seed)
        if step.relation == "gradient":
            label, wrt, lhs = f"line {step.index}: gradient in {step.wrt}", step.wrt, None
        else:
            relation = "=" if step.relation == "=" else f"= up to a constant in {line.variables}"
            label = f"line {step.index}: {relation}"
            wrt, lhs = None, chain.text(step.previous)
        rows.append((label, result, wrt, lhs))
    head = (f'<div class="sbp-line">{badge(summary.verdict)}derivation of {len(chain.steps)} '
            f'line{"s" if len(chain.steps) != 1 else ""} from line 0: {formula_html(start, "C")}</div>')
    wrong = ""
    if summary.verdict != "verified":          # the summary's sentence, then the first wrong line in full
        note = summary.diagnosis or summary.error or ""
        wrong = f'<div class="sbp-line">{html.escape(note)}</div>' if note else ""
        first = next((row for row in rows if row[1].verdict in ("refuted", "invalid")), None) or \
            next((row for row in rows if row[1].verdict != "verified"), None)
        if first is not None:
            _, result, wrt, lhs = first
            wrong += result_html(result, wrt=wrt, lhs=lhs)
    return (f'<div class="sbp-result sbp-{html.escape(summary.verdict)}">{STYLE}{head}{wrong}'
            f"{results_table_html(rows)}</div>")


def block_html(text: str, first_line: int = 1) -> str:
    """The HTML display of a ``%%bp`` cell: its result(s), or an error box.

    >>> page = block_html("shapes: x:n\\nshapes: x:n")
    >>> page.startswith('<div class="sbp-error">'), "line 2: duplicate key &#x27;shapes&#x27;" in page
    (True, True)
    """
    from ..rendering.html import error_html
    try:
        block = parse_block(text, first_line)
        return chain_html(block) if block.steps else claim_html(block)
    except InputError as e:
        return error_html(str(e))
    except Exception as e:      # noqa: BLE001 - the last resort: a bug of ours, one line, no traceback
        message = " ".join(f"{type(e).__name__}: {e}".split())[:300]
        return error_html(f"internal error: {message} (this is a bug; please report it)")


def bp(line: str, cell: str) -> None:
    """The ``%%bp`` cell magic: displays :func:`block_html` of the cell."""
    from IPython.display import HTML, display
    if line.strip():
        display(HTML(_error(f"line 1: %%bp takes no arguments, got {_short(line.strip())!r}; "
                            "write 'budget: …' or 'seed: …' in the cell")))
        return
    display(HTML(block_html(cell, first_line=2)))


def _error(message: str) -> str:
    from ..rendering.html import error_html
    return error_html(message)


def load_ipython_extension(ipython) -> None:
    """Register ``%%bp`` (``%load_ext symbolic_bp``)."""
    ipython.register_magic_function(bp, magic_kind="cell", magic_name="bp")
