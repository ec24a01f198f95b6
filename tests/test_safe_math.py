"""The security boundary of the LaTeX output: escaping of everything the user
wrote, and safe_math for the ``latex`` fields of derivation files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from symbolic_bp.derivations.derivation import discover, load
from symbolic_bp.rendering.safe_math import escape_text, safe_math

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = [r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\immediate\write18{id}", "a_b", "x^2", "50%",
           "#1", r"\def\x{y}", "^^5cinput", r"\catcode`\^=7", "$x$", "&", "~", "{", "}"]
COMMAND = re.compile(r"\\(input|write|immediate|def|catcode|include|openin|openout|read|csname)\b")


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_text_leaves_no_command_and_balanced_braces(text):
    out = escape_text(text)
    assert COMMAND.search(out) is None
    assert "^^" not in out
    # every special character is escaped: no bare _, ^, %, #, $, &, ~
    stripped = re.sub(r"\\(textbackslash|textasciicircum|\^|_|%|#|\$|&|~|\{|\})(\{\})?", "", out)
    assert not set(stripped) & set("\\_^%#$&~{}")


@pytest.mark.parametrize("text", HOSTILE + [r"\boxed{x} \input{/etc/passwd}", r"\begin{verbatim}x\end{verbatim}",
                                            r"\frac{a}{b", r"a & b", r"\text{\input{x}}"])
def test_safe_math_refuses_anything_outside_its_set(text):
    out = safe_math(text)
    assert out is None or COMMAND.search(out) is None
    if text in (r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\def\x{y}", "^^5cinput", r"\frac{a}{b",
                r"a & b", r"\text{\input{x}}", r"\begin{verbatim}x\end{verbatim}"):
        assert out is None


def test_safe_math_accepts_the_post_formulas():
    fields = [e.latex for f in discover([ROOT / "derivations"]) if f.name.startswith("post_")
              for e in load(f).entries if e.latex]
    accepted = [f for f in fields if safe_math(f)]
    assert len(accepted) == len(fields), [f for f in fields if not safe_math(f)]
    assert safe_math(r"y \frac{\delta }{\delta A} = {\color{red} {B y}} x^T") == r"y \frac{\delta }{\delta A} = { {B y}} x^T"
    assert safe_math(r"\sigma’(Ax)") == r"\sigma'(Ax)"
