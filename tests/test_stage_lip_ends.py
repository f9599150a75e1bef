"""A laugh's lips closed to their corners (faceedit.stage.lip_ends): the lips' own red stretched
along each lip onto the corners the closed outline reaches, on lipstick only, nothing outside."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage.cut_curves import catmull_rom
from faceedit.stage.lip_ends import _stretch, closed_lip_ends, lip_ends
from faceedit.stage.lips import redness
from faceedit.stage.tuning_face import WarpTuning

SKIN = (205, 160, 140)
LIPSTICK = (200, 30, 45)


def _mouth() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Landmarks of a closed mouth 80 px wide at (100, 100) (the nose tip above it), and its
    closed inner curves (one straight seam, corner to corner)."""
    lm = np.zeros((68, 2))
    lm[33] = (100, 70)
    lm[48], lm[54] = (60, 100), (140, 100)
    lm[49:54] = [(72, 93), (88, 89), (100, 91), (112, 89), (128, 93)]
    lm[55:60] = [(128, 108), (114, 113), (100, 114), (86, 113), (72, 108)]
    xs = np.linspace(61, 139, 40)
    seam = np.stack([xs, np.full_like(xs, 100.0)], 1)
    return lm, seam, seam.copy()


def _outline_mask(lm: np.ndarray, shape) -> np.ndarray:
    poly = np.vstack([catmull_rom(lm[48:55]), catmull_rom(lm[[54, 55, 56, 57, 58, 59, 48]])])
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    return m.astype(bool)


def _photo(lm: np.ndarray, colour, reach: float) -> np.ndarray:
    """Skin with the lips' outline painted ``colour`` within ``reach`` px of the middle only:
    a laugh's lips, carried closed, end short of the corners."""
    img = np.empty((200, 200, 3), np.uint8)
    img[:] = SKIN
    yy, xx = np.mgrid[0:200, 0:200]
    lips = _outline_mask(lm, img.shape[:2]) & (np.abs(xx - 100) <= reach)
    img[lips] = colour
    rng = np.random.default_rng(0)  # a photo's grain
    return np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)


def _red_share(img: np.ndarray, lm: np.ndarray, x0: int, x1: int) -> float:
    """Share of the outline's pixels between columns x0 and x1 that are lipstick-red."""
    inside = _outline_mask(lm, img.shape[:2])
    inside[:, :x0] = False
    inside[:, x1:] = False
    return float((redness(img)[inside] > 165).mean())


def test_lip_ends_read_from_each_corner():
    lip = np.ones((5, 100), bool)
    lip[:, :20] = False
    lip[:, 90:] = False
    ends = lip_ends(lip, 0.3, 4)
    assert ends == pytest.approx((20 / 99, 1 - 89 / 99))
    # capped at the most; None where the middle is not lip through the band
    assert lip_ends(lip, 0.1, 4) == (0.1, 0.1)
    lip[:3, 35:65] = False
    assert lip_ends(lip, 0.3, 4) is None


def test_stretch_maps_each_end_onto_its_corner():
    s = np.linspace(0.0, 1.0, 101)
    f = _stretch(s, (0.1, 0.2), 2.5)
    assert f[0] == pytest.approx(0.1) and f[-1] == pytest.approx(0.8)
    assert np.all(np.diff(f) > 0)  # no fold
    # beyond 2.5 times each end the lip stays where it is; within, it is pulled toward the corner
    kept = (s >= 0.25) & (s <= 0.55)
    assert np.allclose(f[kept], s[kept])
    assert np.all(f[s < 0.24] > s[s < 0.24]) and np.all(f[s > 0.56] < s[s > 0.56])


def test_lipstick_reaches_the_corners_and_nothing_outside_moves():
    lm, up, lo = _mouth()
    img = _photo(lm, LIPSTICK, reach=26)  # the red ends 14 px short of each corner
    before = img.copy()
    assert _red_share(img, lm, 62, 74) < 0.05
    assert closed_lip_ends(img, lm, up, lo)
    # the lips' red now reaches the corners' stretch
    assert _red_share(img, lm, 62, 74) > 0.6 and _red_share(img, lm, 126, 138) > 0.6
    # outside the outline (a pixel's feather beyond it) nothing changes
    outside = ~cv2.dilate(_outline_mask(lm, img.shape[:2]).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.array_equal(img[outside], before[outside])
    # the lip's middle stays as it was
    assert np.array_equal(img[85:115, 95:106], before[85:115, 95:106])


def test_natural_lips_and_whole_lips_are_left():
    lm, up, lo = _mouth()
    pale = _photo(lm, (200, 135, 125), reach=26)  # lips hardly redder than the cheeks
    kept = pale.copy()
    assert not closed_lip_ends(pale, lm, up, lo)
    assert np.array_equal(pale, kept)
    whole = _photo(lm, LIPSTICK, reach=60)  # red already to the corners
    kept = whole.copy()
    assert not closed_lip_ends(whole, lm, up, lo)
    assert np.array_equal(whole, kept)
    # a seam that stops well short of the corners: the outline is not where the lips close
    short = _photo(lm, LIPSTICK, reach=26)
    kept = short.copy()
    assert not closed_lip_ends(short, lm, up[8:-8], lo[8:-8], WarpTuning())
    assert np.array_equal(short, kept)
