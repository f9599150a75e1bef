"""How far a smile made neutral lowers the upper lip's outer line (issue 55), in eye distances of
the face's frame (:func:`~faceedit.stage.moves.face_frame`) below the nose base (68-point 33).

The state's goal lowers the outer upper lip's middle (50-52) of a smile made neutral by what the
expression axes read in the smile's lift: on London's 68 training smiles 0.042 eye distances on
the mean as MediaPipe's points read it, against 0.020 from the same people's smiling to their
neutral photos as the same points read them (dlib's 68-point fit on the edit against the own
neutral: 0.039 and 0.037), and most where the smile lifts it most (a laugh: insightface's
group_t1 face 3 0.08, group_five face 0 0.125). Lowered that far, the philtrum stretches and
the upper lip's red thins over the line where the lips meet (dlib: 0.095 eye distances high on
the edits, 0.110 on the own neutrals). :func:`upper_lip_drop_held` keeps the outer upper lip's
drop beyond :data:`UPPER_DROP_FROM` only :data:`UPPER_DROP_KEEP` of the way; where the lips
meet stays. (The warp then holds a thin upper lip to that plan:
:func:`faceedit.stage.cut_curves.keep_lips_whole`.)
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.moves import face_frame

#: The outer upper lip's drop (eye distances, its middle 50-52 below the nose base 33) a neutral
#: edit makes whole; beyond it ...
UPPER_DROP_FROM = 0.03
#: ... it makes this share of the rest (London's 68 training smiles made neutral,
#: ``bench/measure_upper_lip.py``: the outer line's mean |error| against the own neutral, MediaPipe's
#: points on the goal 0.023 -> 0.015 eye distances, dlib's on the edit 0.018 -> 0.017; a hold
#: from 0 that suits MediaPipe, 0.0075, reads 0.022 by dlib).
UPPER_DROP_KEEP = 0.5
#: The share of the outer upper lip's held-back drop each of its points takes (the corners none:
#: the rest width's and the resting corners' moves, :mod:`faceedit.stage.rest`, are theirs).
UPPER_SHARE = {49: 0.5, 50: 1.0, 51: 1.0, 52: 1.0, 53: 0.5}


def upper_drop(lm: np.ndarray, goal: np.ndarray) -> float:
    """How far (eye distances of ``lm``'s frame) ``goal`` lowers the outer upper lip's middle
    (50-52, their mean) below the nose base (33) against ``lm``."""
    _, n, ed = face_frame(lm)
    lm, goal = np.asarray(lm, np.float64), np.asarray(goal, np.float64)
    now = float((goal[50:53].mean(0) - goal[33]) @ n)
    was = float((lm[50:53].mean(0) - lm[33]) @ n)
    return (now - was) / ed


def upper_lip_drop_held(lm: np.ndarray, goal: np.ndarray, amount: float) -> np.ndarray:
    """``goal`` (68 points of a neutral edit of the face at ``lm``) with the outer upper lip's drop
    (:func:`upper_drop`) beyond :data:`UPPER_DROP_FROM` held back ``amount`` (0..1) of the way to
    :data:`UPPER_DROP_KEEP` of it: the outer upper lip's points (:data:`UPPER_SHARE`) raised up
    the face by their share of what is held back, the inner lips and the corners kept. ``goal``
    itself where the drop is no more than that."""
    amount = min(max(float(amount), 0.0), 1.0)
    excess = upper_drop(lm, goal) - UPPER_DROP_FROM
    if amount <= 0 or excess <= 0:
        return goal
    _, n, ed = face_frame(lm)
    out = np.array(goal, np.float64)
    held = amount * (1.0 - UPPER_DROP_KEEP) * excess * ed
    for i, share in UPPER_SHARE.items():
        out[i] -= share * held * n
    return out
