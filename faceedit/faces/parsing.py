"""Semantic face masks drawn from 68 landmarks: the labels the face parser is trained on.

LSSL and SeCGAN use a parser trained on Helen's hand-drawn labels, which this machine cannot
fetch. What 68 iBUG landmarks (:mod:`faceedit.faces.landmarks`) determine reliably is drawn
instead, and nothing more:

==========  ============================================================================
background  everything not below: hair, ears, neck, clothes, the scene
skin        the face: convex hull of the jaw line, the brows and a *forehead estimate*
            (the brows moved "up", away from the chin, by ``FOREHEAD_EYE_DISTS`` eye
            distances, the same estimate as the paste-back mask of
            :func:`faceedit.faces.paste.face_mask`), minus the parts below
l_brow      polyline through 17..21 drawn ``BROW_THICKNESS`` eye distances thick
r_brow      the same through 22..26
l_eye       polygon 36..41 (the visible eye: iris, sclera; no lids)
r_eye       polygon 42..47
nose        convex hull of 27..35 (bridge and nostrils)
u_lip       outer upper lip 48..54 closed by the inner upper contour 64..60
l_lip       outer lower lip 54..59, 48 closed by the inner lower contour 60, 67..64
mouth       the inner lip contour 60..67 (teeth, tongue, dark mouth), only when its area is
            at least ``MOUTH_MIN_AREA`` eye distances squared: closed lips have none
==========  ============================================================================

With mattes found from the photo (:func:`parse_with_mattes`, SeCGAN's attribute masks), an eleventh
class, ``hair`` (:data:`CLASSES_HAIR`), takes what a hair matte covers outside the face, and the
brows take the pixels a brow matte covers (their thickness as the photo shows it) instead of the
drawn band; :func:`hair_colour` names a hair matte's colour class.

"left"/"right" are as seen in the image (see :mod:`faceedit.faces.landmarks`). Where the hairline
is, and whether hair, a hat or glasses cover the forehead, the brows or the eyes, landmarks do not
say: hair and forehead skin above the estimate are both *background*, and a fringe over the
estimated forehead is still *skin*. Masks drawn this way (and a parser trained on them) are
landmark geometry rendered as regions, not a segmentation of what is in the picture.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from faceedit.faces.landmarks import (
    BROWS,
    CHIN,
    JAW,
    L_BROW,
    L_EYE,
    LIPS_INNER,
    N_POINTS,
    NOSE,
    R_BROW,
    R_EYE,
    eye_centres,
    eye_distance,
)
from faceedit.faces.paste import FOREHEAD_EYE_DISTS

CLASSES = ["background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "nose", "u_lip", "l_lip", "mouth"]
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}
# Label permutation of a horizontally flipped mask (left and right parts swap).
_MIRRORED = {"l_brow": "r_brow", "r_brow": "l_brow", "l_eye": "r_eye", "r_eye": "l_eye"}
FLIP_CLASSES = [CLASS_INDEX[_MIRRORED.get(c, c)] for c in CLASSES]
#: The classes of :func:`parse_with_mattes`: :data:`CLASSES` and the hair (the parser's weights
#: know the first ten; the hair is background to them).
CLASSES_HAIR = [*CLASSES, "hair"]
HAIR = len(CLASSES)

BROW_THICKNESS = 0.12  # eye distances (about 4.6 px in a 128-px crop of the default template)
MOUTH_MIN_AREA = 0.005  # eye distances squared (about 7 px^2 in a 128-px crop)

PALETTE = np.array(
    [
        [0, 0, 0],  # background
        [230, 190, 150],  # skin
        [120, 70, 20],  # l_brow
        [200, 120, 40],  # r_brow
        [40, 110, 255],  # l_eye
        [40, 220, 255],  # r_eye
        [60, 200, 60],  # nose
        [230, 40, 60],  # u_lip
        [170, 0, 120],  # l_lip
        [255, 255, 0],  # mouth
    ],
    dtype=np.uint8,
)
_UPPER_LIP = [48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60]
_LOWER_LIP = [54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64]
_MOUTH = LIPS_INNER
_SHIFT = 4  # sub-pixel drawing: coordinates in 1/16 px


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p) * (1 << _SHIFT)).astype(np.int32)


def _area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def face_outline(lm: np.ndarray) -> np.ndarray:
    """Convex outline (N,2) of the *skin* region: jaw line, brows and forehead estimate."""
    lm = np.asarray(lm, dtype=np.float64)
    eyes = eye_centres(lm)
    eye_d = float(np.linalg.norm(eyes[1] - eyes[0]))
    up = eyes.mean(0) - lm[CHIN]  # chin -> eyes: "up" in the face, robust to roll
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    brows = lm[BROWS]
    pts = np.vstack([lm[JAW], brows, brows + up * (FOREHEAD_EYE_DISTS * eye_d)])
    return cv2.convexHull(pts.astype(np.float32))[:, 0].astype(np.float64)


def parse_from_landmarks(landmarks, size: int, *, crop_size: int | None = None) -> np.ndarray:
    """(size, size) uint8 label map (indices into :data:`CLASSES`) drawn from iBUG-68
    ``landmarks`` (68,2) given in pixels of a ``crop_size`` crop (default ``size``)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (N_POINTS, 2):
        raise ValueError(f"expected iBUG-68 landmarks of shape (68,2), got {lm.shape}")
    size = int(size)
    if crop_size is not None and crop_size != size:
        lm = (lm + 0.5) * (size / float(crop_size)) - 0.5
    out = np.zeros((size, size), dtype=np.uint8)
    if not np.isfinite(lm).all():
        return out
    eye_d = eye_distance(lm)
    c = CLASS_INDEX

    def fill(poly: np.ndarray, label: int) -> None:
        cv2.fillPoly(out, [_pts(poly)], label, cv2.LINE_8, _SHIFT)

    fill(face_outline(lm), c["skin"])
    fill(cv2.convexHull(lm[NOSE].astype(np.float32))[:, 0], c["nose"])
    thick = max(1, int(round(BROW_THICKNESS * eye_d)))
    for idx, name in ((L_BROW, "l_brow"), (R_BROW, "r_brow")):
        cv2.polylines(out, [_pts(lm[idx])], False, c[name], thick, cv2.LINE_8, _SHIFT)
    fill(lm[L_EYE], c["l_eye"])
    fill(lm[R_EYE], c["r_eye"])
    fill(lm[_UPPER_LIP], c["u_lip"])
    fill(lm[_LOWER_LIP], c["l_lip"])
    if _area(lm[_MOUTH]) >= MOUTH_MIN_AREA * eye_d * eye_d:
        fill(lm[_MOUTH], c["mouth"])
    return out


