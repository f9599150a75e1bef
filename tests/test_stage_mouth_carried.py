"""A smile's own teeth carried into a mouth that opens without a smile (surprise, fear): the
gums it bared covered by the relaxed upper lip, the side teeth in the mouth's shadow, and what it
carried down under the opening in the lower lip's shade (faceedit.stage.lip_rims.shade_carried,
shade_below, and the mouth bank's fill that calls the latter), on drawn pixels."""

from __future__ import annotations

import numpy as np
from _imgs import drawn_open_mouth

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.lip_rims import lip_shade, shade_below, shade_carried
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
LIP = (110, 70, 90)  # a dark lip
GUM = (205, 140, 150)  # light pink gums
TEETH = (230, 228, 222)


def lum(a):
    return np.asarray(a, np.float64) @ LUMA


def carried_mouth(gum_rows: int = 3):
    """(pixels, interior, opening): a lip all round, a 60-column carried row of teeth 8 rows
    high at rows 20-27 under ``gum_rows`` rows of gums, a dark cavity at rows 28-43."""
    pixels = np.empty((60, 80, 3), np.uint8)
    pixels[:] = LIP
    interior = np.zeros((60, 80), np.float32)
    opening = np.zeros((60, 80), np.float32)
    interior[20:28, 10:70] = 1.0
    opening[28:44, 10:70] = 1.0
    pixels[20 - gum_rows:20, 10:70] = GUM
    pixels[20:28, 10:70] = TEETH
    pixels[28:44, 10:70] = 8
    return pixels, interior, opening


def test_a_relaxed_lip_covers_the_gums_over_a_carried_row():
    """The band of gums over the row takes the lip's colour, in the rims' shade at the row
    (no lighter than the lip, its chroma the lip's); the lip beyond the gums' reach (0.08 of
    60 columns: 5 rows) is untouched; a smile's edit (amount 0) leaves the gums bared."""
    tn = MouthTuning()
    pixels, interior, opening = carried_mouth()
    out = shade_carried(pixels, (0, 0, 80, 60), interior, opening, 1.0, tn)
    gums = out[17:20, 20:60].reshape(-1, 3).astype(np.float64)
    assert lum(gums).max() <= lum(LIP) + 1, lum(gums).max()
    assert lum(gums).mean() < 0.9 * lum(LIP)  # the lip's inner margin is in shade
    r_g = (gums[:, 0] / gums[:, 1]).mean()
    assert abs(r_g - LIP[0] / LIP[1]) < 0.1, r_g  # the lip's colour, not the gums' (205/140)
    assert (out[:14] == pixels[:14]).all()
    assert (shade_carried(pixels, (0, 0, 80, 60), interior, opening, 0.0, tn) == pixels).all()


def test_a_carried_row_s_side_teeth_recede_into_the_mouth_s_shadow():
    """Along the row, the teeth near the corners darken (a lit end was a light wedge at the
    corner), at the corners no lighter than the lip; from there to the middle the row is
    lighter toward the middle, and there the band under the lip is the teeth in the lip's shadow
    only (lip_shade); the cavity beside the row is left as it was."""
    tn = MouthTuning()
    pixels, interior, opening = carried_mouth(0)
    out = shade_carried(pixels, (0, 0, 80, 60), interior, opening, 1.0, tn)
    shadow = lip_shade(np.array([0.5, 3.5]), 60.0, tn.carried_lip_shadow, tn.carried_lip_shadow_reach)
    band = lum(out[20:24, 40])  # the middle's band, 0.15 of the 24-row column
    assert abs(band[0] - shadow[0] * lum(TEETH)) < 1 and abs(band[3] - shadow[1] * lum(TEETH)) < 1, band
    top = lum(out[20, 10:70])  # the row's top, corner to corner
    assert max(top[1], top[-2]) <= lum(LIP) + 1, (top[1], top[-2])
    half = top[1:30]
    assert half[0] < 0.7 * top[30] and (np.diff(half) >= -1).all(), half  # lighter toward the middle
    assert (out[28:44] == pixels[28:44]).all()


