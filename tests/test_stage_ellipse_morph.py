"""The row-run ellipse morphology (:mod:`faceedit.stage.ellipse_morph`) gives OpenCV's values
byte for byte: dilation, erosion, closing and opening by ``MORPH_ELLIPSE`` of every size the
stage uses, on uint8 and float arrays, one channel or three, edges included."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage import ellipse_morph


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (6, 7), (41, 33), (37, 50, 3), (160, 150)])
def test_ellipse_morphology_is_opencvs_byte_for_byte(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape) * 255).astype(dtype)
    for size in (1, 3, 13, 15, 16, 17, 27, 40, 51, 137):
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        pairs = ((cv2.dilate(x, k), ellipse_morph.dilate(x, size)), (cv2.erode(x, k), ellipse_morph.erode(x, size)),
                 (cv2.morphologyEx(x, cv2.MORPH_CLOSE, k), ellipse_morph.close(x, size)),
                 (cv2.morphologyEx(x, cv2.MORPH_OPEN, k), ellipse_morph.open_(x, size)))
        for want, got in pairs:
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got, want), (shape, dtype, size)


def test_a_strided_view_is_read_as_its_values_and_left_as_it_was():
    rng = np.random.default_rng(3)
    big = rng.random((90, 120)).astype(np.float32)
    view = big[10:70, 5:100]
    before = big.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))
    assert np.array_equal(ellipse_morph.dilate(view, 31), cv2.dilate(np.ascontiguousarray(view), k))
    assert np.array_equal(big, before)


def test_a_size_under_one_is_refused():
    with pytest.raises(ValueError):
        ellipse_morph.dilate(np.zeros((20, 20), np.float32), 0)
