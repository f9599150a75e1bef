"""The lashes ride with the upper lid and the brow moves whole (faceedit.stage.warp.carried_points): a
surprise that raises the brows more than the lids stretches the skin between them, not the lashes
or the brow; a frown or a closing lid leaves the warp as it was."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from test_faces_cutwarp import synthetic_lm

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import UPPER_LIDS, carried_points

LM = synthetic_lm(300.0, (640.0, 420.0))
LIDS = [i for eye, _ in UPPER_LIDS for i in eye[1:3]]
WIDTH = float(np.linalg.norm(LM[39] - LM[36]))
BANDS = (0.2, 0.25, 0.1, 0.25, 0.1)


def _move(lids: float, brows: float) -> np.ndarray:
    """The upper lids' middle points and the brows raised by these shares of the eye distance."""
    iod = eye_distance(LM)
    moved = LM.copy()
    moved[LIDS, 1] -= lids * iod
    moved[17:27, 1] -= brows * iod
    return moved


def test_raised_brows_carry_the_lashes_with_the_lids_and_the_brows_whole():
    """A surprise's brows rise most (lids 0.06, brows 0.15 eye distances): each band's point carried
    wholly with the point it hangs from."""
    moved = _move(0.06, 0.15)
    after, before, share = carried_points(LM, moved, *BANDS)
    assert after.shape == before.shape == (8, 2) and np.all(share == 1.0)
    lash, brow = slice(0, None, 2), slice(1, None, 2)  # (each lid point's lash point, then its brow's)
    np.testing.assert_allclose(after[lash] - before[lash], moved[LIDS] - LM[LIDS])
    np.testing.assert_allclose(after[brow, 1] - before[brow, 1], -0.15 * eye_distance(LM))
    assert np.all(LM[LIDS, 1] - before[lash, 1] > 0.19 * WIDTH)  # above the lids (the face upright)
    assert np.all(before[lash, 1] - before[brow, 1] > 0.3 * WIDTH)  # the brows' bands above the lashes'
    assert carried_points(LM, moved, 0.0, *BANDS[1:])[0].shape == (0, 2)


def test_a_frown_or_a_closing_lid_carries_nothing():
    assert np.all(carried_points(LM, _move(0.0, -0.08), *BANDS)[2] == 0.0)  # brows lowered over still lids
    assert np.all(carried_points(LM, _move(-0.12, 0.0), *BANDS)[2] == 0.0)  # a blink's lids come down
    assert np.all(carried_points(LM, _move(0.0, 0.02), *BANDS)[2] == 0.0)  # a smile's brows, a little up
    half = carried_points(LM, _move(0.0, 0.055), *BANDS)[2]  # apart by about 0.17 of their distance
    assert np.all((half > 0.2) & (half < 0.8)), half


def _shown(bands: tuple[float, ...], moved: np.ndarray) -> tuple[float, float]:
    """How many source rows per row the warp shows, the fewest of the four eyes' points (1: carried
    whole; under 1: drawn out): over the band from each upper lid point up 0.15 eye widths, and over
    the band from its brow point down 0.2. Read off a photo whose pixels say where they are."""
    size, k = 1280, 40.0
    yy = np.mgrid[0:size, 0:size][0].astype(np.float64)
    ramp = np.repeat((yy * k)[..., None], 3, -1).astype(np.uint16)
    r = cut_warp(ramp, LM, moved, tuning=replace(WarpTuning(), carried_bands=bands))
    at = r.pixels.astype(np.float64)[..., 0] / k
    lashes, brows = np.inf, np.inf
    for i, j in zip(LIDS, (19, 20, 23, 24)):
        (x, y), (bx, by) = moved[i], moved[j]
        h, g = 0.15 * WIDTH, 0.2 * WIDTH
        lashes = min(lashes, (at[int(round(y)), int(round(x))] - at[int(round(y - h)), int(round(x))]) / h)
        brows = min(brows, (at[int(round(by + g)), int(round(bx))] - at[int(round(by)), int(round(bx))]) / g)
    return lashes, brows


def test_the_lashes_and_the_brows_are_carried_not_stretched():
    surprise = _move(0.06, 0.15)
    lashes, _ = _shown((0.0, *BANDS[1:]), surprise)
    assert lashes < 0.7  # the premise: without them the lashes' band is drawn out (1.7 times its height)
    lashes, brows = _shown(WarpTuning().carried_bands, surprise)
    assert lashes > 0.85 and brows > 0.85, (lashes, brows)


def test_a_frown_warps_as_without_the_bands():
    frown = _move(0.0, -0.08)
    ramp = np.repeat((np.mgrid[0:1280, 0:1280][0] * 40.0)[..., None], 3, -1).astype(np.uint16)
    a = cut_warp(ramp, LM, frown).pixels
    b = cut_warp(ramp, LM, frown, tuning=replace(WarpTuning(), carried_bands=(0.0, *BANDS[1:]))).pixels
    np.testing.assert_array_equal(a, b)
