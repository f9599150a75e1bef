"""The smile's cheek under the eye (AU6, :mod:`faceedit.stage.apple`): where it is drawn, what
shape it has across the lid, and when it is drawn at all."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.stage import apple
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_folds import FoldsTuning


def _face() -> np.ndarray:
    """A level face's 68 points in a 600-px image: eye centres 200 px apart."""
    lm = np.zeros((68, 2))
    for side, cx in ((-1, 200.0), (1, 400.0)):
        outer, inner = cx + side * 45, cx - side * 45
        idx = (36, 37, 38, 39, 40, 41) if side < 0 else (45, 44, 43, 42, 47, 46)
        # outer corner, upper lid (2), inner corner, lower lid (inner-side point, outer-side point)
        pts = [(outer, 250), (cx + side * 15, 238), (cx - side * 15, 238), (inner, 250),
               (cx - side * 15, 260), (cx + side * 15, 260)]
        for k, p in zip(idx, pts, strict=True):
            lm[k] = p
    lm[17:22] = [(150 + 25 * k, 215) for k in range(5)]
    lm[22:27] = [(350 + 25 * k, 215) for k in range(5)]
    lm[27:31] = [(300, 250 + 25 * k) for k in range(4)]
    lm[31:36] = [(270 + 15 * k, 350) for k in range(5)]
    lm[48:68] = [(300 + 60 * np.cos(t), 420 + 15 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 20)]
    lm[0:17] = [(120 + 22.5 * k, 250 + 200 * np.sin(np.pi * k / 16)) for k in range(17)]
    return lm


def test_profile_is_a_lit_roll_a_crease_and_the_cheeks_light_under_each_lid() -> None:
    lm = _face()
    made = apple.apple_log_ratio((600, 600, 3), lm, 1.0)
    assert made is not None
    (x0, y0, x1, y1), r = made
    ed = face_frame(lm)[2]
    for cx in (200, 400):
        col = r[:, cx - x0]
        below = (np.arange(y0, y1) - 260) / ed  # the lower lid's middle at y 260
        assert np.all(np.abs(col[below < -0.03]) < 1e-6), "nothing above the lower lid"
        roll = col[(below > 0.04) & (below < 0.09)].max()
        crease = col[(below > 0.1) & (below < 0.16)].min()
        cheek = col[(below > 0.2) & (below < 0.35)].max()
        assert roll > 0.05 and cheek > 0.005
        assert crease < roll - 0.05 and crease < cheek, "a valley between the roll's light and the cheek's"
        assert col.max() < 0.1 and col.min() > -0.05, "shading, not paint"
    # the two eyes alike (mirrored)
    left, right = r[:, 200 - 60 - x0:200 + 61 - x0], r[:, 400 - 60 - x0:400 + 61 - x0]
    assert np.allclose(left, right[:, ::-1], atol=2e-3)


def test_drawn_for_smiles_only_by_progress() -> None:
    assert apple.apple_amount("happy", 1.0) == pytest.approx(1.0)
    assert apple.apple_amount("happy", 0.5) == pytest.approx(0.5)
    for t in ("sad", "neutral", "surprised", None):
        assert apple.apple_amount(t, 1.0) == 0.0
    assert apple.apple_amount("happy", 1.0, FoldsTuning(apple_targets=())) == 0.0
    px = np.full((600, 600, 3), 150, np.uint8)
    assert apple.paint_apple(px, _face(), 0.0) is px
    out = apple.paint_apple(px, _face(), 1.0)
    assert out is not px and int(out[260 + 13, 200, 1]) > 150 > int(out.min())


def test_small_face_roll_is_seen_through_its_pixels() -> None:
    """On a face 20 px between the eyes the roll (0.02 eye distances, 0.4 px) is drawn widened to
    the photo's pixels with its area kept: lower, not a 1-px bright line."""
    big = apple.apple_log_ratio((600, 600, 3), _face(), 1.0)
    small = apple.apple_log_ratio((60, 60, 3), _face() / 10.0, 1.0)
    assert big is not None and small is not None
    assert big[1].max() > 0.08
    assert 0.02 < small[1].max() < 0.05


def test_roll_lit_only_by_a_light_from_above() -> None:
    lm = _face()
    above = apple.apple_log_ratio((600, 600, 3), lm, 1.0, light=np.array([0.0, -1.0]))
    across_ = apple.apple_log_ratio((600, 600, 3), lm, 1.0, light=np.array([1.0, 0.0]))
    assert above is not None and across_ is not None
    col = 200 - above[0][0]
    assert above[1][:, col].max() > 0.08
    assert across_[1][:, col].max() < 0.03, "no lit roll under a light straight across"


def test_drawn_only_on_the_rows_each_lids_band_reaches(monkeypatch) -> None:
    """Each lid's shading is computed on the rows its band below the lid can reach
    (``apple._band_rows``): the same values as over the whole box, on faces rolled, turned,
    small and cut by the photo's edge."""
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        a = np.radians(rng.uniform(-35, 35))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        lm = (_face() - 300) @ rot.T * rng.uniform(0.1, 1.2) + 300 + rng.uniform(-150, 150, 2)
        lm[36:48] += rng.normal(0, 2, (12, 2))  # lids of uneven shape
        light = None if i % 2 else rng.normal(0, 1, 2)
        cases.append((lm, light))
    fast = [apple.apple_log_ratio((600, 600, 3), lm, 1.0, light=light) for lm, light in cases]
    monkeypatch.setattr(apple, "_band_rows", lambda curve, lo, hi, depth, across_x, across_y: (0, len(across_y)))
    whole = [apple.apple_log_ratio((600, 600, 3), lm, 1.0, light=light) for lm, light in cases]
    assert sum(f is not None for f in fast) >= 20
    for f, w in zip(fast, whole, strict=True):
        assert (f is None) == (w is None)
        if f is not None:
            assert f[0] == w[0] and np.array_equal(f[1], w[1])
            assert np.abs(f[1]).max() > 0
