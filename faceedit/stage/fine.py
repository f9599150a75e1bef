"""A small face whose move closes its lips edited on a finer copy of itself: the area about it resampled
up, edited there at the photo's own scale (``photo_scale`` the fraction of a pixel here each pixel there is, so every choice the
stage makes by a face's size reads the photo's own size), and only the change brought back down.

At its own pixels a small face's warp resamples lips a pixel or two high: closing a smile's
opening stretched them into a soft, swollen pink block and the smile map then took their faint
ends away, so a smile made neutral at 96-128 px got a pursed mouth far narrower than the person's
real one, while the same photo edited at 1350 px keeps the width
(``bench/measure_neutral_width.py``). Edited on the finer copy, the warp, the seam and the maps work
at a size where the lips have pixels, and the area average back down draws them as the large
edit does.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.records import Carried, FaceEdit, StageEdit, StageFace, StageRequest
from faceedit.stage.steps import edit_face, planned

#: A face whose eye centres lie under this many of the photo's own pixels apart, and whose move closes
#: its lips, is edited on a finer copy (London smiles cut to 128 px: 40 px; to 96 px: 30 px; to 150
#: and 170 px: about 45 and 52 px; skimage's astronaut, 512 px: 43 px).
FINE_BELOW_PX = 60.0
#: ... a video's frame under this many (GRID's talking faces, 360x288, lie between: their lips' closing
#: with the speech was measured at their own pixels, and the finer copy costs every key frame k^2 the pixels).
FINE_BELOW_PX_VIDEO = 42.0
#: The finer copy's eye distance (px) it is resampled up to, in whole steps (1350-px London
#: portraits: about 200 px; at 160 px a 128-px crop's smile made neutral reads as wide as the
#: 1350-px edit cut alike), at most :data:`FINE_MOST` times the photo's own pixels.
FINE_EYE_PX = 160.0
FINE_MOST = 6
#: The area about the face edited on the finer copy: its 68 points' box grown by this share of its
#: size on every side (the warp, the maps and the relight reach past the jaw and brow).
FINE_MARGIN = 1.0


def fine_factor(face: StageFace) -> int:
    """How many times finer the face is edited: 1 (at its own pixels) unless its eye distance at the
    photo's own pixels is under :data:`FINE_BELOW_PX` (a video track's face, one that carries what its
    track found: :data:`FINE_BELOW_PX_VIDEO`), or the face carries a video track's head mattes
    (drawn at the pixels it was edited at)."""
    lm = np.asarray(face.landmarks, np.float64)
    if lm.shape != (68, 2) or (face.carried is not None and face.carried.head is not None):
        return 1
    eye = eye_distance(lm) * float(face.photo_scale)
    if not eye > 0 or eye >= (FINE_BELOW_PX if face.carried is None else FINE_BELOW_PX_VIDEO):
        return 1
    return int(min(max(np.ceil(FINE_EYE_PX / eye), 2), FINE_MOST))


def _area(lm: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The box about the face edited finer: the 68 points' box grown by :data:`FINE_MARGIN`, in the photo."""
    lo, hi = lm.min(0), lm.max(0)
    grow = FINE_MARGIN * (hi - lo)
    x0, y0 = np.maximum(np.floor(lo - grow), 0).astype(int)
    x1, y1 = np.ceil(hi + grow).astype(int)
    return int(x0), int(y0), int(min(x1, shape[1])), int(min(y1, shape[0]))


def edit_fine(stage, face: StageFace, request: StageRequest, pixels: np.ndarray,
              plan: FaceEdit | None = None) -> tuple[np.ndarray, StageEdit]:
    """:func:`~faceedit.stage.steps.edit_face` of one face; a small one (:func:`fine_factor`) whose move
    closes its lips (the plan's ``closing``: a smile made neutral) on a finer copy of the area about it
    (bicubic, ``k`` times): planned again and edited there with its points ``k`` times as far apart and
    ``photo_scale`` over ``k``, and the change (the finer edit less the finer copy) area-averaged back to
    the photo's pixels and added to them, so what the edit leaves is the photo's own to the bit. A small
    face's opened or kept mouth is drawn at its own pixels (its cavity and teeth are set for them,
    :mod:`faceedit.stage.small_cavity`, :mod:`faceedit.stage.teeth_look`). ``plan`` (made on ``pixels``)
    is taken on where the face is edited at its own pixels. The returned landmarks are the photo's; the
    invented region is brought down alike."""
    k = fine_factor(face)
    if k > 1 and plan is None:
        plan = planned(stage, face, request, pixels)
    if k == 1 or plan is None or plan.closing <= 0:  # (an opened or kept mouth: its own pixels' looks)
        return edit_face(stage, face, request, pixels, plan)
    lm = np.asarray(face.landmarks, np.float64)
    x0, y0, x1, y1 = _area(lm, pixels.shape)
    crop = pixels[y0:y1, x0:x1]
    up = cv2.resize(crop, ((x1 - x0) * k, (y1 - y0) * k), interpolation=cv2.INTER_CUBIC)
    shift = np.array([x0, y0], np.float64)
    dense = None
    if face.dense is not None:
        dense = np.array(face.dense, np.float64, copy=True)
        dense[:, :2] = (dense[:, :2] - shift + 0.5) * k - 0.5
        if dense.shape[1] > 2:
            dense[:, 2:] *= k  # (the depth in the same px as x and y)
    fine = dataclasses.replace(face, landmarks=(lm - shift + 0.5) * k - 0.5, dense=dense,
                               photo_scale=float(face.photo_scale) / k)
    edited, done = edit_face(stage, fine, request, up, None)
    back = lambda p: (np.asarray(p, np.float64) + 0.5) / k - 0.5 + shift  # noqa: E731
    if edited is not up:
        change = cv2.resize(edited.astype(np.float32) - up.astype(np.float32), (x1 - x0, y1 - y0),
                            interpolation=cv2.INTER_AREA)
        top = float(np.iinfo(pixels.dtype).max)
        out = pixels.copy()
        out[y0:y1, x0:x1] = np.clip(np.rint(crop.astype(np.float32) + change), 0, top).astype(pixels.dtype)
    else:
        out = pixels
    invented = None
    if done.invented is not None:
        (ix0, iy0, ix1, iy1), cover = done.invented
        box = (x0 + ix0 // k, y0 + iy0 // k, x0 + -(-ix1 // k), y0 + -(-iy1 // k))
        whole = np.zeros(((box[3] - box[1]) * k, (box[2] - box[0]) * k), np.float32)
        ox, oy = ix0 - (box[0] - x0) * k, iy0 - (box[1] - y0) * k
        whole[oy:oy + cover.shape[0], ox:ox + cover.shape[1]] = cover
        invented = (box, cv2.resize(whole, (box[2] - box[0], box[3] - box[1]), interpolation=cv2.INTER_AREA))
    # (mattes drawn at the finer copy's pixels: found again; the brows' depths are in eye widths)
    carried = Carried(done.carried.mouth, None, done.carried.child, done.carried.brows)
    return out, dataclasses.replace(done, landmarks=back(done.landmarks), invented=invented, carried=carried)
