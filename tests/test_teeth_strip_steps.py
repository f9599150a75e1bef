"""The upper teeth in a thin opening drawn as separate teeth (faceedit.stage.tooth_steps)."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tooth_steps import TOOTH_WIDTHS, stepped_gain, tooth_bounds, tooth_steps


def _strip(height: int = 20):
    """A 200-px wide opening ``height`` rows tall: a 5-row lit strip along its top whose light
    ramps smoothly from the middle (0.9) to the ends (0.45), dark cavity below."""
    w = 200
    img = np.full((60, 240, 3), 120, np.uint8)
    op = np.zeros((60, 240), np.float32)
    op[20:20 + height, 20:20 + w] = 1.0
    xs = np.arange(240, dtype=np.float64)
    ramp = 0.9 - 0.45 * np.clip(np.abs(xs - 120) / 100.0, 0, 1) ** 1.5
    img[20:20 + height, 20:220] = 12
    img[20:25, 20:220] = (np.clip(ramp[20:220], 0, 1) * 255)[None, :, None].astype(np.uint8)
    return img, op, ramp


def test_thin_strip_gets_joints_and_steps():
    img, op, _ = _strip()
    out = tooth_steps(img, (0, 0, 240, 60), op, 120.0, 200.0)
    y = out[20:25].astype(np.float64).mean(2).mean(0)
    bounds = tooth_bounds(120.0, 200.0)
    # darker at the joints between the front teeth than at the teeth's middles beside them
    for b in bounds[3:8]:
        j = int(round(b))
        assert y[j] < 0.85 * max(y[j - 8], y[j + 8])
    # each front tooth's light is its own: the left and right halves of a tooth (its rounding
    # aside) differ less than the smooth ramp made them
    a, b = int(round(bounds[5])) + 3, int(round(bounds[6])) - 3
    src = img[20:25].astype(np.float64).mean(2).mean(0)
    q = (b - a) // 4
    assert abs(y[a + q] - y[b - q]) < 0.5 * abs(src[a + q] - src[b - q])
    # the cavity stays as dark
    assert out[35:40, 30:210].mean() <= img[35:40, 30:210].mean() + 2


def test_tall_opening_unchanged():
    img, op, _ = _strip(height=60 - 20)  # 40 rows at 100 px between the corners: 0.4 of it
    out = tooth_steps(img, (0, 0, 240, 60), op, 120.0, 100.0)
    assert np.array_equal(out, img)


def test_stepped_gain_makes_levels():
    xs = np.arange(100, dtype=np.float64)
    ramp = 1.0 - 0.004 * np.abs(xs - 50)
    bounds = tooth_bounds(50.0, 100.0)
    g = stepped_gain(ramp, xs, bounds)
    lv = ramp * g
    assert len(bounds) == 2 * len(TOOTH_WIDTHS) + 1
    # within the right central incisor the middle's level is the same either side of its middle
    on = (xs >= bounds[5]) & (xs < bounds[6])
    m = lv[on]
    assert abs(m[len(m) // 2 - 2] - m[len(m) // 2 + 2]) < 0.01
