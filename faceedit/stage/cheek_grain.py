"""The skin's grain a small face's flattened cheeks keep (:func:`keep_grain`).

:func:`faceedit.stage.smile.flatten_cheeks` takes off the cheeks' band between a blur of
``cheek_fine`` eye distances and a broader one. On a small face that finer blur is under a pixel
or two (0.6 px at 30 px between the eyes) and the band holds the skin's pores, stubble and
freckles, which go with the relief: the cheeks read painted. At that size the smile's creases are
a pixel or two wide too, so no blur parts them from the grain. Here the grain is drawn again
where the flattening took it: white noise blurred ``cheek_grain_across`` px, ``cheek_grain``
times as strong as the detail finer than a blur of ``cheek_grain_px`` px that the flattening took
(the flattened crop's mean square of it less the crop's before, over the flattened skin within
``cheek_grain_reach`` eye distances of each pixel; the detail clipped at :data:`CLIP_SPREADS`
robust spreads, so a crease's line or a fleck does not count as grain), over the flattened
skin down to ``cheek_grain_below`` eye distances below the nose's tip (``cheek_grain_below_open``
round an opened mouth, whose skin is flattened too: JAFFE's laughs made surprised read as a smooth
mask over the lower face, its edge a ring round the mouth). The noise is one field for
every channel (each scaled alike: a photo's grain is mostly in its light), fixed to the nose's tip
(it moves with the face, in whole pixels). Only where ``cheek_fine`` eye distances are under
``cheek_grain_px`` px.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma_of
from faceedit.stage.tuning import EditTuning

#: The noise's seed (a fixed field: the same face gets the same grain).
GRAIN_SEED = 71
#: Robust deviations per standard deviation of a normal spread (the median absolute deviation's scale).
MAD_SCALE = 1.4826
#: The detail is clipped at this many of its robust spreads over the flattened skin before its
#: strength is read (a crease's line, a fleck is not grain).
CLIP_SPREADS = 2.5



def _detail(luma: np.ndarray, sigma: float) -> np.ndarray:
    return luma - cv2.GaussianBlur(luma, (0, 0), sigma)


def grain_field(shape: tuple[int, int], origin: tuple[int, int], across: float, step: int = 1,
                corner: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(H, W) float32: white noise blurred ``across`` px, of unit spread, its centre at ``origin``
    (x, y px) of an ``shape`` (H, W) crop: the same noise about the same point of a face. ``step``:
    each noise pixel ``step`` x ``step`` pixels here (a finer copy of the photo, :mod:`faceedit.stage.fine`:
    the photo's own grain, which the copy's area average back down keeps), its blocks on the copy's grid
    (``corner``: the crop's top left corner in the copy, whose pixels ``step`` at a time are one of the photo's)."""
    h, w = shape
    half = max(h, w) // step + 4
    rng = np.random.default_rng(GRAIN_SEED)
    field = cv2.GaussianBlur(rng.standard_normal((2 * half, 2 * half)).astype(np.float32), (0, 0), across)
    field = field / np.float32(max(float(field.std()), 1e-6))
    ox, oy = int(np.clip(origin[0], 0, w)), int(np.clip(origin[1], 0, h))
    ox, oy = ox - (ox + corner[0]) % step, oy - (oy + corner[1]) % step  # (a block starts on the grid)
    if step > 1:
        field = np.repeat(np.repeat(field, step, 0), step, 1)
        half *= step
    x0, y0 = half - ox, half - oy
    return field[y0:y0 + h, x0:x0 + w]


def keep_grain(before: np.ndarray, after: np.ndarray, mask: np.ndarray, origin: tuple[float, float],
               ed: float, tuning: EditTuning, photo_scale: float = 1.0,
               corner: tuple[int, int] = (0, 0), opened: bool = False) -> np.ndarray:
    """``after`` (the flattened crop, float (H, W[, C]), written over) with grain drawn where
    the flattening of ``before`` (the crop it flattened) took the skin's, as the module says;
    ``mask``: (H, W) 0..1, the share flattened at each pixel; ``origin``: the nose's tip in the
    crop (x, y px); ``ed``: the face's eye distance (px); ``photo_scale``: the photo's own pixels per
    pixel here (under 1 on a finer copy: sizes and the noise's grain are the photo's own); ``corner``: the
    crop's top left corner (x, y) in the image edited; ``opened``: round an opened mouth (the grain
    drawn down to ``tuning.cheek_grain_below_open`` eye distances below the nose's tip)."""
    px = tuning.cheek_grain_px
    scale = min(float(photo_scale), 1.0)
    if tuning.cheek_grain <= 0 or tuning.cheek_fine * ed * scale >= px:
        return after
    step = max(int(round(1.0 / scale)), 1)
    px = px * step
    h, w = mask.shape
    rows = np.arange(h, dtype=np.float32)[:, None]
    feather = max(0.05 * ed, 1.0)
    below = tuning.cheek_grain_below_open if opened else tuning.cheek_grain_below
    upper = np.clip((origin[1] + below * ed - rows) / feather, 0.0, 1.0)
    weight = (mask * upper).astype(np.float32)
    on = weight > 0.5
    if int(on.sum()) < 16:
        return after
    lb, la = luma_of(before), luma_of(after)
    db, da = _detail(lb, px), _detail(la, px)
    vals = db[on]
    cap = CLIP_SPREADS * MAD_SCALE * float(np.median(np.abs(vals - np.median(vals))))
    if cap <= 0:
        return after
    reach = max(tuning.cheek_grain_reach * ed, 1.0)
    norm = np.maximum(cv2.GaussianBlur(weight, (0, 0), reach), 1e-3)

    def local(d: np.ndarray) -> np.ndarray:  # the clipped detail's mean square over the skin near each pixel
        return cv2.GaussianBlur(np.minimum(d * d, cap * cap) * weight, (0, 0), reach) / norm

    lost = np.sqrt(np.maximum(local(db) - local(da), 0.0))
    noise = grain_field((h, w), (int(round(origin[0])), int(round(origin[1]))), tuning.cheek_grain_across, step, corner)
    add = tuning.cheek_grain * lost * weight * noise
    ratio = (np.maximum(la + add, 0.0) / np.maximum(la, 1e-3)).astype(np.float32)
    if after.ndim == 3:
        after[..., :3] *= ratio[..., None]
    else:
        after *= ratio
    return after
