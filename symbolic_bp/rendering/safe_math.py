"""The security boundary of the LaTeX output: user text in, nothing TeX runs out.

Every string that comes from the user -- symbol names, file names, titles,
notes, error messages -- goes through :func:`escape_text`, so that no user
text can reach TeX as a command (``\\input``, ``\\write18``).  A derivation
file's own ``latex`` field is used as mathematics only when :func:`safe_math`
accepts every command in it; otherwise it is shown as text.

>>> escape_text(r"\\input{/etc/passwd} 50% #1 a_b^c")
'\\\\textbackslash{}input\\\\{/etc/passwd\\\\} 50\\\\% \\\\#1 a\\\\_b\\\\^{}c'
>>> safe_math(r"\\frac{\\partial C}{\\partial A} = y x^T"), safe_math(r"\\input{x}")
('\\\\frac{\\\\partial C}{\\\\partial A} = y x^T', None)
"""
from __future__ import annotations

import re

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "%": r"\%",
    "#": r"\#", "$": r"\$", "&": r"\&", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", "\"": "''",
}

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi",
         "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
         "Upsilon", "Phi", "Psi", "Omega"}


def escape_text(text: str) -> str:
    """``text`` as LaTeX text: every special character escaped, control
    characters dropped, non-ASCII letters kept (UTF-8 input).

    >>> escape_text("a_b 100% {x} ~y")
    'a\\\\_b 100\\\\% \\\\{x\\\\} \\\\~{}y'
    >>> escape_text("line\\nbreak \\u2192 é")
    'line break ? é'
    >>> escape_text(42)
    '42'
    """
    if not isinstance(text, str):
        text = str(text)
    out = []
    for ch in text:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 32:
            out.append(" ")
        elif ord(ch) > 126 and not ch.isalnum():
            out.append("?")           # symbols outside the T1 fonts would stop pdflatex
        elif ord(ch) > 255:
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


# -- untrusted LaTeX from derivation files ------------------------------------------------------

SAFE_COMMANDS = GREEK | {
    "frac", "tfrac", "dfrac", "partial", "boxed", "implies", "odot", "cdot", "times", "quad", "qquad",
    "left", "right", "bigl", "bigr", "Bigl", "Bigr", "sum", "Sigma", "nabla", "text", "mathrm", "mathbf",
    "ldots", "cdots", "vdots", "dots", "underbrace", "overbrace", "begin", "end", "prime", "to",
    "rightarrow", "Rightarrow", "leftarrow", "approx", "neq", "leq", "geq", "infty", "circ", "otimes",
    "top", "operatorname", "tr", "det", "log", "exp", "max", "min", "hat", "bar", "tilde", "vec",
    "in", "mathbb", "langle", "rangle", "lVert", "rVert", "Vert", "vert", "equiv", "sim", "pm", "mp",
    "displaystyle", "textstyle", "label", "color", "ref", "eqref", "\\", ",", ";", ":", "!", " ", "{", "}",
    "_", "%", "#", "&", "|",
}
SAFE_ENVIRONMENTS = {"cases", "bmatrix", "pmatrix", "matrix", "aligned", "array"}
_DROPPED = {"label", "ref", "eqref"}          # cross-references to the source document


def safe_math(text: str) -> str | None:
    """The LaTeX of a derivation file's ``latex`` field, made safe to typeset,
    or None when it uses anything outside a small set of math commands.

    Accepted: the commands of :data:`SAFE_COMMANDS` and the environments of
    :data:`SAFE_ENVIRONMENTS`, with balanced braces; ``\\label`` and
    ``\\ref`` are dropped, ``\\color{..}`` keeps its argument, curly quotes
    become primes.  Refused: every other command (``\\input``, ``\\write``,
    ``\\def``, ``\\catcode``, ``\\csname``...), ``^^`` escapes, ``%``, ``#``.

    >>> safe_math(r"\\boxed{C = y^T A x \\implies \\frac{\\delta C}{\\delta A} = y x^T}\\label{eq}")
    '\\\\boxed{C = y^T A x \\\\implies \\\\frac{\\\\delta C}{\\\\delta A} = y x^T}'
    >>> safe_math(r"x \\input{/etc/passwd}") is None, safe_math(r"\\immediate\\write18{ls}") is None
    (True, True)
    >>> safe_math(r"\\frac{a}{b") is None, safe_math("a & b") is None, safe_math("^^5cinput") is None
    (True, True, True)
    >>> safe_math(r"\\begin{bmatrix} 1 & 2 \\end{bmatrix}")
    '\\\\begin{bmatrix} 1 & 2 \\\\end{bmatrix}'
    """
    if not isinstance(text, str) or len(text) > 4000:
        return None
    text = text.replace("’", "'").replace("‘", "'").replace("′", "'")
    if "^^" in text or "%" in text.replace(r"\%", "") or "#" in text.replace(r"\#", ""):
        return None
    if any(ord(ch) > 126 or (ord(ch) < 32 and ch not in "\n\t") for ch in text):
        return None
    out, pos, depth = [], 0, 0
    envs: list[str] = []
    token = re.compile(r"\\([A-Za-z]+|.)|([{}])|([^\\{}]+)", re.S)
    while pos < len(text):
        m = token.match(text, pos)
        if m is None:
            return None
        pos = m.end()
        command, brace, plain = m.groups()
        if plain is not None:
            if "&" in plain and not envs:
                return None
            out.append(plain)
            continue
        if brace is not None:
            depth += 1 if brace == "{" else -1
            if depth < 0:
                return None
            out.append(brace)
            continue
        if command not in SAFE_COMMANDS:
            return None
        if command in _DROPPED or command == "color":
            arg = re.match(r"\s*\{([^{}]*)\}", text[pos:])
            if arg is None:
                return None
            pos += arg.end()
            continue
        if command in ("begin", "end"):
            arg = re.match(r"\{([A-Za-z*]+)\}", text[pos:])
            if arg is None or arg.group(1) not in SAFE_ENVIRONMENTS:
                return None
            if command == "begin":
                envs.append(arg.group(1))
            elif not envs or envs.pop() != arg.group(1):
                return None
            pos += arg.end()
            out.append(f"\\{command}{{{arg.group(1)}}}")
            continue
        if command == "&" or command == "\\":
            out.append("\\" + command)
            continue
        out.append("\\" + command)
    if depth != 0 or envs:
        return None
    left, right = "".join(out).count(r"\left"), "".join(out).count(r"\right")
    if left != right:
        return None
    return "".join(out).strip()
