"""Where an open mouth's gap thins toward a corner (faceedit.stage.lips_meet), on a drawn wedge:
the dark narrows to a point down the middle of the columns, the lips' colour converging over it,
instead of stopping square where the columns grow thin; thick columns stay as they are."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lip_rims import column_gaps, meet
from faceedit.stage.lips_meet import meet_across, meeting
from faceedit.stage.tuning import MouthTuning

LIP = np.array([0.6, 0.3, 0.35])
DARK = np.array([0.03, 0.02, 0.02])
WD = 150.0  # corner distance (px): gap_closed 4.5 px, gap_open 15 px at the defaults


def wedge(length: int = 60, slope: float = 0.4):
    """(opening, ys, xs): an opening's coverage ending at column 0 in a wedge whose height grows
    ``slope`` px per column (whole pixels: each column's run centred on row 20)."""
    h = 48
    op = np.zeros((h, length), np.float32)
    for x in range(length):
        g = int(round(slope * (x + 0.5)))
        if g > 0:
            top = 24 - (g + 1) // 2
            op[top:top + g, x] = 1.0
    ys, xs = np.nonzero(op > 0)
    return op, ys, xs


def paint(fn):
    op, ys, xs = wedge()
    gap, above = column_gaps(op)
    fill = np.broadcast_to(DARK, (len(ys), 3)).copy()
    lip = np.broadcast_to(LIP, (len(ys), 3))
    col = fn(fill, gap[ys, xs], above[ys, xs], lip)
    img = np.ones(op.shape + (3,))
    img[ys, xs] = col
    return op, img @ np.array([0.299, 0.587, 0.114])


def dark_rows(luma: np.ndarray) -> np.ndarray:
    return (luma < 0.1).sum(0)


def test_a_thin_gap_s_dark_narrows_to_a_point_between_the_lips():
    tn = MouthTuning()
    op, luma = paint(lambda f, g, a, lip: meet_across(f, g, a, WD, lip, tn))
    gap = op.sum(0)
    dark = dark_rows(luma)
    # thick columns (gap_open of the width and more) keep their whole dark
    thick = gap >= tn.gap_open * WD
    assert thick.any() and np.array_equal(dark[thick], gap[thick].astype(int))
    # well below that the dark is a core thinner than its column, none at gap_closed and under
    thin = (gap > tn.gap_closed * WD + 1) & (gap <= 0.8 * tn.gap_open * WD)
    assert thin.sum() > 5 and (dark[thin] < gap[thin]).all()
    assert (dark[gap <= tn.gap_closed * WD] == 0).all()
    # and it grows toward the middle without a step: from nothing to the whole column over
    # many columns (a point, not a square end), never thinner further from the end
    started = np.flatnonzero(dark)
    assert started.size and (np.diff(dark[started[0]:]) >= 0).all()
    assert int(np.flatnonzero(thick)[0]) - int(started[0]) >= 8
    # in a thin column the middle is the darkest, the lips' edges lightest (their rims' colour)
    x = int(np.flatnonzero(thin)[len(np.flatnonzero(thin)) // 2])
    rows = np.flatnonzero(op[:, x] > 0)
    col = luma[rows, x]
    assert col[len(col) // 2] < col[0] - 0.1 and col[len(col) // 2] < col[-1] - 0.1
    assert abs(col[0] - tn.rim_edge * float(LIP @ [0.299, 0.587, 0.114])) < 0.06


def test_the_column_whole_meet_stops_square_and_meeting_keeps_it_for_a_smile_and_under_teeth():
    """What :func:`meet_across` replaces for an open mouth: each thin column painted whole in the
    lips' shade, so the dark ends in a step as high as the columns where it stops; ``meeting``
    for a smile's opening (not ``large``), without ``above``, or where teeth lie above the gap
    (``lip_above`` 0) still paints so."""
    tn = MouthTuning()
    op, luma = paint(lambda f, g, a, lip: meet(f, g, WD, lip, tn))
    dark = dark_rows(luma)
    first = int(np.flatnonzero(dark)[0])
    assert dark[first] >= 4  # the square end
    for large, above in ((False, True), (True, False)):
        _, again = paint(lambda f, g, a, lip: meeting(f, g, a if above else None, WD, lip, tn, {"small": 0.0}, large))
        assert np.array_equal(again, luma)
    _, across = paint(lambda f, g, a, lip: meeting(f, g, a, WD, lip, tn, {"small": 0.0}, True))
    assert dark_rows(across)[np.flatnonzero(dark_rows(across))[0]] <= 2  # a point
    # under teeth (``lip_above`` 0) the thin gap is painted whole again, half way at 0.5
    for share, want in ((0.0, luma), (1.0, across)):
        _, got = paint(lambda f, g, a, lip: meeting(f, g, a, WD, lip, tn, {"lip_above": np.full(len(g), share)}, True))
        assert np.allclose(got, want), share


def test_lip_above_tells_a_gap_under_teeth_from_one_between_the_lips():
    """A thin dark gap whose middle columns have a light row of teeth above it, the lip above
    its ends: ``lip_above`` is 0 under the teeth, 1 toward the ends, 0 outside the opening."""
    from faceedit.stage.lips_meet import lip_above

    lip8 = (LIP * 255).astype(np.uint8)
    img = np.empty((60, 120, 3), np.uint8)
    img[:] = lip8
    op = np.zeros((60, 120), np.float32)
    op[30:36, 10:110] = 1.0
    img[op > 0] = 8
    img[22:30, 35:85] = (235, 230, 220)  # the carried row's teeth
    got = lip_above(img, (0, 0, 120, 60), op, LIP, WD, MouthTuning())
    assert got.shape == op.shape
    assert got[32, 50:70].max() < 0.05
    assert got[32, 12:20].min() > 0.95 and got[32, 100:108].min() > 0.95
    assert got[10].max() == 0 and got[32, :10].max() == 0
