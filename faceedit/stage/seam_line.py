"""The line where a larger mouth's closed lips meet, as real lips meet: a crisp core, its
darkness following the lips' own texture beside it, and no teeth left under it
(:func:`faceedit.stage.mouth.paint_seam` draws it; the fields are
:class:`~faceedit.stage.tuning_lips.LipsTuning`'s ``seam_*`` and ``remnant_*``).

Real closed lips (London training neutral photos at 1350 px, eyes about 200 px apart) meet in
a line 1-2 px across at its darkest, beside which the upper lip's underside is a softer shade
above and the lower lip lightens within 2 px below; along the mouth its darkness varies with
the lips' furrows. A laugh made neutral carried a smooth, uniform band 5-6 px across there.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.lips import box_around
from faceedit.stage.tuning_lips import LipsTuning


def offsets(xx: np.ndarray, yy: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's (centres ``xx``, ``yy``) place about the polyline ``line`` (N, 2, left corner
    first): ``s`` along the corners' axis from the first point (px) and ``h`` across it, down
    the face from the line (px, its offset at ``s`` taken away)."""
    line = np.asarray(line, np.float64)
    axis = line[-1] - line[0]
    axis = axis / max(float(np.linalg.norm(axis)), 1e-9)
    normal = np.array([-axis[1], axis[0]])
    rel = line - line[0]
    at, off = rel @ axis, rel @ normal
    order = np.argsort(at)
    s = (xx - line[0][0]) * axis[0] + (yy - line[0][1]) * axis[1]
    h = (xx - line[0][0]) * normal[0] + (yy - line[0][1]) * normal[1] - np.interp(s, at[order], off[order])
    return s, h


def crisp_profile(h: np.ndarray, sigma: float, core: float, tuning: LipsTuning) -> np.ndarray:
    """The seam's share of its depth at offset ``h`` (px, down from the line): a core at full
    depth within half a pixel of the line, falling off past it as a Gaussian of ``core`` px, beside it ``seam_shoulder`` of a Gaussian of
    ``sigma`` above the line and ``seam_below`` of that below it (the upper lip's underside in
    shade, the lower lip lit)."""
    wide = np.where(h < 0, sigma, sigma * tuning.seam_below)
    shoulder = tuning.seam_shoulder * np.exp(-0.5 * (h / np.maximum(wide, 1e-6)) ** 2)
    # full depth over the pixel the line crosses, wherever in it (a Gaussian alone left a line
    # between two pixels lighter than one through a pixel's centre)
    inner = np.exp(-0.5 * (np.maximum(np.abs(h) - 0.5, 0.0) / max(core, 1e-6)) ** 2)
    return np.maximum(inner, shoulder)


def lips_texture(grey: np.ndarray, s: np.ndarray, h: np.ndarray, width: float, core: float,
                 eye_dist: float, tuning: LipsTuning) -> tuple[np.ndarray, np.ndarray]:
    """The lips' own luma detail beside the line, per pixel by its place ``s`` along it (px):
    the mean luma of each lip (``grey``) from two cores to ``seam_texture_reach`` eye distances
    off the line (``h``), per pixel along it, over its own mean along the line (a Gaussian of
    ``seam_texture_span`` of the corner distance ``width``), less 1. Returns the two lips' mean
    of it (the texture the seam's darkness follows) and the line's wave (px down the face:
    ``seam_wave`` eye distances times the upper lip's detail less the lower's over twice its
    spread along the line, within twice that, smoothed along the line by ``seam_wave_span`` of
    ``width``: the line nearer the lip that is the darker there); zeros where none is read."""
    zero = np.zeros(grey.shape, np.float32)
    reach = max(tuning.seam_texture_reach * eye_dist, 2 * core + 2.0)
    bins = int(np.ceil(width)) + 1
    span = max(tuning.seam_texture_span * width, 1.0)

    def smooth(v: np.ndarray, sigma: float) -> np.ndarray:
        return cv2.GaussianBlur(v[None], (0, 0), sigmaX=sigma, sigmaY=0.1, borderType=cv2.BORDER_REPLICATE)[0]

    rels = []
    for side in (h < 0, h > 0):
        near = side & (np.abs(h) > 2 * core) & (np.abs(h) < reach) & (s >= 0) & (s <= width)
        if int(near.sum()) < 16:
            return zero, zero
        at = np.clip(np.round(s[near]).astype(np.int64), 0, bins - 1)
        count = np.bincount(at, minlength=bins).astype(np.float64)
        total = np.bincount(at, grey[near].astype(np.float64), minlength=bins)
        own = smooth(total, 1.0) / np.maximum(smooth(count, 1.0), 1e-6)
        mean = smooth(total, span) / np.maximum(smooth(count, span), 1e-6)
        rels.append(np.where(smooth(count, 1.0) > 0.5, own / np.maximum(mean, 1e-6) - 1.0, 0.0))
    texture = 0.5 * (rels[0] + rels[1])
    diff = smooth(rels[0] - rels[1], max(tuning.seam_wave_span * width, 1.0))
    spread = float(np.std(diff))
    wave = tuning.seam_wave * eye_dist * np.clip(diff / max(2 * spread, 1e-6), -1.0, 1.0) if spread > 1e-4 else 0 * diff
    grid = np.arange(bins)
    return np.interp(s, grid, texture).astype(np.float32), np.interp(s, grid, wave).astype(np.float32)


