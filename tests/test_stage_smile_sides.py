"""A smile drawn whole from the mouth bank (happy's) on a large face: its side teeth recede into
the mouth's shadow, the upper lip covers the crowns' tops and the side teeth, and the lips meet
at the corners (:func:`faceedit.stage.teeth_look.smile_sides`), where lit to the corners the row
read as a plate of evenly white teeth."""

from __future__ import annotations

import numpy as np
from test_stage_small_teeth import _LUMA, _drawn, _side_over_front

from faceedit.stage.teeth_look import smile_sides, warm_darks
from faceedit.stage.tuning import MouthTuning

#: The corridor, the cover and the corners' meeting off.
_OFF = dict(smile_side_shade=1.0, smile_close=0.0, smile_cover_front=-1.0, smile_cover_side=-1.0)


def _fill(width: float, height: float, tuning: MouthTuning):
    from test_models_mouth import face_landmarks, mouth, opening_of

    from faceedit.stage.mouth_bank import MouthBank

    up, lo = mouth(height, width=width)
    roi, op = opening_of(up, lo, _drawn().shape)
    return MouthBank.load().fill(_drawn(), roi, op, up, lo, face_lm=face_landmarks(), tuning=tuning)[0], up, lo


def test_a_large_smile_s_side_teeth_recede_and_its_front_ones_stay_lit():
    shaded, up, lo = _fill(180.0, 36.0, MouthTuning())
    plate = _fill(180.0, 36.0, MouthTuning(**_OFF))[0]
    outer, outer_plate = _side_over_front(shaded, up, lo, (0.3, 0.45)), _side_over_front(plate, up, lo, (0.3, 0.45))
    assert outer <= outer_plate - 0.1, (outer, outer_plate)  # toward the corners in shade
    mid = lambda img: float(np.percentile(img[..., :3].astype(np.float64) @ _LUMA, 75))  # noqa: E731
    x = int(round((up[0, 0] + up[-1, 0]) / 2))
    y0, y1 = int(up[:, 1].min()), int(lo[:, 1].max()) + 1
    front, front_plate = mid(shaded[y0:y1, x - 8:x + 9]), mid(plate[y0:y1, x - 8:x + 9])
    assert front >= 0.9 * front_plate, (front, front_plate)  # the front teeth as lit


def test_the_lips_meet_at_the_corners_and_a_small_face_keeps_its_own_side_shade():
    tn = MouthTuning()
    u = np.linspace(0.0, 1.0, 101)
    lip = np.array([0.6, 0.35, 0.35])
    sides, close, cover = smile_sides(u, lip, tn, np.full_like(u, 0.02), np.full_like(u, 40.0))
    d = np.minimum(u, 1.0 - u)
    assert close[0] == 1.0 and close[-1] == 1.0 and np.all(close[d >= tn.smile_close] == 0.0)
    assert np.all(sides[np.abs(u - 0.5) < 0.15] == 1.0) and (sides[d < tn.smile_side_to] @ _LUMA).max() < 0.6
    assert cover[50] > 0.9 and cover[0] > 0.9  # the crowns' tops under the lip
    s0, c0, v0 = smile_sides(u, lip, tn, np.full_like(u, 0.02), np.full_like(u, 40.0), weight=0.0)
    np.testing.assert_array_equal(s0, 1.0)
    assert not c0.any() and not v0.any()


def test_a_smile_s_dark_is_warm_and_shaded_and_its_teeth_are_kept():
    tn = MouthTuning()
    lip = np.array([0.62, 0.36, 0.33])
    teeth = np.tile([[0.85, 0.82, 0.76]], (30, 1))
    dark = np.tile([[0.15, 0.15, 0.15]], (10, 1))  # a grey dark: under smile_dark_to of the lips
    out = warm_darks(np.vstack([teeth, dark]), lip, tn)
    np.testing.assert_array_equal(out[:30], teeth)
    d = out[30:]
    assert np.allclose(d @ _LUMA, (1.0 - tn.smile_dark_shade) * (dark @ _LUMA))
    # redder over blue than the lips, as real smiles' dark
    assert np.all(np.log(d[:, 0] / d[:, 2]) > 1.2 * np.log(lip[0] / lip[2]))


def test_a_large_smile_s_corridor_is_darker_and_redder_than_without():
    tn = MouthTuning()
    warm, up, lo = _fill(180.0, 36.0, tn)
    grey = _fill(180.0, 36.0, MouthTuning(smile_dark_shade=0.0, smile_dark_from=-1.0, smile_dark_to=-2.0))[0]
    x0, x1 = int(up[0, 0]), int(up[-1, 0])
    y0, y1 = int(up[:, 1].min()), int(lo[:, 1].max()) + 1
    w = x1 - x0
    side = np.s_[y0:y1, x0 + int(0.03 * w):x0 + int(0.12 * w)]  # beside the left side teeth
    a, b = warm[side][..., :3].astype(np.float64), grey[side][..., :3].astype(np.float64)
    changed = np.any(a != b, -1)
    assert changed.sum() >= 10
    a, b = a[changed], b[changed]
    assert (a @ _LUMA).mean() < (b @ _LUMA).mean()
    assert np.median(a[:, 0] / np.maximum(a[:, 2], 1.0)) > np.median(b[:, 0] / np.maximum(b[:, 2], 1.0))
