"""A gasp's lower lip and jaw where the photo shows them, not where the Face Mesh reads them.

MediaPipe's Face Mesh under-reads a mouth opened wide: its inner lower lip lies up in the dark
of the cavity, its outer lower lip with it, and its chin 0.2-0.3 eye distances above the photo's
(its whole lower face is read less open). dlib's 68-point shape predictor, run on the same face,
reads the lips and the jaw where the photo shows them: the Face Mesh's inner-lip gap (68-point 62
to 66) is 0.38-0.81 of dlib's on 25 of JAFFE's 30 posed surprises and on 10 of Yale's 15
``surprised`` photos. Left so, an edit that closes such a mouth moves the Face Mesh's lower lip,
which is the inside of the mouth, and the real lower lip with the lower teeth stays down (JAFFE
KA.SU3 made neutral keeps a slit with the lower teeth in it; dlib finds the edit's chin 0.11-0.21
eye distances below where the stage moved it).

:func:`lower_lip_seen` asks dlib where the lower lip is when the Face Mesh reads the mouth open
tall (:func:`opens_tall`), and where dlib reads it much further open, agrees on the corners and
the upper lip and the photo shows enough under the chin, it moves the lower lip (68-point 55-59
and 65-67) and the jaw line (3-13) to dlib's, and the Face Mesh's points with them by a
thin-plate field that holds the brows, the eyes, the nose, the corners, the upper lip and the
jaw's ends where they are. The stage decides whether a face is a gasp and takes these points on
where its move closes the lips (:func:`faceedit.stage.steps.gasps`).
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.detectors.dlib import dlib_68, dlib_status
from faceedit.faces.landmarks import eye_centres, eye_distance

#: The Face Mesh's opening (its inner lips' gap, 68-point 62 to 66, over the inner corners' 60 to
#: 64 distance) from which dlib is asked (:func:`opens_tall`): a gasp's opening is tall (JAFFE's posed
#: surprises that dlib reads further open 0.19-0.51, Yale's 0.22-0.44), most smiles' wide and low
#: (London's 102 smiles: under 0.16 where dlib reads them further open; a laugh's reads up to 0.30,
#: which the stage tells by the smile its state reads).
OPEN_FROM = 0.16
#: How much further open dlib must read the inner lips (a ratio of the gaps) to be taken.
FURTHER = 1.4
#: How far (eye distances) dlib's mouth corners (48, 54) and upper lip (49-53, 61-63) may lie from
#: the Face Mesh's: beyond, the two read different mouths (a misfit), and nothing is moved.
CORNERS_AGREE = 0.2
UPPER_AGREE = 0.13
#: How much of the photo must lie under dlib's chin (68-point 8), down the face, in shares of the
#: opening dlib reads (62 to 66): a gasp that closes lifts its chin 0.68-0.93 of that (7 of JAFFE's
#: and Yale's), and the neck drawn up into the place it leaves comes from under the old one; nearer
#: the photo's edge the warp reads past it and draws the chin's edge again, mirrored (Yale subject03
#: and subject04; JAFFE's MK and KM, whose crops cut the chin; YM.SU1's collar pulled up).
CHIN_SHOWN = 0.85
#: The 68 points moved (the lower lip, outer and inner; the jaw line but its ends) and those held
#: (the jaw's ends by the ears, the brows, nose, eyes, the corners and the upper lip).
LOWER_LIP = (55, 56, 57, 58, 59, 65, 66, 67)
JAW = tuple(range(3, 14))
HELD = (0, 1, 2, 14, 15, 16) + tuple(range(17, 55)) + (60, 61, 62, 63, 64)
#: The 68 points' box as dlib's HOG detector draws it for its predictor (centre shift and side as
#: fractions of the points' width), measured on 96 London, JAFFE and Yale faces (sd 0.04, 0.08).
BOX_SHIFT = (-0.011, -0.068)
BOX_SIDE = 1.08


def predictor_box(lm: np.ndarray) -> np.ndarray:
    """The box (x0, y0, x1, y1) dlib's predictor expects round a face whose 68 points are ``lm``."""
    lo, hi = lm.min(0), lm.max(0)
    w = float(hi[0] - lo[0])
    c = (lo + hi) / 2 + np.array(BOX_SHIFT) * w
    half = BOX_SIDE * w / 2
    return np.array([c[0] - half, c[1] - half, c[0] + half, c[1] + half])


def _shown_below(lm: np.ndarray, shape: tuple[int, ...]) -> float:
    """How far (px) the photo (of ``shape``) reaches past the chin (68-point 8 of ``lm``) down the
    face (square to the line between the eyes' centres, as the stage's face frame)."""
    left, right = eye_centres(lm)
    d = right - left
    n = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-9)
    h, w = shape[:2]
    ends = [((w - 1 if n[0] > 0 else 0) - lm[8, 0]) / n[0] if abs(n[0]) > 1e-9 else np.inf,
            ((h - 1 if n[1] > 0 else 0) - lm[8, 1]) / n[1] if abs(n[1]) > 1e-9 else np.inf]
    return float(min(ends))


def opens_tall(lm: np.ndarray) -> bool:
    """Whether the 68 points ``lm`` read a mouth open tall (:data:`OPEN_FROM`)."""
    lm = np.asarray(lm, np.float64)
    if lm.shape != (68, 2):
        return False
    width = float(np.linalg.norm(lm[64] - lm[60]))
    return width > 0 and float(np.linalg.norm(lm[66] - lm[62])) >= OPEN_FROM * width


def lower_lip_seen(rgb: np.ndarray, lm: np.ndarray, dense: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(lm, dense)`` with the lower lip and the jaw line moved to where dlib reads them on ``rgb``
    (H, W, 3 uint8) and the Face Mesh's points (``dense``: (N, 2|3), its depth kept) moved with
    them, where the mouth is open tall (:func:`opens_tall`), dlib reads it :data:`FURTHER` times
    as far open, the two agree on the corners and the upper lip and the photo shows enough under
    the chin (:data:`CHIN_SHOWN`); None elsewhere, and where dlib cannot run."""
    lm = np.asarray(lm, np.float64)
    if not opens_tall(lm) or dlib_status() is not None:
        return None
    eye = eye_distance(lm)
    seen = dlib_68(rgb, predictor_box(lm))
    corners = float(np.linalg.norm(seen[[48, 54]] - lm[[48, 54]], axis=1).max()) / eye
    upper = float(np.abs(seen[[49, 50, 51, 52, 53, 61, 62, 63]] - lm[[49, 50, 51, 52, 53, 61, 62, 63]]).max()) / eye
    if float(np.linalg.norm(seen[66] - seen[62])) < FURTHER * float(np.linalg.norm(lm[66] - lm[62])) \
            or corners > CORNERS_AGREE or upper > UPPER_AGREE \
            or _shown_below(seen, rgb.shape) < CHIN_SHOWN * float(np.linalg.norm(seen[66] - seen[62])):
        return None
    from scipy.interpolate import RBFInterpolator

    moved, held = list(LOWER_LIP + JAW), list(HELD)
    field = RBFInterpolator(np.r_[lm[moved], lm[held]], np.r_[seen[moved] - lm[moved], np.zeros((len(held), 2))],
                            kernel="thin_plate_spline")
    out = lm.copy()
    out[moved] = seen[moved]
    if dense is None:
        return out, None
    points = np.array(dense, np.float64)
    points[:, :2] += field(points[:, :2])
    return out, points.astype(np.asarray(dense).dtype)
