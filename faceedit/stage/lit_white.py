"""An opened eye's white as lit as open eyes show it.

A smiling or squinting eye's white lies in its lids' shadow, and its lashes and lid margins
cover most of it: read on the photo it is grey or lilac, 0.26-0.77 of the luma of the cheek
under the eye on laughing faces from the world (insightface's group_five, posed_laugh,
single_smile: ``bench/bench_eye_whites.py --world``), where open eyes read 0.81-0.94 (London HD
at 1350 px, 10th to 50th percentile). Opened wide, the same
white carried by the warp stays in that shadow: a grey doll's eye. :func:`cheek_under` reads the
cheek; :func:`lit_white` is the colour a nearly shut eye's redrawn eyeball takes
(:func:`faceedit.stage.lid_move.move_lid_margin`); :func:`lift_white` lifts an opened eye whose
iris is kept (:func:`faceedit.stage.eyes.keep_irises`) by one gain over its whole opening
outside the iris, so nothing in it changes against its neighbours (a white lifted piece by
piece, by a luma threshold, showed each piece's edge).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import from_unit, luma, pixel_max
from faceedit.stage.cut_curves import polygon_coverage
from faceedit.stage.tuning import EyesTuning


def cheek_under(source: np.ndarray, eye: np.ndarray, width: float, unit: float | None = None) -> np.ndarray | None:
    """The unit RGB of the cheek under an eye (``eye``: its 68-point contour in ``source``, ``width``
    its corner distance): the median of a square 0.24 widths wide, 0.55 widths below the eye's
    middle; ``source`` unit float, or its own pixels over ``unit``. None off the photo."""
    c = np.asarray(eye, np.float64).mean(0) + [0.0, 0.55 * width]
    h = max(1, int(round(0.12 * width)))
    patch = source[max(int(c[1]) - h, 0):max(int(c[1]) + h + 1, 0), max(int(c[0]) - h, 0):max(int(c[0]) + h + 1, 0), :3]
    if patch.size == 0:
        return None
    return np.median(patch.reshape(-1, 3).astype(np.float32), 0) / (unit if unit is not None else 1.0)


def lit_white(source: np.ndarray, eye: np.ndarray, width: float, white: np.ndarray, tn: EyesTuning,
              unit: float | None) -> np.ndarray:
    """A nearly shut eye's white as open eyes show it: ``white`` (unit RGB) where it is at least
    ``narrow_white_over_cheek`` of the luma of the cheek under the eye (:func:`cheek_under`), else
    that luma, in a colour ``narrow_white_tint`` of the cheek's chromaticity and the rest grey; never
    further from grey than that colour (what a narrow eye shows between its lids can be as light as a
    white and still be the lids' skin: web img39's laugh made surprised had one eyeball drawn pink, r/g
    1.46, the other grey-white)."""
    skin = cheek_under(source, eye, width, unit)
    if skin is None:
        return white
    target = tn.narrow_white_over_cheek * float(luma(skin))
    tint = skin / max(float(luma(skin)), 1e-6)
    colour = ((1.0 - tn.narrow_white_tint) + tn.narrow_white_tint * tint).astype(np.float32)
    level = float(luma(white))
    if level < target:
        return colour * target
    own = np.asarray(white, np.float32) / max(level, 1e-6)
    if float(np.linalg.norm(own - 1.0)) > float(np.linalg.norm(colour - 1.0)):
        return colour * level  # as light as read, no more of the skin's colour than a white takes
    return white


def _rolled(y: np.ndarray, gain: float, knee: float) -> np.ndarray:
    """Unit light ``y`` times ``gain`` up to where that reaches ``knee``, beyond on one straight line to
    the photo's white (1 at 1): the shade lifted by the gain, light already near white lifted less, its
    grain scaled by the line's slope, never clipped (the order of values kept)."""
    at = knee / gain
    if gain <= 1.0 or at >= 1.0:
        return y * gain
    slope = (1.0 - knee) / (1.0 - at)
    return np.where(y <= at, y * gain, knee + (y - at) * slope).astype(np.float32)


