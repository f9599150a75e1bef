"""A fringe over the forehead kept where it hangs while the brows move under it.

Expressions move the brows (anger down, surprise, fear and sadness up) and the warp moves the
forehead above them with them, so a fringe (hair hanging over the forehead down to the brows)
would bend and stretch with them. A real fringe does not move with the brows: they move under
it. :func:`keep_fringe` lays the photo's fringe back over the warped face by a soft hair share
(:func:`fringe_share`), the brows and the skin under it as warped: raised brows (surprise, fear,
sadness) go up under the fringe's edge, which stays where it hung. Brows moved down (anger)
would uncover skin the fringe hid, which the photo does not show: the columns where the warp
drags hair below the fringe's edge (:data:`DRAGGED`) keep the warp's fringe. A face without
a fringe (a bare forehead, a dark skin, the brows' own hairs) is left as the warp drew it,
byte for byte.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from faceedit.stage.cutwarp import CutWarpResult
from faceedit.stage.forehead_creases import forehead_hair
from faceedit.stage.moves import face_frame

#: The fringe's box, eye distances: above the brows' top, below it, beside their outer ends;
#: a pixel is hair where its luma over the nose bridge's skin is under the fourth (none) down
#: to the fifth (full); a column holds a fringe where its hair hangs down to the sixth above
#: its brow (London training 003, 143: dark fringes to the brows; 001, 042, 062, 082: bare)
FRINGE = (1.3, 0.45, 0.1, 0.6, 0.4, 0.25)
#: How much hair (eye distances summed down a column) the warp may drag below the fringe's edge
#: before that column keeps the warp's fringe (London training 003: its angry drags 0.1-0.2)
DRAGGED = 0.03
#: A brow's hairs run on this far past its outer end point (17, 26; eye distances) ...
BROW_TAIL = 0.12
#: ... and over this share of its span from there (and past it) hair that meets it is the
#: temple's, not a fringe hanging over it (JAFFE's side hair down to the brows' ends)
BROW_OUTER = 0.25


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def fringe_box(lm: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the forehead over the brows a fringe may hang in (:data:`FRINGE`),
    inside the photo; None where that is empty."""
    up, down, side = FRINGE[:3]
    ed = face_frame(lm)[2]
    top = float(lm[17:27, 1].min())
    h, w = shape[:2]
    x0, x1 = int(max(lm[17, 0] - side * ed, 0)), int(min(lm[26, 0] + side * ed, w))
    y0, y1 = int(max(top - up * ed, 0)), int(min(top + down * ed, h))
    return None if x1 - x0 < 8 or y1 - y0 < 8 else (x0, y0, x1, y1)


