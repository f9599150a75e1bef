"""The upper lip's inner rim over a wide-open mouth (faceedit.stage.lip_rims.rims): narrow over the bank's upper
teeth, wider where a column shows no teeth at its top (the row's sides, a thin opening), never over more than
``rim_upper_bare_share`` of the column."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lip_rims import bare_top, rims
from faceedit.stage.tuning import MouthTuning

WD = 120.0


def _column(bare: float, height: float = 40.0, tn: MouthTuning | None = None) -> np.ndarray:
    """The luma down one column of a black interior under a lip of luma 0.5, through :func:`rims`."""
    t = np.arange(0.0, height, 0.5)
    n = len(t)
    col = np.zeros((n, 3))
    lip = np.full((n, 3), 0.5)
    out = rims(col, np.full(n, 0.3), t, np.full(n, height), WD, lip, tn or MouthTuning(), None, 1.0, np.full(n, bare))
    return out.mean(1)


def test_a_column_without_teeth_at_its_top_rolls_the_upper_lip_into_the_dark_more_slowly():
    """At 2 % of the corner distance below the curve (2.4 px) a bare column still holds the rim (over a tenth
    of the lip's luma); a column with teeth at its top is the interior there (the narrow rim, 1.4 px)."""
    tn = MouthTuning()
    at = int(round(0.02 * WD / 0.5))
    bare, teeth = _column(1.0), _column(0.0)
    assert bare[at] > 0.1 * 0.5 > teeth[at] - 1e-9, (bare[at], teeth[at])
    # both start from the rim's edge at the curve, and the bare rim ends within its width
    assert np.isclose(bare[0], tn.rim_edge * 0.5) and np.isclose(teeth[0], tn.rim_edge * 0.5)
    assert bare[int(np.ceil(tn.rim_upper_bare * WD / 0.5)) + 1] < 1e-6


def test_the_bare_rim_covers_no_more_than_its_share_of_a_short_column():
    """In a column 10 px tall the bare rim ends within ``rim_upper_bare_share`` of it (2.5 px), not the 4.8 px
    its width would take."""
    tn = MouthTuning()
    past = int(np.ceil(tn.rim_upper_bare_share * 10.0 / 0.5)) + 1
    assert _column(1.0, 10.0)[past] < 1e-6
    # without the share (half the column, as the lower rim may take) the rim still shows there
    assert _column(1.0, 10.0, MouthTuning(rim_upper_bare_share=0.5))[past] > 0.01


def test_bare_top_reads_the_teeth_at_the_curve():
    """No teeth at the curve where the column's teeth end above it (their edge shallower than the depth read
    there), teeth where they reach below it; ``shown`` (the lip's cover) scales the teeth's share."""
    edge_top, fade = np.array([10.0, 10.0, 10.0]), np.full(3, 1.0)
    incisal = np.array([5.0, 20.0, 20.0])
    shown = np.array([1.0, 1.0, 0.4])
    b = bare_top(edge_top, incisal, fade, shown)
    assert b[0] > 0.99 and b[1] < 0.01 and np.isclose(b[2], 0.6), b
