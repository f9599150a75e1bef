"""A larger mouth's closed seam (:mod:`faceedit.stage.seam_line`, drawn by
:func:`faceedit.stage.mouth.paint_seam`): a crisp core, its darkness following the lips' texture
beside it, and teeth left beside the line made lip (issues 53, 55: a laugh made neutral closed
on a smooth, uniform band 5-6 px across with grey-green teeth under it, London 006)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam
from faceedit.stage.seam_line import clear_remnants
from faceedit.stage.tuning import MouthTuning
from faceedit.stage.tuning_lips import LipsTuning

LUMA = np.asarray(LUMA_WEIGHTS)
EYE = 250.0


def _mouth(stripes: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A large mouth (corners 220 px apart) of flat lips on skin, or lips with vertical furrows
    (lighter and darker columns 12 px apart); its outer-lip polygon and the line where they meet."""
    img = np.empty((400, 600, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (300, 200), (110, 30), 0, 0, 360, (200, 120, 120), -1)
    if stripes:
        gain = 1.0 + 0.08 * np.sign(np.sin(np.arange(600) * 2 * np.pi / 24.0))
        inside = np.zeros((400, 600), np.uint8)
        cv2.ellipse(inside, (300, 200), (110, 30), 0, 0, 360, 1, -1)
        img = np.where(inside[..., None] > 0, img * gain[None, :, None], img)
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    lips = np.stack([300 + 110 * np.cos(t), 200 + 30 * np.sin(t)], 1)
    x = np.linspace(190.0, 410.0, 23)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), lips, np.stack([x, np.full_like(x, 200.0)], 1)


def _luma(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) @ LUMA


def test_a_large_mouth_s_seam_has_a_crisp_core():
    """The seam's darkening 2 px off the line is under 0.6 of its darkening on the line (a core
    at the photo's sharpness with a shade beside it); the wide seam alone (``seam_core`` 0)
    darkened it over 0.8 of that."""
    img, lips, line = _mouth()
    before = _luma(img)[190:211, 240:360].mean(1)
    for seam, lo, hi in ((LipsTuning(), 0.0, 0.6), (LipsTuning(seam_core=0.0), 0.8, 1.0)):
        out = _luma(paint_seam(img, line, line, EYE, 1.0, MouthTuning(), lips=lips, seam=seam))[190:211, 240:360]
        drop = before - out.mean(1)
        assert drop[10] > 20  # a line is drawn
        assert lo * drop[10] <= drop[12] <= hi * drop[10], drop.round(1)
        assert drop[8] >= drop[12] - 0.5  # the shade above the line at least as deep as below


def test_a_large_mouth_s_seam_follows_its_lips_texture():
    """Beside lips with furrows the seam is darker under the darker columns (its luma along the
    line follows theirs); beside flat lips it is even along the line."""
    flat, lips, line = _mouth()
    out = _luma(paint_seam(flat, line, line, EYE, 1.0, MouthTuning(), lips=lips))[200, 250:350]
    assert np.ptp(out) <= 1.5
    striped, lips, line = _mouth(stripes=True)
    seam = _luma(paint_seam(striped, line, line, EYE, 1.0, MouthTuning(), lips=lips))[200, 250:350]
    beside = _luma(striped)[190, 250:350]
    assert np.corrcoef(seam, beside)[0, 1] > 0.7
    plain = _luma(paint_seam(striped, line, line, EYE, 1.0, MouthTuning(), lips=lips,
                             seam=LipsTuning(seam_texture=0.0)))[200, 250:350]
    assert np.ptp(seam) > np.ptp(plain) + 4


def test_teeth_left_beside_the_line_are_made_lip():
    """A grey-green patch (a tooth carried into the line) inside the lips just under the line
    takes the lips' red; a lip's whiter, bluer highlight there and skin outside the lips stay."""
    img, lips, line = _mouth()
    img[202:206, 280:300] = (150, 152, 140)  # a tooth: lighter than the lip, grey-green
    img[202:205, 320:330] = (235, 232, 240)  # a highlight: white, a little blue
    img[175:180, 280:300] = (150, 152, 140)  # the same grey past the band (on the upper lip's rim)
    lab = lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2LAB).astype(np.float64)  # noqa: E731
    ab = np.median(cv2.cvtColor(np.float32(img[195:200, 220:380]) / 255, cv2.COLOR_RGB2LAB)[..., 1:], (0, 1))
    out = clear_remnants(img, line, EYE, 1.0, np.ones(len(line)), ab, lips, LipsTuning())
    assert lab(out)[203:205, 284:296, 1].mean() > lab(img)[203:205, 284:296, 1].mean() + 8  # redder
    assert np.abs(_luma(out)[203:205, 284:296] - _luma(img)[197:199, 284:296]).mean() < 15  # the lip's luma
    assert np.array_equal(out[202:205, 320:330], img[202:205, 320:330])
    assert np.array_equal(out[175:180, 280:300], img[175:180, 280:300])
    assert clear_remnants(img, line, EYE, 0.0, np.ones(len(line)), ab, lips, LipsTuning()) is img
