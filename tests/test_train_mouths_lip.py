"""The mouth bank's exemplars paint teeth and shade, never their own lower lip: the builder moves
an interior's lower curve up over the lower lip's inner margin under the teeth
(:func:`faceedit.train.mouths.trim_lower_lip`), keeps the shade there, and the shipped bank
carries no exemplar with lip over 1 % of its mask (bench/measure_bank_lip.py's measure)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lips import fill_polygon
from faceedit.train.mouths import lip_under_teeth, trim_lower_lip

_U = np.linspace(0.0, 1.0, 33)
_X = 24 + 256 * _U
_ARCH = np.sin(np.pi * _U)


def _mouth(under: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A levelled smile (corners 256 px apart at y 40): skin, lips 20 px round the opening, the
    opening's upper part teeth down to 22 px under the corners' line in the middle, its lower
    part ``under`` (a lit lip margin or the mouth's shade)."""
    up = np.c_[_X, 40 - 8 * _ARCH]
    lo = np.c_[_X, 40 + 30 * _ARCH]
    img = np.zeros((144, 304, 3), np.uint8)
    img[:] = (220, 180, 160)
    inside = fill_polygon(img.shape[:2], opening_polygon(up, lo)) > 0
    lips = cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41))) > 0
    img[lips] = (180, 100, 110)
    teeth_edge = 40 + 22 * np.interp(np.arange(304), _X, _ARCH)
    teeth = inside & (np.arange(144)[:, None] < teeth_edge[None, :])
    img[inside] = under
    img[teeth] = (235, 230, 220)
    return img, up, lo


def test_the_lower_lip_s_margin_under_the_teeth_leaves_the_interior():
    img, up, lo = _mouth((200, 120, 130))
    below, lip = lip_under_teeth(img, up, lo)
    assert lip.sum() > 0.8 * below.sum() > 0
    trimmed = trim_lower_lip(img, up, lo)
    mid = np.interp(152, trimmed[:, 0], trimmed[:, 1])
    assert abs(mid - 62) <= 1.5, mid
    assert np.all(trimmed[:, 1] <= np.interp(trimmed[:, 0], lo[:, 0], lo[:, 1]) + 1e-6)
    assert np.all(trimmed[:, 1] >= np.interp(trimmed[:, 0], up[:, 0], up[:, 1]) - 1e-6)


def test_the_shade_under_the_teeth_stays():
    img, up, lo = _mouth((40, 25, 25))
    _, lip = lip_under_teeth(img, up, lo)
    assert lip.sum() == 0
    np.testing.assert_allclose(trim_lower_lip(img, up, lo), lo)


def test_no_shipped_exemplar_carries_its_lower_lip():
    from faceedit.stage.mouth_bank import MouthBank

    try:
        bank = MouthBank.load()
    except FileNotFoundError:
        pytest.skip("no shipped mouth bank")
    for i, sid in enumerate(bank.subjects):
        mask = bank.masks[i] >= 128
        _, lip = lip_under_teeth(bank.images[i], bank.upper[i].astype(np.float64), bank.lower[i].astype(np.float64))
        assert (lip & mask).sum() <= 0.01 * mask.sum(), sid
