"""A laughing (half-closed) eye made surprised (faceedit.stage.eyes): a catchlight on the iris
does not move the iris found, and the iris drawn at its size has a dark rim, not a light ring."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from faceedit.stage.eyes import find_iris
from faceedit.stage.iris_rings import dark_limbus
from faceedit.stage.tuning import EyesTuning

CENTRE = np.array([56.0, 39.0])
WIDTH = 60.0


def _laughing_eye(catchlight: bool = True):
    """(unit RGB, opening polygon): a 60-px eye 11 px open (lids 6 px above and 5 below the
    axis), a grey white, a dark iris of 0.22 the width centred at CENTRE, lashes along the upper
    lid, and a softbox's catchlight (3 x 6 px) on the iris's left half, blurred as a photo is."""
    img = np.full((80, 120, 3), 0.7, np.float32)
    t = np.linspace(0, 1, 9)
    x = 30 + WIDTH * t
    upper = np.c_[x, 40 - 6 * np.sin(np.pi * t)]
    lower = np.c_[x, 40 + 5 * np.sin(np.pi * t)]
    poly = np.vstack([upper, lower[1:-1][::-1]])
    eye = np.zeros((80, 120), np.uint8)
    cv2.fillPoly(eye, [np.round(poly * 4).astype(np.int32)], 255, shift=2)
    img[eye > 0] = 0.6
    iris = np.zeros((80, 120), np.uint8)
    cv2.circle(iris, tuple(int(v * 4) for v in CENTRE), int(0.22 * WIDTH * 4), 255, -1, shift=2)
    img[(eye > 0) & (iris > 0)] = 0.25
    lashes = np.zeros((80, 120), np.uint8)
    cv2.polylines(lashes, [np.round(upper * 4).astype(np.int32)], False, 255, 4, shift=2)
    img[lashes > 0] = 0.12
    if catchlight:
        img[35:41, 50:53] = 0.95
    return cv2.GaussianBlur(img, (0, 0), 1.0), poly


def test_a_catchlight_does_not_move_a_laughing_eye_s_iris():
    img, poly = _laughing_eye()
    found = find_iris(img, poly)
    assert found is not None
    assert np.linalg.norm(found[0] - CENTRE) < 0.05 * WIDTH, found
    plain = find_iris(*_laughing_eye(catchlight=False))
    assert plain is not None and np.linalg.norm(plain[0] - CENTRE) < 0.05 * WIDTH, plain
    # on the raw luma (no catchlight taken off) the bright spot's edge reads as the limbus
    raw = find_iris(img, poly, replace(EyesTuning(), catchlight=0.0))
    assert raw is None or np.linalg.norm(raw[0] - CENTRE) > 0.07 * WIDTH, raw


def test_the_iris_drawn_has_a_dark_rim():
    # rings centre to rim: a dark pupil, the iris, then the white mixed into its outer rings
    lum = np.array([0.1, 0.15, 0.2, 0.22, 0.22, 0.22, 0.25, 0.35, 0.45, 0.55, 0.6], np.float32)
    profile = lum[:, None] * np.array([[1.0, 0.9, 0.8]], np.float32)
    out = dark_limbus(profile, 0.6)
    m = 6  # round(0.6 * 10)
    assert np.allclose(out[:m + 1], profile[:m + 1])  # the pupil and the iris's middle as read
    assert (out[m:] @ np.array([0.299, 0.587, 0.114]) <= out[m] @ np.array([0.299, 0.587, 0.114]) + 1e-6).all()
    assert np.allclose(out[m:, 0] / out[m:, 2], 1.0 / 0.8)  # the rim's colour kept, darkened
    darker = profile.copy()
    darker[m + 1:] = darker[m] * np.array([0.9, 0.8, 0.7, 0.6], np.float32)[:, None]  # a dark limbal ring
    assert np.allclose(dark_limbus(darker, 0.6), darker)  # left as it is
