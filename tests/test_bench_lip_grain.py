"""What bench/measure_lip_grain.py reads on the lips: the grain inside them, off the seam's band
between them and off their corners."""

from __future__ import annotations

import numpy as np

from tests._bench import load_bench
from tests.test_stage_lip_grain import _landmarks


def test_the_grain_is_read_on_the_lips_off_the_seam():
    bench = load_bench("measure_lip_grain")
    lm = _landmarks(22.0, 24.0, 0.0)  # closed lips meeting at y 200, eyes 200 px apart
    mask = bench.lip_mask((300, 260), lm)
    rows, cols = np.nonzero(mask)
    assert len(rows) > 500
    assert np.abs(rows - 200).min() >= 9  # off the seam's band (0.05 eye distances each side)
    assert cols.min() >= 60 + 0.15 * 140 - 1 and cols.max() <= 200 - 0.15 * 140 + 1  # off the corners
    rng = np.random.default_rng(0)
    flat = np.full((300, 260, 3), 150.0)
    seam = flat.copy()
    seam[197:204] = 60.0  # a dark line where the lips meet: not grain
    grained = flat + rng.choice([-8.0, 8.0], size=(300, 260, 1))
    assert bench.grain(seam.astype(np.uint8), lm, 1.5) < 0.5
    assert bench.grain(np.clip(grained, 0, 255).astype(np.uint8), lm, 1.5) > 5.0
