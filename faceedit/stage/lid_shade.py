"""The closed lid's top in the socket's shadow, read from the skin above it.

Under a deep-set brow the skin just above a closed lid lies in the socket's shadow, and so does
the lid's top: a lid lit to its top under that shadow is a dome ringed by it, which reads as an
open eye's outline. :func:`shade_top` darkens the closed lid's top towards the light of the skin
just above it (``shade_read`` eye heights, column by column, smoothed along the eye) where that is
darker: ``top_shade`` of the way at its top (eased in from ``shade_soft`` eye heights above it, no
step), none from ``shade_reach`` of the way down the lid.

The skin's light there is the ``shade_pct`` percentile of each column's luma, not its mean: the
band above a closed lid holds the photo's crease (its fold's dark line, come down a little) and,
where the crease lies high, the brow's lower hairs; their mean is darker than the skin's light,
and the lid's top (and the skin eased in above it) darkened towards it is a dark arc over a pale
lid, the rim of a goggle (London 012 at 3x). A socket's shadow darkens the whole band, its lit
percentile too. The lower-case names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.tuning_lids import LidsTuning


class _Eye(Protocol):
    xs: np.ndarray
    tall: float


def column_light(cols: np.ndarray, values: np.ndarray, n: int, pct: float) -> tuple[np.ndarray, np.ndarray]:
    """(each of ``n`` columns' ``pct`` percentile of ``values`` (its pixels', nearest rank, NaN
    where it has none), how many pixels each has); ``cols`` the column of each value."""
    order = np.lexsort((values, cols))
    c, v = cols[order], values[order]
    count = np.bincount(c, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    out = np.full(n, np.nan)
    has = count > 0
    out[has] = v[start[has] + np.rint(pct / 100.0 * (count[has] - 1)).astype(int)]
    return out, count


def shade_top(new: np.ndarray, X: np.ndarray, Y: np.ndarray, eye: _Eye, Cd: np.ndarray, t: np.ndarray,
              lid: np.ndarray, tn: LidsTuning) -> np.ndarray:
    """``new`` ((h, w[, C]) unit float, the eye's box) with the closed lid's top (weighted by
    ``lid``, the lid's closure there; ``t`` its share of the way down the lid from the crease
    ``Cd``; ``X``, ``Y`` each pixel's eye-frame position) darkened towards the light of the skin
    just above it where that is darker (module notes)."""
    lum = luma if new.ndim == 3 else (lambda v: v)  # noqa: E731
    cols = np.clip(np.rint(X - eye.xs[0]), 0, len(eye.xs) - 1).astype(int)
    read = (Y < Cd) & (Y >= Cd - tn.shade_read * eye.tall) & (X > eye.xs[0]) & (X < eye.xs[-1])
    light, n = column_light(cols[read], lum(new)[read].astype(np.float64), len(eye.xs), tn.shade_pct)
    has = n > 0
    if has.sum() < 4:
        return new
    above = np.interp(eye.xs, eye.xs[has], light[has])
    k = max(int(eye.tall / 2) * 2 + 1, 3)
    above = cv2.GaussianBlur(above.astype(np.float32)[None, :], (k, 1), 0, borderType=cv2.BORDER_REPLICATE)[0]
    v = np.clip(t / tn.shade_reach, 0.0, 1.0)
    ease = np.clip((Y - Cd) / max(tn.shade_soft * eye.tall, 1e-6) + 1.0, 0.0, 1.0)
    w = tn.top_shade * (1 - v * v * (3 - 2 * v)) * lid * ease
    own = np.maximum(lum(new), 1e-6)
    gain = 1 - w * (1 - np.minimum(above[cols] / own, 1.0))
    return (new * (gain[..., None] if new.ndim == 3 else gain)).astype(np.float32)
