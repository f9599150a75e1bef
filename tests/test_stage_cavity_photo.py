"""An open mouth's drawn cavity in the photo's own black, grain and focus (faceedit.stage.cavity):
the photo's black read from its pupils, the cavity lifted by a share of it with its form kept,
its grain the photo's darks', and the opening's edge softened from both sides, on drawn pixels."""

from __future__ import annotations

import cv2
import numpy as np
from _imgs import EYES, drawn_face, drawn_open_mouth

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cavity import black_floor, photo_black, soften_edge
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


def eye_landmarks() -> np.ndarray:
    """68 points (zeros but the eyes): each eye's six contour points (36-41, 42-47) round
    :data:`_imgs.EYES`' drawn eyes (30 x 13 px whites, irises of radius 10)."""
    lm = np.zeros((68, 2))
    ring = np.array([(-28, 0), (-12, -11), (12, -11), (28, 0), (12, 11), (-12, 11)], np.float64)
    for k, c in enumerate(EYES):
        lm[36 + 6 * k:42 + 6 * k] = ring + np.asarray(c, np.float64)
    return lm


def test_the_photo_s_black_is_its_pupils_not_its_whites_or_skin():
    """On a face whose irises hold a black pupil (radius 4, 12 levels), the photo's black is
    within 6 levels of the pupils' colour; with pupils twice as light it is lighter; without
    landmarks there is none."""
    img = drawn_face()
    for c in EYES:
        cv2.circle(img, c, 4, (12, 10, 10), -1)
    black = photo_black(img, eye_landmarks())
    assert black is not None
    assert np.abs(black * 255 - (12, 10, 10)).max() <= 6, black * 255
    light = drawn_face()
    for c in EYES:
        cv2.circle(light, c, 4, (30, 26, 26), -1)
    assert float(photo_black(light, eye_landmarks()) @ LUMA) > float(black @ LUMA) + 10 / 255
    assert photo_black(img, None) is None


def test_the_photo_s_black_lifts_the_drawn_cavity_and_keeps_its_form():
    """The drawn share is lifted by the black whole (a throat's step of 0.03 kept), what is read
    from an exemplar (drawn 0) is left as it is."""
    col = np.array([[0.01, 0.01, 0.01], [0.04, 0.03, 0.03], [0.5, 0.5, 0.5]])
    out = black_floor(col, np.array([0.05, 0.04, 0.04]), np.array([1.0, 1.0, 0.0]))
    assert np.allclose(out[0], [0.06, 0.05, 0.05]) and np.allclose(out[2], col[2])
    assert np.allclose(out[1] - out[0], col[1] - col[0])


def test_an_open_mouth_s_edge_is_softened_from_both_sides():
    """A lit lip (200) against a black opening (10): with ``outside`` the lip's first pixel outside
    the opening is darkened towards the dark (under 180) and the pixel 3 px out is untouched;
    without it nothing outside the opening changes."""
    img = np.full((40, 60, 3), 200, np.uint8)
    op = np.zeros((20, 40), np.float32)
    op[5:15, 5:35] = 1.0
    img[15:25, 15:45] = 10
    roi = (10, 10, 50, 30)
    a, b = img.copy(), img.copy()
    soften_edge(a, roi, op, 1.0, 1.0)
    soften_edge(b, roi, op, 1.0, 0.0)
    assert a[14, 30, 0] < 180 and a[12, 30, 0] == 200
    outside = np.ones(img.shape[:2], bool)
    outside[15:25, 15:45] = False
    assert (b[outside] == img[outside]).all()


def _cavity_grain(grain: float) -> tuple[float, float]:
    """(the wide-open cavity's high-pass spread, the skin's), in levels, of a drawn open mouth
    filled by the mouth bank with ``cavity_grain`` = ``grain``."""
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    img, up, lo, roi, op, _ = drawn_open_mouth()
    out, _ = bank.fill(img, roi, op, up, lo, teeth_cover=0.4, tuning=MouthTuning(cavity_grain=grain))
    y = out.astype(np.float32) @ LUMA.astype(np.float32)
    hp = y - cv2.GaussianBlur(y, (0, 0), 1.5)
    x0, y0, x1, y1 = roi
    core = np.zeros(y.shape, bool)
    core[y0:y1, x0:x1] = cv2.erode((op > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    core &= y < 60

    def mad(a):
        return 1.4826 * float(np.median(np.abs(a - np.median(a))))

    return mad(hp[core]), mad(hp[300:340, 40:120])


def test_the_cavity_carries_the_photo_s_grain():
    """The cavity's fine grain follows ``cavity_grain``: at 2 it is at least 0.7 of the skin's
    high-pass spread and at least 1.4 times the cavity's at 1."""
    two, skin = _cavity_grain(2.0)
    one, _ = _cavity_grain(1.0)
    assert two >= 0.7 * skin, (two, skin)
    assert two >= 1.4 * one, (two, one)


def test_only_carried_teeth_have_their_edge_softened_from_above():
    """Through the mouth bank: with the face's own teeth carried above the opening (a light row
    drawn there) the row's pixels just above the opening differ from a fill with
    ``edge_focus_outside`` 0; without own teeth no pixel outside the opening does (a mouth's
    upper lip keeps its edge: softened, dlib read a London face's opening over 0.15)."""
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    img, up, lo, roi, op, _ = drawn_open_mouth()
    x0, y0, x1, y1 = roi
    row = img.copy()
    top = np.argmax(op > 0.5, axis=0)
    cols = np.flatnonzero((op > 0.5).any(0))
    for c in cols:
        row[max(y0 + top[c] - 6, 0):y0 + top[c], x0 + c] = (225, 222, 214)
    outside = np.ones(img.shape[:2], bool)
    outside[y0:y1, x0:x1] = op <= 0
    for own in (True, False):
        soft, _ = bank.fill(row, roi, op, up, lo, own_teeth=own, teeth_cover=0.4)
        sharp, _ = bank.fill(row, roi, op, up, lo, own_teeth=own, teeth_cover=0.4,
                             tuning=MouthTuning(edge_focus_outside=0.0))
        changed = int((soft[outside] != sharp[outside]).any(-1).sum())
        assert (changed >= len(cols) // 2) if own else changed == 0, (own, changed, len(cols))
