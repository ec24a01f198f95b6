"""The proofs document: one standalone LaTeX file for derivation files, and
its compilation to PDF (the ``latex`` command,
:mod:`symbolic_bp.integrations.latex_command`, writes and compiles it).

Per item: the statement boxed, the shapes of its symbols, the verdict with
its evidence; for a verified gradient claim the index-notation proof whose
every line was checked (:mod:`symbolic_bp.rendering.proof`) or the reason none is
given; for a refuted claim the counterexample as explicit matrices, the
claimed and true values of the differing entry, the diagnosis and -- when the
checks offer one -- the corrected claim ("did you mean"), verified.  Only
amsmath, amssymb and geometry are used; every user string is escaped.

``latex`` exits with :data:`PDF_FAILED` when ``--pdf`` was asked and no PDF
could be made (no TeX, or a TeX error).

>>> "\\\\documentclass" in preamble("a title with _ and %")
True
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from .latex import counterexample_sizes, counterexample_values, latex, latex_name, latex_of_text, proof_latex
from .safe_math import escape_text, safe_math
from .proof import PROOF_SECONDS, CheckedProof, NoProof, index_proof

TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended latexmk"
PDF_FAILED = 4


def preamble(title: str) -> str:
    return "\n".join([
        r"\documentclass[11pt]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{4pt}",
        r"\sloppy",
        r"\title{" + escape_text(title) + "}",
        r"\author{symbolic\_bp}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ])


def _dim(d) -> str:
    parts = ([str(d.coef)] if d.coef != 1 or not d.names else []) + [latex_name(n) for n in d.names]
    return r" \cdot ".join(parts)


def shapes_latex(decls, used: set) -> str:
    """``A \\in \\mathbb{R}^{m\\times n}`` for each used symbol, in declaration order."""
    from ..language.shapes import ONE
    items = []
    for name, sym in decls.symbols.items():
        if name not in used:
            continue
        if sym.scalar:
            space = r"\mathbb{R}"
        elif sym.shape[1] == ONE:
            space = rf"\mathbb{{R}}^{{{_dim(sym.shape[0])}}}"
        else:
            space = rf"\mathbb{{R}}^{{{_dim(sym.shape[0])} \times {_dim(sym.shape[1])}}}"
        note = rf"\ \text{{({sym.prop})}}" if sym.prop and sym.prop != "scalar" else ""
        items.append(f"${latex_name(name)} \\in {space}{note}$")
    return ", ".join(items)


def _evidence(result) -> list[str]:
    if not result.evidence:
        return []
    out = [r"\begin{itemize}\setlength{\itemsep}{0pt}"]
    for e in result.evidence:
        out.append(rf"\item \textit{{{escape_text(e.method)}}} ({escape_text(e.outcome)}): {escape_text(e.detail)}")
    out.append(r"\end{itemize}")
    return out


def _as_written(entry) -> list[str]:
    if not entry.latex:
        return []
    math = safe_math(entry.latex)
    if math:
        return ["As written in the source:", r"\[" + math + r"\]"]
    return [r"As written in the source (shown as text: it uses commands outside the safe set): "
            r"\texttt{" + escape_text(entry.latex) + "}"]


def _verdict_line(row) -> str:
    r, e = row.result, row.entry
    mark = "as expected" if row.matches else rf"\textbf{{not as expected}}: expected {escape_text(e.expect)}"
    return rf"\textbf{{Verdict: {escape_text(r.verdict)}}} ({mark}; {r.seconds:.2f}\,s)."


def claim_section(row, proof=None) -> list[str]:
    """The LaTeX of one gradient claim (a row of the report)."""
    from ..checks.claim import prepare
    from ..errors import InputError
    e, r = row.entry, row.result
    out = [rf"\subsection*{{{escape_text(e.name)}}}", rf"\textit{{Source:}} {escape_text(row.source)}\par"]
    try:
        prep = prepare(e.claim)
    except (InputError, RecursionError):
        prep = None
    wrt = e.claim.wrt.strip()
    w = latex_name(wrt) if prep else r"\texttt{" + escape_text(wrt) + "}"
    if prep is not None:
        out.append(r"\[\boxed{\begin{aligned} C &= " + latex(prep.cost) + r" \\ \frac{\partial C}{\partial "
                   + w + "} &= " + latex(prep.claim) + r"\end{aligned}}\]")
        out.append("where " + shapes_latex(prep.decls, prep.used_symbols) + ".")
    else:
        out.append(r"Claim: \texttt{" + escape_text(e.statement()) + "}")
    out += _as_written(e)
    out.append(_verdict_line(row))
    if r.verdict == "verified":
        out += ["Both checks agree with the claim:"] + _evidence(r)
        out += _proof_block(proof, prep)
    elif r.verdict == "refuted":
        out += _refutation(r, w, e.claim.shapes)
    else:
        out.append(r"\textit{Reason:} " + escape_text(r.error or "none given"))
    if e.note:
        out.append(r"\textit{Note:} " + escape_text(e.note))
    return out


def _proof_block(proof, prep) -> list[str]:
    if isinstance(proof, CheckedProof) and prep is not None:
        return [r"\paragraph{Proof in index notation, for all dimensions.}",
                "Summed indices are written out; $c$, $d$ are the free row and column indices. "
                + escape_text(proof.evidence),
                r"{\small", proof_latex(proof, prep.decls), "}", r"\hfill$\square$\par"]
    reason = proof.reason if isinstance(proof, NoProof) else "no proof was requested"
    return [r"\textit{No index proof is given:} " + escape_text(reason) + "."]


def _refutation(r, w: str, shapes: str | None = None, corrected: str | None = None) -> list[str]:
    """The refutation of ``r`` (a gradient with respect to ``w``): the true
    gradient, the counterexample, the diagnosis and the corrected claim --
    ``corrected`` is its LaTeX when given, else dC/dw = the suggestion typeset.

    >>> from symbolic_bp.checks.result import Result
    >>> print(_refutation(Result("refuted", claim="x @ y.T", suggestion="y @ x.T"), "A", "A:m,n x:n y:m")[0])
    \\textit{Did you mean} (the corrected claim, verified by the checks before it is offered): \\[\\frac{\\partial C}{\\partial A} = y x^{T} \\quad\\text{(verified)}\\]
    """
    out = []
    if r.derived:
        out.append(r"The true gradient is \[\frac{\partial C}{\partial " + w + "} = "
                   + latex_of_text(r.derived, shapes) + r".\]")
    ce = r.counterexample
    if ce:
        out.append(r"\textit{Counterexample} at " + escape_text(counterexample_sizes(ce)) + ":")
        out.append(r"\[" + counterexample_values(ce, r",\qquad ") + r"\]")
        if ce.entry:
            out.append(rf"entry $({ce.entry[0]},{ce.entry[1]})$ of the claim is ${latex_of_text(ce.claimed)}$, "
                       rf"the true value is ${latex_of_text(ce.true)}$.")
        else:
            out.append(rf"the claim has shape {escape_text(ce.claimed)}, the gradient {escape_text(ce.true)}.")
    if r.diagnosis:
        out.append(r"\textit{Diagnosis:} " + escape_text(r.diagnosis) + ".")
    if getattr(r, "suggestion", None):
        formula = corrected or (r"\frac{\partial C}{\partial " + w + "} = " + latex_of_text(r.suggestion, shapes))
        out.append(r"\textit{Did you mean} (the corrected claim, verified by the checks before it is offered): "
                   r"\[" + formula + r" \quad\text{(verified)}\]")
    out += ["Both checks disagree with the claim:"] + _evidence(r)
    return out


def item_section(row, proof=None) -> list[str]:
    """Any other item (a chain, one of its steps, a network claim): what it
    states (with its relation), the verdict and the evidence."""
    e, r = row.entry, row.result
    out = [rf"\subsection*{{{escape_text(e.name)}}}",
           rf"\textit{{Source:}} {escape_text(row.source)}; \textit{{kind:}} {escape_text(e.kind)}\par",
           r"\textit{Statement:} {\ttfamily " + escape_text(e.statement()) + "}\\par"]
    fields = e.fields() if hasattr(e, "fields") else {}
    if isinstance(fields.get("expr"), str) and isinstance(fields.get("shapes"), str):
        # a step of a chain: its formula typeset (typed with the chain's declarations where it parses,
        # the chain's defined names declared with the shapes of their definitions)
        out.append(r"\[" + step_latex(fields["expr"], fields["shapes"], _definitions_of(e)) + r"\]")
    if fields.get("relation"):
        out.append(r"\textit{Relation to the line it follows:} " + escape_text(fields["relation"]) + r"\par")
    out += _as_written(e)
    out.append(_verdict_line(row))
    if r.derived:
        out.append(r"\textit{Derived:} {\ttfamily " + escape_text(r.derived) + "}")
    if r.verdict == "refuted":
        # the corrected line or claim as it is written (a line of a chain typed like the line itself)
        corrected = None
        if getattr(r, "suggestion", None):
            corrected = (step_latex(r.suggestion, fields["shapes"], _definitions_of(e))
                         if isinstance(fields.get("shapes"), str) else latex_of_text(r.suggestion))
        out += _refutation(r, "X", corrected=corrected)[1:] if r.derived else _refutation(r, "X", corrected=corrected)
    else:
        out += _evidence(r)
        if r.error:
            out.append(r"\textit{Reason:} " + escape_text(r.error))
    if e.note:
        out.append(r"\textit{Note:} " + escape_text(e.note))
    return out


def _definitions_of(entry) -> list[tuple[str, str]]:
    chain = getattr(entry, "chain", None)
    return [(d.name, d.expr) for d in getattr(chain, "definitions", ())
            if isinstance(getattr(d, "name", None), str) and isinstance(getattr(d, "expr", None), str)]


def step_latex(expr: str, shapes: str, definitions: list[tuple[str, str]]) -> str:
    """A line of a chain as LaTeX, typed (so that ``N * dY`` is a scaling by
    the size N, not a Hadamard product) with the chain's definitions
    (``xhat = ...``) declared as symbols of their shapes; as
    :func:`~symbolic_bp.rendering.latex.latex_of_text` where that fails."""
    from ..errors import InputError
    from ..language.shapes import Declarations, Symbol, parse_declarations, parse_typed
    from ..core.dims import is_scalar
    try:
        decls = parse_declarations(shapes)
        for name, text in definitions:
            if name in decls.symbols or name in decls.dims or name in decls.functions:
                continue
            shape = parse_typed(text, decls).shape
            symbols = dict(decls.symbols, **{name: Symbol(name, shape, "scalar" if is_scalar(shape) else None,
                                                          is_scalar(shape))})
            decls = Declarations(symbols, decls.dims, decls.functions)
        return latex(parse_typed(expr, decls))
    except (InputError, RecursionError, TypeError, ValueError):
        return latex_of_text(expr, shapes)


def local_claim_of(entry):
    """The local gradient claim (base case, step or lemma) that proves a
    network claim for every depth (:mod:`symbolic_bp.networks.induction`), or None."""
    try:
        from ..networks.induction import local_claim
        from ..networks.network_claim import parse_network_claim
        return local_claim(parse_network_claim(entry.text, entry.convention), entry.spec)
    except Exception:        # NotExpressible, InputError...: the claim has no proof for every depth
        return None


def _induction_agrees(result) -> bool:
    """The network claim is verified and its induction check agreed."""
    return result.verdict == "verified" and any(e.method == "induction" and e.outcome == "agree"
                                                for e in result.evidence)


def network_section(row, proof=None) -> list[str]:
    """A delta recursion or weight gradient of a network: the induction proof
    (base case at the output layer, step at a generic layer l) with the local
    claim it rests on, boxed, and that claim's checked index proof."""
    from ..checks.claim import prepare
    from ..networks.induction import ROLES
    from ..errors import InputError
    out = item_section(row, None)
    local = local_claim_of(row.entry) if _induction_agrees(row.result) else None
    if local is None:
        return out
    try:
        prep = prepare(local.claim)
    except InputError:           # the induction check said so already (its evidence is listed above)
        return out
    role = {"base": "This is the base case of the induction on the layer, from the output layer L down: "
                    r"with $\delta_L = \partial C/\partial z_L$, the cost depends on $z_L$ only through the "
                    "output layer, so the claim is the gradient of the output cost:",
            "step": r"This is the induction step, at a generic layer $l$: the cost depends on $z_l$ only "
                    r"through $z_{l+1} = W_{l+1} f(z_l) + b_{l+1}$, so with $\delta_{l+1} = \partial C/\partial "
                    r"z_{l+1}$ held fixed (a free matrix), the claim holds at every layer of every network "
                    "if and only if this local claim holds; with the base case it gives every layer by induction:",
            "lemma": r"This is the chain-rule lemma at a generic layer $l$: the cost depends on $W_l$, $b_l$ only "
                     r"through $z_l = W_l a_{l-1} + b_l$, so with $\delta_l = \partial C/\partial z_l$ the claim "
                     "holds at every layer of every depth if and only if this local claim holds:"}.get(
        local.role, "For every depth, the claim reduces to this local gradient claim:")
    out.append(r"\paragraph{Proof for every depth (" + escape_text(ROLES.get(local.role, local.role)) + ").} " + role)
    w = latex_name(local.claim.wrt)
    out.append(r"\[\boxed{\begin{aligned} C_{\text{local}} &= " + latex(prep.cost) + r" \\ \frac{\partial C_{\text{local}}}"
               r"{\partial " + w + "} &= " + latex(prep.claim) + r"\end{aligned}}\]")
    out.append("where " + shapes_latex(prep.decls, prep.used_symbols) + ".")
    out += _proof_block(proof, prep)
    return out


