"""Grey dilation, erosion, closing and opening by OpenCV's elliptic structuring element, made of
row runs: the same values as ``cv2.dilate`` / ``cv2.erode`` / ``cv2.morphologyEx`` with
``cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))`` and their default border (pixels
outside the image take no part), byte for byte (a maximum or minimum is exact whatever its order).

OpenCV's filter for a kernel that is not a rectangle visits every point of it for every pixel
(an ellipse ``size`` across has about 0.8 ``size``\\ :sup:`2` of them); here each row of the
ellipse is a horizontal run ``2 h + 1`` px wide centred on the anchor, so the image's running
maximum over each run width (built one pixel wider at a time: two shifted maxima a step) is
taken once and each of the ``size`` rows adds one shifted maximum: about ``1.5 size`` whole-array
maxima instead of ``0.8 size``\\ :sup:`2` visits a pixel.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np


@functools.lru_cache(maxsize=64)
def _rows_by_width(size: int) -> tuple[tuple[int, ...], ...]:
    """For each half width ``r`` (a run ``2 r + 1`` px, centred) from 0 to the widest, the row
    offsets from the centre of OpenCV's ellipse ``size`` px square (odd ``size``: the element is
    symmetric about its centre) whose run it is."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    c = size // 2
    half = [int(np.flatnonzero(row).max()) - c for row in k]
    return tuple(tuple(i - c for i, hw in enumerate(half) if hw == r) for r in range(max(half) + 1))


def _morph(x: np.ndarray, size: int, grow: bool) -> np.ndarray:
    """``x`` (2-D, or 3-D with channels) dilated (``grow``) or eroded by the ellipse ``size`` px
    across, pixels outside taking no part (an even ``size``, whose ellipse is not symmetric about
    its anchor, and a small one: OpenCV's own filter)."""
    if size < 1:
        raise ValueError(f"the ellipse's size must be positive, not {size}")
    if size <= 13 or size % 2 == 0:  # as fast or faster in OpenCV's own filter; an even one is lopsided
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return cv2.dilate(x, k) if grow else cv2.erode(x, k)
    rows = _rows_by_width(size)
    best = cv2.max if grow else cv2.min
    h, w = x.shape[:2]
    run = np.ascontiguousarray(x)  # the running extreme over runs 2 r + 1 px wide
    out = run.copy()  # (the centre is in the ellipse: the pixel itself is among the extremes)
    spare = [np.empty_like(run), np.empty_like(run)]  # the runs' two buffers, in turn
    for r, offsets in enumerate(rows):
        if r:
            nxt = spare[r % 2]
            if w > 1:  # each pixel and its left neighbour, then that and its right one
                best(run[:, 1:], run[:, :-1], dst=nxt[:, 1:])
                nxt[:, 0] = run[:, 0]
                best(nxt[:, :-1], run[:, 1:], dst=nxt[:, :-1])
            else:
                nxt[...] = run
            run = nxt
        for dy in offsets:
            if abs(dy) >= h:
                continue
            if dy >= 0:
                best(out[:h - dy], run[dy:], dst=out[:h - dy])
            else:
                best(out[-dy:], run[:h + dy], dst=out[-dy:])
    return out


def dilate(x: np.ndarray, size: int) -> np.ndarray:
    """``cv2.dilate(x, ellipse)`` for the ellipse ``size`` px across."""
    return _morph(x, size, True)


def erode(x: np.ndarray, size: int) -> np.ndarray:
    """``cv2.erode(x, ellipse)`` for the ellipse ``size`` px across."""
    return _morph(x, size, False)


def close(x: np.ndarray, size: int) -> np.ndarray:
    """``cv2.morphologyEx(x, cv2.MORPH_CLOSE, ellipse)``: dilated, then eroded."""
    return _morph(_morph(x, size, True), size, False)


def open_(x: np.ndarray, size: int) -> np.ndarray:
    """``cv2.morphologyEx(x, cv2.MORPH_OPEN, ellipse)``: eroded, then dilated."""
    return _morph(_morph(x, size, False), size, True)
