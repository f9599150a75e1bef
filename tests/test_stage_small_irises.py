"""A small face's widened eyes keep their irises at their own size (faceedit.stage.eyes): at a
128-px face (an eye about 16 px wide, an iris of 3-4 px radius) the iris is found, read and
kept round, the white shown above it, not left stretched into a tall dark oval; a light iris's
circle is not its pupil."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import SHARED_DATA

from faceedit.stage.eyes import find_iris
from faceedit.stage.iris_rings import radial_profile
from faceedit.stage.tuning import EyesTuning


def _small_eye(iris_luma: float, r: float = 3.7, scale: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A 16.6-px eye drawn at ``scale`` times and area-shrunk: skin 0.62, white 0.85, an iris of
    radius ``r`` px at ``iris_luma``, its pupil 0.45 of it at 0.08; and its opening's 16 points
    (corner, eight over the top to the other corner, seven back under the bottom)."""
    h, w = 30, 36
    yy, xx = np.mgrid[0:h * scale, 0:w * scale] / scale
    img = np.full((h * scale, w * scale), 0.62, np.float32)
    cx, cy, width = 18.0, 15.0, 16.6
    t = np.linspace(0, np.pi, 9)
    upper = np.stack([cx - width / 2 * np.cos(t), cy - 3.2 * np.sin(t)], 1)
    lower = np.stack([cx + width / 2 * np.cos(t[1:-1]), cy + 2.6 * np.sin(t[1:-1])], 1)
    poly = np.vstack([upper, lower])
    inside = np.zeros(img.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(poly * scale * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    d = np.hypot(xx - cx - 0.3, yy - cy - 0.4)
    img[inside > 0] = 0.85
    img[(inside > 0) & (d < r)] = iris_luma
    img[(inside > 0) & (d < 0.45 * r)] = 0.08
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    return np.repeat(img[..., None], 3, 2), poly


@pytest.mark.parametrize("iris_luma", [0.2, 0.42, 0.5])
def test_a_small_light_iris_is_not_found_at_its_pupil(iris_luma):
    """Given the iris model's radius (3.7 px, the drawn one's), the circle found on a 16.6-px eye is
    within the model's spread of it, dark iris or light: the fine search's pixel step once took a
    light iris's pupil (2.07 px) for its edge."""
    t = EyesTuning()
    rgb, poly = _small_eye(iris_luma)
    found = find_iris(rgb, poly, t, radius=3.7)
    assert found is not None
    assert abs(found[1] - 3.7) <= t.iris_model_spread * 3.7 + 1e-6, found


def test_a_small_iris_s_rings_are_read():
    """The pixels a 128-px face's eye shows of a 3.3-px iris (its top and bottom under the lids)
    give its ring colours, dark at the pupil and lighter out to the rim: rings a tenth of its
    radius apart hold too few pixels each."""
    yy, xx = np.mgrid[-5:6, -5:6].astype(np.float64)
    shown = np.abs(yy + 0.2) <= 1.5  # the lids over the top and bottom: 33 px, as a 16-px eye shows
    d = np.hypot(xx + 0.3, yy + 0.2)[shown]
    lum = np.where(d < 1.5, 0.08, np.where(d < 3.3, 0.35, 0.85))
    prof = radial_profile(np.repeat(lum[:, None], 3, 1).astype(np.float32), d, 3.3)
    assert prof is not None
    assert prof[0, 0] < 0.2 < prof[-2, 0] < 0.5, prof[:, 0]


@pytest.mark.shared_data
@pytest.mark.parametrize("ident", ["006", "007"])
def test_a_128_px_face_made_surprised_keeps_both_irises(ident, monkeypatch):
    """London 006 and 007 (training, brown eyes) cut to 128 px as the world set cuts faces, made
    surprised: both eyes keep their iris at its own size (each was left stretched: its rings, a
    tenth of a 3.6-px radius apart, unread, and a pixel's erosion of the opening left 0-3 px of
    white to read), and above each kept iris the edit shows the white: the column over its
    centre, from a pixel to two above the iris's edge, lighter than its middle by 0.2 of the
    white's luma or more."""
    import faceedit.stage.eyes as eyes
    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.pixels import luma

    if not (SHARED_DATA / "london_hd" / "neutral" / f"{ident}.jpg").exists():
        pytest.skip("../shared/data/london_hd is not there")
    rgb = dict(london_variants(SHARED_DATA / "london_hd", ids=(ident,), expressions=("neutral",)))[
        f"london_{ident}_neutral_small128"]
    kept = []
    move = eyes._move_margin

    def spy(*args):
        if args[7] is not None and args[7][3]:  # (c_s, c_d, r, kept)
            kept.append(args[7])
        return move(*args)

    monkeypatch.setattr(eyes, "_move_margin", spy)
    out = Editor.from_pretrained("stage", device="cpu").edit(rgb, "surprised", face="largest")
    assert len(kept) == 2, f"{len(kept)} of 2 irises kept"
    y = luma(out.astype(np.float32))
    for _, c_d, r, _ in kept:
        x, top = int(round(c_d[0])), c_d[1] - r
        above = [float(y[int(round(top - a)), x]) for a in (1.0, 1.5, 2.0)]
        middle = float(np.median(y[int(round(c_d[1])) - 1:int(round(c_d[1])) + 2, x - 1:x + 2]))
        white = float(np.percentile(y[int(c_d[1] - 2 * r):int(c_d[1] + 2 * r), int(c_d[0] - 3 * r):int(c_d[0] + 3 * r)],
                                    95))
        assert max(above) - middle >= 0.2 * white, (above, middle, white)


@pytest.mark.shared_data
def test_a_nearly_shut_96_px_eye_made_surprised_is_an_eyeball_not_a_smudge():
    """London 013 smiling (training; lids about 0.2 of the eye's width apart) cut to 96 px, made
    surprised: no white shows beside its irises, so none is kept; the margins are moved and the
    eyeballs redrawn in a lit white (:mod:`faceedit.stage.lid_move`). Read on the edit's own
    points: the opening's lighter quarter at least half the cheek's luma under the eye (0.57 and
    0.58; the lids' shadow stretched into two dark blobs: 0.32 and 0.37)."""
    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.pixels import luma

    if not (SHARED_DATA / "london_hd" / "smiling" / "013.jpg").exists():
        pytest.skip("../shared/data/london_hd is not there")
    rgb = dict(london_variants(SHARED_DATA / "london_hd", ids=("013",), expressions=("smiling",)))[
        "london_013_smiling_small96"]
    editor = Editor.from_pretrained("stage", device="cpu")
    out = editor.edit(rgb, "surprised", face="largest")
    lm = np.asarray(max(editor.detector.detect(out), key=lambda f: f.area).landmarks, np.float64)
    y = luma(out.astype(np.float32) / 255)
    for eye in (lm[36:42], lm[42:48]):
        inside = np.zeros(y.shape, np.uint8)
        cv2.fillPoly(inside, [np.round(eye * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
        w = float(np.linalg.norm(eye[3] - eye[0]))
        c, h = eye.mean(0) + [0.0, 0.55 * w], max(1, int(0.12 * w))
        cheek = float(np.median(y[int(c[1]) - h:int(c[1]) + h + 1, int(c[0]) - h:int(c[0]) + h + 1]))
        assert float(np.percentile(y[inside > 0], 75)) >= 0.5 * cheek
