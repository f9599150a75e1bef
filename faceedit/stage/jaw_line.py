"""The jaw line's move kept smooth along the whole line.

The state's expression axes move the jaw's points 6-10 alone across the face (the chin and its
neighbours; 0-5 and 11-16 barely), so a plan that reads a sideways move there (a laugh's open
jaw, or a turned face's foreshortening read as expression) shifts 9 and 10 across while 11
stays: a kink in the jaw line. insightface's group_t1 face 3 (yaw -20, laughing) made neutral,
planned turned to the front, moved 9 and 10 0.06 and 0.09 eye distances across with 11 at 0.
:func:`jaw_line` spreads the across move of the jaw's points 0-16 along the line: the least
squares nearest to it whose second differences along the line cost :data:`JAW_SMOOTH` times
their square (its ends, 0 and 16, where they were moved). The move down the face is
:func:`faceedit.stage.moves.jaw_follows`' (each point's share of the chin's).
"""

from __future__ import annotations

import numpy as np

from faceedit.stage.moves import face_frame, jaw_follows

#: The weight of the jaw's across move's second differences against its own change
#: (:func:`jaw_line`). London's training smiles made neutral, as photographed and turned by the
#: ``head_yaw`` control (``bench/measure_jaw_kink.py``): the largest second difference along the
#: jaw's planned move, median 0.046 and 0.074 eye distances at 0, 0.015 and 0.015 at 8 (the
#: people's own smiling-to-neutral moves 0.011); from 2 to 32 the 90th percentiles (0.030-0.032)
#: and the largest (0.037-0.042) stay, the rest being the chin's drop down the face.
JAW_SMOOTH = 8.0


def _smoother(weight: float) -> np.ndarray:
    """(17, 17) the linear map from the jaw's across moves to the smoothed ones: ``(I + w
    D^T D)^-1`` with D the second differences along the line, its ends held."""
    n = 17  # the 68 points' jaw line, 0-16
    d = np.zeros((n - 2, n))
    for i in range(n - 2):
        d[i, i:i + 3] = (1.0, -2.0, 1.0)
    a = np.eye(n) + weight * d.T @ d
    rhs = np.eye(n)
    for end in (0, n - 1):  # the ends keep their own move
        a[end] = 0.0
        a[end, end] = 1.0
    return np.asarray(np.linalg.solve(a, rhs), np.float64)


def smooth_jaw(lm: np.ndarray, goal: np.ndarray, weight: float | None = None) -> np.ndarray:
    """``goal`` with the across move (along the eye line of the face at ``lm``) of the jaw's
    points 0-16 smoothed along the line (:func:`_smoother`, ``weight`` by default
    :data:`JAW_SMOOTH`); the move down the face kept."""
    goal = np.array(goal, np.float64)
    weight = JAW_SMOOTH if weight is None else float(weight)
    if weight <= 0:
        return goal
    lm = np.asarray(lm, np.float64)
    u, _, _ = face_frame(lm)
    jaw = list(range(17))
    across = (goal[jaw] - lm[jaw]) @ u
    goal[jaw] += ((_smoother(weight) @ across) - across)[:, None] * u[None, :]
    return goal


def jaw_line(lm: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """``goal`` with the jaw line following the chin down the face
    (:func:`faceedit.stage.moves.jaw_follows`) and its move across the face smooth along the
    line (:func:`smooth_jaw`)."""
    return smooth_jaw(lm, jaw_follows(lm, goal))


def jaw_kink(lm: np.ndarray, goal: np.ndarray) -> float:
    """The largest second difference along the jaw line (68-point 0-16) of the move from ``lm``
    to ``goal``, in eye distances of ``lm``: 0 for a move that is straight along the line."""
    lm = np.asarray(lm, np.float64)
    m = np.asarray(goal, np.float64)[:17] - lm[:17]
    d2 = m[:-2] - 2.0 * m[1:-1] + m[2:]
    return float(np.linalg.norm(d2, axis=1).max() / max(face_frame(lm)[2], 1e-9))
