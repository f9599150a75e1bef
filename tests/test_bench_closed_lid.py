"""What ``bench/measure_closed_lid.py`` reads on a closed lid: horizontal stripes (lines along
the lid, a texture drawn out along the eye) read high against grain; its grain is the pixels'."""

from __future__ import annotations

import cv2
import numpy as np
from _bench import load_bench


def test_stripes_read_rows_repeated_not_grain():
    """Grain (white noise, blurred half a pixel) reads about 1; the same grain drawn out along
    the rows (each pixel repeated over 8 along the eye: lines across the lid, as the drawn
    wrinkles were) reads 5 times that and more; a smooth shading down the band (the lid's convex
    light) adds next to nothing."""
    bench = load_bench("measure_closed_lid")
    rng = np.random.default_rng(0)
    grain = cv2.GaussianBlur(rng.standard_normal((40, 120)).astype(np.float32), (0, 0), 0.5)
    stretched = np.repeat(grain[:, ::8], 8, 1) + 0.3 * grain
    shaded = grain + 8.0 * np.sin(np.linspace(0, np.pi, 40, dtype=np.float32))[:, None]
    noise, rows, lit = bench.stripes(grain), bench.stripes(stretched), bench.stripes(shaded)
    assert 0.4 < noise < 2.5, noise
    assert rows > 5 * noise, (rows, noise)
    assert lit < 1.5 * noise, (lit, noise)


def test_fine_is_the_luma_less_its_blur():
    """:func:`fine` keeps a pixel's grain, not the shading under it."""
    bench = load_bench("measure_closed_lid")
    ramp = np.tile(np.linspace(0, 100, 64, dtype=np.float32), (64, 1))
    assert np.abs(bench.fine(ramp)[8:-8, 8:-8]).max() < 1e-3
    dots = ramp.copy()
    dots[32, 32] += 20
    assert bench.fine(dots)[32, 32] > 10
