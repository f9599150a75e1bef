"""The tooth light a laugh's corners leave on a mouth an edit has closed.

A laughing mouth shows its teeth to the corners; the cut that closes it leaves slivers and specks
of them (tooth-white or tooth-grey, far less red than the lips) at or just inside the new corners,
where real closed lips show lip or a dark crease (London 004 made neutral: a grey sliver, red less
blue 0.21 of its luma, inside a dark corner wedge of 0.42 on lips of 0.35). :func:`tooth_light` finds them and
:func:`lift_corner_teeth` paints them from the lips and crease round them, the line's dark left as
it is.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.corner_flecks import corner_rows_float, corner_windows, line_dark
from faceedit.stage.tuning_lips import LipsTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def lips_redness(rgb: np.ndarray, moved: np.ndarray) -> float | None:
    """The closed lips' redness (red less blue over luma) on ``rgb`` (float): the median over the middle half
    of the mouth's width inside the outer lips (68 points 48-59 of ``moved``); None where there are
    no such pixels."""
    h, w = rgb.shape[:2]
    pts = np.round(moved[48:60]).astype(np.int32)
    # (drawn on the points' box alone: the same pixels, the same order)
    x0, y0 = max(int(pts[:, 0].min()), 0), max(int(pts[:, 1].min()), 0)
    x1, y1 = min(int(pts[:, 0].max()) + 1, w), min(int(pts[:, 1].max()) + 1, h)
    lips = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if lips.size:
        cv2.fillPoly(lips, [pts - np.array([x0, y0], np.int32)], 1)
    ys, xs = np.nonzero(lips)
    ys, xs = ys + y0, xs + x0
    a, b = moved[48], moved[54]
    d = b - a
    t = ((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(float(d @ d), 1e-9)
    mid = (t > 0.25) & (t < 0.75)
    if mid.sum() < 8:
        return None
    px = rgb[ys[mid], xs[mid]]
    return float(np.median((px[:, 0] - px[:, 2]) / np.maximum(px @ _LUMA, 1.0)))


def tooth_light(pixels: np.ndarray, moved: np.ndarray, tuning: LipsTuning | None = None) -> np.ndarray:
    """The tooth light at the corners of the closed mouth of the moved 68 landmarks ``moved`` on
    ``pixels`` (H, W, 3): within ``tooth_reach`` eye distances of the segment from each outer lip
    corner ``fleck_span`` of the way to the other, inside the outer lips grown by ``tooth_band`` eye
    distances, red less blue over luma under ``tooth_red`` of the lips' (:func:`lips_redness`) and
    of the skin's round the corner (the median outside the band grown half again), lighter
    than the lips' line (:func:`~faceedit.stage.corner_flecks.line_dark`) by ``tooth_lighter`` of
    it and than the median luma of a window twice the reach wide by ``tooth_lift`` of that; pieces no longer than ``tooth_length`` eye distances (a longer light piece is the skin
    past the corner) and no smaller than a square ``tooth_size`` eye distances wide (the skin's
    pale pores), within ``tooth_touch`` eye distances of the crease (pixels under ``tooth_crease``
    of the line's luma: a glint on a lip's body stays). A bool mask (H, W), all False where there is none or no lips to read."""
    h, w = pixels.shape[:2]
    out = np.zeros((h, w), bool)
    part, (x0, y0, x1, y1) = tooth_light_box(pixels, moved, tuning)
    out[y0:y1, x0:x1] = part
    return out


def tooth_light_box(pixels: np.ndarray, moved: np.ndarray,
                    tuning: LipsTuning | None = None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """:func:`tooth_light` over the box (x0, y0, x1, y1) of the corners' windows, outside which it
    is all False, and that box (empty, (0, 0, 0, 0), where there is none)."""
    tn = tuning if tuning is not None else LipsTuning()
    moved = np.asarray(moved, np.float64)
    none = np.zeros((0, 0), bool), (0, 0, 0, 0)
    eye = float(np.linalg.norm(moved[36] - moved[45]))
    reach = tn.tooth_reach * eye
    if reach < 1 or pixels.ndim != 3 or pixels.shape[2] < 3:
        return none
    scale = 255.0 / float(pixel_max(pixels.dtype))
    span = tn.fleck_span * (moved[54] - moved[48])
    rgb, grey_all = corner_rows_float(pixels, moved, span, reach, scale)  # (the rows read round the mouth)
    dark = line_dark(grey_all, moved)
    lips_red = lips_redness(rgb, moved)
    if dark is None or lips_red is None or lips_red <= 0:
        return none
    grow = max(1, int(round(tn.tooth_band * eye)))
    axis = span / max(float(np.linalg.norm(span)), 1e-9)
    windows = list(corner_windows(moved, span, reach, rgb.shape))
    if not windows:
        return none
    ux0, uy0 = min(b[0] for b, *_ in windows), min(b[1] for b, *_ in windows)
    ux1, uy1 = max(b[2] for b, *_ in windows), max(b[3] for b, *_ in windows)
    out = np.zeros((uy1 - uy0, ux1 - ux0), bool)
    for (x0, y0, x1, y1), yy, xx, seg in windows:
        crop = rgb[y0:y1, x0:x1]
        lips = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(lips, [np.round(moved[48:60] - (x0, y0)).astype(np.int32)], 1)
        band = cv2.dilate(lips, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
        near = seg < reach
        red = (crop[..., 0] - crop[..., 2]) / np.maximum(grey_all[y0:y1, x0:x1], 1.0)
        skin = ~band & (cv2.dilate(lips, np.ones((3 * grow + 1, 3 * grow + 1), np.uint8)) == 0)
        least = min(lips_red, float(np.median(red[skin]))) if skin.sum() >= 8 else lips_red
        grey = grey_all[y0:y1, x0:x1]
        window = max(3, int(round(2 * reach)) | 1)
        med = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), window).astype(np.float32)
        light = (near & band & (red < tn.tooth_red * least) & (grey > (1.0 + tn.tooth_lighter) * dark)
                 & (grey > (1.0 + tn.tooth_lift) * med))
        if not light.any():
            continue
        along = (xx * axis[0] + yy * axis[1]).astype(np.float32)
        touch = max(1, int(round(tn.tooth_touch * eye)))
        crease = cv2.dilate((grey < tn.tooth_crease * dark).astype(np.uint8),
                            np.ones((2 * touch + 1, 2 * touch + 1), np.uint8)) > 0
        n, labels = cv2.connectedComponents(light.astype(np.uint8), connectivity=8)
        keep = np.zeros(n, bool)
        for c in range(1, n):
            inside = labels == c
            t = along[inside]
            keep[c] = (t.size >= (tn.tooth_size * eye) ** 2 and float(t.max() - t.min()) + 1.0 <= tn.tooth_length * eye
                       and bool(crease[inside].any()))
        out[y0 - uy0:y1 - uy0, x0 - ux0:x1 - ux0] |= keep[labels] & light
    return out, (ux0, uy0, ux1, uy1)


def lift_corner_teeth(pixels: np.ndarray, moved: np.ndarray, tuning: LipsTuning | None = None, *,
                      in_place: bool = False) -> np.ndarray:
    """``pixels`` (H, W, C) with the tooth light at the corners of the closed mouth of the moved 68
    landmarks ``moved`` (:func:`tooth_light`) painted from the pixels round it (OpenCV's Telea
    inpainting, each piece grown by a pixel where that is lighter than the line's dark by
    ``tooth_lighter``: the line stays). Returns ``pixels`` themselves where there is none,
    else a new array (written over with ``in_place``)."""
    part, (bx0, by0, _, _) = tooth_light_box(pixels, moved, tuning)
    ys, xs = np.nonzero(part)
    if not ys.size:
        return pixels
    ys, xs = ys + by0, xs + bx0
    h, w = pixels.shape[:2]
    x0, y0 = max(int(xs.min()) - 8, 0), max(int(ys.min()) - 8, 0)
    x1, y1 = min(int(xs.max()) + 9, w), min(int(ys.max()) + 9, h)
    top = float(pixel_max(pixels.dtype))
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    moved = np.asarray(moved, np.float64)
    dark = line_dark(corner_rows_float(pixels, moved, np.zeros(2), 0.0, 1.0)[1], moved)  # (the lips' rows)
    tn = tuning if tuning is not None else LipsTuning()
    mask = np.zeros((y1 - y0, x1 - x0), bool)  # (the light's box and 8 px round it)
    mask[ys - y0, xs - x0] = True
    # grown by a pixel (its mixed edge) but not into the line's dark
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    lit = crop[..., :3] @ _LUMA > (1.0 + tn.tooth_lighter) * (dark if dark is not None else 0.0)
    hole = ((grown & lit) | mask).astype(np.uint8) * 255
    fill = np.stack([cv2.inpaint(np.ascontiguousarray(crop[..., c]), hole, 3, cv2.INPAINT_TELEA)
                     for c in range(crop.shape[2])], -1)
    out = pixels if in_place else pixels.copy()
    weight = (hole > 0).astype(np.float32)[..., None]
    out[y0:y1, x0:x1] = np.clip(crop * (1 - weight) + fill * weight + 0.5, 0, top).astype(out.dtype)
    return out