# entry kind -> section renderer; a new kind registers with one line
SECTIONS: dict[str, Callable] = {"claim": claim_section, "network": network_section}


def _summary_table(report) -> list[str]:
    out = [r"\begin{center}\begin{tabular}{lrrrrr}", r"file & items & verified & refuted & invalid & undecided \\ \hline"]
    files: dict = {}
    for row in report.rows:
        counts = files.setdefault(row.file, {"n": 0})
        counts["n"] += 1
        counts[row.result.verdict] = counts.get(row.result.verdict, 0) + 1
    for f, c in files.items():
        out.append(rf"\texttt{{{escape_text(Path(f).name)}}} & {c['n']} & " + " & ".join(
            str(c.get(v, 0)) for v in ("verified", "refuted", "invalid", "undecided")) + r" \\")
    out.append(r"\end{tabular}\end{center}")
    return out


def render(report, proofs: dict, title: str = "Checked backpropagation derivations") -> str:
    """The whole document for a report and the proofs of its verified claims
    (``proofs[(file, name)]``)."""
    body = [preamble(title),
            "Every verdict below rests on two independent checks (exact entrywise differentiation on explicit "
            "symbolic matrices, and float64 random draws against finite differences). Every line of every "
            "index-notation proof was itself checked before it was printed; a claim whose proof could not be "
            "checked line by line gets no proof, with the reason."]
    body += _summary_table(report)
    for error in report.errors:
        body.append(r"\textbf{Unreadable file:} " + escape_text(error) + r"\par")
    current = None
    for row in report.rows:
        if row.file != current:
            current = row.file
            body.append(rf"\section*{{{escape_text(row.title)}}}")
            body.append(rf"\textit{{File:}} \texttt{{{escape_text(row.file)}}}"
                        + (rf"; \textit{{document:}} \texttt{{{escape_text(row.document)}}}" if row.document else "")
                        + r"\par")
        renderer = SECTIONS.get(row.entry.kind, item_section)
        try:
            body += renderer(row, proofs.get((row.file, row.entry.name)))
        except Exception as e:     # an item kind of another module changed under us: keep the rest of the document
            if renderer is item_section:
                raise
            body += item_section(row) + [r"\textit{Its proof could not be typeset:} "
                                         + escape_text(f"{type(e).__name__}: {e}")]
    body.append(r"\end{document}")
    text = "\n".join(body) + "\n"
    # what render promises: no control character (pdflatex stops on them)
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text), "a control character in the document"
    return text


