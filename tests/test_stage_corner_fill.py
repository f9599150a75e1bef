"""A laugh's hidden corners take in the dark corridor running on past them, not the lips beside
them, and the photo fades into their fill instead of meeting it at an edge."""

from __future__ import annotations

import numpy as np

from faceedit.stage.corner_fill import dark_beside, hidden_corners

BOX = (0, 0, 80, 60)
WEDGE = np.array([(20.0, 25.0), (40.0, 20.0), (40.0, 35.0)])  # a corner's wedge, its tip at (20, 25)


def _photo() -> np.ndarray:
    """Skin (luma ~180) with a grain, a lip below y 40 (140, darker than the skin but broad) and a
    smile's corridor (60) 1 px thick running from the wedge's tip up and out, plus a dark fleck
    away from it."""
    rng = np.random.default_rng(0)
    img = np.full((60, 80, 3), 180.0, np.float32) + rng.normal(0, 3, (60, 80, 1)).astype(np.float32)
    img[40:] = 140.0
    for k in range(12):
        img[24 - k // 2, 19 - k] = 60.0  # the corridor: up and out of the tip
    img[10, 70] = 60.0  # a fleck, not joined to the wedge
    return img


def test_the_dark_joined_to_a_corner_is_taken_in_and_the_rest_stays():
    img = _photo()
    corners = np.zeros((60, 80), np.uint8)
    corners[20:36, 20:41] = 1
    dark = dark_beside(img, corners, np.zeros((60, 80), np.float32), reach=16.0, depth=0.12, window=9)
    assert all(dark[24 - k // 2, 19 - k] for k in range(12))
    assert not dark[10, 70]
    assert not dark[41:, :].any()  # the lip's luma follows its own median


def test_hidden_corners_take_in_the_corridor_and_feather_the_photo_in():
    img = _photo()
    hidden = np.zeros((60, 80), np.float32)
    grown, shade, where = hidden_corners(img, hidden, hidden, [WEDGE], BOX, feather=4.0, dark=(16.0, 9.0, 0.12))
    assert all(grown[24 - k // 2, 19 - k] > 0 and shade[24 - k // 2, 19 - k] == 0 for k in range(12))
    # round it, the photo's share rises from none at the edge to all 4 px out
    inside = grown > 0
    assert (shade[inside] >= 0).all() and (shade[inside] < 1).all()
    below = shade[31:35, 30]  # down from the wedge's lower edge (y 30 at x 30)
    assert 0 < below[0] < below[1] < below[2] < below[3] < 1 and grown[36, 30] == 0
    assert grown[27, 60] == 0 and grown[10, 70] == 0
    assert (where == (grown > 0)).all()
    # without dark to take in, only the band round the wedge
    plain, _, _ = hidden_corners(img, hidden, hidden, [WEDGE], BOX, feather=4.0, dark=(0.0, 9.0, 0.12))
    assert plain[18, 8] == 0 and grown[18, 8] > 0
