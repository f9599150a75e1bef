"""The dark flecks a laugh's corners leave on a mouth an edit has closed.

A laughing mouth's corners are dark wedges (the inside of the mouth beside the teeth). The warp
that closes the mouth carries what the cut leaves of them into the new corners, between the
outer and the inner lip corner, where they stay as specks darker than the closed lips' own line
(the astronaut made neutral: brown dots at her right corner, luma 116 and 139 beside a line of
153). :func:`lift_corner_flecks` paints them from the lips and skin round them: only small, compact
pieces darker than the line itself and than their neighbourhood, so the line, its dark run to
the corners and their edges stay.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.tuning_lips import LipsTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def _segment_distance(xx: np.ndarray, yy: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    t = np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / max(float(d @ d), 1e-9), 0.0, 1.0)
    return np.hypot(xx - (a[0] + t * d[0]), yy - (a[1] + t * d[1]))


def corner_windows(moved: np.ndarray, span: np.ndarray, reach: float, shape: tuple[int, ...]
                   ) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray]]:
    """Each outer lip corner's segment (``moved[48]`` on along ``span``, ``moved[54]`` back along
    it) and the box round it, ``2 * reach`` wider each side and clipped to an image of ``shape``:
    ((x0, y0, x1, y1), the box's pixel rows and columns (``np.mgrid``), each pixel's distance from
    the segment). A box under 5 px either way is skipped."""
    h, w = shape[:2]
    for i, sign in ((48, 1.0), (54, -1.0)):
        a = moved[i]
        b = a + sign * span
        x0, y0 = int(max(min(a[0], b[0]) - 2 * reach, 0)), int(max(min(a[1], b[1]) - 2 * reach, 0))
        x1, y1 = int(min(max(a[0], b[0]) + 2 * reach + 1, w)), int(min(max(a[1], b[1]) + 2 * reach + 1, h))
        if x1 - x0 < 5 or y1 - y0 < 5:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        yield (x0, y0, x1, y1), yy, xx, _segment_distance(xx, yy, a, b)


def corner_rows_float(pixels: np.ndarray, moved: np.ndarray, span: np.ndarray, reach: float,
                      scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``pixels`` as float32 (times ``scale``, where given; its first three channels then) and its
    luma, both the photo's size, filled only over the rows that :func:`line_dark` and
    :func:`corner_windows` (``span``, ``reach``) read round the mouth of ``moved``, two to spare;
    zeros elsewhere (pages never written: a large photo's are never touched). Whole rows, so the
    luma is the whole photo's to the bit."""
    h = pixels.shape[0]
    ys = [float(moved[48:60, 1].min()) - 2.0, float(moved[48:60, 1].max()) + 3.0]
    for i, sign in ((48, 1.0), (54, -1.0)):
        a, b = moved[i], moved[i] + sign * span
        ys += [min(a[1], b[1]) - 2.0 * reach, max(a[1], b[1]) + 2.0 * reach + 1.0]
    y0, y1 = max(int(np.floor(min(ys))) - 2, 0), min(int(np.ceil(max(ys))) + 2, h)
    src = pixels if scale is None else pixels[..., :3]
    full = np.zeros(src.shape, np.float32)
    grey = np.zeros(src.shape[:2], np.float32)
    if y1 > y0:
        full[y0:y1] = src[y0:y1].astype(np.float32) if scale is None else src[y0:y1].astype(np.float32) * scale
        grey[y0:y1] = full[y0:y1] if full.ndim == 2 else full[y0:y1] @ _LUMA
    return full, grey


def line_dark(grey: np.ndarray, moved: np.ndarray) -> float | None:
    """The closed lips' line darkness on ``grey`` (the photo's luma): over the middle half of the
    mouth's width, each column's darkest pixel inside the outer lips (68 points 48-59 of
    ``moved``), their median; None where the mouth holds no such column."""
    h, w = grey.shape
    x0 = int(np.floor(moved[48:60, 0].min())) - 1
    y0 = int(np.floor(moved[48:60, 1].min())) - 1
    x1 = int(np.ceil(moved[48:60, 0].max())) + 2
    y1 = int(np.ceil(moved[48:60, 1].max())) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 4 or y1 - y0 < 2:
        return None
    lips = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(lips, [np.round(moved[48:60] - (x0, y0)).astype(np.int32)], 1)
    a, b = moved[48], moved[54]
    span = float(np.linalg.norm(b - a))
    if span < 4:
        return None
    axis = (b - a) / span
    mid = (y0 + y1) / 2 - a[1]
    cols = []
    for c in range(x1 - x0):
        t = ((x0 + c - a[0]) * axis[0] + mid * axis[1]) / span  # 0..1 corner to corner
        if 0.25 <= t <= 0.75 and lips[:, c].any():
            cols.append(float(grey[y0:y1, x0 + c][lips[:, c] > 0].min()))
    return float(np.median(cols)) if cols else None


