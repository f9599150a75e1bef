"""The lower lip's outer edge found in the pixels under a wide-open mouth
(faceedit.stage.lip_edge)."""

import cv2
import numpy as np

from faceedit.stage.lip_edge import found_lower_lip


def _face(gap: float) -> np.ndarray:
    """68 points of an upright face whose mouth (corners at x 80 and 160, y 200) is ``gap`` px
    open between 62 and 66, the outer lower lip 20 px below the inner."""
    lm = np.zeros((68, 2))
    lm[36:42] = (90, 100)
    lm[42:48] = (150, 100)
    lm[8] = (120, 320)
    lm[48], lm[54] = (80, 200), (160, 200)
    for o, i, x in ((59, None, 90), (58, 67, 105), (57, 66, 120), (56, 65, 135), (55, None, 150)):
        lm[o] = (x, 200 + gap / 2 + 20)
        if i is not None:
            lm[i] = (x, 200 + gap / 2)
    lm[62] = (120, 200 - gap / 2)
    return lm


def _photo(lip_bottom: float) -> np.ndarray:
    """Skin (grey 150), a lip (120) from the mouth down to ``lip_bottom``, a shadow (80) 4 px
    under it."""
    img = np.full((400, 240, 3), 150, np.uint8)
    img[190:int(lip_bottom)] = 120
    img[int(lip_bottom):int(lip_bottom) + 4] = 80
    return img


def test_a_wide_open_mouths_lower_lip_reaches_its_shadow():
    lm = _face(gap=30)  # outer lower lip at y 235
    out = found_lower_lip(_photo(243), lm, 0.8, 0.85, 0.6, (0.1, 0.2), 1.0)
    assert np.allclose(out[[56, 57, 58], 1], 242, atol=1)  # the last lip row above the shadow
    assert np.allclose(out[[55, 59], 1], 242, atol=1)
    assert np.array_equal(out[:55], lm[:55]) and np.array_equal(out[60:], lm[60:])


def test_a_closed_mouths_points_stay():
    lm = _face(gap=2)
    assert np.array_equal(found_lower_lip(_photo(230), lm, 0.8, 0.85, 0.6, (0.1, 0.2), 1.0), lm)


def test_no_shadow_no_move():
    lm = _face(gap=30)
    img = np.full((400, 240, 3), 150, np.uint8)
    assert np.array_equal(found_lower_lip(img, lm, 0.8, 0.85, 0.6, (0.1, 0.2), 1.0), lm)


def test_a_blurred_edge_is_found_where_it_lies():
    """A lip (120) ending on dark skin (70) at 243, blurred (sigma 2): the fall is as narrow as
    the blur, the lip holds above it; the edge found is the step's own."""
    img = np.full((400, 240, 3), 150, np.uint8)
    img[190:243] = 120
    img[243:] = 70
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    out = found_lower_lip(img, _face(gap=30), 0.8, 0.85, 0.6, (0.1, 0.2), 1.0)
    assert np.allclose(out[[55, 56, 57, 58, 59], 1], 242, atol=1)


def test_a_lip_fading_from_its_points_is_not_moved():
    """The outer lower lip's points (235) on the lip's edge, the lip fading into dark skin below
    them (120 to 70 over 235-250, as a lip blurred into darker skin does): no place the lip
    ends, only where the search stops; the points stay (taken halfway down the fade, 243, before
    the fall was weighed against the lip held above it)."""
    lm = _face(gap=30)
    img = np.full((400, 240, 3), 150, np.uint8)
    img[190:236] = 120
    img[236:251] = np.linspace(117, 70, 15).round()[:, None, None]
    img[251:] = 70
    assert np.array_equal(found_lower_lip(img, lm, 0.8, 0.85, 0.6, (0.1, 0.2), 1.0), lm)
    assert found_lower_lip(img, lm, 0.8, 0.85, 0.6, (0.1, 0.2), 1e9)[57, 1] > 240
