"""Where a cut's upper lip begins (faceedit/stage/lip_start.py) and the cut warp's new corners
taking the lip past a cut's corner stretch under skin (issue 53's dark spur past a smile's
corners made surprised)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image
from test_faces_cutwarp import part_lips, synthetic_lm, synthetic_photo

from faceedit.stage.cut_curves import lip_curves, resample_by_length
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.lip_start import corner_stretch, rim_muted, upper_lip_from
from faceedit.stage.tuning_face import WarpTuning


def _skin_over_ends(share: float = 0.15) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(photo, landmarks, cut): a synthetic face, lips a little apart, whose upper lip ends
    ``share`` of the mouth's width inward of the cut's corners (skin over the cut's ends)."""
    src = part_lips(synthetic_lm(200.0, (256.0, 170.0)), 0.1)  # (a mouth 130 px wide: not a small one)
    img = synthetic_photo(src)
    skin = synthetic_photo(np.full_like(src, 5.0))  # (the face's skin, no lips near the mouth)
    up, low = lip_curves(src)
    span = up[-1, 0] - up[0, 0]
    y, x = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    ends = ((x < up[0, 0] + share * span) | (x > up[-1, 0] - share * span)) & (y < up[:, 1].max() + 1)
    lip = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(lip, [np.round(np.vstack([src[48:55], src[[64, 63, 62, 61, 60]]])).astype(np.int32)], 1)
    img[(lip > 0) & ends] = skin[(lip > 0) & ends]
    return img, src, (up, low)


def test_upper_lip_from_reads_where_the_lip_colour_begins():
    img, lm, (up, _) = _skin_over_ends(0.15)
    first, last = upper_lip_from(img, up, lm)
    # the arc share of a curve over 15 % of its width from each end (it rises there: a bit more)
    assert 0.12 <= first <= 0.2 and 0.12 <= last <= 0.2
    whole = synthetic_photo(lm)  # the lip over the whole cut
    assert max(upper_lip_from(whole, up, lm)) <= 0.07
    # lips no redder than the cheeks: nothing to tell
    grey = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
    assert upper_lip_from(grey, up, lm) == (0.0, 0.0)


def test_corner_stretch_keeps_the_curve_and_its_corners():
    curve = resample_by_length(np.array([[0.0, 0.0], [50.0, -10.0], [100.0, 0.0]]), 33)
    assert np.array_equal(corner_stretch(curve, (0.0, 0.0), (0.03, 1.0)), curve)
    out = corner_stretch(curve, (0.1, 0.15), (0.03, 1.0))
    np.testing.assert_allclose(out[[0, -1]], curve[[0, -1]], atol=1e-9)
    x = out[:, 0]
    assert np.all(np.diff(x[:17]) > 0) and np.all(np.diff(x[16:]) > 0)  # the same order along the curve
    # the first sample past the tip lies where the stretch ends (and the last's likewise); from
    # twice the stretch on, the samples are the curve's own
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    u = s / s[-1]
    dense = resample_by_length(curve, 2001)

    def share(p: np.ndarray) -> float:
        return float(np.argmin(np.linalg.norm(dense - p, axis=1))) / 2000

    assert 0.1 <= share(out[1]) <= 0.12 and 0.83 <= share(out[-2]) <= 0.85
    far = (u > 0.21) & (u < 0.69)
    np.testing.assert_allclose(out[far], curve[far], atol=1e-9)


