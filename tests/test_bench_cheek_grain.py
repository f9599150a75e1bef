"""What bench/measure_cheek_grain.py reads on the cheeks: the grain under the eyes and over the
cheeks' mask above and below the nose's tip, each region's own."""

from __future__ import annotations

import numpy as np
import pytest

from tests._bench import load_bench, mean_face_landmarks


@pytest.fixture(scope="module")
def lm() -> np.ndarray:
    return mean_face_landmarks()


def test_the_grain_is_read_per_region(lm):
    grain = load_bench("measure_cheek_grain").grain
    h, w = int(lm[:, 1].max() + 40), int(lm[:, 0].max() + 40)
    rng = np.random.default_rng(0)
    noise = rng.choice([-8.0, 8.0], size=(h, w, 1))
    flat = np.full((h, w, 3), 150.0)
    rows = np.arange(h)[:, None, None]
    upper = np.clip(flat + noise * (rows < lm[30, 1] - 2), 0, 255).astype(np.uint8)
    lower = np.clip(flat + noise * (rows >= lm[30, 1] + 2), 0, 255).astype(np.uint8)
    assert grain(flat.astype(np.uint8), lm) == pytest.approx([0.0] * 4)
    g_up, g_low = grain(upper, lm), grain(lower, lm)
    assert g_up[2] > 5.0 and g_up[3] < 0.5 * g_up[2]
    assert g_low[3] > 5.0 and g_low[2] < 0.5 * g_low[3]
    assert min(g_up[:2]) > 3.0
