"""The lower lip's inner margin under a smile's teeth carried into an open mouth (fear or
surprise from a smile): the smile's lower row and the dark gaps between its teeth covered by
the lip, the margin following the opening's curve (faceedit.stage.lower_margin), and the
cavity's floor falling off softly into it, on drawn pixels."""

from __future__ import annotations

import numpy as np
from _imgs import drawn_open_mouth

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.lower_margin import cover_lower_row, loop_teeth_share
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
LIP = (190, 120, 125)
TEETH = (230, 228, 222)


def lum(a):
    return np.asarray(a, np.float64) @ LUMA


def curved_mouth(grain: float = 3.0):
    """(img, roi, op, bottom): a lip with grain, an opening whose lower edge curves down 24 px
    to its middle, and under it a smile's lower row 4 px high, its teeth 5 px wide with 1-px
    dark gaps between them (the specks), the lip's grain ``grain`` levels; ``bottom``: each roi column's last opening row."""
    rng = np.random.default_rng(3)
    img = np.clip(np.asarray(LIP, np.float64) + rng.normal(0, grain, (100, 140, 3)), 0, 255).astype(np.uint8)
    h, w = 50, 120
    op = np.zeros((h, w), np.float32)
    u = np.linspace(0.0, 1.0, w)
    low = 8 + 24 * np.sin(np.pi * u)  # roi rows
    for c in range(w):
        op[5:int(low[c]) + 1, c] = 1.0
    bottom = (np.arange(h)[:, None] * (op > 0.5)).max(0)
    x0, y0 = 10, 10
    for c in range(w):
        img[y0 + 5:y0 + bottom[c] + 1, x0 + c] = 8
        teeth = TEETH if c % 6 else (40, 25, 25)
        img[y0 + bottom[c] + 1:y0 + bottom[c] + 5, x0 + c] = teeth
    return img, (x0, y0, x0 + w, y0 + h), op, bottom


def test_the_margin_covers_a_smile_s_lower_row_and_its_dark_gaps():
    """Under the opening's middle 80 % no pixel of the 4 rows below it is a tooth (no lighter than
    the lip with the margin's light) or a speck (darker than 0.6 of the lip); the photo beyond
    the band and outside the opening's columns is untouched."""
    tn = MouthTuning()
    img, roi, op, bottom = curved_mouth()
    wd = 120.0
    out = cover_lower_row(img, roi, op, wd, np.asarray(LIP) / 255.0, tn)
    x0, y0 = roi[:2]
    lip_l = lum(LIP)
    for c in range(12, 108):
        band = lum(out[y0 + bottom[c] + 1:y0 + bottom[c] + 5, x0 + c])
        assert band.max() <= lip_l * (1.0 + tn.carried_margin_light) + 8, (c, band)
        assert band.min() >= 0.6 * lip_l, (c, band)
    assert (out[:, :x0] == img[:, :x0]).all() and (out[:, roi[2]:] == img[:, roi[2]:]).all()
    most = int(np.ceil(tn.carried_margin_most * wd)) + 2
    assert (out[y0 + bottom.max() + 2 * most + 2:] == img[y0 + bottom.max() + 2 * most + 2:]).all()
    # above the opening's lower edge nothing changes (the opening is painted by the bank)
    for c in range(0, 120, 7):
        assert (out[:y0 + bottom[c] + 1, x0 + c] == img[:y0 + bottom[c] + 1, x0 + c]).all()


def test_the_lit_margin_follows_the_opening_s_curve_not_a_straight_row():
    """Where the margin is lit (from ``rim_lower_lit_from`` of the width in from each corner) its
    lightest row in each column lies a fixed depth under that column's edge: along an edge that
    curves 7 px over those columns its rows span at least 6 px, within 2 px of the edge's own
    curve plus a constant."""
    tn = MouthTuning()
    img, roi, op, bottom = curved_mouth(grain=0.0)
    out = cover_lower_row(img, roi, op, 120.0, np.asarray(LIP) / 255.0, tn)
    x0, y0 = roi[:2]
    cols = np.arange(30, 91)
    light = np.array([int(np.argmax(lum(out[y0 + bottom[c] + 1:y0 + bottom[c] + 9, x0 + c]))) + bottom[c] + 1
                      for c in cols])
    assert np.ptp(light) >= 6, np.ptp(light)
    off = light - bottom[cols]
    assert np.ptp(off) <= 2, off


