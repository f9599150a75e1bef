"""Closed lips stretched by an edit get the photo's own lip detail at its native scale
(:func:`faceedit.stage.lip_grain.carry_lip_grain`): a laugh's thin lips made neutral no longer
close as smooth red with none of the source's furrows and grain."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np

from faceedit.stage.lip_grain import carry_lip_grain
from faceedit.stage.tuning_lips import LipsTuning

LIP = (180.0, 100.0, 105.0)
SKIN = (215.0, 170.0, 150.0)


def _landmarks(up: float, down: float, gap: float) -> np.ndarray:
    """68 points with eyes 200 px apart and a mouth from x 60 to 200 whose lips meet at y 200:
    the upper lip ``up`` px high, the lower ``down``, the inner lips ``gap`` apart."""
    lm = np.zeros((68, 2))
    lm[36:42] = (30.0, 60.0)
    lm[42:48] = (230.0, 60.0)
    x = np.linspace(60.0, 200.0, 7)
    bow = np.sin(np.linspace(0.0, np.pi, 7))  # the lips' height toward the corners
    lm[48:55] = np.stack([x, 200.0 - gap / 2 - up * bow], 1)
    lm[[54, 55, 56, 57, 58, 59, 48]] = np.stack([x[::-1], 200.0 + gap / 2 + down * bow[::-1]], 1)
    xi = np.linspace(60.0, 200.0, 5)
    open_ = np.sin(np.linspace(0.0, np.pi, 5))
    lm[60:65] = np.stack([xi, 200.0 - gap / 2 * open_], 1)
    lm[[64, 65, 66, 67, 60]] = np.stack([xi[::-1], 200.0 + gap / 2 * open_[::-1]], 1)
    return lm


def _paint(lm: np.ndarray, texture: float, seed: int) -> np.ndarray:
    """Skin with the outer lips of ``lm`` in lip red, ``texture`` the std of the lips' grain."""
    img = np.empty((300, 260, 3), np.float64)
    img[:] = SKIN
    mask = np.zeros((300, 260), np.uint8)
    cv2.fillPoly(mask, [np.round(lm[48:60]).astype(np.int32)], 1)
    img[mask > 0] = LIP
    rng = np.random.default_rng(seed)
    img += (texture * rng.normal(0.0, 1.0, (300, 260)) * (mask > 0))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _face(src: np.ndarray, dst: np.ndarray, closing: float = 1.0, smile: float = 1.0) -> SimpleNamespace:
    """An edit's record as :func:`carry_lip_grain` reads it: the 68-point cut, the warp's result."""
    warped = SimpleNamespace(landmarks=dst, upper=dst[60:65], lower=dst[[60, 67, 66, 65, 64]])
    return SimpleNamespace(warped=warped, landmarks=src, lips=None, closing=closing, smile_taken=smile)


def _grain(img: np.ndarray, region: np.ndarray) -> float:
    y = img.astype(np.float64) @ (0.299, 0.587, 0.114)
    return float((y - cv2.GaussianBlur(y, (0, 0), 1.2))[region].std())


def _body(lm: np.ndarray) -> np.ndarray:
    """The closed upper lip's middle third, off its edge and the line where the lips meet."""
    rows, cols = np.mgrid[0:300, 0:260]
    return (cols > 107) & (cols < 153) & (rows > lm[51, 1] + 4) & (rows < 200 - 12)


def test_stretched_lips_get_the_source_grain_back():
    src, dst = _landmarks(8.0, 10.0, 12.0), _landmarks(22.0, 24.0, 0.0)
    source = _paint(src, 12.0, 1)
    smooth = _paint(dst, 0.0, 2)  # the warp's smeared lips: no grain left
    out = carry_lip_grain(_face(src, dst), source, smooth, LipsTuning())
    body = _body(dst)
    assert _grain(smooth, body) < 0.5
    assert _grain(out, body) > 4.0  # the source's grain, at its native scale
    # the lips' colour is kept (the grain is luma), the skin and the line where they meet untouched
    assert abs(float(out[body].mean()) - float(smooth[body].mean())) < 3.0
    lips = np.zeros((300, 260), np.uint8)
    cv2.fillPoly(lips, [np.round(dst[48:60]).astype(np.int32)], 1)
    far = cv2.dilate(lips, np.ones((7, 7), np.uint8)) == 0
    assert np.array_equal(out[far], smooth[far])
    assert np.array_equal(out[197:204, 100:160], smooth[197:204, 100:160])


def test_lips_not_closed_from_a_smile_or_not_stretched_are_kept():
    src, dst = _landmarks(8.0, 10.0, 12.0), _landmarks(22.0, 24.0, 0.0)
    source, smooth = _paint(src, 12.0, 1), _paint(dst, 0.0, 2)
    assert carry_lip_grain(_face(src, dst, closing=0.0), source, smooth) is smooth
    assert carry_lip_grain(_face(src, dst, smile=0.0), source, smooth) is smooth  # no smile taken away
    same = _landmarks(22.0, 24.0, 0.0)  # lips as high as the source's: nothing stretched
    assert np.array_equal(carry_lip_grain(_face(same, dst), _paint(same, 12.0, 1), smooth), smooth)


def test_grain_already_there_is_not_doubled():
    src, dst = _landmarks(8.0, 10.0, 12.0), _landmarks(22.0, 24.0, 0.0)
    source = _paint(src, 12.0, 1)
    grained = _paint(dst, 12.0, 3)  # lips that kept their grain
    out = carry_lip_grain(_face(src, dst), source, grained)
    body = _body(dst)
    assert _grain(out, body) < 1.15 * _grain(grained, body)
