"""The tooth light a laugh's corners leave on a mouth made neutral, painted from the lips and
crease round it (faceedit.stage.corner_teeth), while the lips' line and the skin stay."""

from __future__ import annotations

import numpy as np
from _imgs import closed_mouth

from faceedit.stage.corner_teeth import lift_corner_teeth, tooth_light

_G = np.float32([0.299, 0.587, 0.114])


def test_a_tooth_speck_at_a_corner_is_painted_as_the_lips_and_the_line_stays():
    img, lm = closed_mouth()
    img[139:141, 71:80] = (110, 70, 70)  # the line's own darker end at the corner
    speck = img.copy()
    speck[137:139, 74:77] = (225, 225, 220)  # a tooth-white speck just above the line by the corner
    assert tooth_light(speck, lm)[137:139, 74:77].all()
    out = lift_corner_teeth(speck, lm)
    red = out[137:139, 74:77, 0].astype(int) - out[137:139, 74:77, 2]
    assert red.min() > 40  # lip red again, not tooth white (5)
    assert (out[137:139, 74:77].astype(np.float32) @ _G).max() < 160  # the speck 224
    # the line and everything away from the corner stay as they are
    assert np.array_equal(out[139:141], speck[139:141])
    assert np.array_equal(out[:, 85:], speck[:, 85:])


def test_a_grey_sliver_in_a_dark_corner_wedge_is_painted():
    img, lm = closed_mouth()
    img[135:141, 71:80] = (70, 45, 45)  # a dark wedge at the corner
    img[137:139, 74:78] = (110, 112, 112)  # a tooth-grey sliver inside it
    out = lift_corner_teeth(img, lm)
    assert (out[137:139, 74:78, 0].astype(int) - out[137:139, 74:78, 2]).min() > 15


def test_lips_skin_and_a_red_highlight_are_left_as_they_are():
    img, lm = closed_mouth()
    img[136:138, 74:77] = (215, 140, 140)  # a lip highlight: light but as red as the lips
    assert not tooth_light(img, lm).any()
    assert lift_corner_teeth(img, lm) is img


def test_a_white_glint_on_the_lips_body_away_from_the_line_stays():
    """Real closed lips shine: a glint apart from the line (two rows below it) is no tooth."""
    img, lm = closed_mouth()
    img[139:141, 71:80] = (110, 70, 70)
    img[142:144, 74:77] = (225, 225, 220)
    assert not tooth_light(img, lm).any()
    assert lift_corner_teeth(img, lm) is img
