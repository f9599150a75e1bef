"""An open mouth's edges at the photo's pixels (faceedit.stage.mouth_bank, faceedit.stage.lip_rims): the
lower lip's lit inner margin, corners that close as soft shadowed points, no steps from column
to column, and no light line of carried teeth beside the opening's steep sides."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import drawn_face
from test_models_mouth import mouth, opening_of

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lip_rims import along_row, lip_field, shade_teeth_beside, teeth_below
from faceedit.stage.lips import opening_aspect
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
LIP = np.array([170.0, 90.0, 95.0])


@pytest.fixture(scope="module")
def bank() -> MouthBank:
    return MouthBank.load()


def lipped(up, lo):
    """The drawn face with red lips round the opening."""
    img = drawn_face().copy()
    cv2.polylines(img, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], True, LIP.tolist(), 30,
                  cv2.LINE_AA, shift=4)
    return img


def test_the_lower_lip_meets_the_cavity_with_a_lit_margin(bank):
    """Down the middle of a wide-open mouth, the lower lip's inner margin is lit at its curve
    (the row just inside it at least 0.7 of the lips' luma) and falls into the dark within a
    few px: ``rim_lower`` deep, half-way down that the luma is under 0.6 of the lips', and
    under 0.25 of it at twice that depth. Darkened to ``rim_edge`` at the curve (the margin
    unlit) the same row is darker."""
    up, lo = mouth(110)
    img = lipped(up, lo)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    tn = MouthTuning(tongue_top=2.0)
    out, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4, tuning=tn)
    unlit, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4,
                         tuning=MouthTuning(tongue_top=2.0, rim_lower_lit=tn.rim_edge))
    yb = int(np.floor(lo[7, 1]))
    lum = lambda a, dy: float((a[yb - dy, 230:251].astype(np.float64) @ LUMA).mean())  # noqa: E731
    lip = float(LIP @ LUMA)
    w = tn.rim_lower * 180
    assert lum(out, 1) > 0.7 * lip, (lum(out, 1), lip)
    assert lum(out, 1) > lum(unlit, 1) + 10, (lum(out, 1), lum(unlit, 1))
    assert lum(out, round(w)) < 0.6 * lip and lum(out, round(2 * w)) < 0.25 * lip, (
        [lum(out, d) for d in range(1, round(2 * w) + 1)], lip)


@pytest.mark.parametrize("height", [110, 40])
def test_an_open_mouth_s_corners_close_as_soft_shadowed_points(bank, height):
    """An opening that ends in a tall edge (its curves a third of its height apart at the
    ends, joined at a corner point half-way; a warp leaves such ends): within a few px of each
    corner point its darkest pixel is the lips' shade where they meet (at least a quarter of
    the lips' luma), not a black dot; with ``corner_close`` 0 the same pixels reach down to
    the cavity's dark."""
    up, lo = mouth(height)
    t = np.linspace(0.0, 1.0, len(up))
    lo = lo + np.c_[np.zeros(len(t)), height / 3 * (1.0 - np.sin(np.pi * t))]
    img = lipped(up, lo)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    out, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4)
    bare, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4, tuning=MouthTuning(corner_close=0.0))
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
    lip = float(LIP @ LUMA)
    for c in ((up[0] + lo[0]) / 2, (up[-1] + lo[-1]) / 2):  # the corner points (join_corners)
        near = np.hypot(xx - c[0], yy - c[1]) < 0.04 * 180
        dark, black = ((a.astype(np.float64) @ LUMA)[near].min() for a in (out, bare))
        assert dark > 0.25 * lip and dark > black + 10, (c, dark, black, lip)


def test_what_a_mouth_reads_per_column_is_smoothed_along_the_row():
    """along_row: a step from one column to the next spreads over a few px, inside the mask
    only (its edge does not pull the values to 0); teeth_below with ``smooth`` spreads one
    column's teeth to its neighbours, less than whole."""
    v = np.zeros((3, 30), np.float32)
    v[:, 15:] = 1.0
    m = np.ones_like(v, bool)
    m[:, :3] = False
    s = along_row(v, m, 2.0)
    assert s[1, 14] > 0.2 and s[1, 15] < 0.8 and s[1, 3] == pytest.approx(0.0, abs=1e-3)
    assert (s[:, :3] == 0).all() and s[1, 29] == pytest.approx(1.0, abs=1e-3)
    lip = np.array([0.63, 0.45, 0.45])
    img = np.zeros((60, 100, 3), np.uint8)
    img[:] = np.round(lip * 255).astype(np.uint8)
    img[31:34, 48:53] = (205, 200, 195)  # teeth under five columns
    op = np.zeros((40, 80), np.float32)
    op[10:21, 5:75] = 1.0
    hard = teeth_below(img, (10, 10, 90, 50), op, lip, 70.0)
    soft = teeth_below(img, (10, 10, 90, 50), op, lip, 70.0, smooth=3.0)
    c = 50 - 10
    assert hard[15, c + 6] == 0.0 and soft[15, c + 6] > 0.05 and soft[15, c] < hard[15, c]


def test_carried_teeth_beside_an_open_mouth_s_steep_sides_take_the_lips_colour():
    """Light grey pixels (a smile's lower teeth carried with the lip) a few px beside the lower
    half of an opening are taken to the lips' colour; the same beside its upper half, beyond its
    corner (the skin beside it), and lip-coloured pixels, stay as they are."""
    up, lo = mouth(110)
    img = lipped(up, lo)
    poly = opening_polygon(up, lo)
    grey = img.copy()
    roi, op = opening_of(up, lo, img.shape)
    cy = int(round(up[0, 1]))
    side = np.zeros(img.shape[:2], bool)
    for y in range(cy + 6, cy + 30):  # beside the lower half's left side, 2-4 px out
        left = roi[0] + int(np.flatnonzero(op[y - roi[1]] > 0)[0])
        side[y, left - 4:left - 2] = True
    grey[side] = (205, 200, 195)
    left = int(np.floor(poly[:, 0].min()))
    grey[cy - 12:cy - 6, left + 8:left + 10] = (205, 200, 195)  # above the opening: the upper lip
    cx = int(round(up[0, 0]))
    grey[cy + 1:cy + 4, cx - 7:cx - 4] = (205, 200, 195)  # beyond the corner: the skin beside it
    roi = (roi[0] - 12, roi[1] - 12, roi[2] + 12, roi[3] + 12)
    lipc = LIP / 255.0
    box, _, _, target, _ = lip_field(grey, roi, up, lo, 180.0, lipc, MouthTuning())
    out = shade_teeth_beside(grey, box, target, up, lo, lipc, 0.06 * 180)
    y = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    assert y(out[side]).mean() < y(grey[side]).mean() - 40
    red = out[side].astype(np.float64)
    assert (red[..., 0] - red[..., 2]).mean() > 40  # the lips' red, not grey
    np.testing.assert_array_equal(out[cy - 12:cy - 6, left + 8:left + 10], grey[cy - 12:cy - 6, left + 8:left + 10])
    np.testing.assert_array_equal(out[cy + 1:cy + 4, cx - 7:cx - 4], grey[cy + 1:cy + 4, cx - 7:cx - 4])
    changed = np.any(out != grey, -1)
    assert not changed[grey.sum(-1) == img.sum(-1)].any() or np.abs(out.astype(int) - grey.astype(int))[
        ~np.any(grey != img, -1)].max() <= 1
