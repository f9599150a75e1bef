"""Hair made blond, red or grey keeps its strands (faceedit/stage/hair_tone.py, hair_edge.py): the
lightness curve is monotone within its slopes, a synthetic head of dark strands over a light
wall keeps its strands' order of lightness and their spread, its flyaways beyond the matte take
the colour, and the wall stays the wall."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.stage import hair_tone as tone
from faceedit.stage.hair import recolour
from faceedit.stage.matting import head_box
from faceedit.stage.regions import HeadRegions, hair_colour
from faceedit.stage.tuning_face import HairTuning

LUMA = np.array([0.299, 0.587, 0.114])
WALL = np.array([200.0, 203.0, 206.0])
#: The strands' grey levels, in their order across the head.
LEVELS = (12, 30, 55, 20, 42, 70, 16, 36, 62)


@pytest.mark.parametrize("colour", sorted(tone.PROFILE))
def test_the_curve_is_monotone_and_its_steps_within_their_slopes(colour):
    own = np.array([3.0, 3.5, 4.0, 6.0, 10.0, 18.0, 35.0, 50.0, 70.0], np.float32)  # a dark head's
    low, high = HairTuning().tone_slope
    x, y = tone.curve(own, 68.0, tone.PROFILE[colour], (low, high))
    steps = np.diff(y) / np.diff(x)
    assert np.all(steps >= low - 1e-6) and np.all(steps <= high + 1e-6)
    light = np.linspace(-5.0, 100.0, 500).astype(np.float32)
    out = tone.apply(light, (x, y))
    assert np.all(np.diff(out) > 0)  # strictly: no two strands made one


def _head(d: float = 120.0, size: int = 900) -> tuple[np.ndarray, np.ndarray, HeadRegions, tuple[np.ndarray, ...]]:
    """A light wall with a head of dark vertical strands (each of ``LEVELS`` a band a few px
    wide) left of the face's skin and single dark strands beyond the matte's edge: (photo, 68 points, the
    regions with the matte ending at the strands' edge, (strand masks, flyaways, far wall))."""
    rng = np.random.default_rng(0)
    img = np.tile(WALL, (size, size, 1)) + rng.normal(0.0, 0.8, (size, size, 1))
    cx, cy = size / 2, size / 2
    lm = np.tile([cx, cy], (68, 1)).astype(np.float64)
    lm[36:42] = [cx - d / 2, cy]
    lm[42:48] = [cx + d / 2, cy]
    lm[17:27] = [cx, cy - 0.35 * d]
    lm[8] = [cx, cy + 1.3 * d]
    work = head_box(lm, img.shape)
    x0, y0, x1, y1 = work.box
    left, right = int(cx - 1.5 * d), int(cx - 0.7 * d)
    top, bottom = int(cy - 1.2 * d), int(cy + 0.6 * d)
    xs = np.arange(size)
    masks = []
    width = (right - left) // len(LEVELS)
    for i, level in enumerate(LEVELS):
        m = np.zeros((size, size), bool)
        m[top:bottom, left + i * width: left + (i + 1) * width] = True
        img[m] = level
        masks.append(m)
    # flyaways: 1-px dark strands beyond the head's edge, 4 px apart
    fly = np.zeros((size, size), bool)
    for x in range(left - 3, left - int(0.1 * d), -4):
        fly[top:bottom, x] = True
    img[fly] = 40.0
    hair = np.zeros((size, size), np.float32)
    hair[top:bottom, left:left + width * len(LEVELS)] = 1.0
    # the face's skin right of the hair
    face = np.zeros((size, size), np.float32)
    face[top:int(cy + 1.3 * d), left + width * len(LEVELS): int(cx + 0.7 * d)] = 1.0
    img[face > 0] = (205.0, 160.0, 140.0)
    far = np.zeros((size, size), bool)
    far[:, : left - int(0.3 * d)] = True
    far[:, xs > cx + 1.4 * d] = True
    photo = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    regions = HeadRegions(work, face[y0:y1, x0:x1], hair[y0:y1, x0:x1])
    masks = [m & (np.arange(size)[:, None] > top + 10) & (np.arange(size)[:, None] < bottom - 10) for m in masks]
    return photo, lm, regions, (masks, fly, far)


@pytest.mark.parametrize("colour", ["blond", "red", "grey"])
def test_dark_strands_made_light_keep_their_order_and_the_wall_stays(colour):
    img, lm, regions, (masks, fly, far) = _head()
    assert hair_colour(img, regions) is not None
    out = recolour(img, lm, colour, regions=regions)
    y_in, y_out = img.astype(float) @ LUMA, out.astype(float) @ LUMA
    before = np.array([y_in[m].mean() for m in masks])
    after = np.array([y_out[m].mean() for m in masks])
    # every strand keeps its rank among the others, and the light and dark are not squashed
    assert np.array_equal(np.argsort(before), np.argsort(after)), (before, after)
    assert np.ptp(after) >= 0.8 * np.ptp(before), (before, after)
    # the flyaways beyond the matte's edge take the new colour (lighter), by their share
    assert (y_out[fly] - y_in[fly]).mean() > 10.0
    # the wall far from the head is the wall, to the level
    assert np.abs(out[far].astype(int) - img[far].astype(int)).max() == 0
    # the wall between the flyaways (midway, 2 px from each) is changed by little
    cols = np.flatnonzero(fly.any(0))
    rows = np.flatnonzero(fly.any(1))
    between = np.zeros_like(fly)
    between[rows[0]:rows[-1] + 1, cols[:-1] + 2] = True
    assert not (between & fly).any()
    assert np.abs(y_out[between] - y_in[between]).mean() < 4.0
