"""Where an open mouth's gap thins toward its corners, the lips meeting across it.

:func:`faceedit.stage.lip_rims.meet` paints a thin column of an opening whole in the closed lips'
shade: along a wide, thin opening (fear) the cavity's dark so stops where its columns grow
thicker than ``gap_open`` of the mouth's width, in a square end some 9 px high at 1350 px, with
a flat grey wedge from there to the corner. :func:`meet_across` keeps the dark to a core down
the middle of each column that narrows with the gap, to nothing at ``gap_closed``, and paints
the rest of the column as the lips' inner sides, their rims' colour at the edges darkening to
the seam's shade at the core: the lips' edges converge, and the dark ends in a point and a
short crease where they meet. Under a smile's row carried into the opening (:func:`lip_above`)
the thin gap is the lower lip meeting the teeth, painted whole (:func:`meeting`).
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.lip_rims import meet, smoothstep, teeth_below
from faceedit.stage.tuning import MouthTuning


def meet_across(fill: np.ndarray, gap: np.ndarray, above: np.ndarray, wd: float, lip: np.ndarray,
                tn: MouthTuning) -> np.ndarray:
    """Unit RGB (n, 3) of an open mouth's pixels (``fill``) where its column is a thin gap
    (``gap``: the column's height in px at each pixel, ``above``: how far the pixel lies below
    the column's top, both from :func:`~faceedit.stage.lip_rims.column_gaps`; ``wd`` the corner
    distance, ``lip`` the lips' local colour): a column ``gap_open`` of ``wd`` high or more is
    kept whole; below that the interior shows over a core round the column's middle of
    ``gap * s`` (``s`` a smoothstep from ``gap_closed`` of ``wd``, 0, up to ``gap_open``, 1),
    edged over a pixel and taken ``gap_core_shade`` of the way to the lips meeting in the whole
    column (:func:`~faceedit.stage.lip_rims.meet`), and outside it the lips' colour,
    ``seam_dark`` of it at the core's edge rising to ``rim_edge`` at the column's (the lips'
    rims at the curve, :func:`~faceedit.stage.lip_rims.rims`: lit whole they met in a light
    wedge at the corners)."""
    g = np.asarray(gap, np.float64)
    lo, hi = tn.gap_closed * wd, max(tn.gap_open * wd, tn.gap_closed * wd + 1.0)
    s = smoothstep(lo, hi, g)
    if float(s.min()) >= 1.0:
        return fill
    half = g / 2.0
    core = half * s
    # each pixel's distance from its column's middle (its centre: ``above`` plus half a pixel)
    d = np.abs(np.asarray(above, np.float64) + 0.5 - half)
    m = np.clip(d - core + 0.5, 0.0, 1.0) * (s < 1.0)
    r = np.clip((d - core) / np.maximum(half - core, 0.5), 0.0, 1.0)
    tone = np.asarray(lip, np.float64) * (tn.seam_dark + (tn.rim_edge - tn.seam_dark) * r)[:, None]
    # the core itself part-way to the seam's shade as the whole column was (its point a soft
    # crease, not a black spike into the corner)
    core_fill = meet(fill, gap, wd, lip, tn, tn.gap_core_shade)
    return core_fill * (1.0 - m[:, None]) + tone * m[:, None]


def lip_above(pixels: np.ndarray, roi, opening: np.ndarray, lip: np.ndarray, wd: float,
              tn: MouthTuning) -> np.ndarray:
    """Float32 (h, w) over ``roi``: for each column of ``opening``, how surely the lip, not teeth,
    lies just above it (:func:`~faceedit.stage.lip_rims.teeth_below` read upside down, smoothed
    along the row over ``column_smooth`` of ``wd``): a smile's row carried into an open mouth
    tops the gap under it, where the lips do not meet. 0 outside the opening's columns."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    h = pixels.shape[0]
    op = np.asarray(opening, np.float32)
    teeth = teeth_below(pixels[::-1], (x0, h - y1, x1, h - y0), op[::-1], lip, wd, tn.column_smooth * wd)[::-1]
    return (1.0 - teeth) * (op > 0.5)


def meeting(fill: np.ndarray, gap: np.ndarray | None, above: np.ndarray | None, wd: float, lip: np.ndarray,
            tn: MouthTuning, rings: dict, large: bool) -> np.ndarray:
    """The thin gaps of an opening's pixels ``fill``: none without ``gap``; a smile's
    (not ``large``) each column whole by :func:`~faceedit.stage.lip_rims.meet`, weighted by
    ``1 - rings["small"]``; an open mouth's across its columns (:func:`meet_across`, given
    ``above``), whole (weight 1) where ``rings["lip_above"]`` (each pixel's :func:`lip_above`,
    none: the lip everywhere) says teeth lie above the gap."""
    if gap is None:
        return fill
    if not large:
        return meet(fill, gap, wd, lip, tn, 1.0 - float(rings["small"]))
    whole = meet(fill, gap, wd, lip, tn, 1.0)
    if above is None:
        return whole
    across = meet_across(fill, gap, above, wd, lip, tn)
    share = rings.get("lip_above")
    if share is None:
        return across
    share = np.asarray(share, np.float64)[:, None]
    return whole * (1.0 - share) + across * share
