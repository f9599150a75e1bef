"""Where a region refiner (:mod:`faceedit.models.refine`) works besides the stage's open mouth:
the closed lid the stage draws over an eye, found from the face's 68 landmarks before and after
the stage's edit, in the form :attr:`faceedit.stage.records.StageEdit.invented` has (an roi and
a coverage 0..1 over it), so :func:`faceedit.models.refine.refine_photo` pastes a lid refiner's
change exactly as a mouth refiner's: nothing outside its feathered weight is written.

A lid counts as closed by the edit where the eye's opening after it (the mean distance of
points 37-41 and 38-40, over the eye's width) is under :data:`CLOSED` of the opening before it.
Its region (:func:`lid_region`), column by column over the eye's middle (:data:`TRIM` of its width
left out at each corner): from :data:`ABOVE` eye widths above the photo's upper lid contour
(the lid's skin the stage stretched down from under the crease) down to :data:`CLEAR` eye widths
(at least :data:`CLEAR_PX` px) above the closed eye's lash line (the middle of its upper and lower contours): the lid's skin,
never its lashes or lash line, which are shape, not texture. An eye that stays open has no
region.

:func:`skin_regions` is the real skin a lid refiner's critic sees: the band of an open eye's
upper lid between its lashes and its crease and the band of skin under the eye.
"""

from __future__ import annotations

import numpy as np

#: An eye is closed by the edit where its opening falls under this share of the photo's.
CLOSED = 0.5
#: The lid region's top: eye widths above the photo's upper lid contour.
ABOVE = 0.08
#: The lid region's bottom: eye widths above the closed eye's lash line, at least CLEAR_PX px.
CLEAR = 0.1
CLEAR_PX = 3.0
#: The share of the eye's width left out at each corner.
TRIM = 0.12
#: The eyes' points (image left first): corners, upper contour, lower contour (corner to corner).
EYES = (((36, 37, 38, 39), (36, 41, 40, 39)), ((42, 43, 44, 45), (42, 47, 46, 45)))
#: The real skin bands (:func:`skin_regions`): the open upper lid (shares of the way from the
#: upper contour to the brow) and under the eye (eye widths below the lower contour).
LID_BAND = (0.15, 0.32)
UNDER_BAND = (0.12, 0.32)
#: The share of the eye's width the real skin bands leave out at each corner (the crease and the
#: lashes curve into the bands' ends nearer the corners).
SKIN_TRIM = 0.25
#: The brows' points above each eye (image left first).
BROWS = ((17, 18, 19, 20, 21), (22, 23, 24, 25, 26))

Region = tuple[tuple[int, int, int, int], np.ndarray]


def opening(lm: np.ndarray, eye: int) -> float:
    """Eye ``eye``'s (0: image left) opening over its width (68 points ``lm``)."""
    lm = np.asarray(lm, np.float64)
    up, low = EYES[eye]
    gap = (np.linalg.norm(lm[up[1]] - lm[low[1]]) + np.linalg.norm(lm[up[2]] - lm[low[2]])) / 2
    return float(gap / max(np.linalg.norm(lm[up[3]] - lm[up[0]]), 1e-6))


def _curve(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])


def _as_region(shape: tuple[int, ...], masks: list[np.ndarray], boxes: list[tuple[int, int, int, int]]) -> Region | None:
    """Masks (each over its box) joined into one (roi, coverage) over ``shape``; None if empty."""
    keep = [(m, b) for m, b in zip(masks, boxes) if m.any()]
    if not keep:
        return None
    h, w = shape[:2]
    x0 = max(min(b[0] for _, b in keep), 0)
    y0 = max(min(b[1] for _, b in keep), 0)
    x1 = min(max(b[2] for _, b in keep), w)
    y1 = min(max(b[3] for _, b in keep), h)
    cov = np.zeros((y1 - y0, x1 - x0), np.float32)
    for m, (bx0, by0, bx1, by1) in keep:
        part = m[max(y0 - by0, 0):m.shape[0] - max(by1 - y1, 0), max(x0 - bx0, 0):m.shape[1] - max(bx1 - x1, 0)]
        ty, tx = max(by0, y0) - y0, max(bx0, x0) - x0
        cov[ty:ty + part.shape[0], tx:tx + part.shape[1]] = np.maximum(
            cov[ty:ty + part.shape[0], tx:tx + part.shape[1]], part)
    return (x0, y0, x1, y1), cov


