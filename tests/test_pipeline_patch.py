"""The stage's change kept as a patch (faceedit.pipeline._changed_patch): the bounding box of
every pixel that differs, found by comparing rows as wide words, is the one an element by element
comparison gives, for any row width, channel count and dtype."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.pipeline import _changed_patch


def _box_by_elements(before: np.ndarray, after: np.ndarray):
    ys, xs = np.nonzero((before != after).reshape(before.shape[0], before.shape[1], -1).any(-1))
    return None if ys.size == 0 else (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1)


@pytest.mark.parametrize("shape,dtype", [((96, 128, 3), np.uint8), ((61, 37, 3), np.uint8),
                                         ((40, 33, 3), np.uint16), ((50, 31), np.uint8)])
def test_changed_patch_is_the_box_of_every_changed_pixel(shape, dtype):
    rng = np.random.default_rng(7)
    before = rng.integers(0, 200, shape, dtype=dtype)
    assert _changed_patch(before, before.copy()) is None
    for _ in range(30):
        after = before.copy()
        for _ in range(int(rng.integers(1, 4))):  # single levels of single channels, anywhere
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            where = (y, x) if len(shape) == 2 else (y, x, int(rng.integers(0, shape[2])))
            after[where] += 1
        box, patch = _changed_patch(before, after)
        assert tuple(int(v) for v in box) == tuple(int(v) for v in _box_by_elements(before, after))
        y0, y1, x0, x1 = box
        np.testing.assert_array_equal(patch, after[y0:y1, x0:x1])