def one_hot(labels, num_classes: int = len(CLASSES)) -> torch.Tensor:
    """Label map(s) (H,W) or (B,H,W), numpy or tensor -> float32 tensor (C,H,W) or (B,C,H,W)."""
    t = torch.as_tensor(np.asarray(labels) if not torch.is_tensor(labels) else labels).long()
    if t.ndim not in (2, 3):
        raise ValueError(f"expected a label map (H,W) or (B,H,W), got {tuple(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {int(t.min())}..{int(t.max())}")
    oh = torch.nn.functional.one_hot(t, num_classes).float()
    return oh.permute(2, 0, 1) if t.ndim == 2 else oh.permute(0, 3, 1, 2)


def colorize(labels) -> np.ndarray:
    """(H,W) label map -> (H,W,3) uint8 RGB in :data:`PALETTE` colours."""
    return PALETTE[np.asarray(labels, dtype=np.intp)]


def overlay(image: np.ndarray, labels, alpha: float = 0.5) -> np.ndarray:
    """``image`` ((H,W) or (H,W,3) uint8) with the label map blended over it (background left
    as it is). A label map of another size is resized to the image (nearest)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"overlay expects uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = img[:, :, :3]
    lab: np.ndarray = np.asarray(labels, dtype=np.uint8)
    if lab.shape != img.shape[:2]:
        lab = cv2.resize(lab, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
    col = colorize(lab).astype(np.float32)
    a = (lab > 0)[:, :, None] * float(alpha)
    return np.round(img.astype(np.float32) * (1 - a) + col * a).astype(np.uint8)


def parse_with_mattes(landmarks, size: int, *, hair: np.ndarray | None = None,
                      brows: np.ndarray | None = None) -> np.ndarray:
    """(size, size) uint8 label map over :data:`CLASSES_HAIR`: :func:`parse_from_landmarks`'s,
    with the brows where ``brows`` (a (size, size) 0..1 matte of both brows) is over 0.5 (each
    pixel the brow whose landmark line is nearer; the drawn band, where the matte is not, goes
    back to skin) and the hair where ``hair`` (a 0..1 matte) is over 0.5 on the background or the
    skin (a hair matte leaves the face within its 68 points out: what it takes of the skin is
    the forehead estimate's fringe)."""
    lm = np.asarray(landmarks, np.float64)
    out = parse_from_landmarks(lm, size)
    c = CLASS_INDEX
    if brows is not None and np.isfinite(lm).all():
        out[(out == c["l_brow"]) | (out == c["r_brow"])] = c["skin"]
        yy, xx = np.mgrid[0:size, 0:size]
        near = []
        for idx in (L_BROW, R_BROW):
            p = lm[idx]
            near.append(np.min((xx[..., None] - p[:, 0]) ** 2 + (yy[..., None] - p[:, 1]) ** 2, axis=-1))
        on = (np.asarray(brows) > 0.5) & np.isin(out, [c["skin"], c["background"]])
        out[on & (near[0] <= near[1])] = c["l_brow"]
        out[on & (near[0] > near[1])] = c["r_brow"]
    if hair is not None:
        out[(np.asarray(hair) > 0.5) & ((out == c["background"]) | (out == c["skin"]))] = HAIR
    return out


#: Hair colour classes by the mean CIE Lab (L 0..100) of a hair matte's core, first match:
#: grey (little chroma, not dark), black (dark), blond (light), red (a strong red share of the
#: chroma), else brown. The bounds are read off the London set's hair mattes (studio light: mean
#: L 12-58, a at most 4.3, b at most 12.6; ``weights/secgan.md`` gives the counts).
HAIR_GREY_CHROMA, HAIR_GREY_L = 5.0, 40.0
HAIR_BLACK_L, HAIR_BLOND_L = 22.0, 40.0
HAIR_RED_A, HAIR_RED_SHARE = 4.0, 0.4


def hair_colour(lab: np.ndarray) -> str:
    """The colour class (one of black, brown, blond, red, grey) of hair whose mean Lab is ``lab``."""
    L, a, b = (float(v) for v in np.asarray(lab, np.float64)[:3])
    chroma = float(np.hypot(a, b))
    if chroma < HAIR_GREY_CHROMA and L >= HAIR_GREY_L:
        return "grey"
    if L < HAIR_BLACK_L:
        return "black"
    if a >= HAIR_RED_A and a >= HAIR_RED_SHARE * b:
        return "red"
    if L >= HAIR_BLOND_L:
        return "blond"
    return "brown"
