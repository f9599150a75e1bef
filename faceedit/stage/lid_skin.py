"""The closed lid's skin texture: the photo's own skin under the eye, in patches.

A closed lid drawn as the skin's light carried over the eye is a smooth oval; a closed lid in
a photograph has the person's skin on it: pores, the photo's grain and the small blotches of
thin skin a few pixels across, at the photo's own scale. :func:`own_skin_detail` takes that
texture from the photo itself: the detail of the skin under the eye (below the lower lashes,
``texture_from`` eye heights under the lower margin, ``texture_depth`` eye heights down, over
the eye's middle ``texture_span`` of its width), each channel over its blur of
1/``texture_scale`` of the eye's height (what a blur of that size takes away: grain and
blotches, not the skin's shading), its outliers (lower lashes, a fold's dark edge) clipped at
``texture_clip`` robust spreads. It is laid over the lid in square patches ``texture_patch``
eye heights across, each from a seeded place in that band, blended over half their width
with weights whose squares sum to one (the texture's strength the same everywhere, no grid in
it): the lower lid's long lines become short ones in patches (laid whole they read as rings
round the closed eye at 3x) while the pores and blotches stay the photo's own. The lower-case
names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.

Its colour: :func:`lit_tone` reads a skin's light without its folds and sheen, and
:func:`as_skin_below` brings the raised lower lid to the light and colour of the skin below it;
:func:`corner_lashes_as_skin` fills the lashes left standing at the outer corner with skin.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from faceedit.pixels import luma, pixel_max
from faceedit.stage.membrane import membrane_fill
from faceedit.stage.tuning_lids import LidsTuning


class _Eye(Protocol):
    xs: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    tall: float
    side: int

    def to_frame(self, p: np.ndarray) -> np.ndarray: ...

    def to_photo(self, x: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def at(self, x: np.ndarray, line: np.ndarray) -> np.ndarray: ...


def skin_detail(crop: np.ndarray, tall: float, tn: LidsTuning) -> np.ndarray:
    """``crop``'s ((h, w[, C]) unit float) texture: each channel over its blur of
    1/``texture_scale`` of ``tall`` (the eye's height, px), less one."""
    blur = cv2.GaussianBlur(crop, (0, 0), max(0.8, tall / tn.texture_scale))
    return (crop / np.maximum(blur, 1e-3) - 1.0).astype(np.float32)


def own_skin_detail(crop: np.ndarray, origin: tuple[int, int], eye: _Eye, X: np.ndarray, Y: np.ndarray,
                    top: float, tn: LidsTuning, seed: int = 0) -> np.ndarray | None:
    """The texture to lay over a closed lid (module notes): ((h, w[, C]) float, a multiplier
    less one) at each eye-frame point ``X``, ``Y``; ``crop`` the photo around the eye ((H, W[,
    C]) unit float, its top-left corner at photo px ``origin``), reaching the band under the eye;
    ``top`` the frame y the patches start from (with the eye's first corner: the texture moves
    with the eye); ``seed`` fixes the patches' places. None where the band is too small to read."""
    tall = float(eye.tall)
    xa, xb = float(eye.xs[0]), float(eye.xs[-1])
    margin = 0.5 * (1 - tn.texture_span) * (xb - xa)
    depth = max(tn.texture_depth * tall, 4.0)
    size = max(tn.texture_patch * tall, 4.0)
    half = 0.5 * size  # the patches' spacing: they overlap by half
    if xb - xa - 2 * margin - size < 1 or depth < size:
        return None
    detail = skin_detail(crop, tall, tn)
    # the band's outliers (lashes, a fold's edge) clipped at texture_clip robust spreads
    cols = np.arange(xa + margin, xb - margin)
    rows = np.arange(0.0, depth)
    start = eye.at(cols, eye.lower)[None, :] + tn.texture_from * tall
    q = (eye.to_photo(np.broadcast_to(cols[None, :], (len(rows), len(cols))), start + rows[:, None])
         - origin).astype(np.float32)
    band = cv2.remap(detail, q[..., 0], q[..., 1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    flat = band.reshape(-1, detail.shape[2] if detail.ndim == 3 else 1)
    med = np.median(flat, 0)
    spread = np.maximum(1.4826 * np.median(np.abs(flat - med), 0), 1e-4)
    lo, hi = med - tn.texture_clip * spread, med + tn.texture_clip * spread
    centre = np.clip(flat, lo, hi).mean(0)  # what is laid has no mean: the lid's light stays as matched
    # the patches run from the eye's outer corner (an eye and its mirror image get the same skin)
    outer = eye.side == 0
    along = (lambda x: x - xa) if outer else (lambda x: xb - x)  # noqa: E731
    back = (lambda a: xa + a) if outer else (lambda a: xb - a)  # noqa: E731
    u, v = along(X) + size, Y - top + size  # px from the patches' origin (all >= 0 in the box)
    ku, kv = np.floor(u / half).astype(int), np.floor(v / half).astype(int)
    # each patch's place in the band (along the eye from the outer corner, down from the band's
    # top), row by row from the top, as many to a row whatever the box (the same for a mirror image)
    n_u, n_v = int((xb - xa + 2 * size) / half) + 4, max(int(kv.max()) + 2, 1)
    ox = np.random.default_rng(seed).uniform(margin, xb - xa - margin - size, (n_v, n_u))
    oy = np.random.default_rng(seed + 1).uniform(0.0, depth - size, (n_v, n_u))
    total = np.zeros(X.shape + detail.shape[2:], np.float32)
    weights = np.zeros(X.shape, np.float32)
    for du in (0, 1):
        for dv in (0, 1):
            iu, iv = ku + du, kv + dv  # a patch centred at (iu, iv) * half covers a size around it
            tu, tv = u - iu * half, v - iv * half  # -half..half across it
            w = (np.cos(0.5 * np.pi * np.clip(tu / half, -1, 1)) * np.cos(0.5 * np.pi * np.clip(tv / half, -1, 1))) ** 2
            iu, iv = np.clip(iu, 0, n_u - 1), np.clip(iv, 0, n_v - 1)
            dx = back(ox[iv, iu] + half + tu)
            dy = oy[iv, iu] + half + tv
            p = (eye.to_photo(dx, eye.at(dx, eye.lower) + tn.texture_from * tall + dy) - origin).astype(np.float32)
            d = cv2.remap(detail, p[..., 0], p[..., 1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
            d = np.clip(d.reshape(X.shape + detail.shape[2:]), lo, hi) - centre
            total += d * (w[..., None] if d.ndim == 3 else w)
            weights += w * w
    return (total / np.sqrt(np.maximum(weights, 1e-6))[..., None] if total.ndim == 3
            else total / np.sqrt(np.maximum(weights, 1e-6))).astype(np.float32)


def warmer(skin: np.ndarray, than: np.ndarray, grey: float) -> np.ndarray:
    """How much warmer ``skin`` is than ``than`` ((..., 3) colours; each's red over its blue),
    0 where it is no warmer to 1 where it is ``grey`` (a share) warmer and more."""
    ratio = (skin[..., 0] / np.maximum(skin[..., 2], 1e-6)) / np.maximum(than[..., 0] / np.maximum(than[..., 2], 1e-6), 1e-6)
    return np.clip((ratio - 1) / max(grey, 1e-6), 0.0, 1.0).astype(np.float32)


def as_skin_below(new: np.ndarray, carried: np.ndarray, skin: np.ndarray, w: np.ndarray, grey: float) -> np.ndarray:
    """``new`` ((h, w[, C]) unit float, the raised lower lid) with its light and colour
    (``carried``: the photo's blurred light the map carried there) brought ``w`` ((h, w)) of
    the way to ``skin``'s (the blurred skin below the rise) where that is warmer (:func:`warmer`
    by ``grey``; a grey photo's unchanged): each channel scaled by ``skin / carried``, never
    lighter (where the skin below is lighter only its colour moves): the lower lid's sheen,
    carried up under the lash line, reads as a grey-lavender smear on a closed eye; where the
    skin below is no warmer (a lit cheek, paler and cooler than the lid) the lower lid is left
    its own colour."""
    if new.ndim != 3:
        return new
    w = w * warmer(skin, carried, grey)
    gain = skin / np.maximum(carried, 1e-6)
    light = np.maximum(luma(skin) / np.maximum(luma(carried), 1e-6), 1.0)
    return (new * (1 + (gain / light[..., None] - 1) * w[..., None])).astype(np.float32)


def lit_tone(img: np.ndarray, mask: np.ndarray, pct: tuple[float, float]) -> np.ndarray | None:
    """The colour ((C,) or scalar, unit levels) of ``img``'s pixels under ``mask`` whose luma
    lies between its ``pct`` percentiles there (the skin's light, without its shadowed
    folds, lashes and highlights); None under 9 pixels."""
    if mask.sum() < 9:
        return None
    lum = luma(img) if img.ndim == 3 else img
    lo, hi = np.percentile(lum[mask], pct)
    pick = mask & (lum >= lo) & (lum <= hi)
    return np.asarray(img[pick if pick.any() else mask].mean(0), np.float32)


def frame_box(eye: _Eye, corners: np.ndarray, shape: tuple[int, ...]
              ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray] | None:
    """The photo's pixel box (x0, y0, x1, y1) round ``corners`` (photo points, (N, 2)) inside an
    image of ``shape``, with its pixels' coordinates in the eye's frame (X, Y); None for a box under
    4 px on a side."""
    h, w = shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 1, [w, h])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    fr = eye.to_frame(np.stack([xx, yy], -1))
    return (int(x0), int(y0), int(x1), int(y1)), fr[..., 0], fr[..., 1]


def corner_lashes_as_skin(out: np.ndarray, eye: _Eye, a: float, levels: tuple[float, float],
                          tn: LidsTuning) -> None:
    """The photo's lashes left standing at the closed eye's outer corner in ``out`` (the edited
    photo, (H, W[, C])), where the lid hardly moves (left, a flick up and out off the closed lid's
    corner): the skin around them (:func:`~faceedit.stage.membrane.membrane_fill`), within
    ``corner_lashes`` of the eye's width from its outer corner and ``corner_past`` of it past the
    corner (fading out), from ``lashes`` eye heights above the open eye's margin down to its
    roots (past the corner, where no lash line is drawn, down to ``corner_below`` eye heights under
    its margin: the open eye's lash mass hangs there), as far as they are as dark as lashes (from
    ``corner_dark[0]`` to wholly at ``corner_dark[1]`` of the way from the lid's skin down to the
    lashes' darkest, ``levels``: the skin's luma and that darkest, unit levels) and grey (none
    where ``corner_red`` redder than the lit skin: a smile's crow's feet and the fold's lines are
    skin in shadow, the skin's colour or redder) and the eye closes (``a``). The fill is the skin
    above and beyond them, not the drawn lash line beside them."""
    if tn.corner_lashes <= 0 or a <= 0:
        return
    tall = float(eye.tall)
    xa, xb = float(eye.xs[0]), float(eye.xs[-1])
    outer = xa if eye.side == 0 else xb
    inward = 1.0 if eye.side == 0 else -1.0
    reach, past = tn.corner_lashes * (xb - xa), tn.corner_past * (xb - xa)
    xs = np.array([outer - inward * (past + 3), outer + inward * (reach + 3)])
    u = eye.at(np.linspace(xs.min(), xs.max(), 16), eye.upper)
    ys = np.array([u.min() - (tn.lashes + tn.roots) * tall - 3, u.max() + max(tn.corner_below, 0.0) * tall + 3])
    box = frame_box(eye, eye.to_photo(np.repeat(xs, 2), np.tile(ys, 2)), out.shape)
    if box is None:
        return
    (x0, y0, x1, y1), X, Y = box
    U = eye.at(X, eye.upper)
    unit = float(pixel_max(out.dtype))
    here = out[y0:y1, x0:x1].astype(np.float32) / unit
    lum = luma(here) if here.ndim == 3 else here
    skin, darkest = levels
    lo, hi = tn.corner_dark
    share = (skin - lum) / max(skin - darkest, 0.01 * skin, 1e-3)
    dark = np.clip((share - lo) / max(hi - lo, 1e-3), 0.0, 1.0)
    if here.ndim == 3 and tn.corner_red > 0:
        # a lash is grey-black against the skin; a skin line's shadow (a smile's crow's feet, the
        # fold) is the skin's colour or redder: none where corner_red (a share) redder than the lit skin
        rb = here[..., 0] / np.maximum(here[..., 2], 1e-4)
        lit = lum >= skin
        skin_rb = float(np.median(rb[lit])) if lit.sum() > 8 else float(np.median(rb))
        dark = dark * np.clip(1 - (rb / max(skin_rb, 1e-4) - 1) / tn.corner_red, 0.0, 1.0)
    from_outer = inward * (X - outer)
    v = np.clip(from_outer / max(reach, 1.0), 0.0, 1.0)
    p = np.clip(1 + from_outer / max(past, 1.0), 0.0, 1.0)
    near = (1 - v * v * (3 - 2 * v)) * p * p * (3 - 2 * p)
    # the roots' band is the drawn lash line's inside the eye; past the corner the fill goes lower
    beyond = np.clip(-from_outer / max(past, 1.0), 0.0, 1.0)
    bottom = U - tn.roots * tall + beyond * (tn.roots + tn.corner_below) * tall
    ends = np.clip((bottom - Y) / max(0.5 * tn.roots * tall, 1.0), 0.0, 1.0)  # its lower end soft
    wt = (a * near * dark * (Y >= U - (tn.lashes + tn.roots) * tall) * ends).astype(np.float32)
    if wt.max() <= 0:
        return
    line = (from_outer > -1.0) & (Y >= U - tn.roots * tall)
    fill = membrane_fill(here, ((wt <= 0.02) & ~line).astype(np.float32))
    wc = wt[..., None] if here.ndim == 3 else wt
    out[y0:y1, x0:x1] = np.clip(np.rint((here * (1 - wc) + fill * wc) * unit), 0, unit).astype(out.dtype)
