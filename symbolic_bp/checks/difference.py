"""What is known about a difference that no slip of the catalogue explains.

At the draws of the numeric check, with K the claim and G the true gradient:

* the true gradient is zero (relative to the values it is computed from: its
  terms cancel) while the claim is not -- then nothing is read from the ratio
  K/G, which would be a ratio of rounding errors;
* which entries differ, |K - G| above the tolerance at some draw: only the
  diagonal (the claim right off it), only off the diagonal (the claim right
  on it), only one row or one column, a few entries by index, or how many;
* whether the claim is right up to symmetrisation: K + K^T = G + G^T (the
  difference is antisymmetric);
* whether K = c G with the same small rational c at every draw (a factor that
  no edit repairs at other sizes: the ratio holds at these sizes only).

>>> import numpy as np
>>> where_they_differ(np.eye(3, dtype=bool))
'only the diagonal entries differ (the claim is right off the diagonal)'
>>> where_they_differ(np.array([[False, False], [True, True]]))
'only row 2 differs'
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .numeric import REL_TOL, rel_diff
from .sizes import show_sizes

NO_SLIP = "no simple slip found"


def where_they_differ(mask: np.ndarray) -> str | None:
    """Which entries differ, 1-based, from the mask of differing entries."""
    rows, cols = mask.shape
    count, total = int(mask.sum()), mask.size
    if count == 0:
        return None
    if count == total:
        return "every entry differs" if total > 1 else None
    if rows == cols > 1:
        diagonal = np.eye(rows, dtype=bool)
        if not (mask & ~diagonal).any():
            return "only the diagonal entries differ (the claim is right off the diagonal)" if \
                mask[diagonal].all() else _entries(mask)
        if not (mask & diagonal).any():
            return "only off-diagonal entries differ (the claim is right on the diagonal)"
    differing_rows = np.flatnonzero(mask.any(axis=1))
    differing_cols = np.flatnonzero(mask.any(axis=0))
    if len(differing_rows) == 1 and rows > 1 and cols > 1:
        return f"only row {differing_rows[0] + 1} differs"
    if len(differing_cols) == 1 and cols > 1 and rows > 1:
        return f"only column {differing_cols[0] + 1} differs"
    return _entries(mask)


def _entries(mask: np.ndarray) -> str:
    indices = [(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(mask))]
    if mask.shape[1] == 1:
        shown = [str(i) for i, _ in indices]
        return (f"only entr{'y' if len(shown) == 1 else 'ies'} {' and '.join(shown)} differ"
                f"{'s' if len(shown) == 1 else ''}") if len(shown) <= 3 else \
            f"{len(shown)} of {mask.size} entries differ"
    if len(indices) <= 3:
        shown = " and ".join(f"({i},{j})" for i, j in indices)
        return f"only entr{'y' if len(indices) == 1 else 'ies'} {shown} differ{'s' if len(indices) == 1 else ''}"
    return f"{len(indices)} of {mask.size} entries differ"


def _stable_ratio(claimed, truth) -> Fraction | None:
    """c when K = c G with the same small rational c at every draw."""
    ratios = []
    for k, g in zip(claimed, truth):
        gg = float(np.sum(g * g))
        if k.shape != g.shape or not gg:
            return None
        c = float(np.sum(k * g)) / gg
        if not np.isfinite(c) or rel_diff(k, c * g) > REL_TOL:
            return None
        ratios.append(c)
    simple = Fraction(ratios[0]).limit_denominator(24)
    if simple in (0, 1) or abs(simple.numerator) > 64:
        return None
    if all(abs(r - float(simple)) <= 1e-9 * max(1.0, abs(r)) for r in ratios):
        return simple
    return None


def describe(view) -> str:
    """"no simple slip found" and what is known about the difference."""
    facts = []
    claimed, truth = view.claimed, view.truth
    if view.truth_is_zero():
        facts.append("the true gradient is zero (the terms it is computed from cancel), but the claim is not")
    elif all(k.shape == g.shape for k, g in zip(claimed, truth)):
        masks = [np.abs(k - g) > REL_TOL * max(1.0, float(np.max(np.abs(g), initial=0.0)))
                 for k, g in zip(claimed, truth)]
        where = where_they_differ(np.logical_or.reduce(masks))
        at = f" at ({show_sizes(view.sizes)})" if view.sizes else ""
        if where:
            facts.append(where + at)
        if claimed[0].shape[0] == claimed[0].shape[1] > 1 and \
                all(rel_diff(k + k.T, g + g.T) <= REL_TOL for k, g in zip(claimed, truth)):
            facts.append("the claim is right up to symmetrisation: K + K.T = G + G.T (it differs from the true "
                         "gradient G by an antisymmetric matrix)")
        ratio = _stable_ratio(claimed, truth)
        if ratio is not None:
            facts.append(f"the claim is {ratio} times the true gradient{at} at every draw, but that factor "
                         "does not repair it at other sizes")
    return NO_SLIP + ("; " + "; ".join(facts) if facts else "")
