"""The upper lip's red top found in the pixels of a smile a closing cut closes
(faceedit.stage.lip_top)."""

import numpy as np

from faceedit.stage.lip_top import found_upper_lip

SKIN = (200, 160, 140)
LIP = (190, 110, 110)


def _face(outer: float) -> np.ndarray:
    """68 points of an upright face whose outer upper lip (49-53) lies at y ``outer``, its inner
    upper lip (61-63) at y 200."""
    lm = np.zeros((68, 2))
    lm[36:42] = (90, 100)
    lm[42:48] = (150, 100)
    lm[8] = (120, 320)
    lm[48], lm[54] = (80, 200), (160, 200)
    for o, i, x in ((49, None, 95), (50, 61, 105), (51, 62, 120), (52, 63, 135), (53, None, 145)):
        lm[o] = (x, outer)
        if i is not None:
            lm[i] = (x, 200)
    return lm


def _photo(red_top: int) -> np.ndarray:
    """Skin above ``red_top``, the lip's red from there down."""
    img = np.full((400, 240, 3), SKIN, np.uint8)
    img[red_top:] = LIP
    return img


def test_points_in_the_skin_go_down_to_the_red():
    lm = _face(outer=180)  # 20 px thick; the red begins 5 px below the points
    out = found_upper_lip(_photo(185), lm, 0.4, 4.0)
    assert np.allclose(out[[50, 51, 52], 1], 184.5, atol=0.6)  # halfway in a*: the edge
    assert np.allclose(out[[49, 53], 1], 180 + 0.5 * (out[50, 1] - 180), atol=1e-6)
    assert np.array_equal(out[[49, 50, 51, 52, 53], 0], lm[[49, 50, 51, 52, 53], 0])
    keep = [k for k in range(68) if k not in (49, 50, 51, 52, 53)]
    assert np.array_equal(out[keep], lm[keep])


def test_at_most_a_share_of_the_thickness():
    lm = _face(outer=180)
    out = found_upper_lip(_photo(192), lm, 0.4, 4.0)  # the red 12 px down: capped at 8
    assert np.allclose(out[51, 1], 188.0, atol=1e-6)


def test_points_on_the_red_stay():
    lm = _face(outer=180)
    assert np.array_equal(found_upper_lip(_photo(178), lm, 0.4, 4.0), lm)


def test_no_red_no_move():
    lm = _face(outer=180)
    img = np.full((400, 240, 3), SKIN, np.uint8)
    assert np.array_equal(found_upper_lip(img, lm, 0.4, 4.0), lm)
    grey = np.full((400, 240), 150, np.uint8)
    assert np.array_equal(found_upper_lip(grey, lm, 0.4, 4.0), lm)
