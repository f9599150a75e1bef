"""Whether the warp can hold a face's planned move (:func:`move_decline_reason`): the verdict an
edit follows for every model sitting on the stage, next to :func:`faceedit.faces.reading.decline_reason`.

The move is judged by how far it slides the mouth sideways under the nose
(:func:`mouth_shear`): the mouth's travel across the face, less the nose base's, over the
distance from the nose base down to the mouth's middle (both in the eye line's frame), held to
the limits of :class:`~faceedit.stage.tuning_face.TurnedTuning` (``hold_*``). Real
expressions move the mouth up, down and wider about the face's middle. An open mouth slid
sideways under a nose that stays leaves its teeth at a corner of the old opening and drags the
nose's shadow into the lip: insightface's ``group_t1.jpg`` face 3, a laughing man turned 20
degrees and tipped back 28 (lips 0.17 eye distances apart), slides 0.35 (wink) to 0.51
(surprised) for every target that moves its mouth, and every one of those edits is distorted.
The other open mouths measured (lips over ``hold_open_gap`` apart: the London faces' neutral
and smiling photos at 1350, 450 and 200 px, the world photos, every target;
``bench/bench_hold.py``) slide at most 0.23. Closed or nearly closed lips slide further and hold
(``portrait_112``, turned 22 and tipped back 28, lips 0.08 apart: 0.31-0.43); ``hold_shear``
bounds them above everything measured.

An open mouth showing teeth that the move reshapes without closing is cut along the teeth its
colour shows (:func:`faceedit.stage.lips.find_interior`, :func:`faceedit.stage.mouth_steps.interior_cut`);
where they are found over less than ``narrow_interior`` of its inner corners the cut is the Face
Mesh's loop, which on a laugh lies on the teeth, and the teeth left outside the new opening stand
round it as a black hook along the lips (group_t1's face 3 made surprised or fearful: teeth
found over 0.73 of its corners, its far side turned away). :func:`teeth_cut_reason` declines
those moves.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.landmarks import L_EYE, R_EYE, eye_distance
from faceedit.faces.reading import landmark_pose, mesh_pose
from faceedit.stage.lips import find_interior
from faceedit.stage.mouth_steps import mouth_still
from faceedit.stage.records import FaceEdit, StageFace, StageRequest, Statistics
from faceedit.stage.state import lip_gap
from faceedit.stage.steps import planned
from faceedit.stage.tuning_face import TurnedTuning

#: The nose base's points (31-35) and the mouth's (48-67) among the 68.
NOSE_BASE, MOUTH = slice(31, 36), slice(48, 68)


def mouth_shear(lm: np.ndarray, goal: np.ndarray) -> float:
    """How far the move from 68 points ``lm`` to ``goal`` slides the mouth sideways under the
    nose: the mouth's middle's travel along the eye line, less the nose base's, over the nose
    base's distance to the mouth's middle across it (signed: + towards the image's right eye)."""
    lm, goal = np.asarray(lm, np.float64), np.asarray(goal, np.float64)
    axis = lm[R_EYE].mean(0) - lm[L_EYE].mean(0)
    axis /= max(float(np.linalg.norm(axis)), 1e-9)
    down = np.array([-axis[1], axis[0]])
    nose0, nose1 = lm[NOSE_BASE].mean(0), goal[NOSE_BASE].mean(0)
    mouth0, mouth1 = lm[MOUTH].mean(0), goal[MOUTH].mean(0)
    span = max(float((mouth0 - nose0) @ down), 0.05 * eye_distance(lm))
    return float(((mouth1 - nose1) - (mouth0 - nose0)) @ axis) / span


def move_decline_reason(lm: np.ndarray, goal: np.ndarray, pose: tuple[float, float | None] | None = None,
                        tuning: TurnedTuning | None = None, scale: float = 1.0) -> str | None:
    """Why the planned move from ``lm`` (the 68 points as the stage reads them: lips the photo
    shows sealed closed) to ``goal`` is left undone, or None where the warp holds it; ``pose``
    (yaw, pitch degrees, pitch None where unknown) is named in the reason; ``tuning``: the
    limits (None: the defaults), times ``scale`` (a video track declined on the frame before
    takes them at 0.8, so that it does not flicker at one)."""
    t = tuning or TurnedTuning()
    shear = mouth_shear(lm, goal)
    opened = lip_gap(lm) > t.hold_open_gap
    limit = (t.hold_shear_open if opened else t.hold_shear) * scale
    if abs(shear) <= limit:
        return None
    turn = ""
    if pose is not None:
        yaw, pitch = pose
        turn = f" turned (yaw {yaw:.0f}" + (f", pitch {pitch:.0f})" if pitch is not None else ")")
    mouth = "open mouth" if opened else "mouth"
    return (f"the move would distort a{turn} face: it slides the {mouth} sideways {abs(shear):.2f} of its "
            f"distance under the nose (the warp holds up to {limit:.2f})")


def planned_decline(stage: Statistics, face: StageFace, request: StageRequest, pixels: np.ndarray,
                    scale: float = 1.0) -> str | None:
    """:func:`move_decline_reason` of ``face``'s move as the stage plans it on ``pixels``
    (:func:`faceedit.stage.steps.planned`), its pose from its Face Mesh (else its 68 points),
    the limits times ``scale``; None for a face without 68 landmarks."""
    return judged(stage, face, request, pixels, scale)[1]


def judged(stage: Statistics, face: StageFace, request: StageRequest, pixels: np.ndarray,
           scale: float = 1.0) -> tuple[FaceEdit | None, str | None]:
    """``face``'s planned move (:func:`faceedit.stage.steps.planned`; None without 68
    landmarks) and :func:`planned_decline`'s verdict on it: the plan is what the edit of the
    face on these ``pixels`` starts from (:func:`faceedit.stage.steps.edit_face`'s ``plan``),
    so a face judged and then edited is planned once."""
    edit = planned(stage, face, request, pixels)
    return edit, move_decline(stage, face, edit, scale) or teeth_cut_reason(stage, face, edit, pixels)


def teeth_cut_reason(stage: Statistics, face: StageFace, edit: FaceEdit | None, pixels: np.ndarray) -> str | None:
    """Why ``face``'s planned move ``edit`` is left undone because its open mouth's teeth cannot
    be cut out of ``pixels``, or None: an open mouth (inner lips over ``hold_open_gap`` eye
    distances apart) that the move reshapes without closing its lips, whose teeth the photo
    shows (:func:`faceedit.stage.lips.find_interior`) over less than the edit tuning's
    ``narrow_interior`` of its 68 points' inner corners (60, 64), on a face turned or tipped past
    the turned tuning's ``frontal_yaw`` (a bowed head's loop lies on its teeth). None without a
    Face Mesh."""
    if edit is None or edit.goal is None or edit.mesh is None or edit.closing > 0 or edit.mouth_kept >= 1:
        return None
    lm = edit.landmarks
    if lip_gap(lm) <= stage.tuning.turned.hold_open_gap or mouth_still(lm, edit.goal):
        return None
    shown = find_interior(pixels, edit.mesh, stage.tuning.lips)
    corners = float(np.linalg.norm(lm[64] - lm[60]))
    if shown is None or corners <= 0:
        return None
    share = float(np.linalg.norm(shown[0][-1] - shown[0][0])) / corners
    narrow = stage.tuning.edit.narrow_interior
    if share >= narrow:
        return None
    yaw, pitch = _pose(face, edit)
    if max(abs(yaw), abs(pitch or 0.0)) <= stage.tuning.turned.frontal_yaw:
        return None  # frontal: the Face Mesh's loop lies on the lips (London 114 smiling, its teeth over 0.6)
    turn = f" (yaw {yaw:.0f}" + (f", pitch {pitch:.0f})" if pitch is not None else ")")
    return (f"the move would leave teeth outside the opening: the open mouth's teeth{turn} show over {share:.2f} "
            f"of its width, the cut needs {narrow:.2f}")


def _pose(face: StageFace, edit: FaceEdit) -> tuple[float, float | None]:
    """(yaw, pitch) of ``face`` from its Face Mesh, else (yaw from its 68 points, None)."""
    dense = face.dense
    if dense is not None and np.shape(dense)[0] >= 468 and np.shape(dense)[1] >= 3:
        yaw, pitch, _ = mesh_pose(dense)
        return yaw, pitch
    return landmark_pose(edit.landmarks)[0], None


def move_decline(stage: Statistics, face: StageFace, edit: FaceEdit | None, scale: float = 1.0) -> str | None:
    """:func:`move_decline_reason` of ``face``'s planned move ``edit`` (:func:`judged`)."""
    if edit is None or edit.goal is None:
        return None
    pose = _pose(face, edit)
    return move_decline_reason(edit.landmarks, edit.goal, pose, stage.tuning.turned, scale)
