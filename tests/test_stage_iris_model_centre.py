"""An opened eye's iris searched round the iris model's centre (faceedit.stage.eyes.find_iris): where the
white beside the iris lies in shadow (no limbus to read on that side), the best circle alone is a smaller
one slid toward the lit side, and the iris kept at that size left the rest of the photo's iris beside it
as a grey block (web photos with heavy lashes and make-up)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from faceedit.stage.eyes import find_iris
from faceedit.stage.tuning import EyesTuning

CENTRE = np.array([100.0, 60.0])
WIDTH = 120.0
RADIUS = 26.0


def _shaded_eye():
    """(unit RGB, opening polygon): a 120-px eye 36 px open, a light white on the iris's left and, on its
    right, a white in the lid's shadow darker than the iris's outer ring (the edge falls outward there);
    an iris of radius 26 px at CENTRE, lighter inside its dark limbal ring, a pupil; blurred as a photo
    is."""
    h, w = 120, 200
    img = np.full((h, w, 3), 0.55, np.float32)
    t = np.linspace(0, 1, 9)
    x = 40 + WIDTH * t
    upper = np.c_[x, 62 - 20 * np.sin(np.pi * t)]
    lower = np.c_[x, 62 + 16 * np.sin(np.pi * t)]
    poly = np.vstack([upper, lower[1:-1][::-1]])
    eye = np.zeros((h, w), np.uint8)
    cv2.fillPoly(eye, [np.round(poly * 4).astype(np.int32)], 255, shift=2)
    yy, xx = np.mgrid[:h, :w]
    white = np.where(xx > CENTRE[0], 0.2, 0.85).astype(np.float32)
    d = np.hypot(xx - CENTRE[0], yy - CENTRE[1])
    iris = np.where(d < 0.3 * RADIUS, 0.05, np.where(d < 0.8 * RADIUS, 0.5, 0.3)).astype(np.float32)
    inside = eye > 0
    img[inside] = np.where(d < RADIUS, iris, white)[inside][:, None]
    return cv2.GaussianBlur(img, (0, 0), 1.0), poly


def test_the_circle_is_searched_round_the_iris_model_s_centre():
    img, poly = _shaded_eye()
    t = EyesTuning()
    alone = find_iris(img, poly, t, RADIUS)
    assert alone is not None
    # the limbus read on the lit side only: a circle slid toward it
    assert np.linalg.norm(alone[0] - CENTRE) > 0.08 * RADIUS, alone
    found = find_iris(img, poly, t, RADIUS, CENTRE)
    assert found is not None
    assert np.linalg.norm(found[0] - CENTRE) <= t.iris_model_shift * RADIUS + 1e-6, found
    assert abs(found[1] - RADIUS) <= 0.06 * RADIUS, found
    # a model's centre a little off: the circle still within the shift of it
    off = CENTRE + [2.0, -1.0]
    moved = find_iris(img, poly, replace(t, iris_model_shift=0.15), RADIUS, off)
    assert moved is not None and np.linalg.norm(moved[0] - off) <= 0.15 * RADIUS + 1e-6, moved