def test_the_line_a_smile_carried_under_an_open_mouth_lies_in_the_lip_s_shade():
    """shade_below: a light line (the smile's lower teeth's tips) 2 px under each column of the
    opening is darkened below the lip's luma under it, its first row to the shade's share
    (carried_lower_teeth_luma); the lip further down, and the opening, are untouched."""
    tn = MouthTuning()
    img = np.empty((60, 100, 3), np.uint8)
    img[:] = (190, 120, 125)  # a light lower lip
    img[20:30, 20:80] = 10
    img[30:32, 20:80] = TEETH
    op = np.zeros((40, 80), np.float32)
    op[10:20, 10:70] = 1.0  # roi (10, 10, 90, 50): rows 20-29 of the photo
    wd = 60.0  # d1 = 3 px: rows 30-32 in full, fading out by row 35
    out = shade_below(img, (10, 10, 90, 50), op, wd, tn)
    lip_l = lum((190, 120, 125))
    assert lum(out[30, 25:75]).max() <= tn.carried_lower_teeth_luma * lip_l + 1
    assert lum(out[31, 25:75]).max() < lip_l
    assert (out[36:] == img[36:]).all() and (out[:30] == img[:30]).all()
    assert (out[:, :20] == img[:, :20]).all()  # only under the opening's columns


def test_a_relaxed_mouth_from_a_smile_falls_off_softly_into_the_lower_lip():
    """Through the mouth bank: with the face's own upper teeth shown and a relaxed lip (teeth_cover
    0.4, surprise), a light line under the opening no longer stands between the cavity and the
    lower lip (every row from the cavity down no lighter than the lip below but for the lit
    margin's soft light); with a smile's
    lifted lip (teeth_cover 0) the bank leaves it as the photo has it."""
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    img, up, lo, roi, op, bottom = drawn_open_mouth()
    x0, y0, x1, y1 = roi
    line = img.copy()
    for c in np.flatnonzero(bottom):
        line[y0 + bottom[c] + 1:y0 + bottom[c] + 3, x0 + c] = TEETH
    relaxed, e = bank.fill(line, roi, op, up, lo, own_teeth=True, teeth_cover=0.4)
    smile, _ = bank.fill(line, roi, op, up, lo, own_teeth=True, teeth_cover=0.0, exemplar=e)
    lip_below = np.median([lum(img[y0 + bottom[c] + 8, x0 + c]) for c in range(220 - x0, 261 - x0)])
    for c in range(220 - x0, 261 - x0, 5):  # the middle of the mouth
        col = lum(relaxed[y0 + bottom[c] - 3:y0 + bottom[c] + 4, x0 + c])
        # no light line: at most the lip with the margin's own soft light (carried_margin_light)
        assert col.max() <= lip_below * (1.0 + MouthTuning().carried_margin_light) + 2, (c, col, lip_below)
        assert lum(smile[y0 + bottom[c] + 2, x0 + c]) > lip_below + 20  # the smile's line kept


def test_the_upper_lip_carried_over_a_smile_s_teeth_stays_for_them_to_hang_from():
    """A carried interior whose top rows are the upper lip's inner margin over the teeth: that
    lip (down to each column's first tooth, beside the row's ends down to the nearest tooth's
    top) is not given to the painter; the lip below the teeth and carried lip with no teeth at
    all (closed lips' crease) are."""
    from faceedit.stage.lip_rims import lip_over_teeth

    pixels = np.empty((40, 60, 3), np.uint8)
    pixels[:] = LIP
    interior = np.zeros((40, 60), np.float32)
    interior[10:30, 10:50] = 1.0
    pixels[14:22, 15:45] = TEETH  # the teeth, rows 14-21, under 4 rows of lip
    lip = np.zeros_like(interior)
    lip[10:30, 10:50] = 1.0
    lip[14:22, 15:45] = 0.0  # all that is not teeth is lip coloured
    kept = lip_over_teeth(pixels, (0, 0, 60, 40), interior, lip)
    assert (kept[10:14, 15:45] == 1.0).all()  # the lip over the teeth
    assert (kept[10:14, 10:15] == 1.0).all()  # and beside the row's ends, to the teeth's top
    assert not kept[14:].any()  # the lip below the teeth's top is painted
    assert not kept[:10].any() and not kept[:, :10].any()  # nothing outside the interior
    no_teeth = np.empty_like(pixels)
    no_teeth[:] = LIP
    assert not lip_over_teeth(no_teeth, (0, 0, 60, 40), interior, interior).any()