def lid_region(before: np.ndarray, after: np.ndarray, shape: tuple[int, ...]) -> Region | None:
    """The closed lids' region (see the module docstring) of a face whose 68 landmarks were
    ``before`` the stage's edit and are ``after`` it, on a photo of ``shape``: (roi, coverage),
    or None where the edit closes neither eye."""
    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    masks, boxes = [], []
    for eye, (up, low) in enumerate(EYES):
        if opening(after, eye) >= CLOSED * max(opening(before, eye), 1e-6):
            continue
        width = float(np.linalg.norm(before[up[3]] - before[up[0]]))
        xa, xb = before[up[0], 0] + TRIM * width, before[up[3], 0] - TRIM * width
        x0, x1 = int(np.floor(xa)), int(np.ceil(xb)) + 1
        xs = np.arange(x0, x1, dtype=np.float64)
        top = _curve(before[list(up)], xs) - ABOVE * width
        lash = (_curve(after[list(up)], xs) + _curve(after[list(low)], xs)) / 2 - max(CLEAR * width, CLEAR_PX)
        y0, y1 = int(np.floor(top.min())), int(np.ceil(lash.max())) + 1
        if y1 <= y0:
            continue
        yy = np.arange(y0, y1, dtype=np.float64)[:, None]
        inside = (yy >= top[None]) & (yy <= lash[None]) & ((xs >= xa) & (xs <= xb))[None]
        masks.append(inside.astype(np.float32))
        boxes.append((x0, y0, x1, y1))
    return _as_region(shape, masks, boxes)


def skin_regions(lm: np.ndarray, shape: tuple[int, ...]) -> Region | None:
    """Real skin around an open eye's lids (68 points ``lm`` of a photo of ``shape``): per eye, over
    its middle half (:data:`SKIN_TRIM` left out at each corner), the upper lid's band :data:`LID_BAND` of the
    way from the upper contour up to the brow and the band :data:`UNDER_BAND` eye widths under
    the lower contour."""
    lm = np.asarray(lm, np.float64)
    masks, boxes = [], []
    for eye, (up, low) in enumerate(EYES):
        width = float(np.linalg.norm(lm[up[3]] - lm[up[0]]))
        xa, xb = lm[up[0], 0] + SKIN_TRIM * width, lm[up[3], 0] - SKIN_TRIM * width
        x0, x1 = int(np.floor(xa)), int(np.ceil(xb)) + 1
        xs = np.arange(x0, x1, dtype=np.float64)
        upper, lower = _curve(lm[list(up)], xs), _curve(lm[list(low)], xs)
        brow = _curve(lm[list(BROWS[eye])], xs)
        d = upper - brow
        y0 = int(np.floor((upper - LID_BAND[1] * d).min()))
        y1 = int(np.ceil((lower + UNDER_BAND[1] * width).max())) + 1
        yy = np.arange(y0, y1, dtype=np.float64)[:, None]
        lid = (yy >= upper - LID_BAND[1] * d) & (yy <= upper - LID_BAND[0] * d)
        under = (yy >= lower + UNDER_BAND[0] * width) & (yy <= lower + UNDER_BAND[1] * width)
        masks.append(((lid | under) & ((xs >= xa) & (xs <= xb))[None]).astype(np.float32))
        boxes.append((x0, y0, x1, y1))
    return _as_region(shape, masks, boxes)


def region_mask(shape: tuple[int, ...], region: Region | None) -> np.ndarray:
    """``region`` as a whole (H, W) float32 coverage (0 where it is not)."""
    full = np.zeros(shape[:2], np.float32)
    if region is not None:
        (x0, y0, x1, y1), cov = region
        full[y0:y1, x0:x1] = cov
    return full
