"""The iBUG-68 convention, landmark heatmaps and LSSL's landmark side image (no data needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from faceedit.faces import landmarks as L


def _random_landmarks(b: int = 0, size: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (68, 2) if b == 0 else (b, 68, 2)
    return rng.uniform(4, size - 5, shape)


def test_groups_partition_the_68_points():
    groups = [L.JAW, L.L_BROW, L.R_BROW, L.NOSE_BRIDGE, L.NOSE_LOWER, L.L_EYE, L.R_EYE,
              L.LIPS_OUTER, L.LIPS_INNER]
    assert sorted(i for g in groups for i in g) == list(range(68))
    assert sorted(i for g in L.GROUPS.values() for i in g) == list(range(68))
    assert L.INNER == list(range(17, 68))
    assert L.NOSE == list(range(27, 36)) and L.LIPS == list(range(48, 68))


def test_flip_is_a_mirror_relabelling():
    assert sorted(L.FLIP) == list(range(68))
    assert [L.FLIP[L.FLIP[i]] for i in range(68)] == list(range(68))  # an involution
    lm = _random_landmarks(size=128)
    lm[L.L_EYE, 0] -= 200  # make the left eye clearly left (x may go negative: fine)
    f = L.flip_landmarks(lm, 128)
    assert f[L.L_EYE, 0].mean() < f[L.R_EYE, 0].mean()
    np.testing.assert_allclose(L.flip_landmarks(f, 128), lm)
    # the mirror image of the left eye's outer corner is the right eye's outer corner
    np.testing.assert_allclose(f[45], [127 - lm[36, 0], lm[36, 1]])


def test_heatmap_shapes_for_numpy_tensor_and_batches():
    assert L.landmark_heatmaps(_random_landmarks(), 32).shape == (1, 51, 32, 32)
    lm = torch.as_tensor(_random_landmarks(3), dtype=torch.float32)
    h = L.landmark_heatmaps(lm, 64, points=L.ALL)
    assert h.shape == (3, 68, 64, 64) and h.dtype == torch.float32
    assert float(h.min()) >= 0.0 and float(h.max()) <= 1.0
    assert L.landmark_side_image(lm, 48).shape == (3, 1, 48, 48)
    assert L.landmark_heatmaps(_random_landmarks().tolist(), 16, points=L.L_EYE).shape == (1, 6, 16, 16)
    with pytest.raises(ValueError, match="68"):
        L.landmark_heatmaps(np.zeros((5, 2)), 32)
    with pytest.raises(ValueError, match="sigma"):
        L.landmark_heatmaps(_random_landmarks(), 32, sigma=0)


def test_heatmap_peaks_sit_on_the_landmarks():
    rng = np.random.default_rng(1)
    lm = rng.integers(3, 61, (2, 68, 2)).astype(np.float64)  # on pixel centres
    h = L.landmark_heatmaps(lm, 64, sigma=1.5, points=L.ALL)
    flat = h.flatten(2).argmax(-1)
    ys, xs = flat // 64, flat % 64
    np.testing.assert_array_equal(xs.numpy(), lm[..., 0])
    np.testing.assert_array_equal(ys.numpy(), lm[..., 1])
    np.testing.assert_allclose(h.amax((2, 3)).numpy(), 1.0, atol=1e-6)


def test_heatmap_rescales_crop_coordinates():
    lm = np.full((68, 2), 40.5)  # 128-px crop: pixel-centre convention -> (40.5+0.5)/2-0.5 = 20
    lm[30] = [100.5, 20.5]  # -> (50, 10)
    h = L.landmark_heatmaps(lm, 64, crop_size=128, points=[30, 0])
    assert h.shape == (1, 2, 64, 64)
    assert divmod(int(h[0, 0].argmax()), 64) == (10, 50)
    assert divmod(int(h[0, 1].argmax()), 64) == (20, 20)
    assert float(h[0, 0, 10, 50]) == pytest.approx(1.0)


def test_sigma_sets_the_width():
    lm = np.full((68, 2), 32.0)
    for sigma in (1.0, 2.0, 4.0):
        h = L.landmark_heatmaps(lm, 64, sigma=sigma, points=[0])[0, 0]
        assert float(h[32, 32]) == pytest.approx(1.0)
        # one sigma away: exp(-1/2); the mass is 2 pi sigma^2
        assert float(h[32, 32 + int(sigma)]) == pytest.approx(math.exp(-0.5), rel=1e-5)
        assert float(h.sum()) == pytest.approx(2 * math.pi * sigma**2, rel=1e-3)
    # default sigma scales with the map: 2 px at 128, so exp(-1/2) two pixels from the point
    h = L.landmark_heatmaps(lm * 2, 128, points=[0])[0, 0]
    assert float(h[64, 66]) == pytest.approx(math.exp(-0.5), rel=1e-5)


def test_side_image_is_the_max_over_inner_points():
    lm = torch.as_tensor(_random_landmarks(2), dtype=torch.float32)
    lm[:, :17] = torch.tensor([5.0, 5.0])  # jaw in a corner, no inner point near it
    lm[:, 17:, 0] = lm[:, 17:, 0].clamp(min=20)
    side = L.landmark_side_image(lm, 64)
    assert torch.equal(side, L.landmark_heatmaps(lm, 64).amax(1, keepdim=True))
    assert float(side.max()) <= 1.0 and float(side.min()) >= 0.0
    assert float(side[0, 0, 5, 5]) < 1e-6  # jaw points are not drawn by default
    assert float(L.landmark_side_image(lm, 64, points=L.ALL)[0, 0, 5, 5]) == pytest.approx(1.0)


def test_missing_points_draw_nothing_and_gradients_reach_the_landmarks():
    lm = torch.tensor(_random_landmarks(), dtype=torch.float32)
    lm[40] = float("nan")
    h = L.landmark_heatmaps(lm, 32, points=L.ALL)
    assert torch.isfinite(h).all() and float(h[0, 40].abs().max()) == 0.0
    lm2 = torch.tensor(_random_landmarks(), dtype=torch.float32, requires_grad=True)
    L.landmark_side_image(lm2, 32)[..., 10:20, 10:20].sum().backward()
    assert lm2.grad is not None and torch.isfinite(lm2.grad).all() and lm2.grad.abs().sum() > 0
