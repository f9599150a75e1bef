"""Fills from around a hole at a photo's own pixels: a smooth membrane of what surrounds it
(:func:`membrane_fill`, a push-pull pyramid) and the fine detail beside it carried in
(:func:`mirrored_grain`). The cut warp fills its openings with them (:mod:`faceedit.stage.cutwarp`), the
eyes and lids their redrawn whites and skin."""

from __future__ import annotations

import cv2
import numpy as np


def membrane_fill(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``img`` (h, w[, C]) float32 with the unknown part (``known`` (h, w) weights in [0, 1],
    1 = keep) filled smoothly from the known part (a push-pull pyramid)."""
    h, w = known.shape
    chans = 1 if img.ndim == 2 else img.shape[2]
    im = img.reshape(h, w, chans).astype(np.float32)
    kn = known.astype(np.float32)

    def resize(a, size, interp):
        r = cv2.resize(a, size, interpolation=interp)
        return r.reshape(size[1], size[0], -1) if a.ndim == 3 else r

    levels = [(im * kn[..., None], kn)]
    while max(levels[-1][1].shape) > 1:
        pi, pk = levels[-1]
        size = (max((pk.shape[1] + 1) // 2, 1), max((pk.shape[0] + 1) // 2, 1))
        levels.append((resize(pi, size, cv2.INTER_AREA), resize(pk, size, cv2.INTER_AREA)))
    pi, pk = levels[-1]
    fill = pi / np.maximum(pk, 1e-6)[..., None]
    for pi, pk in reversed(levels[:-1]):
        up = resize(fill, (pk.shape[1], pk.shape[0]), cv2.INTER_LINEAR)
        fill = pi + (1 - pk)[..., None] * up
    return fill.reshape(img.shape)


def mirrored_grain(img: np.ndarray, hidden: np.ndarray, where: np.ndarray, reach: float,
                   blur: float, down: np.ndarray | None = None) -> np.ndarray:
    """The fine detail of ``img`` ((h, w[, C]) float32: the photo less its Gaussian blur of
    ``blur`` px over the kept pixels) carried into ``where`` ((h, w) bool, inside ``hidden``,
    (h, w) > 0 where the photo is not kept): for each pixel there, the detail at its mirror
    image across the nearest kept pixel (with ``down``, a unit (x, y) direction: the first kept
    pixel that way, so a strip along a lip reads the lip straight across it, not a fan round
    the nearest point of a bent edge), the mirrored depth folded back and forth within
    ``reach`` px of the edge (a strip deeper than the lip beside it reads the lip again, not
    the skin beyond), read at whole pixels and clipped to three robust deviations (1.4826
    median absolute deviations) about the median of what is read (a dark fleck at the edge is
    not copied). Zero elsewhere. Added to a membrane fill, a strip has the grain and lines of
    the lip it adjoins at the photo's own pixels."""
    h, w = hidden.shape
    chans = 1 if img.ndim == 2 else img.shape[2]
    im = img.reshape(h, w, chans).astype(np.float32)
    kept = (hidden <= 0).astype(np.float32)
    out = np.zeros((h, w, chans), np.float32)
    if not where.any() or not kept.any():
        return out.reshape(img.shape)
    sigma = max(float(blur), 0.5)
    num = cv2.GaussianBlur(im * kept[..., None], (0, 0), sigma).reshape(h, w, chans)
    smooth = num / np.maximum(cv2.GaussianBlur(kept, (0, 0), sigma), 1e-6)[..., None]
    detail = (im - smooth) * kept[..., None]
    _, labels = cv2.distanceTransformWithLabels((kept == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    ky, kx = np.nonzero(kept > 0)
    at = np.zeros((int(labels.max()) + 1, 2), np.float32)
    at[labels[ky, kx]] = np.stack([kx, ky], 1)
    py, px = np.nonzero(where)
    pts = np.stack([px, py], 1).astype(np.float32)
    near = at[labels[py, px]]
    if down is not None:  # (none kept that way within the box: the nearest)
        found = np.zeros(len(pts), bool)
        for k in range(1, h + w):
            if found.all():
                break
            q = np.round(pts + k * np.asarray(down, np.float32)).astype(np.int64)
            ok = ~found & (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
            hit = np.zeros(len(pts), bool)
            hit[ok] = kept[q[ok, 1], q[ok, 0]] > 0
            near[hit] = q[hit]
            found |= hit
    away = near - pts
    depth = np.linalg.norm(away, axis=1)
    span = max(float(reach), 1.0)
    folded = np.mod(np.maximum(depth - 1.0, 0.0), 2.0 * span)
    mirror = near + away / np.maximum(depth, 1e-6)[:, None] * np.minimum(folded, 2.0 * span - folded)[:, None]
    # (whole pixels: an interpolated read would blur the grain it carries)
    mx = np.clip(np.round(mirror[:, 0]).astype(np.int64), 0, w - 1)
    my = np.clip(np.round(mirror[:, 1]).astype(np.int64), 0, h - 1)
    got = detail[my, mx]
    mid = np.median(got, axis=0)
    spread = 3.0 * 1.4826 * np.median(np.abs(got - mid), axis=0)
    out[py, px] = np.clip(got, mid - spread, mid + spread)
    return out.reshape(img.shape)