def test_a_carried_row_ends_in_an_edge_with_its_gaps_kept():
    """A row reaching further down than the lit band (0.15 of the column) and half the fade
    (0.2): down to there the teeth as they were, in the lip's shadow at the top, or darker by each
    pixel's share (a gap between two teeth as much darker than the teeth beside it), then within
    two rows the cavity's tone (blended over the whole fade, the row's lower part stood as a grey
    ramp); where the opening reaches past the row's ends, the row falls toward the tone at them,
    lighter toward its middle."""
    tn = MouthTuning()
    pixels = np.full((40, 60, 3), 150, np.uint8)
    interior = np.zeros((40, 60), np.float32)
    opening = np.zeros((40, 60), np.float32)
    interior[10:22, 15:45] = 1.0  # 12 rows of teeth in columns 24 rows tall
    opening[22:34, 5:55] = 1.0
    opening[10:22, 5:15] = opening[10:22, 45:55] = 1.0  # the opening beside the row
    pixels[10:22, 15:45] = 230
    pixels[10:22, 30] = 180  # a gap between two teeth
    pixels[22:34, 5:55] = pixels[10:22, 5:15] = pixels[10:22, 45:55] = 10
    out = shade_carried(pixels, (0, 0, 60, 40), interior, opening, 1.0, tn).astype(np.float64)
    end = (tn.carried_teeth_band + tn.carried_teeth_fade / 2) * 24  # 6 rows
    col = out[10:22, 27, 0]
    # in the lip's shadow at the top, lit below it, a little darker down
    assert col[0] < 0.85 * 230 and col[2] >= 0.95 * 230 and col[int(end) - 1] >= 0.8 * 230, col
    assert (col[int(end) + 1:] <= 12).all(), col  # then the cavity's tone within two rows
    for r in (11, 14):  # the gap as much darker than its neighbour, in the band and below it
        assert abs(out[r, 30, 0] / out[r, 29, 0] - 180 / 230) < 0.03, (r, out[r, 28:33, 0])
    row = out[11, 15:31, 0]  # from the row's left end to its middle
    assert row[0] < 0.3 * row[-2] and (np.diff(row[:-2]) >= -1).all(), row


def test_a_thin_gap_is_the_lips_meeting_but_a_small_smile_s_columns_stay_its_teeth():
    """lip_rims.meet: a column 1 px high in a mouth 36 px wide is the lips meeting (their shade),
    a tall one the interior; weight 0 (a small face's smile read whole from the bank) leaves
    even the thin columns its teeth, weight 1/2 half way."""
    from faceedit.stage.lip_rims import meet

    tn = MouthTuning()
    fill = np.tile(np.array([[0.9, 0.9, 0.88]]), (3, 1))
    gap = np.array([1.0, 2.5, 10.0])
    lip = np.array([0.5, 0.3, 0.3])
    whole = meet(fill, gap, 36.0, lip, tn)
    assert np.allclose(whole[0], lip * tn.seam_dark, atol=0.05) and np.allclose(whole[2], fill[2])
    assert lum(whole[1]) < lum(fill[1]) - 0.05
    assert np.allclose(meet(fill, gap, 36.0, lip, tn, 0.0), fill)
    half = meet(fill, gap, 36.0, lip, tn, 0.5)
    assert np.allclose(half, (fill + whole) / 2)