def brow_band(lm: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The brows' own hairs over ``box`` (0..1, (y1 - y0, x1 - x0) float32) of a face at 68
    landmarks ``lm``: a soft band along points 17-21 and 22-26, each run on past its outer end
    by :data:`BROW_TAIL` (the hairs past the last point), from 0.01 eye distances under them to
    0.11 under them."""
    x0, y0, x1, y1 = box
    ed = face_frame(lm)[2]
    band = np.zeros((y1 - y0, x1 - x0), np.float32)
    for side in (np.vstack([_tail(lm, 17, 18, ed), lm[17:22]]), np.vstack([lm[22:27], _tail(lm, 26, 25, ed)])):
        pts = np.round(side - [x0, y0 - 0.06 * ed]).astype(np.int32)
        cv2.polylines(band, [pts], False, 1.0, max(int(0.1 * ed), 1))
    return np.clip(cv2.GaussianBlur(band, (0, 0), max(0.015 * ed, 0.5)) * 1.5, 0.0, 1.0)


def _tail(lm: np.ndarray, end: int, before: int, ed: float) -> np.ndarray:
    """(1, 2): the point :data:`BROW_TAIL` eye distances ``ed`` on past a brow's outer end ``end``
    along its last stretch (from point ``before``)."""
    way = lm[end] - lm[before]
    return (lm[end] + way / max(float(np.linalg.norm(way)), 1e-9) * BROW_TAIL * ed)[None, :]


def outer_ends(lm: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per image column ``cols`` (float), 0..1: 0 past a brow's outer end and over the outer
    :data:`BROW_OUTER` of its span (17 -> 21, 26 -> 22, along the image's x), rising to 1 over
    as much again inward, 1 between the brows."""
    t = np.ones_like(cols, dtype=np.float64)
    for end, inner in ((17, 21), (26, 22)):
        span = float(lm[inner, 0] - lm[end, 0])
        if abs(span) < 1e-6:
            continue
        along = (cols - float(lm[end, 0])) / span  # 0 at the outer end, 1 at the inner
        t = np.where(along < 1.0, np.minimum(t, np.clip((along - BROW_OUTER) / BROW_OUTER, 0.0, 1.0)), t)
    return t


def fringe_share(pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """How much of a fringe (0..1, (y1 - y0, x1 - x0) float32) covers ``box`` of ``pixels``
    ((H, W, 3) RGB) over the forehead of a face at 68 landmarks ``lm``: hair as
    :func:`~faceedit.stage.forehead_creases.forehead_hair` reads it that is darker than the
    nose bridge's skin (:data:`FRINGE`), hanging from the box's top, off the brows' own band,
    in the columns where it reaches down near the brows (so a bare forehead, a dark skin or the
    brows themselves read none)."""
    _, _, _, none, full, low = FRINGE
    x0, y0, x1, y1 = box
    ed = face_frame(lm)[2]
    h, w = pixels.shape[:2]
    r = max(int(0.06 * ed), 2)
    bx, by = int(round(lm[27, 0])), int(round(lm[27, 1]))
    bridge = pixels[max(by - r, 0):min(by + r, h), max(bx - r, 0):min(bx + r, w)]
    if bridge.size == 0:
        return np.zeros((y1 - y0, x1 - x0), np.float32)
    skin = float(np.median(_luma(bridge)))
    y = cv2.GaussianBlur(_luma(pixels[y0:y1, x0:x1]), (0, 0), max(0.01 * ed, 0.5))
    dark = np.clip((none - y / max(skin, 1.0)) / (none - full), 0.0, 1.0)
    share = np.minimum(forehead_hair(pixels, lm, box), dark)
    # a strand's sheen inside the hair is hair too
    share = np.maximum(share, np.clip((cv2.GaussianBlur(share, (0, 0), max(0.04 * ed, 0.5)) - 0.5) / 0.3, 0.0, 1.0))
    cols = np.arange(x0, x1, dtype=np.float64)
    order = np.argsort(lm[17:27, 0])
    brow_y = np.interp(cols, lm[17:27, 0][order], lm[17:27, 1][order])
    # the brows' own hairs are not the fringe, but for where it hangs over them (hair just over
    # the brow): there the hair over the brow is the fringe's, its edge not cut along the brow;
    # never at a brow's outer end, where the hair down the temple meets it from the side (laid
    # back there, the brow's own end stayed under a raised brow: a hook, a detached smudge)
    at = np.clip(np.round(brow_y - 0.05 * ed - y0).astype(int), 0, y1 - y0 - 1)
    over = cv2.GaussianBlur(share[at, np.arange(x1 - x0)][None, :].astype(np.float32), (0, 0),
                            max(0.05 * ed, 0.5))[0] * outer_ends(lm, cols)
    share = share * (1.0 - brow_band(lm, box) * (1.0 - np.clip((over - 0.3) / 0.4, 0.0, 1.0))[None, :])
    # hanging from the box's top: a dark patch that does not is the skin's own
    count, labels = cv2.connectedComponents((share > 0.1).astype(np.uint8), connectivity=8)
    if count > 1:
        tops = np.unique(labels[0])
        share = share * np.isin(labels, tops[tops > 0])
    # a column holds a fringe where the hair covers most of it from the box's top down to
    # near its brow
    at = np.clip(np.round(brow_y - low * ed - y0).astype(int), 1, y1 - y0)
    rows = np.arange(y1 - y0)[:, None]
    reach = (share * (rows < at[None, :])).sum(0) / at
    gate = cv2.GaussianBlur(reach[None, :].astype(np.float32), (0, 0), max(0.08 * ed, 0.5))[0]
    gate = np.clip((gate - 0.35) / 0.3, 0.0, 1.0)
    # none under the brows (the lashes, the eyes)
    under = np.clip((brow_y[None, :] + 0.12 * ed - y0 - rows) / max(0.04 * ed, 1.0), 0.0, 1.0)
    return (share * gate[None, :] * under).astype(np.float32)


def box_fade(shape: tuple[int, int], ed: float) -> np.ndarray:
    """(h, w) float32: 0 at a box's top and sides rising to 1 over 0.1 eye distances ``ed``
    (the kept fringe faded out where the warp's hair meets it)."""
    h, w = shape
    f = max(0.1 * ed, 1.0)
    cols = np.minimum(np.arange(w) + 0.5, np.arange(w)[::-1] + 0.5)
    return (np.clip(cols[None, :] / f, 0.0, 1.0) * np.clip((np.arange(h)[:, None] + 0.5) / f, 0.0, 1.0)).astype(np.float32)


def keep_fringe(stage: Any, face: Any, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after`` (the warp's photo of ``before``, ``face.warped`` its :class:`CutWarpResult`)
    with ``before``'s fringe over the forehead laid back where it hung (module notes); ``after``
    itself where the face shows none. ``stage``: the stage (unused: the steps' signature)."""
    r: CutWarpResult | None = face.warped
    lm = np.asarray(face.landmarks, np.float64)
    box = fringe_box(lm, before.shape)
    if r is None or box is None or before.ndim != 3:
        return after
    x0, y0, x1, y1 = box
    share = fringe_share(before, lm, box)
    if float(share.max()) < 0.5 / 255.0:
        return after
    src = r.source_points(box)
    carried = cv2.remap(share, src[..., 0] - x0, src[..., 1] - y0, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    top = float(np.iinfo(after.dtype).max) if after.dtype.kind in "ui" else 1.0
    # hair the warp dragged below the fringe's edge (brows moved down, anger): the skin it would
    # uncover is not in the photo, so those columns keep the warp's fringe
    ed = face_frame(lm)[2]
    dragged = np.clip(carried - share, 0.0, 1.0).sum(0) / max(DRAGGED * ed, 1.0)
    held = 1.0 - np.clip(cv2.GaussianBlur(dragged[None, :].astype(np.float32), (0, 0), max(0.05 * ed, 0.5))[0],
                         0.0, 1.0)
    a = (share * held[None, :] * box_fade(share.shape, ed))[..., None]
    if float(a.max()) < 0.5 / 255.0:
        return after
    kept = after[y0:y1, x0:x1].astype(np.float32) * (1.0 - a) + before[y0:y1, x0:x1].astype(np.float32) * a
    out = after if after is not before else after.copy()
    out[y0:y1, x0:x1] = np.clip(np.round(kept), 0, top).astype(after.dtype)
    return out