def lift_white(out: np.ndarray, source: np.ndarray, eye_src: np.ndarray, eye_dst: np.ndarray,
               iris: tuple[np.ndarray, float], tn: EyesTuning,
               drawn: tuple[np.ndarray, tuple[int, int]] | None = None) -> np.ndarray:
    """``out`` (the photo with an opened eye's iris kept, written over) with that eye's white
    lifted: where the lighter part of its opening (``eye_dst``, the eye's 68-point contour in
    ``out``) outside the iris (``iris``: its centre and radius there; ``drawn``: the kept iris's
    cover instead, on a box of ``out`` from its (x, y) corner that holds the opening), its luma's 75th percentile,
    is under ``open_white_over_cheek`` of the cheek's under the eye (:func:`cheek_under` of
    ``eye_src`` in ``source``), all of the opening outside the iris is multiplied by the gain that
    brings it there (at most ``open_white_gain_most``; past ``open_white_knee`` of the photo's white
    less, on to it, :func:`_rolled`: not clipped), its edges half a pixel soft; its colour
    moved as far toward ``narrow_white_tint`` of the cheek's chromaticity (the rest grey) as the
    gain lifts it (lifted in its own colour, the lids' shadow's lilac read as a lilac ball). The lashes and
    the lid's margin inside the contour take the same gain: nothing in the opening changes against
    its neighbours."""
    if out.ndim != 3 or tn.open_white_over_cheek <= 0:
        return out
    unit = float(pixel_max(out.dtype))
    eye_src, eye_dst = np.asarray(eye_src, np.float64), np.asarray(eye_dst, np.float64)
    width = float(np.linalg.norm(eye_src[3] - eye_src[0]))
    skin = cheek_under(source, eye_src, width, unit)
    if skin is None or width < 4:
        return out
    pad = 3
    x0, y0 = np.maximum(np.floor(eye_dst.min(0)).astype(int) - pad, 0)
    x1, y1 = np.ceil(eye_dst.max(0)).astype(int) + pad
    x1, y1 = min(int(x1), out.shape[1]), min(int(y1), out.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return out
    cover = polygon_coverage(eye_dst, (int(x0), int(y0), x1, y1)).astype(np.float32)
    if drawn is None:
        yy, xx = np.mgrid[y0:y1, x0:x1]
        c, r = iris
        disc = np.clip(r + 0.5 - np.hypot(xx - c[0], yy - c[1]), 0.0, 1.0).astype(np.float32)
    else:
        cover_d, (dx, dy) = drawn
        disc = np.zeros((y1 - y0, x1 - x0), np.float32)
        ys, xs = slice(max(y0, dy), min(y1, dy + cover_d.shape[0])), slice(max(x0, dx), min(x1, dx + cover_d.shape[1]))
        disc[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = cover_d[ys.start - dy:ys.stop - dy,
                                                                                xs.start - dx:xs.stop - dx]
    cur = out[y0:y1, x0:x1, :3].astype(np.float32) / unit
    seen = (cover > 0.5) & (disc < 0.5)
    if int(seen.sum()) < 6:
        return out
    level = float(np.percentile(luma(cur[seen]), 75))
    gain = float(np.clip(tn.open_white_over_cheek * float(luma(skin)) / max(level, 1e-6), 1.0,
                         tn.open_white_gain_most))
    if gain <= 1.0 + 1e-3:
        return out
    a = (cv2.GaussianBlur(cover, (0, 0), 0.5) * (1.0 - disc))[..., None]
    # the colour toward a white's: the share of the light the gain adds
    tint = skin / max(float(luma(skin)), 1e-6)
    toward = ((1.0 - tn.narrow_white_tint) + tn.narrow_white_tint * tint).astype(np.float32)
    y = np.maximum(luma(cur), 1e-6)[..., None]
    recoloured = cur + (1.0 - 1.0 / gain) * (toward * y - cur)
    new = cur * (1.0 - a) + recoloured * (_rolled(y, gain, tn.open_white_knee) / y) * a
    out[y0:y1, x0:x1, :3] = from_unit(np.clip(new, 0.0, 1.0), out.dtype)
    return out