def build(paths, *, seconds: float, seed: int = 0, proof_seconds: float = PROOF_SECONDS,
          progress=lambda text: None, jobs: int = 1):
    """Check the derivation files under ``paths`` and prove their verified
    claims; returns (report, proofs).  With ``jobs`` > 1 the checks and then
    the proofs run in that many worker processes at once (the bundled
    derivations take minutes one after the other)."""
    from . import report as report_module
    rep = report_module.run(paths, seconds=seconds, seed=seed, jobs=jobs,
                            progress=lambda row: progress(f"{row.entry.name}: {row.result.verdict}"))
    wanted = []
    for row in rep.rows:
        claim = None
        if row.result.verdict == "verified" and row.entry.kind == "claim":
            claim = row.entry.claim
        elif row.entry.kind == "network" and _induction_agrees(row.result):
            local = local_claim_of(row.entry)
            claim = local.claim if local else None
        if claim is not None:
            wanted.append(((row.file, row.entry.name), claim))
    proofs: dict = {}

    def done(key, proof) -> None:
        proofs[key] = proof
        progress(f"{key[1]}: " + ("proof checked" if isinstance(proof, CheckedProof) else "no proof"))

    if jobs > 1 and len(wanted) > 1:
        from ..checks.budget import forked_map
        forked_map(lambda item: index_proof(item[1], seed=seed, seconds=proof_seconds), wanted, jobs,
                   done=lambda item, outcome: done(item[0], outcome.value if outcome.status == "done" else NoProof(
                       f"the proof's worker stopped ({outcome.status}: {outcome.value})")))
    else:
        for key, claim in wanted:
            done(key, index_proof(claim, seed=seed, seconds=proof_seconds))
    return rep, {key: proofs[key] for key, _ in wanted}


