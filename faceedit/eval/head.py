"""What lies outside a head, found without the stage's mattes: the yardstick of the hair and skin
edits (an edit of the head must leave it as it was); and what of the hair's strands a recolour
keeps (:func:`strands_kept`).

:func:`outside_head` marks the pixels of a photo that are surely not the face, its hair, ears or
neck: the face's outline (its 68 points' jaw closed over the brows lifted by :data:`FOREHEAD`
eye distances) grown by :data:`MARGIN`, and, where the photo has a plain backdrop (a smooth
colour surface fitted to its border strips above the chin explains them to within
:data:`WALL_FIT` Lab units), everything connected to that which is neither backdrop nor clothes
(a bright, grey pixel below the chin, less red than any skin: :data:`CLOTHES_L`,
:data:`CLOTHES_CHROMA`, :data:`CLOTHES_RED`): the hair, a ponytail on the shoulder, the neck and
the chest's skin. Where the backdrop is not plain (a scene), the hair is taken as lying within
:data:`SCENE_MARGIN` of the outline above the nose's tip (hair that falls below the ears is not
allowed for there), the ears within :data:`SCENE_BELOW` of it below that, and the neck as the
jaw's column below the chin. What is marked head is grown by :data:`GUARD` eye distances (a
strand's soft edge belongs to the hair) and the rest is outside. Backdrop and clothes are both
outside: a skin or hair edit may change neither. :func:`next_to_head` is the band of it right
beside the head.

numpy and OpenCV only; the landmarks are the 68-point iBUG layout.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance

#: The forehead above the brows, and the head's reach beyond the face's outline, in eye distances.
FOREHEAD, MARGIN = 0.9, 0.45
#: Where the backdrop is a scene: the hair's reach beyond the outline above the nose's tip, and the
#: head's (ears) below it (eye distances).
SCENE_MARGIN, SCENE_BELOW = 1.1, 0.25
#: The band round what is head that is not counted as outside (eye distances).
GUARD = 0.12
#: The band beside the head (eye distances beyond the guard band) that :func:`next_to_head` marks.
NEXT_TO = 0.5
#: The backdrop's border strips (share of the photo's width and height), the quadratic surface's
#: largest 90th-percentile residual (Lab units) for the backdrop to be plain, and a pixel's
#: residual under which (or under 3x the fit's 90th percentile) it is backdrop.
STRIP, WALL_FIT, WALL_DELTA = 0.05, 6.0, 7.0
#: Clothes: below the chin, Lab L over this, chroma under this and red (a) under this (skin,
#: however pale, is redder).
CLOTHES_L, CLOTHES_CHROMA, CLOTHES_RED = 60.0, 10.0, 2.0


def face_hull(lm: np.ndarray) -> np.ndarray:
    """(N, 2) the face's outline: the jaw (points 0-16) closed over the brows lifted by
    :data:`FOREHEAD` eye distances."""
    lm = np.asarray(lm, np.float64)
    up = lm[27] - lm[8]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    return np.concatenate([lm[:17], lm[26:16:-1] + FOREHEAD * eye_distance(lm) * up])


def _disc(r: float) -> np.ndarray:
    k = 2 * max(1, int(round(r))) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def backdrop(pixels: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """bool (H, W): the pixels of a plain backdrop (module doc), or None where the border strips
    above the chin are not one smooth colour surface."""
    h, w = pixels.shape[:2]
    top = np.iinfo(pixels.dtype).max if pixels.dtype.kind in "ui" else 1.0
    lab = cv2.cvtColor(pixels.astype(np.float32) / np.float32(top), cv2.COLOR_RGB2Lab)
    chin = float(np.asarray(lm)[8, 1])
    sx, sy = max(2, int(STRIP * w)), max(2, int(STRIP * h))
    strips = np.zeros((h, w), bool)
    strips[:sy] = True
    strips[: int(max(chin, sy)), :sx] = strips[: int(max(chin, sy)), -sx:] = True
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    terms = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], -1)
    coef = np.linalg.lstsq(terms[strips], lab[strips], rcond=None)[0]
    residual = np.linalg.norm(lab - terms @ coef, axis=-1)
    fit = float(np.percentile(residual[strips], 90))
    if fit > WALL_FIT:
        return None
    return residual < max(WALL_DELTA, 3.0 * fit)


def head_mask(pixels: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """bool (H, W): the head (face, hair, ears, neck) of the face at 68 landmarks ``lm`` in
    ``pixels`` ((H, W, 3) RGB), as the module doc finds it, before the guard band."""
    lm = np.asarray(lm, np.float64)
    h, w = pixels.shape[:2]
    d = eye_distance(lm)
    face = np.zeros((h, w), np.uint8)
    cv2.fillPoly(face, [np.round(cv2.convexHull(face_hull(lm).astype(np.float32))[:, 0]).astype(np.int32)], 1)
    wall = backdrop(pixels, lm)
    if wall is None:
        head = cv2.dilate(face, _disc(SCENE_MARGIN * d)) > 0
        nose = int(np.clip(lm[33, 1], 0, h))
        head[nose:] = cv2.dilate(face, _disc(SCENE_BELOW * d))[nose:] > 0
        jaw = lm[[3, 13], 0]
        head[int(lm[8, 1]):, int(jaw.min()):int(np.ceil(jaw.max()))] = True
        return head
    near = cv2.dilate(face, _disc(MARGIN * d)) > 0
    top = np.iinfo(pixels.dtype).max if pixels.dtype.kind in "ui" else 1.0
    lab = cv2.cvtColor(pixels.astype(np.float32) / np.float32(top), cv2.COLOR_RGB2Lab)
    below = np.arange(h)[:, None] > lm[8, 1]
    clothes = below & (lab[..., 0] > CLOTHES_L) & (np.hypot(lab[..., 1], lab[..., 2]) < CLOTHES_CHROMA)
    clothes &= lab[..., 1] < CLOTHES_RED
    body = (~wall & ~clothes) | near
    n, labels = cv2.connectedComponents(body.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[near])] = True
    keep[0] = False
    return keep[labels] | near


def outside_head(pixels: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """bool (H, W): the pixels of ``pixels`` ((H, W, 3) RGB) surely outside the head of the face
    at 68 landmarks ``lm``: backdrop and clothes beyond :data:`GUARD` of its face, hair, ears
    and neck (module doc)."""
    head = head_mask(pixels, lm).astype(np.uint8)
    return cv2.dilate(head, _disc(GUARD * eye_distance(lm))) == 0


def next_to_head(pixels: np.ndarray, lm: np.ndarray, reach: float = NEXT_TO) -> np.ndarray:
    """bool (H, W): the pixels of :func:`outside_head` within ``reach`` eye distances of its
    guard band: the backdrop and clothes right beside the head, where a matte that spills over
    the head's outline shows (a keyhole of tinted wall round head and neck)."""
    d = eye_distance(lm)
    head = cv2.dilate(head_mask(pixels, lm).astype(np.uint8), _disc(GUARD * d))
    return (head == 0) & (cv2.dilate(head, _disc(reach * d)) > 0)


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """PSNR (dB, peak 255 for uint8, the type's top otherwise) of ``b`` against ``a`` over the
    pixels ``where`` (bool (H, W)); inf where they are equal there."""
    top = float(np.iinfo(a.dtype).max) if a.dtype.kind in "ui" else 1.0
    diff = a[where].astype(np.float64) - b[where].astype(np.float64)
    mse = float(np.mean(diff * diff)) if diff.size else 0.0
    return float("inf") if mse == 0 else 10.0 * np.log10(top * top / mse)


