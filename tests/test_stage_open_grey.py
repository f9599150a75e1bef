"""Open lips in a grey photo keep the Face Mesh's loop as their cut (faceedit.stage.steps.open_grey): moved onto
"the crease" between lips that are apart, a grey laugh's loop went up its upper lip, which was cut away, and the
teeth's lower half went down with the lower lip (JAFFE's laughs made surprised: the teeth at the bottom of the
opening and no upper lip; made neutral: a pale upper lip, the teeth between the closed lips)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceedit.stage.steps import open_grey
from faceedit.stage.tuning import EditTuning

JAFFE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jaffe"


def _mouth(gap: float) -> np.ndarray:
    """68 points with the eyes 60 px apart and the inner lips (61-63 over 65-67) ``gap`` px apart."""
    lm = np.zeros((68, 2))
    lm[36:42] = (20.0, -60.0)
    lm[42:48] = (80.0, -60.0)
    lm[60], lm[64] = (35.0, 0.0), (65.0, 0.0)
    lm[[61, 62, 63]] = [(42.0, -gap / 2), (50.0, -gap / 2), (58.0, -gap / 2)]
    lm[[65, 66, 67]] = [(58.0, gap / 2), (50.0, gap / 2), (42.0, gap / 2)]
    return lm


def test_open_lips_in_a_grey_photo_only():
    tn = EditTuning()
    apart, shut = _mouth(12.0), _mouth(0.0)
    grey = np.full((40, 40, 3), 120, np.uint8)
    colour = grey.copy()
    colour[..., 0] = 150
    assert open_grey(grey, apart, tn)
    assert open_grey(grey[..., 0], apart, tn)  # (a one-channel photo)
    assert not open_grey(grey, shut, tn)
    assert not open_grey(colour, apart, tn)


def _lit_rows(ed, rgb: np.ndarray) -> float:
    """Where the lit pixels (the brightest 15 %) of the mouth's inside (dlib's 68-point inner lips on the photo) lie
    down it: 0 at its top row, 1 at its bottom."""
    lm = np.asarray(max(ed.detector.detect(rgb), key=lambda f: f.area).landmarks)
    inner = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68]).astype(np.int32)], 1)
    ys, xs = np.nonzero(inner)
    v = rgb[ys, xs].astype(np.float64).mean(1)
    lit = v > np.percentile(v, 85)
    return float(np.mean((ys[lit] - ys.min()) / max(int(ys.max() - ys.min()), 1)))


@pytest.mark.skipif(not (JAFFE / "MK.HA1.116.png").is_file(), reason="../shared/data/jaffe absent")
@pytest.mark.parametrize("photo", ["MK.HA1.116.png", "NA.HA1.202.png"])
def test_a_grey_laugh_made_surprised_keeps_its_teeth_under_its_upper_lip(photo):
    """JAFFE MK's and NA's laughs (grey, 256 px) made surprised: the lit pixels of the opening (its teeth) lie in its
    upper half (0.32 and 0.28 down it; 0.77 and 0.72 with the loop moved onto the upper lip, the teeth carried to
    the bottom)."""
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage", device="cpu")
    rgb = cv2.cvtColor(cv2.imread(str(JAFFE / photo)), cv2.COLOR_BGR2RGB)
    assert _lit_rows(ed, ed.edit(rgb, "surprised", force=True)) < 0.5


@pytest.mark.skipif(not (JAFFE / "MK.HA1.116.png").is_file(), reason="../shared/data/jaffe absent")
@pytest.mark.parametrize("photo", ["MK.HA1.116.png", "KM.HA4.7.png"])
def test_a_grey_laugh_made_neutral_keeps_no_teeth_between_its_lips(photo):
    """JAFFE MK's and KM's laughs made neutral: the closed lips (dlib's outer lips on the edit) hold under 5 % of
    pixels lighter than the skin round them (0.041 and 0.014; 0.089 and 0.175 with the loop moved onto the upper
    lip before it closed, the lip cut away and the teeth kept between the lips, and the lower teeth left below the
    cut: a grey photo's teeth were not sought)."""
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector

    ed = Editor.from_pretrained("stage", device="cpu")
    rgb = cv2.cvtColor(cv2.imread(str(JAFFE / photo)), cv2.COLOR_BGR2RGB)
    out = ed.edit(rgb, "neutral", force=True)
    lm = np.asarray(max(get_detector("dlib").detect(out), key=lambda f: f.area).landmarks)
    lips = np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(lm[48:60]).astype(np.int32)], 1)
    ring = cv2.dilate(lips, np.ones((15, 15), np.uint8)) - cv2.dilate(lips, np.ones((5, 5), np.uint8))
    y = out.astype(np.float64).mean(-1)
    assert float(np.mean(y[lips > 0] > np.median(y[ring > 0]))) < 0.05
