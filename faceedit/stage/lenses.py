"""Eyes the photo hides (sunglasses, a deep shadow: :func:`faceedit.faces.reading.eyes_hidden`): the edit
holds the brows and the eyes where they are (:func:`hold_eyes`) and keeps the photo's own pixels where it
shows a lens round an eye (:func:`keep_lenses`). Bent with the eyes, a lens stood tall made surprised and
smeared made neutral; held, the shading the target paints round the eyes still greyed its lower half."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.faces.reading import NOSE_WINGS, nose_cheek
from faceedit.pixels import luma, pixel_max
from faceedit.stage.tuning import EyesTuning


def hold_eyes(goal: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """``goal`` (68 points) with its brows (17-26) and eyes (36-47) where ``lm`` has them."""
    out = np.array(goal, np.float64)
    lm = np.asarray(lm, np.float64)
    out[17:27], out[36:48] = lm[17:27], lm[36:48]
    return out


def lens_mask(source: np.ndarray, lm: np.ndarray, tuning: EyesTuning | None = None
              ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """(box, coverage 0..1 float32 over it) of the lenses ``source`` shows round the eyes of the face at ``lm``:
    within an oval of ``tuning.lens_box`` round each eye's middle, the pixels darker than ``lens_dark`` of the
    cheek's median luma beside the nose's wing (the lighter side's), closed by ``lens_close`` of an eye distance,
    softened by ``lens_soft`` px; None where there is none."""
    tn = tuning if tuning is not None else EyesTuning()
    lm = np.asarray(lm, np.float64)
    eye = eye_distance(lm)
    h, w = source.shape[:2]
    centres = [lm[36:42].mean(0), lm[42:48].mean(0)]
    half = np.array(tn.lens_box) * eye
    x0, y0 = np.maximum(np.floor(np.min(centres, 0) - half).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(np.max(centres, 0) + half).astype(int) + 1, (w, h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    y = luma(source[y0:y1, x0:x1, :3].astype(np.float32) / pixel_max(source.dtype))
    cheeks = []
    for side, k in zip((-1.0, 1.0), NOSE_WINGS):
        patch = source[nose_cheek(lm[k], side, eye)][..., :3]
        if patch.size:
            cheeks.append(float(np.median(luma(patch.astype(np.float32) / pixel_max(source.dtype)))))
    if not cheeks:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    near = np.zeros(y.shape, bool)
    for c in centres:
        near |= ((xx - c[0]) / half[0]) ** 2 + ((yy - c[1]) / half[1]) ** 2 <= 1.0
    dark = (near & (y < tn.lens_dark * max(cheeks))).astype(np.uint8)
    if not dark.any():
        return None
    k = max(1, int(round(tn.lens_close * eye)))
    shut = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    return (int(x0), int(y0), int(x1), int(y1)), cv2.GaussianBlur(shut.astype(np.float32), (0, 0), tn.lens_soft)


def keep_lenses(source: np.ndarray, out: np.ndarray, lm: np.ndarray, tuning: EyesTuning | None = None) -> np.ndarray:
    """``out`` (the edit of ``source``, the face at ``lm`` held round its eyes: :func:`hold_eyes`) with the
    lenses ``source`` shows there (:func:`lens_mask`) as ``source`` has them: the target's shading and folds
    painted round the eyes left off them. Returns ``out`` itself where there is none, else a new array."""
    found = lens_mask(source, lm, tuning)
    if found is None:
        return out
    (x0, y0, x1, y1), m = found
    result = out.copy()
    a = m[..., None] if out.ndim == 3 else m
    mixed = out[y0:y1, x0:x1].astype(np.float32) * (1 - a) + source[y0:y1, x0:x1].astype(np.float32) * a
    result[y0:y1, x0:x1] = np.clip(np.rint(mixed), 0, pixel_max(out.dtype)).astype(out.dtype)
    return result