def test_under_carried_teeth_the_cavity_falls_off_into_the_lower_lip_without_specks():
    """Through the mouth bank (own teeth shown, a relaxed lip: teeth_cover 0.4): under the middle
    of the mouth a speckled lower row (light teeth, dark gaps) is gone from the 3 rows below the
    opening (none darker than 0.6 of the lip below, none a tooth's light), and the cavity's last
    rows rise to the lip over several pixels (no one-pixel step of more than half the rise)."""
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    img, up, lo, roi, op, bottom = drawn_open_mouth()
    x0, y0, x1, y1 = roi
    row = img.copy()
    for c in np.flatnonzero(bottom):
        row[y0 + bottom[c] + 1:y0 + bottom[c] + 4, x0 + c] = TEETH if c % 6 else (30, 20, 20)
    out, _ = bank.fill(row, roi, op, up, lo, own_teeth=True, teeth_cover=0.4)
    lip_below = np.median([lum(img[y0 + bottom[c] + 10, x0 + c]) for c in range(200 - x0, 281 - x0)])
    for c in range(200 - x0, 281 - x0):
        band = lum(out[y0 + bottom[c] + 1:y0 + bottom[c] + 4, x0 + c])
        assert band.min() >= 0.6 * lip_below, (c, band, lip_below)
        assert band.max() <= lip_below * (1.0 + MouthTuning().carried_margin_light) + 8, (c, band, lip_below)
        col = lum(out[y0 + bottom[c] - 8:y0 + bottom[c] + 3, x0 + c])
        rise = col.max() - col.min()
        assert np.abs(np.diff(col)).max() <= 0.5 * rise, (c, col)


def _loop_mouth(teeth: bool):
    """(img, up, lo): a dark-skinned mouth's wide loop (60 px between the corners, 24 px tall in
    its middle) over the lips' inner sides: lip above, a row of teeth 5 px high (or, without
    ``teeth``, lip) from 55 % of its height in its middle 40 %, a dark gap under it, lip below
    with a glossy highlight (light, but red) and a one-pixel grey speck high on the upper lip."""
    rng = np.random.default_rng(5)
    lip = np.asarray((80, 55, 58), np.float64)
    img = np.clip(lip + rng.normal(0, 2, (80, 100, 3)), 0, 255)
    x = np.linspace(20, 80, 15)
    half = 12 * np.sin(np.pi * (x - 20) / 60)
    up, lo = np.c_[x, 40 - half], np.c_[x, 40 + half]
    if teeth:
        img[41:46, 38:63] = (200, 196, 188)
        img[46:49, 38:63] = (20, 14, 14)
    img[47:50, 30:70] = (170, 110, 115)  # the lower lip's gloss
    img[31, 50] = (150, 150, 150)  # a highlight on the upper lip's inner side
    return img.astype(np.uint8), up, lo


def test_a_smile_s_thin_row_of_teeth_is_found_in_a_wide_loop_and_closed_lips_are_not():
    """Where colour found no interior (:func:`loop_teeth_share`), a row of teeth in the loop's
    middle 40 % is found: its columns' share ends at the teeth's lower edge (within a sample or
    two of 46 px), none past the row's ends; the same loop over lips (with a glossy lower lip and
    a one-pixel highlight) is None."""
    tn = MouthTuning()
    img, up, lo = _loop_mouth(True)
    share = loop_teeth_share(img, up, lo, tn)
    assert share is not None
    ends = up[:, 1] + share * (lo[:, 1] - up[:, 1])
    inside = (up[:, 0] > 40) & (up[:, 0] < 61)
    assert inside.sum() >= 3 and (share[inside] > 0).all(), share
    assert np.abs(ends[inside] - 46).max() <= 2.5, ends[inside]
    assert (share[(up[:, 0] < 36) | (up[:, 0] > 65)] == 0).all(), share
    img, up, lo = _loop_mouth(False)
    assert loop_teeth_share(img, up, lo, tn) is None
