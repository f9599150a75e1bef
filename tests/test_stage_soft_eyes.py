"""A soft photo's widened eyes are drawn as soft as the photo (:func:`faceedit.stage.eyes.keep_irises`,
``EyesTuning.soft_least``): drawn sharp, the white where the stretched iris was stood as a light ring
round a dark iris disc, a bullseye (London faces at 512 px blurred by a Gaussian of 2.5 px made
surprised)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceedit.pixels import LUMA_WEIGHTS

LONDON = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"


def _rings(rgb: np.ndarray, lm: np.ndarray) -> list[float]:
    """Per eye: the peak of the luma's radial median (rings 0.04 of the eye's width wide about the
    mean of its six 68 points) from 0.16 to 0.32 widths out, the iris's edge, less the ring at 0.36,
    the white beyond it (levels)."""
    y = rgb.astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32)
    yy, xx = np.mgrid[0:y.shape[0], 0:y.shape[1]]
    out = []
    for eye in (lm[36:42], lm[42:48]):
        c, w = eye.mean(0), float(np.linalg.norm(eye[3] - eye[0]))
        rr = np.hypot(xx - c[0], yy - c[1]) / w
        prof = [float(np.median(y[(rr >= a) & (rr < a + 0.04)])) for a in np.arange(0.0, 0.4, 0.04)]
        out.append(max(prof[4:8]) - prof[9])
    return out


@pytest.mark.skipif(not (LONDON / "neutral").is_dir(), reason="needs ../shared/data/london_hd (absent)")
@pytest.mark.parametrize("ident", ["002", "006"])
def test_a_blurred_face_made_surprised_has_no_bullseye(ident):
    """London 002 and 006 (training) at 512 px blurred by 2.5 px made surprised: the iris's edge no
    more than 15 levels lighter than the white beyond it (drawn sharp: 32 / 38 and 25 / 22)."""
    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb

    rgb = read_rgb(LONDON / "neutral" / f"{ident}.jpg")
    rgb = cv2.GaussianBlur(cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA), (0, 0), 2.5)
    editor = Editor.from_pretrained("stage")
    out = editor.edit(rgb, "surprised")
    face = max(editor.detector.detect(out), key=lambda f: f.area)
    rings = _rings(out, np.asarray(face.landmarks, np.float64))
    assert max(rings) < 15.0, rings