# -- compiling ------------------------------------------------------------------------------

def tex_tools() -> str | None:
    """None when latexmk and pdflatex are installed, else the one-line advice."""
    missing = [t for t in ("latexmk", "pdflatex") if shutil.which(t) is None]
    if not missing:
        return None
    return (f"--pdf needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: "
            f"install the packages {TEX_PACKAGES} (e.g. apt-get install {TEX_PACKAGES})")


def compile_pdf(tex_path: Path, seconds: float = 300) -> tuple[Path | None, str]:
    """Run latexmk/pdflatex on ``tex_path`` (no shell escape); (pdf, "") or (None, why)."""
    advice = tex_tools()
    if advice:
        return None, advice
    tex_path = Path(tex_path).resolve()
    command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
               "-pdflatex=pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error %O %S",
               tex_path.name]
    try:
        done = subprocess.run(command, cwd=tex_path.parent, capture_output=True, text=True, timeout=seconds,
                              env=dict(os.environ, openout_any="p", shell_escape="f"))
    except subprocess.TimeoutExpired:
        return None, f"latexmk did not finish within {seconds:g} s"
    pdf = tex_path.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        log = tex_path.with_suffix(".log")
        first = ""
        if log.exists():
            lines = [l for l in log.read_text(errors="replace").splitlines() if l.startswith("!")]
            first = lines[0] if lines else ""
        return None, f"pdflatex failed on {tex_path.name}: {first or 'see ' + log.name}"
    subprocess.run(["latexmk", "-c", tex_path.name], cwd=tex_path.parent, capture_output=True, timeout=60)
    return pdf, ""
