"""Closed lips' seam in the lips' own colour (:mod:`faceedit.stage.seam_colour`; issues 53, 55: a
smile made neutral at 1350 px met in a grey stroke, its line's chroma 0.83 of the lips' against
1.06 on the same people's own neutral photos, ``bench/measure_closed_seam.py``)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam
from faceedit.stage.seam_colour import lips_ab, toward_lips
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.hypot(lab[..., 1], lab[..., 2])


def test_toward_lips_gives_a_grey_pixel_the_lips_chroma_at_its_own_luma():
    grey = np.full((2, 3, 3), 90.0, np.float32)
    ab = np.array([30.0, 10.0])
    share = np.array([[1.0, 0.5, 0.0], [1.0, 1.0, 1.0]], np.float32)
    out = toward_lips(grey, share, ab, 1.0, 255.0)
    lab = cv2.cvtColor(out / 255.0, cv2.COLOR_RGB2LAB)
    assert np.allclose(lab[0, 0, 1:], ab, atol=1.5)
    assert np.allclose(lab[0, 1, 1:], 0.5 * ab, atol=1.5)
    assert np.allclose(out[0, 2], grey[0, 2])  # no share: unchanged
    assert np.allclose(out @ LUMA, grey @ LUMA, atol=0.6)  # the luma kept
    assert out[0, 0, 0] > out[0, 0, 1] + 20  # red


def test_a_large_mouth_s_seam_is_as_red_as_its_lips_not_grey():
    """A 220-px mouth of pink lips closed over a grey band (a smile's teeth in shade carried into
    the line): given the lips' polygon, the seam's darkest pixels carry the lips' chroma (over
    0.95 of it); without (``seam_chroma`` 0) they stay grey (under 0.5)."""
    img = np.empty((400, 600, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (300, 200), (110, 30), 0, 0, 360, (200, 120, 120), -1)
    img[197:204, 200:400] = (120, 118, 116)  # a grey band on the line
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    lips = np.stack([300 + 110 * np.cos(t), 200 + 30 * np.sin(t)], 1)
    x = np.linspace(190.0, 410.0, 23)
    line = np.stack([x, np.full_like(x, 200.0)], 1)
    lip_c = float(np.hypot(*lips_ab(img, lips, 255.0)))
    for tn, lo, hi in ((MouthTuning(seam_chroma=1.0), 0.95, 9.0), (MouthTuning(seam_chroma=0.0), 0.0, 0.5)):
        out = paint_seam(img, line, line, 250.0, 1.0, tn, lips=lips)[198:203, 260:341]
        c = float(np.median(_chroma(out)))
        assert lo * lip_c <= c <= hi * lip_c, (tn.seam_chroma, c, lip_c)


def test_a_seam_darker_than_half_the_lips_lightness_is_less_red():
    """Given the lips' L*, a seam pixel as light as half of it or lighter goes to the lips' whole
    chroma; a darker one (a laugh's dark carried into the line, 0.3 of the lips' L*) toward less in
    proportion, a dark red-brown, not the crimson stroke the lips' whole chroma gives it at its
    lightness."""
    ab = np.array([30.0, 18.0])
    lips_l = 60.0
    for level, lo, hi in ((110.0, 0.9, 1.1), (40.0, 0.45, 0.75)):  # L* about 46 and 17
        grey = np.full((1, 1, 3), level, np.float32)
        l_star = float(cv2.cvtColor(grey / 255.0, cv2.COLOR_RGB2LAB)[0, 0, 0])
        want = min(1.0, l_star / (0.5 * lips_l))
        out = toward_lips(grey, np.ones((1, 1), np.float32), ab, 1.0, 255.0, shade_from=0.5 * lips_l)
        c = float(np.hypot(*cv2.cvtColor(out / 255.0, cv2.COLOR_RGB2LAB)[0, 0, 1:]))
        assert lo <= c / float(np.hypot(*ab)) <= hi, (level, c, want)
        assert abs(c / float(np.hypot(*ab)) - want) < 0.12, (level, c, want)
    dark = np.full((1, 1, 3), 40.0, np.float32)
    vivid = toward_lips(dark, np.ones((1, 1), np.float32), ab, 1.0, 255.0)
    kept = toward_lips(dark, np.ones((1, 1), np.float32), ab, 1.0, 255.0, shade_from=0.5 * lips_l)
    chroma = [float(np.hypot(*cv2.cvtColor(x / 255.0, cv2.COLOR_RGB2LAB)[0, 0, 1:])) for x in (vivid, kept)]
    assert chroma[0] > 0.9 * float(np.hypot(*ab)) > 1.3 * chroma[1]  # without it: the whole chroma, crimson
