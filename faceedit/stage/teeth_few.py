"""A very small face's smile shows a few front teeth: on faces under about 35 photo px between
the eyes (insightface's group_t1 #0 and #5, 29-32 px) real smiles show three or four lit front
teeth, the side teeth falling into the lips' own dark toward the corners; the bank's exemplar
drawn at that scale kept its whole row, a plate of even teeth out to its own corners' black
gaps. :func:`few_teeth` draws the corners of such an opening in the lips' dark instead."""

from __future__ import annotations

import numpy as np

#: A face whose eyes are at most this far apart (the photo's own px) gets :func:`few_teeth`
#: whole, none from the second, smooth between: group_t1's #0 and #5 (29-32 px) whole; the
#: astronaut (43 px, her smile's corners 31-34 px apart: a partial smile on a larger face, whose
#: read ``mouthSmileLeft`` follows its control, ``tests/test_blendshapes.py``) and group_t1's
#: #1 to #4 (40-48 px) none.
FEW_EYE_PX = (34.0, 42.0)
#: From each corner over this share of the corner distance the lips' dark replaces the
#: exemplar (wholly at the corner, none at the share): the middle half of the opening, three or
#: four teeth at a 28-px mouth, stays lit.
FEW_CORNER_SPAN = 0.25
#: The lips' dark there: the lips' colour times this (the exemplar's own corner gap, near
#: black, read as a hole inside the lips).
FEW_CORNER_LUMA = 0.55


def few_weight(eye_px: float, photo_scale: float = 1.0) -> float:
    """How much of :func:`few_teeth` a face whose eyes are ``eye_px`` px apart gets, at the
    photo's own pixels (``eye_px * photo_scale``): 1 up to :data:`FEW_EYE_PX`'s first, 0 from
    its second, smooth between."""
    lo, hi = FEW_EYE_PX
    x = float(np.clip((hi - eye_px * photo_scale) / (hi - lo), 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


def few_teeth(col: np.ndarray, u: np.ndarray, lip: np.ndarray, weight: float) -> np.ndarray:
    """``col`` (n, 3), a smile's exemplar pixels at ``u`` (0..1 from corner to corner), with its
    corners (:data:`FEW_CORNER_SPAN`) going to the lips' dark (``lip``, their RGB in ``col``'s
    units, times :data:`FEW_CORNER_LUMA`), times ``weight`` (:func:`few_weight`): a few front
    teeth lit, the side teeth and the corners' gaps in the lips' shade."""
    if weight <= 0.0:
        return col
    d = np.minimum(np.asarray(u, np.float64), 1.0 - np.asarray(u, np.float64))
    x = np.clip(d / FEW_CORNER_SPAN, 0.0, 1.0)
    c = (weight * (1.0 - x * x * (3.0 - 2.0 * x)))[:, None]
    dark = FEW_CORNER_LUMA * np.asarray(lip, np.float64)[None, :]
    return (col * (1.0 - c) + dark * c).astype(col.dtype)