#: Rec. 601 luma weights.
LUMA = np.array([0.299, 0.587, 0.114])
#: The window (px, at the photo's pixels) of the luma's local standard deviation.
TEXTURE_WINDOW = 7


def local_std(y: np.ndarray, k: int = TEXTURE_WINDOW) -> np.ndarray:
    """The local standard deviation of ``y`` ((H, W) float) in ``k`` x ``k`` windows."""
    m = cv2.blur(y, (k, k))
    return np.sqrt(np.maximum(cv2.blur(y * y, (k, k)) - m * m, 0.0))


def strands_kept(before: np.ndarray, after: np.ndarray, hair: np.ndarray) -> dict[str, float]:
    """What a recolour (``before`` -> ``after``, (H, W, 3) RGB) keeps of the hair at ``hair``
    (bool (H, W)): ``change`` the mean luma change there; ``texture`` the ratio after / before of
    the luma's mean local standard deviation (:data:`TEXTURE_WINDOW`; 1: as much strand detail,
    under 1: flatter); ``contrast`` the same ratio of that deviation over the mean luma (the
    strands' relative light and dark); ``corr`` the correlation of the luma before and after
    (1: every strand's light and dark in its place); ``top`` the share of the brightest tenth
    before that is in the brightest tenth after (highlights stay the brightest part)."""
    a, b = before.astype(np.float64) @ LUMA, after.astype(np.float64) @ LUMA
    sa, sb = local_std(a)[hair].mean(), local_std(b)[hair].mean()
    ma, mb = a[hair].mean(), b[hair].mean()
    top_a = a[hair] >= np.percentile(a[hair], 90)
    top_b = b[hair] >= np.percentile(b[hair], 90)
    return {"change": float(mb - ma), "texture": float(sb / max(sa, 1e-6)),
            "contrast": float((sb / max(mb, 1e-6)) / max(sa / max(ma, 1e-6), 1e-9)),
            "corr": float(np.corrcoef(a[hair], b[hair])[0, 1]),
            "top": float((top_a & top_b).sum() / max(int(top_a.sum()), 1))}
