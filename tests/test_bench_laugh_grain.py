"""What bench/measure_laugh_grain.py reads: the cheeks' grain above and below the nose's tip, each
region's own, and the lips' body off the line where they meet."""

from __future__ import annotations

import numpy as np
import pytest

from tests._bench import load_bench, mean_face_landmarks


@pytest.fixture(scope="module")
def lm() -> np.ndarray:
    return mean_face_landmarks()


def test_the_grain_is_read_per_region(lm):
    grain = load_bench("measure_laugh_grain").grain
    h, w = int(lm[:, 1].max() + 40), int(lm[:, 0].max() + 40)
    noise = np.random.default_rng(0).choice([-8.0, 8.0], size=(h, w, 1))
    flat = np.full((h, w, 3), 150.0)
    rows = np.arange(h)[:, None, None]
    upper = np.clip(flat + noise * (rows < lm[30, 1] - 2), 0, 255).astype(np.uint8)
    assert grain(flat.astype(np.uint8), lm, lm, 1.0) == pytest.approx([0.0] * 3, abs=1e-3)
    g = grain(upper, lm, lm, 1.0)
    assert g[0] > 4.0 and g[1] < 0.5 * g[0] and g[2] == pytest.approx(0.0, abs=1e-3)


def test_the_lips_body_leaves_out_the_line_where_they_meet(lm):
    lip_mask = load_bench("measure_laugh_grain").lip_mask
    closed = lm.copy()
    closed[61:64, 1] = closed[[67, 66, 65], 1] = (lm[61:64, 1] + lm[[67, 66, 65], 1]) / 2
    h, w = int(lm[:, 1].max() + 40), int(lm[:, 0].max() + 40)
    body = lip_mask((h, w), closed)
    assert body.sum() > 20
    line_y = int(round(closed[62, 1]))
    assert not body[line_y - 1:line_y + 2, int(closed[62, 0])].any()
    assert body[:line_y - 1].any() and body[line_y + 2:].any()
