"""Moves on a turned face: the far side, foreshortened in the photo, moved less.

The stage's moves are shaped on frontal faces and laid onto a photo's face by a similarity (the
eye distance and line, :meth:`faceedit.stage.state.ExpressionStates.goal_landmarks`): on a face
turned aside every point moves as far across the face as on a frontal one, where the photo
shows the far side's surface foreshortened and the near side's less (issue 55: at yaw -43 a
smile made happy was stretched onto the far cheek, the surprised opening sat off the lips).

:func:`far_side_shares` reads, from the Face Mesh's points and depth, the share of a frontal
move across the face that each of the 68 points shows: with the head's own axes (x from the
outer eye corner 33 to 263, y from the forehead 10 to the chin 152, z their cross product), the
face's depth across it as a parabola in x, and a move along the surface across the face seen
along the eye line in the photo, over what the similarity already gives (the eye line's own
foreshortening). :func:`moved_less` scales the moves' component along the eye line by it, at
most 1 (the near side is not moved more), and only past the tuning's ``frontal_yaw`` (ramped
to full over ``ramp_yaw``, :class:`~faceedit.stage.tuning_face.TurnedTuning`): faces as frontal
as the stage's own (London's, a few degrees) move as they did.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.mesh68 import mesh_to_68
from faceedit.stage.tuning_face import TurnedTuning


def _axes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = p[263] - p[33]
    x /= max(float(np.linalg.norm(x)), 1e-9)
    y = p[152] - p[10]
    y -= x * float(y @ x)
    y /= max(float(np.linalg.norm(y)), 1e-9)
    return x, y, np.cross(x, y)


def far_side_shares(mesh: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(the (68,) shares of a frontal move across the face each of the 68 points shows in the
    photo (1 on a frontal face; under 1 on the far side of a turned one, over 1 on the near
    side), the yaw in degrees, the eye line's unit direction in the photo). ``mesh``: (468, 2)
    photo px; ``depth``: (468,) MediaPipe's z (photo px scale, growing away from the camera)."""
    p = np.column_stack([np.asarray(mesh, np.float64)[:468, :2], np.asarray(depth, np.float64)[:468]])
    x, _, z = _axes(p)
    yaw = float(np.degrees(np.arcsin(np.clip(x[2], -1.0, 1.0))))
    q = p - p.mean(0)
    hx, hz = q @ x, q @ z  # across the face and its depth, in the head's own frame
    a, b, _ = np.polyfit(hx, hz, 2)
    across = mesh_to_68(np.column_stack([hx, hz]))[:, 0]
    slope = 2 * a * across + b  # the face's depth per unit across it, at each of the 68 points
    line = x[:2] / max(float(np.linalg.norm(x[:2])), 1e-9)  # the eye line in the photo
    # a unit move across the surface: (1, slope) in (x, z), seen along the eye line, over the
    # eye line's own share (what the similarity lays)
    shares = (x[:2] @ line + slope * (z[:2] @ line)) / max(float(x[:2] @ line), 1e-9)
    return shares, yaw, line


def moved_less(lm: np.ndarray, goal: np.ndarray, mesh: np.ndarray | None, depth: np.ndarray | None,
               tuning: TurnedTuning | None = None) -> np.ndarray:
    """``goal`` (68, 2) with each point's move from ``lm`` along the eye line scaled by its
    share (:func:`far_side_shares`, at most 1, at least ``tuning.min_share``) on a face turned past
    ``tuning.frontal_yaw``; ``goal`` itself on a nearer frontal face or one without a mesh with
    depth. ``tuning``: the stage's (its defaults where not given)."""
    if mesh is None or depth is None:
        return goal
    tuning = tuning or TurnedTuning()
    shares, yaw, line = far_side_shares(mesh, depth)
    ramp = float(np.clip((abs(yaw) - tuning.frontal_yaw) / tuning.ramp_yaw, 0.0, 1.0))
    if ramp == 0.0:
        return goal
    keep = 1.0 - ramp * (1.0 - np.clip(shares, tuning.min_share, 1.0))
    lm, goal = np.asarray(lm, np.float64), np.asarray(goal, np.float64)
    move = goal - lm
    along = move @ line
    return lm + move - ((1.0 - keep) * along)[:, None] * line[None, :]
