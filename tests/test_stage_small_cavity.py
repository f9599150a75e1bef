"""A small face's open mouth drawn at the photo's own blur (faceedit.stage.small_cavity.open_edge): soft edges, the
upper teeth's tips a band not notches, the dark no darker than a share of the photo's black; a large face's and a
smile's opening only softened as before (cavity.soften_edge)."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.pixels import LUMA_WEIGHTS

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def drawn_opening():
    """A 40 x 60 skin-and-lips crop with a pure-black opening 20 px wide and 6 high whose top row holds light
    teeth's tips every other pair of columns (the bank's notches), and its opening mask."""
    img = np.full((40, 60, 3), (190, 140, 120), np.uint8)
    img[14:28, 16:44] = (150, 80, 80)  # the lips
    op = np.zeros((40, 60), np.float32)
    op[18:24, 20:40] = 1.0
    img[18:24, 20:40] = 0
    for x in range(20, 40, 4):  # the tips: 2 px of tooth, 2 of dark
        img[18:20, x:x + 2] = (200, 190, 170)
    return img, op


def luma(img):
    return img[..., :3].astype(np.float64) @ _LUMA


@pytest.mark.parametrize("wd, smile", [(250.0, False), (30.0, True)])
def test_a_large_face_s_or_a_smile_s_opening_is_only_softened(wd, smile):
    from faceedit.stage.cavity import soften_edge
    from faceedit.stage.small_cavity import open_edge
    from faceedit.stage.tuning import MouthTuning

    tn = MouthTuning()
    img, op = drawn_opening()
    a, b = img.copy(), img.copy()
    rings = {"blur": 0.0, "black": np.array([0.1, 0.08, 0.07])}
    open_edge(a, (0, 0, 60, 40), op, tn, rings, wd, smile=smile, own_teeth=False)
    soften_edge(b, (0, 0, 60, 40), op, tn.edge_focus, 0.0)
    np.testing.assert_array_equal(a, b)


def test_a_small_face_s_opening_reads_photographed():
    from faceedit.stage.cavity import soften_edge
    from faceedit.stage.small_cavity import open_edge
    from faceedit.stage.tuning import MouthTuning

    tn = MouthTuning()
    img, op = drawn_opening()
    black = np.array([0.12, 0.1, 0.09])
    before = img.copy()
    soften_edge(before, (0, 0, 60, 40), op, tn.edge_focus, 0.0)
    after = img.copy()
    open_edge(after, (0, 0, 60, 40), op, tn, {"blur": 0.3, "black": black}, 30.0, smile=False, own_teeth=False)
    y0, y1 = luma(before), luma(after)
    # the tips: a band along the top row, not notches (its spread along the row much smaller)
    assert np.ptp(y1[18, 22:38]) < 0.5 * np.ptp(y0[18, 22:38])
    # no pixel of the opening pure black: at least most of the floor's share of the photo's black
    floor = tn.small_open_black * float(black @ _LUMA) * 255
    assert y1[18:24, 20:40].min() >= 0.9 * floor > 0
    # still dark inside: its middle under a fifth of the lips'
    assert np.median(y1[21:23, 24:36]) < 0.2 * np.median(luma(img)[14:17, 20:40])
    # the lips' rims shade into the dark: the largest step across the lower edge smaller
    step0, step1 = np.abs(np.diff(y0[20:28, 30])).max(), np.abs(np.diff(y1[20:28, 30])).max()
    assert step1 < 0.8 * step0
    # the skin further out as it was
    np.testing.assert_array_equal(after[:8], img[:8])