def lift_corner_flecks(pixels: np.ndarray, moved: np.ndarray, tuning: LipsTuning | None = None, *,
                       in_place: bool = False, deepened: tuple[int, int, np.ndarray] | None = None) -> np.ndarray:
    """``pixels`` (H, W[, C]) with the dark flecks at the corners of the closed mouth of the moved
    68 landmarks ``moved`` painted from the pixels round them (OpenCV's Telea inpainting). Dark:
    within ``fleck_reach`` eye distances of the segment from each outer lip corner ``fleck_span``
    of the way to the other, under ``fleck_dark`` of the lips' line (:func:`line_dark`) and
    ``fleck_depth`` or more under the median luma of a window twice the reach wide. A fleck: a
    dark piece shorter along the mouth than ``fleck_length`` eye distances, at most
    ``fleck_elongation`` times longer than wide (a piece a pixel thin counted 2 px wide: what the
    seam's evening along the line leaves of a carried corner dark) and no smaller than a square
    ``fleck_size`` eye distances wide (grown by a pixel); the other dark pieces (the line running on to the corner
    or out of it, pores) stay. A piece is looked at as it lies within the reach and, where it
    reaches in from farther, also whole as far as ``fleck_grow`` reaches. ``tuning``: :class:`faceedit.stage.tuning_lips.LipsTuning`
    (default its defaults). ``deepened``: (top row, left column, (h, w) luma) what a small
    mouth's seam took from the photo's own lips' dark (:mod:`faceedit.stage.closed_seam`): the
    flecks are found with it given back (the seam as drawn without it). Returns ``pixels``
    themselves where there is none, else a new array (written over with ``in_place``)."""
    tn = tuning if tuning is not None else LipsTuning()
    moved = np.asarray(moved, np.float64)
    eye = float(np.linalg.norm(moved[36] - moved[45]))
    reach = tn.fleck_reach * eye
    if reach < 1 or pixels.ndim not in (2, 3):
        return pixels
    span = tn.fleck_span * (moved[54] - moved[48])
    grey_all = corner_rows_float(pixels, moved, span, reach)[1]
    if deepened is not None:  # (rows the windows do not read take it too: never read)
        y0, x0, took = deepened
        grey_all[y0:y0 + took.shape[0], x0:x0 + took.shape[1]] -= took
    dark = line_dark(grey_all, moved)
    if dark is None:
        return pixels
    out = pixels
    top = float(pixel_max(pixels.dtype))
    scale = 255.0 / top
    for (x0, y0, x1, y1), yy, xx, seg in corner_windows(moved, span, reach, pixels.shape):
        grey = grey_all[y0:y1, x0:x1]
        near = seg < reach
        window = max(3, int(round(2 * reach)) | 1)
        med = cv2.medianBlur(np.clip(grey * scale, 0, 255).astype(np.uint8), window).astype(np.float32) / scale
        deep = (grey < tn.fleck_dark * dark) & (grey < (1.0 - tn.fleck_depth) * med)
        mask = (deep & (seg < tn.fleck_grow * reach)).astype(np.uint8)
        if not (mask & near).any():
            continue
        # a fleck (short along the mouth, no thin line, more than the skin's pores) is painted
        # over; a line running on to the corner or out of it (a closed mouth's corners are darker
        # than its middle) stays. The dark pieces within the reach are looked at, and those
        # reaching into it looked at whole as far as ``fleck_grow`` reaches (a pocket above the
        # line, its top past the reach)
        axis = span / max(float(np.linalg.norm(span)), 1e-9)
        along = (xx * axis[0] + yy * axis[1]).astype(np.float32)
        across = (yy * axis[0] - xx * axis[1]).astype(np.float32)
        fleck = np.zeros(mask.shape, bool)
        for pieces in (mask & near, mask):
            n, labels = cv2.connectedComponents(pieces.astype(np.uint8), connectivity=8)
            short = np.zeros(n, bool)
            for c in range(1, n):
                inside = labels == c
                t, u = along[inside], across[inside]
                length = float(t.max() - t.min()) + 1.0
                short[c] = (near[inside].any() and t.size >= (tn.fleck_size * eye) ** 2
                            and length < tn.fleck_length * eye
                            and length <= tn.fleck_elongation * max(float(u.max() - u.min()) + 1.0, 2.0))
            fleck |= short[labels] & (pieces > 0)
        flecks = cv2.dilate(fleck.astype(np.uint8), np.ones((3, 3), np.uint8))
        if not flecks.any():
            continue
        crop = out[y0:y1, x0:x1].astype(np.float32)
        planes = [crop] if crop.ndim == 2 else [crop[..., c] for c in range(crop.shape[2])]
        hole = ((flecks > 0) | (mask > 0)).astype(np.uint8) * 255  # not filled from the line's dark
        fill = np.stack([cv2.inpaint(np.ascontiguousarray(p), hole, 3, cv2.INPAINT_TELEA) for p in planes], -1)
        weight = flecks.astype(np.float32)[..., None]
        if out is pixels and not in_place:
            out = pixels.copy()
        mixed = crop.reshape(*grey.shape, -1) * (1 - weight) + fill * weight
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, top).astype(out.dtype).reshape(crop.shape)
    return out
