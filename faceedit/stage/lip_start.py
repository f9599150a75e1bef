"""Where a found cut's upper lip begins: a smile's found cut (:func:`faceedit.stage.lips.find_interior`,
the teeth's outline) reaches the mouth's outer corners, where over the first stretch of its arc the
side above its upper curve is skin or the corner's crease, not lip. Carried to the new opening's
first stretch as it lies, that stretch puts skin over the opening's ends (a flat dark spur into the
cheek, issue 53): the upper curve's corner stretch is mapped onto the new curve's tip instead, so
the new corner takes the lip that begins past it (:func:`corner_stretch`); the lip's pale edge
stretched along with it takes the lip's body's darker colour (:func:`rim_muted`).

Coordinates: x right, y down, pixel centres at integers (as :mod:`faceedit.stage.warp`).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import face_up, resample_by_length
from faceedit.stage.lips import redness, sample_points
from faceedit.stage.tuning_face import WarpTuning


def _arc(curve: np.ndarray) -> np.ndarray:
    t = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    return t / t[-1] if t[-1] > 0 else np.linspace(0.0, 1.0, len(curve))


def upper_lip_from(pixels: np.ndarray, upper: np.ndarray, lm: np.ndarray,
                   tuning: WarpTuning | None = None) -> tuple[float, float]:
    """The arc shares of the source ``upper`` curve ((N, 2), corner to corner) from each corner
    over which the band above it (``lip_from_band`` shares of the corner-to-corner width deep) is
    not the upper lip's colour: its redness (CIE a*, :func:`~faceedit.stage.lips.redness`) under
    ``lip_from_level`` of the way from the cheeks' (beside the outer corners 48 and 54, ``lm``
    (68, 2)) to the lip's (the band's median over the curve's middle 40 %); at most
    ``lip_from_most``. (0, 0) where the lip is not redder than the cheeks by ``lip_from_contrast``."""
    tn = tuning if tuning is not None else WarpTuning()
    up = np.asarray(upper, np.float64)
    lm = np.asarray(lm, np.float64)
    chord = float(np.linalg.norm(up[-1] - up[0]))
    if chord < 1.0 or len(up) < 5:
        return 0.0, 0.0
    t = np.gradient(up, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    n = np.stack([t[:, 1], -t[:, 0]], 1)
    n *= np.sign(float((n @ face_up(lm)).mean())) or 1.0  # the side above the curve
    band = np.linspace(tn.lip_from_band[0], tn.lip_from_band[1], 4) * chord
    pts = up[None] + band[:, None, None] * n[None]
    width = lm[54] - lm[48]
    beside = np.array([lm[48] - 0.12 * width, lm[54] + 0.12 * width])
    dx, dy = np.meshgrid(np.arange(-3, 4), np.arange(-3, 4))
    cheek_pts = beside[:, None, :] + np.stack([dx.ravel(), dy.ravel()], 1)[None]
    # the redness of the box round the band's and the cheeks' points alone (as sampled_rgb)
    xy = np.vstack([pts.reshape(-1, 2), cheek_pts.reshape(-1, 2)]).astype(np.float32)
    (x0, y0), (x1, y1) = points_box(xy, pixels.shape)
    near = pixels[y0:y1, x0:x1]
    a = redness(near[..., :3] if near.ndim == 3 else np.repeat(near[..., None], 3, -1))
    at = sample_points(a, xy[:, 0] - np.float32(x0), xy[:, 1] - np.float32(y0))
    r = at[:pts.shape[0] * pts.shape[1]].reshape(len(band), -1).mean(0)
    u = _arc(up)
    lip = float(np.median(r[(u >= 0.3) & (u <= 0.7)]))
    cheek = float(np.median(at[pts.shape[0] * pts.shape[1]:]))
    if lip - cheek < tn.lip_from_contrast:
        return 0.0, 0.0
    is_lip = (r - cheek) / (lip - cheek) >= tn.lip_from_level
    ends = []
    for order in (np.arange(len(u)), np.arange(len(u))[::-1]):
        hit = order[is_lip[order]]
        k = int(hit[0]) if len(hit) else order[-1]
        ends.append(min(float(u[k] if order[0] == 0 else 1.0 - u[k]), tn.lip_from_most))
    return ends[0], ends[1]


def corner_stretch(curve: np.ndarray, starts: tuple[float, float], shape: tuple[float, float]) -> np.ndarray:
    """``curve`` ((N, 2), its samples the destination's) sampled again so each corner's stretch of
    ``starts`` (arc shares from the first and the last corner) falls on the first ``shape[0]`` of
    the arc from that corner, and the curve beyond it up to ``shape[1]`` times that stretch
    further eases back to its own samples (piecewise linear in arc share); the corners stay."""
    c = np.asarray(curve, np.float64)
    s0, s1 = (max(float(s), 0.0) for s in starts)
    if s0 <= 0 and s1 <= 0:
        return c.copy()
    tip, spread = shape
    u = _arc(c)
    e0, e1 = min(tip, s0), min(tip, s1)
    r0, r1 = s0 * (1.0 + spread), s1 * (1.0 + spread)
    if r0 + r1 >= 1.0:  # (the two eased stretches would meet: both shrink)
        k = 0.95 / (r0 + r1)
        s0, s1, r0, r1, e0, e1 = s0 * k, s1 * k, r0 * k, r1 * k, min(e0, s0 * k), min(e1, s1 * k)
    knots = np.array([0.0, e0, r0, 1.0 - r1, 1.0 - e1, 1.0])
    vals = np.array([0.0, s0, r0, 1.0 - r1, 1.0 - s1, 1.0])
    keep = np.r_[True, np.diff(knots) > 0]
    return resample_by_length(c, np.interp(u, knots[keep], vals[keep]))


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def sampled_rgb(pixels: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``pixels``' first three channels as float32, sampled bilinearly (the border replicated)
    at ``pts`` ((n, 2)): read from the box round them only, the points' float32 positions
    shifted by its whole-pixel corner (exact in float32), so every sample is the whole photo's."""
    xy = pts.astype(np.float32)
    lo, hi = points_box(xy, pixels.shape)
    crop = pixels[lo[1]:hi[1], lo[0]:hi[0], :3].astype(np.float32)
    return sample_points(crop, xy[:, 0] - np.float32(lo[0]), xy[:, 1] - np.float32(lo[1]))


def points_box(xy: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The corners (x0, y0), (x1, y1) of the box of an image of ``shape`` that a bilinear read at
    the float32 points ``xy`` ((n, 2)) touches, two pixels to spare, at least a pixel inside
    (points past the image read its edge, as the border replicated does)."""
    h, w = shape[:2]
    lo = np.clip(np.floor(xy.min(0)).astype(int) - 2, 0, (w - 1, h - 1))
    hi = np.clip(np.ceil(xy.max(0)).astype(int) + 3, lo + 1, (w, h))
    return lo, hi


def rim_muted(pixels: np.ndarray, upper: np.ndarray, starts: tuple[float, float], reach: float,
              depth: float, lm: np.ndarray, most: float = 0.25) -> None:
    """``pixels`` written over, in place, where :func:`corner_stretch` stretched the lip's edge
    onto a new opening's corners: above the destination ``upper`` curve ((N, 2), corner to
    corner; the side toward the eyes of ``lm`` (68, 2)), from each corner over ``reach`` times
    that end's ``starts`` share of the arc, at most ``most`` (fading in over its first quarter
    from the corner and out over half as much again past it), and ``depth`` of the
    corner-to-corner width deep (fading out over half as deep again), a pixel lighter than the
    darker quarter of the lip's body (above the curve's middle 40 %, twice as deep) takes that
    luma and the body's colour (the median of its darker half), with the grain its own luma
    has under that cap: the lip's pale inner edge and highlight, stretched to the corner, stood
    there as a pale streak along the opening (London 013 smiling made fearful). Nothing past
    the curve's ends (the cheek) nor below it (the opening) changes."""
    up = np.asarray(upper, np.float64)
    chord = float(np.linalg.norm(up[-1] - up[0]))
    if chord < 8.0 or len(up) < 5 or max(starts) <= 0:
        return
    dense = resample_by_length(up, np.linspace(0.0, 1.0, max(int(chord), 16)))
    u = _arc(dense)
    t = np.gradient(dense, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    n = np.stack([t[:, 1], -t[:, 0]], 1)
    n *= np.sign(float((n @ face_up(np.asarray(lm, np.float64))).mean())) or 1.0
    deep = depth * chord
    luma_w = np.asarray(LUMA_WEIGHTS, np.float32)
    # the lip's body: above the curve's middle 40 %, twice ``depth`` deep
    mid = (u >= 0.3) & (u <= 0.7)
    if pixels.ndim != 3 or pixels.shape[2] < 3 or not mid.any():
        return
    bp = dense[mid][None] + np.linspace(1.0, 2.0 * deep, 6)[:, None, None] * n[mid][None]
    body = sampled_rgb(pixels, bp.reshape(-1, 2))
    body_l = body @ luma_w
    for k, s in enumerate(starts):
        if s <= 0:
            continue
        span = min(reach * float(s), most)
        share = u if k == 0 else 1.0 - u
        near = share <= 2.0 * span
        pts = dense[near]
        lo = np.floor(pts.min(0) - 2.5 * deep).astype(int)
        hi = np.ceil(pts.max(0) + 2.5 * deep).astype(int) + 1
        x0, y0 = max(lo[0], 0), max(lo[1], 0)
        x1, y1 = min(hi[0], pixels.shape[1]), min(hi[1], pixels.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        p = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)
        # each pixel's nearest of ``pts``: a row's squared steps across plus a column's down (the
        # sums of the pixel-by-point squares, the same values)
        across = (np.arange(x0, x1, dtype=np.float64)[:, None] - pts[None, :, 0]) ** 2
        down = (np.arange(y0, y1, dtype=np.float64)[:, None] - pts[None, :, 1]) ** 2
        j = (across[None] + down[:, None]).argmin(-1).ravel()
        off = p - pts[j]
        above = (off * n[near][j]).sum(1)  # px above the curve (its lip's side)
        along = share[near][j]
        inside = _smooth(1.5 - np.abs((off * t[near][j]).sum(1)))  # (none past the curve's ends: the cheek)
        crop = pixels[y0:y1, x0:x1].astype(np.float32).reshape(-1, pixels.shape[2] if pixels.ndim == 3 else 1)
        if crop.shape[1] < 3:
            continue
        rgb = crop[:, :3]
        lum = rgb @ luma_w
        cap = float(np.percentile(body_l, 25))
        colour = np.median(body[body_l <= np.median(body_l)], 0)
        colour_l = max(float(colour @ luma_w), 1e-6)
        w = (above > 0) * inside * _smooth(along / (0.25 * span)) * _smooth((1.5 * deep - above) / (0.5 * deep)) \
            * _smooth((1.5 * span - along) / (0.5 * span)) * _smooth((lum - cap) / max(0.1 * cap, 1e-6))
        if not np.any(w > 0):
            continue
        target = colour[None, :] * (np.minimum(lum, cap) / colour_l)[:, None]
        low = np.minimum(lum, cap)  # (the grain under the cap: the streak itself carries none)
        grain = low - cv2.GaussianBlur(low.reshape(y1 - y0, x1 - x0), (0, 0), 1.5).ravel()
        target = target + grain[:, None]
        rgb += w[:, None] * (target - rgb)
        crop[:, :3] = rgb
        out = crop.reshape(pixels[y0:y1, x0:x1].shape)
        if pixels.dtype.kind in "ui":
            out = np.clip(np.round(out), 0, np.iinfo(pixels.dtype).max)
        pixels[y0:y1, x0:x1] = out.astype(pixels.dtype)