def clear_remnants(pixels: np.ndarray, line: np.ndarray, eye_dist: float, amount: float,
                   weight_at: np.ndarray, ab: np.ndarray | None, lips: np.ndarray | None,
                   tuning: LipsTuning) -> np.ndarray:
    """Teeth a laugh's warp carried into closed lips' line, left beside it after the squeeze
    (grey-green, lighter than the lip: London 006 made neutral), made lip: within
    ``remnant_band`` eye distances of ``line`` a pixel whose CIE a* is under ``remnant_red`` of
    the lips' median ``ab`` (a*, b*), whose hue lies ``remnant_hue`` degrees or more toward
    yellow-green of theirs and whose L* is ``remnant_lighter`` or more over the median of its
    lip's side of the band is taken ``amount`` times ``weight_at`` (N,: the seam's own fade at
    the line's points, none at the corners) inside the polygon ``lips`` (the 68 points' outer
    lip, 48-59, less a pixel: skin is yellower than lips) of the way to its
    lip about it (the mean of that lip's pixels that are not, a Gaussian of half the band's width,
    the line's own dark left out); a lip's highlight (whiter, bluer, not yellower) stays.
    ``pixels`` itself when none is found."""
    if ab is None or lips is None or amount <= 0 or pixels.ndim != 3 or tuning.remnant_band <= 0 or float(ab[0]) <= 0:
        return pixels
    band = max(tuning.remnant_band * eye_dist, 2.0)
    x0, y0, x1, y1 = box_around(np.asarray(line, np.float64), 2 * band + 2, pixels.shape)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return pixels
    unit = pixel_max(pixels.dtype)
    crop = pixels[y0:y1, x0:x1, :3].astype(np.float32)
    lab = cv2.cvtColor(np.ascontiguousarray(crop / unit), cv2.COLOR_RGB2LAB)
    a, b = lab[..., 1], lab[..., 2]
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    s, h = offsets(xx, yy, line)
    width = float(np.linalg.norm(np.asarray(line[-1], np.float64) - line[0]))
    rel = np.asarray(line, np.float64) - line[0]
    at = rel @ ((rel[-1]) / max(width, 1e-9))
    order = np.argsort(at)
    fade = np.interp(s, at[order], np.asarray(weight_at, np.float64)[order]) * ((s > 0) & (s < width))
    poly = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(poly, [np.round((np.asarray(lips, np.float64) - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    inside = (np.abs(h) < band) * fade * (cv2.erode(poly, np.ones((3, 3), np.uint8)) > 0)
    hue = np.degrees(np.arctan2(b, np.maximum(a, 1e-3)))
    lips_hue = float(np.degrees(np.arctan2(ab[1], ab[0])))
    redness = np.clip((tuning.remnant_red * float(ab[0]) - a) / max(0.25 * float(ab[0]), 1e-6), 0.0, 1.0)
    yellow = np.clip((hue - lips_hue - tuning.remnant_hue) / 10.0, 0.0, 1.0)
    # lighter than its own lip's median there (teeth; pale skin at a corner is no lighter)
    lighter = np.zeros(a.shape, np.float64)
    for side in (h < 0, h >= 0):
        m = side & (inside > 0)
        if int(m.sum()) >= 8:
            ref = float(np.median(lab[..., 0][m]))
            lighter = np.where(side, np.clip((lab[..., 0] - ref - tuning.remnant_lighter) / 4.0, 0.0, 1.0), lighter)
    teeth = (redness * yellow * lighter * inside).astype(np.float32)
    if float(teeth.max()) <= 0.0:
        return pixels
    teeth = cv2.dilate(teeth, np.ones((3, 3), np.uint8))  # their soft edges with them
    teeth = np.minimum(cv2.GaussianBlur(teeth, (0, 0), 1.0), inside.astype(np.float32))
    keep = (teeth < 0.05) * (np.abs(h) < 2 * band) * (np.abs(h) > 1.0)
    fill = np.empty_like(crop)
    for side in (h < 0, h >= 0):  # each lip from its own pixels, the line's dark left out
        k = (keep * side).astype(np.float32)
        mean = cv2.GaussianBlur(crop * k[..., None], (0, 0), band / 2) / np.maximum(
            cv2.GaussianBlur(k, (0, 0), band / 2), 1e-3)[..., None]
        fill[side] = mean[side]
    w = (teeth * amount)[..., None]
    out = pixels.copy()
    moved = crop * (1 - w) + fill * w
    out[y0:y1, x0:x1, :3] = np.clip(np.round(moved), 0, unit).astype(pixels.dtype)
    return out
