"""The hair outline's large Gaussian (taken on blocks) against OpenCV's at full size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage.hair_edge import _normalised_blur


def _exact(x: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    w = cv2.GaussianBlur(weight, (0, 0), sigma)
    return cv2.GaussianBlur(x * weight[..., None], (0, 0), sigma) / np.maximum(w, 1e-4)[..., None]


@pytest.mark.parametrize("sigma, shape", [(20.0, (301, 257)), (33.0, (400, 403)), (12.0, (120, 96))])
def test_blocks_give_the_full_size_normalised_blur(sigma: float, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    h, w = shape
    x = (rng.random((h, w, 2)) * 60 + np.linspace(0, 40, w)[None, :, None]).astype(np.float32)
    weight = np.zeros((h, w), np.float32)
    cv2.ellipse(weight, (w // 2, h // 3), (w // 3, h // 4), 0, 0, 360, 1.0, -1)  # a head of sure hair
    weight[-h // 5:, -w // 5:] = 1.0  # and hair down to the box's corner
    got = _normalised_blur(x, weight, sigma)
    want = _exact(x, weight, sigma)
    near = cv2.GaussianBlur(weight, (0, 0), sigma) > 0.05  # where the hair nearby is read
    assert got.shape == want.shape == (h, w, 2)
    assert float(np.abs(got - want)[near].max()) < 1.0  # of values spread over 0..100


def test_a_small_sigma_is_the_full_size_blur_itself() -> None:
    rng = np.random.default_rng(4)
    x = rng.random((50, 61, 3)).astype(np.float32)
    weight = (rng.random((50, 61)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(_normalised_blur(x, weight, 4.0), _exact(x, weight, 4.0), rtol=1e-5, atol=1e-5)
