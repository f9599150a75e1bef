"""A squinting eye's hidden iris read round its own ring (faceedit.stage.eyes.iris_around): the colour at the
same radius from the rings the source shows, with the iris's streaks, not a ring's flat median."""

from __future__ import annotations

import numpy as np


def iris_photo(r: float = 20.0, size: int = 64):
    """A unit-RGB eye box: an iris of radius ``r`` at the middle whose colour darkens outward (0.6 - 0.3 rho/r)
    with 24 radial streaks (+-0.08), seen only in a band 0.35 ``r`` tall across its middle (the lids of a
    squint); returns (src, coverage, centre)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = np.array([size / 2, size / 2])
    rho = np.hypot(xx - c[0], yy - c[1])
    ang = np.arctan2(yy - c[1], xx - c[0])
    v = 0.6 - 0.3 * rho / r + 0.08 * np.sin(24 * ang)
    src = np.repeat(v[..., None], 3, -1).astype(np.float32)
    core = (np.abs(yy - c[1]) < 0.35 * r).astype(np.float32)
    return src, core, c


def test_the_hidden_top_takes_the_ring_s_colour_and_its_streaks():
    from faceedit.stage.iris_rings import iris_around

    r = 20.0
    src, core, c = iris_photo(r)
    ang = np.linspace(np.pi * 1.2, np.pi * 1.8, 40)  # the hidden top of the iris (image y down)
    rel = 0.7 * r * np.stack([np.cos(ang), np.sin(ang)], -1)
    col, w = iris_around(src, core, c, rel, r, 0.8)
    assert np.all(w == 1.0)
    ring = 0.6 - 0.3 * 0.7
    assert abs(float(np.median(col[:, 0])) - ring) < 0.03  # the ring's own level
    assert float(col[:, 0].std()) > 0.01  # streaks carried, the two sides mixed (a ring's median: 0)
    # beyond the iris, nothing
    _, w_out = iris_around(src, core, c, np.array([[0.0, -1.3 * r]]), r, 0.8)
    assert w_out[0] == 0.0


def test_a_ring_the_source_never_shows_is_left_to_the_median():
    from faceedit.stage.iris_rings import iris_around

    r = 20.0
    src, core, c = iris_photo(r)
    core[:] = 0.0
    _, w = iris_around(src, core, c, np.array([[0.0, -0.5 * r], [0.3 * r, 0.0]]), r, 0.8)
    assert np.all(w == 0.0)


def test_a_large_eye_box_is_read_whole():
    """An eye box of 1350-px photo (over 32767 offsets, OpenCV remap's most rows in one map) is read as a small one."""
    from faceedit.stage.iris_rings import iris_around

    r = 20.0
    src, core, c = iris_photo(r)
    yy, xx = np.mgrid[0:220, 0:200].astype(np.float64)
    rel = np.stack([xx - 100, yy - 110], -1) * (r / 100)
    col, w = iris_around(src, core, c, rel, r, 0.8)
    small, w_small = iris_around(src, core, c, rel[::10, ::10], r, 0.8)
    assert col.shape == (220, 200, 3)
    assert np.allclose(col[::10, ::10], small, atol=1e-5) and np.array_equal(w[::10, ::10], w_small)