def test_rim_muted_takes_a_pale_streak_above_the_corner_to_the_lip():
    """A red lip above a flat curve 200 px wide with a pale streak along it near the left corner:
    the streak takes the lip's darker colour; the lip's middle, the other corner (no stretch
    there), the cheek past the corner and what lies below the curve stay as they are."""
    img = np.full((120, 300, 3), (200, 160, 140), np.uint8)  # the cheek
    img[20:60, 50:250] = (150, 60, 70)  # the upper lip
    img[61:100, 50:250] = (20, 10, 10)  # the opening
    img[55:60, 60:90] = (230, 200, 190)  # the lip's pale edge stretched to the left corner
    lm = np.zeros((68, 2))
    lm[8], lm[36:48] = (150.0, 200.0), (150.0, -50.0)  # (the face's up: -y)
    lm[48], lm[54] = (50.0, 60.0), (250.0, 60.0)
    upper = np.stack([np.linspace(50.0, 250.0, 41), np.full(41, 60.0)], 1)
    out = img.copy()
    rim_muted(out, upper, (0.1, 0.0), 2.0, 0.03, lm)
    streak = out[56:60, 65:85].reshape(-1, 3).astype(float)
    assert np.all(np.abs(streak - (150, 60, 70)).max(1) <= 12)  # the lip's colour, not pale
    assert np.array_equal(out[:, 130:], img[:, 130:])  # the middle and the other end
    assert np.array_equal(out[:, :48], img[:, :48])  # the cheek past the corner
    assert np.array_equal(out[61:], img[61:])  # the opening
    out2 = img.copy()
    rim_muted(out2, upper, (0.0, 0.0), 2.0, 0.03, lm)
    assert np.array_equal(out2, img)


def test_an_opening_cut_takes_the_lip_onto_its_new_corners():
    """A cut reaching past the upper lip's ends (under skin), opened: the new opening's upper
    curve has lip above it nearly to its corners; carried as it lay, skin over its ends. A small
    mouth (the same face at 0.4) keeps its cut's samples."""
    img, src, lips = _skin_over_ends(0.15)
    dst = part_lips(src, 0.4)
    took = cut_warp(img, src, dst, lips=lips)
    kept = cut_warp(img, src, dst, lips=lips, tuning=WarpTuning(lip_from_most=0.0))
    assert took.scale == 1.0 and kept.scale == 1.0
    took_ends = upper_lip_from(took.pixels, took.upper, took.landmarks)
    kept_ends = upper_lip_from(kept.pixels, kept.upper, kept.landmarks)
    assert min(kept_ends) >= 0.15
    assert max(took_ends) <= 0.12 and max(took_ends) < min(kept_ends) - 0.05
    # the opening itself is the same: only what lies above it changed
    np.testing.assert_allclose(took.upper, kept.upper, atol=1e-9)
    small = cv2.resize(img, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    k = lambda p: (p + 0.5) * 0.4 - 0.5  # noqa: E731
    a = cut_warp(small, k(src), k(dst), lips=(k(lips[0]), k(lips[1])))
    b = cut_warp(small, k(src), k(dst), lips=(k(lips[0]), k(lips[1])), tuning=WarpTuning(lip_from_most=0.0))
    assert np.array_equal(a.pixels, b.pixels)


@pytest.mark.shared_data
def test_a_london_smile_made_surprised_has_lip_over_its_opening_s_ends(monkeypatch):
    """London HD 002 smiling (a training face; its teeth carried) made surprised: the warp's new
    upper curve has lip above it to within 6.5 px of each corner (9 and 8 px of skin before the
    stretch, ``bench/measure_lip_ends.py``)."""
    import faceedit.stage.steps as steps
    from faceedit.api import Editor

    path = SHARED_DATA / "london_hd" / "smiling" / "002.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    kept = []
    plain = steps.warp

    def warp(stage, face, pixels):
        out = plain(stage, face, pixels)
        kept.append(face.warped)
        return out

    monkeypatch.setattr(steps, "warp", warp)
    img = np.asarray(Image.open(path).convert("RGB"))
    Editor.from_pretrained("stage", device="cpu").edit(img, "surprised", face="largest")
    r = kept[-1]
    first, last = load_bench("measure_lip_ends").skin_ends(r.pixels, r.upper, r.landmarks)
    assert r.scale == 1.0
    assert max(first, last) <= 6.5
