"""The closed lid's top in the socket's shadow (faceedit.stage.lid_shade): darkened towards the
skin above it where the socket shades that skin, not towards a crease's dark line or the brow's
lower hairs in it (a dark arc over a pale lid, a goggle's rim)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from faceedit.stage.lid_shade import column_light, shade_top
from faceedit.stage.lids import EyeFrame
from faceedit.stage.tuning_lids import LidsTuning

TN = LidsTuning()


def test_column_light_reads_each_column_s_percentile():
    """Each column's percentile of its own pixels (nearest rank), NaN and a count of 0 where a column has none."""
    rng = np.random.default_rng(1)
    cols = rng.integers(0, 5, 400)
    cols[cols == 3] = 4  # column 3 has no pixels
    values = rng.random(400)
    got, n = column_light(cols, values, 6, 75.0)
    for c in (0, 1, 2, 4):
        v = np.sort(values[cols == c])
        assert got[c] == v[int(np.rint(0.75 * (len(v) - 1)))]
        assert n[c] == len(v)
    assert np.isnan(got[3]) and np.isnan(got[5]) and n[3] == 0 and n[5] == 0


def _lid(above: np.ndarray, tn: LidsTuning = TN) -> tuple[np.ndarray, np.ndarray]:
    """A flat lid (0.6) under a band of skin ``above`` ((rows,) luma down the band, the same in
    every column) and what :func:`shade_top` makes of it, in a level eye's frame: the crease at
    y = 0, the lid below it to y = 30 (eye height 20), the band's rows the last above the crease."""
    h, w = 60, 80
    Y, X = np.mgrid[-30:30, 0:80].astype(np.float64)
    xs = np.arange(0.0, 80.0)
    eye = EyeFrame(np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), xs, np.full_like(xs, 30.0),
                   np.full_like(xs, 40.0), np.zeros_like(xs), np.full_like(xs, -30.0), 20.0)
    new = np.full((h, w, 3), 0.6, np.float32)
    new[30 - len(above):30] = np.asarray(above, np.float32)[:, None, None]
    Cd = np.zeros_like(Y)
    t = np.clip(Y / 30.0, 0.0, 1.0)
    lid = (Y < 30).astype(np.float32)
    return new, shade_top(new, X, Y, eye, Cd, t, lid, tn)


def test_a_crease_line_above_the_lid_does_not_darken_its_top():
    """The skin above the lid as light as the lid, a crease's dark line (0.3) along its lower
    rows: the lid's top keeps within 2% of its light (the band's mean, the line in it, would
    darken it 17%; read at the line's dark, ``shade_pct`` 0, it is 10% darker and more); the line
    itself is left as it is."""
    band = np.full(6, 0.6)
    band[-2:] = 0.3
    new, got = _lid(band)
    top = got[30:33, 10:70, 0]
    assert top.min() > 0.98 * 0.6, top.min()
    assert np.allclose(got[28:30], new[28:30], atol=0.01)
    _, lowest = _lid(band, replace(TN, shade_pct=0.0))  # read at the line's dark: the top darkened
    assert lowest[30, 10:70, 0].max() < 0.9 * 0.6, lowest[30, 10:70, 0].max()


def test_a_socket_s_shadow_above_the_lid_shades_its_top_not_its_middle():
    """The skin above the lid in the socket's shadow (0.4 all across the band): the lid's top is
    darkened most of the way to it, the lid from ``shade_reach`` of the way down unchanged."""
    _, got = _lid(np.full(6, 0.4))
    assert got[30, 10:70, 0].max() < 0.45, got[30, 10:70, 0].max()
    assert np.allclose(got[30 + 16:60, :, 0], 0.6, atol=1e-4)
