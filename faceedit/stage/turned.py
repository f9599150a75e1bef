"""A turned face planned as a frontal one: its move read off the face turned to the front, and
laid back onto the photo through the head's own turn.

The stage's states and moves are shaped on frontal faces and laid onto a photo's face by a
similarity (the eye distance and line, :meth:`faceedit.stage.state.ExpressionStates.goal_landmarks`).
On a face turned aside that similarity reads the photo's foreshortening (the far side narrowed,
the near side widened, the mouth nearer the far cheek's outline) as expression, and the move
to a target takes it away: at yaw -43 a smile pulled the far mouth corner 0.37 eye distances
out onto the far cheek's outline and the near one 0.23, and the surprised and neutral mouths
slid towards the far side (issue 55). A face tipped back or bowed is foreshortened down the
face alike, and the similarity reads it as a shorter face and a flatter mouth: a laughing face
bowed 28 degrees and rolled 16 (insightface's group photo) made surprised had its corners moved
down 0.09 and 0.14 eye distances and its opening drawn as a tilted D.

:func:`head_frame` reads the head's own axes from the Face Mesh's points and depth (x from the
outer eye corner 33 to 263, y from the forehead 10 to the chin 152, z their cross product). The
stage plans its move on :meth:`HeadFrame.frontal` (the 68 points with their mesh depth turned to
the front: the head frame's x and y), and :meth:`HeadFrame.photo_goal` lays the planned move back
onto the photo: a move across the face slides along its surface (the face's depth across it as a
parabola in x), so it shows in the photo along the head's x axis and its depth axis, by the
surface's slope there (the far side foreshortened, the near side less; no point moved further
across than on a frontal face, none less than ``min_share`` of the eye line's own
foreshortening); a move down the face along the head's y axis (as much shorter as the head is
tipped). Both come in past the tuning's ``frontal_yaw`` (or ``frontal_pitch`` from
``level_pitch``), ramped to full over ``ramp_yaw`` (:class:`~faceedit.stage.tuning_face.TurnedTuning`):
faces as frontal as the stage's own (London's, a few degrees aside, -17 to 8 tipped) are planned
on the photo's points as they are.

A turned face's plan is made on its points turned to the front and on their mirror image, and
its move and the smile it takes away are the two plans' mean (:func:`plan_sides`,
:class:`Sides`): the stage's state reads a face's two sides unequally (AU12, the smile, of
portrait_112's points turned to the front 0.00, mirrored 0.94; group_t1#1 1.32 and 1.00), and
a turned face's two sides come from unequal evidence (the far side foreshortened, its depth the
Face Mesh's guess): read on one side's terms alone, a one-sided smile can read as none.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.faces.landmarks import FLIP
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.stage.records import StageRequest, Statistics
from faceedit.stage.smile import smile_taken
from faceedit.stage.state import FaceState, close_lips
from faceedit.stage.tuning_face import TurnedTuning


def _axes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = p[263] - p[33]
    x /= max(float(np.linalg.norm(x)), 1e-9)
    y = p[152] - p[10]
    y -= x * float(y @ x)
    y /= max(float(np.linalg.norm(y)), 1e-9)
    return x, y, np.cross(x, y)


def head_yaw(mesh: np.ndarray, depth: np.ndarray) -> float:
    """The head's yaw in degrees (the x axis's turn into the depth; above 0 where the image's
    right side of the face is the deeper one). ``mesh``: (468, 2) photo px; ``depth``: (468,)."""
    p = np.column_stack([np.asarray(mesh, np.float64)[:468, :2], np.asarray(depth, np.float64)[:468]])
    x = _axes(p)[0]
    return float(np.degrees(np.arcsin(np.clip(x[2], -1.0, 1.0))))


@dataclass(frozen=True)
class HeadFrame:
    """One turned face's head frame: ``centre`` (3,) and ``axes`` (3, 3; rows x, y, z in the
    photo's x, y and depth), the 68 points' mesh depth ``depth68`` (68,), ``across`` (68, 2) the
    photo move of a unit frontal move across the face at each of the 68 points, ``facing``
    (468,) the same along the eye line at each mesh point over the eye line's own (at or under
    0: the surface there turned away from the camera, hidden), the ``yaw`` and ``pitch``
    (degrees, :func:`faceedit.faces.reading.mesh_pose`'s signs), ``ramp`` (0..1) how far the
    frontal plan comes in (by the yaw or the pitch, whichever is further past its frontal
    range) and ``aside`` (0..1) how far by the yaw alone (what a turn aside hides)."""

    centre: np.ndarray
    axes: np.ndarray
    depth68: np.ndarray
    across: np.ndarray
    facing: np.ndarray
    yaw: float
    pitch: float
    ramp: float
    aside: float

    @property
    def line(self) -> np.ndarray:
        """(2,) the eye line's unit direction in the photo."""
        x = self.axes[0, :2]
        return x / max(float(np.linalg.norm(x)), 1e-9)

    def frontal(self, points: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """(N, 2) photo ``points`` at ``depth`` (N,; default the 68 points' own, ``depth68``)
        turned to the front (the head frame's x and y about the centre's photo position),
        ``ramp`` of the way."""
        pts = np.asarray(points, np.float64)
        z = self.depth68 if depth is None else np.asarray(depth, np.float64)
        q = np.column_stack([pts, z]) - self.centre
        front = self.centre[:2] + q @ self.axes[:2].T
        return pts + self.ramp * (front - pts)

    def frontal_irises(self, irises: np.ndarray | None) -> np.ndarray | None:
        """(2, 5, 2) the irises' points (:func:`faceedit.faces.iris.iris_points`) turned to the
        front, each at its eye's mean depth (the 68 points 36-41, 42-47); None for None."""
        if irises is None:
            return None
        pts = np.asarray(irises, np.float64)
        depth = np.repeat([self.depth68[36:42].mean(), self.depth68[42:48].mean()], pts.shape[1])
        return self.frontal(pts.reshape(-1, 2), depth).reshape(pts.shape)

    def photo_goal(self, lm: np.ndarray, planned: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """The photo's 68 points ``lm`` moved as the plan moves ``planned`` (:meth:`frontal`'s
        points) to ``goal``: across the face by ``across``, down it along the head's y axis,
        ``ramp`` of the way (the plan's own move the rest)."""
        move = np.asarray(goal, np.float64) - np.asarray(planned, np.float64)
        shown = move[:, :1] * self.across + move[:, 1:2] * self.axes[1, :2][None, :]
        return np.asarray(lm, np.float64) + (1.0 - self.ramp) * move + self.ramp * shown


def head_frame(mesh: np.ndarray | None, depth: np.ndarray | None,
               tuning: TurnedTuning | None = None) -> HeadFrame | None:
    """The head frame of a face turned past ``tuning.frontal_yaw`` or tipped past
    ``tuning.frontal_pitch`` from ``tuning.level_pitch`` (:class:`HeadFrame`); None for a nearer
    frontal face or one without a mesh with depth. ``mesh``: (468, 2) photo px;
    ``depth``: (468,) MediaPipe's z (photo px scale, growing away from the camera)."""
    if mesh is None or depth is None:
        return None
    tuning = tuning or TurnedTuning()
    p = np.column_stack([np.asarray(mesh, np.float64)[:468, :2], np.asarray(depth, np.float64)[:468]])
    x, y, z = _axes(p)
    yaw = float(np.degrees(np.arcsin(np.clip(x[2], -1.0, 1.0))))
    pitch = float(np.degrees(np.arcsin(np.clip(-y[2], -1.0, 1.0))))
    aside = float(np.clip((abs(yaw) - tuning.frontal_yaw) / tuning.ramp_yaw, 0.0, 1.0))
    tipped = float(np.clip((abs(pitch - tuning.level_pitch) - tuning.frontal_pitch) / tuning.ramp_yaw, 0.0, 1.0))
    ramp = max(aside, tipped)
    if ramp == 0.0:
        return None
    centre = p.mean(0)
    q = p - centre
    hx, hz = q @ x, q @ z  # across the face and its depth, in the head's own frame
    a, b, _ = np.polyfit(hx, hz, 2)
    across68 = mesh_to_68(np.column_stack([hx, hz]))[:, 0]
    slope = 2 * a * across68 + b  # the face's depth per unit across it, at each of the 68 points
    across = x[None, :2] + slope[:, None] * z[None, :2]  # a unit move across the surface, in the photo
    eye = float(np.linalg.norm(x[:2]))
    line = x[:2] / max(eye, 1e-9)
    facing = (x[:2] @ line + (2 * a * hx + b) * (z[:2] @ line)) / max(eye, 1e-9)
    along = across @ line
    across += (np.clip(along, tuning.min_share * eye, 1.0) - along)[:, None] * line[None, :]
    depth68 = mesh_to_68(np.column_stack([p[:, 2], p[:, 2]]))[:, 0]
    return HeadFrame(centre, np.stack([x, y, z]), depth68, across, facing, yaw, pitch, ramp, aside)


def _mirrored(points: np.ndarray, centre_x: float) -> np.ndarray:
    """(..., 68, 2) points mirrored left to right about x ``centre_x``, renumbered as a face's
    points (:data:`faceedit.faces.landmarks.FLIP`)."""
    out = np.asarray(points, np.float64)[..., list(FLIP), :].copy()
    out[..., 0] = 2.0 * centre_x - out[..., 0]
    return out


@dataclass(frozen=True)
class Sides:
    """One face's plan (:meth:`faceedit.stage.records.Statistics.plan`) and, on a turned face,
    the plan made again on its points mirrored about x ``centre_x`` (``points``, its state
    ``current`` and the state it goes to ``new``; None on a face planned as it is)."""

    centre_x: float = 0.0
    points: np.ndarray | None = None
    current: FaceState | None = None
    new: np.ndarray | None = None

    def goal(self, stage: Statistics, lm: np.ndarray, cur: FaceState, new: np.ndarray, strength: float) -> np.ndarray:
        """The landmarks the face at ``lm`` (state ``cur``) heads for in state ``new``
        (:meth:`~faceedit.stage.state.ExpressionStates.goal_landmarks`): on a turned face the
        mean of that and the mirrored plan's, mirrored back (lips the face's own plan closes,
        closed)."""
        goal = stage.goal_landmarks(lm, cur, new, strength)
        if self.points is None or self.current is None or self.new is None:
            return goal
        other = _mirrored(stage.goal_landmarks(self.points, self.current, self.new, strength), self.centre_x)
        closing = stage.closes_mouth(cur, new, strength)
        mean = (goal + other) / 2
        return close_lips(mean, closing) if closing > 0 else mean

    def taken(self, stage: Statistics, cur: FaceState, new: np.ndarray) -> float:
        """How much of a smile the plan takes away (:func:`faceedit.stage.smile.smile_taken`):
        on a turned face the mean of its own and the mirrored plan's."""
        own = smile_taken(stage, cur, new)
        if self.current is None or self.new is None:
            return own
        return (own + smile_taken(stage, self.current, self.new)) / 2


def plan_sides(stage: Statistics, turn: HeadFrame | None, lm: np.ndarray, irises: np.ndarray | None,
               request: StageRequest, mediapipe: bool) -> tuple[FaceState, np.ndarray, Sides]:
    """The face's state and the state it goes to (``stage.plan`` of ``request`` on the 68 points
    ``lm`` with ``irises``), and its :class:`Sides`: on a turned face (``turn``; ``lm`` and
    ``irises`` turned to the front) the same plan made on them mirrored (a reference ``like``
    mirrored too)."""
    def plan(points: np.ndarray, eyes: np.ndarray | None, like: np.ndarray | None) -> tuple[FaceState, np.ndarray]:
        return stage.plan(points, request.target, request.strength, aus=request.aus, like=like, irises=eyes,
                          mediapipe=mediapipe)

    cur, new = plan(lm, irises, request.like)
    if turn is None:
        return cur, new, Sides()
    c = float(np.mean(np.asarray(lm, np.float64)[:, 0]))
    points = _mirrored(lm, c)
    eyes = None if irises is None else np.asarray(irises, np.float64)[::-1] * [-1.0, 1.0] + [2.0 * c, 0.0]
    like = None if request.like is None else _mirrored(request.like, float(np.mean(np.asarray(request.like)[:, 0])))
    return cur, new, Sides(c, points, *plan(points, eyes, like))


@dataclass
class Hidden:
    """What the stage's fills leave as the warp drew it on a turned face: in ``roi`` (x0, y0, x1,
    y1) the pixels ``beyond`` the face's silhouette on its far side, between the eyes' line and
    under the chin (the far side's outline: a smile's folds and the mouth's corner drawn past
    it lay on the background), and the ``nose`` (its 68 points 27-35's hull: on a turned face it
    stands over the far side's upper lip and cheek, and no mouth fill belongs on it); ``kept``
    the warp's pixels there. Masks (H, W) float32 0..1 over the roi, times the turn's ``ramp``."""

    roi: tuple[int, int, int, int]
    beyond: np.ndarray
    nose: np.ndarray
    kept: np.ndarray

    def keep(self, pixels: np.ndarray, nose: bool) -> np.ndarray:
        """``pixels`` (the stage's own, drawn over) with the warp's pixels put back ``beyond``
        the silhouette, and over the nose where ``nose``."""
        x0, y0, x1, y1 = self.roi
        m = np.maximum(self.beyond, self.nose) if nose else self.beyond
        if float(m.max()) <= 0:
            return pixels
        box = pixels[y0:y1, x0:x1]
        mixed = box.astype(np.float32) + m[..., None] * (self.kept.astype(np.float32) - box)
        if np.issubdtype(pixels.dtype, np.integer):
            mixed = np.clip(np.rint(mixed), 0, np.iinfo(pixels.dtype).max)
        pixels[y0:y1, x0:x1] = mixed.astype(pixels.dtype)
        return pixels


def hidden_parts(turn: HeadFrame | None, mesh: np.ndarray | None, lm: np.ndarray, pixels: np.ndarray,
                 tuning: TurnedTuning | None = None) -> Hidden | None:
    """:class:`Hidden` of a turned face (``turn``, :func:`head_frame`) whose Face Mesh is
    ``mesh`` ((468, 2) photo px) and 68 points ``lm``, with ``pixels`` the warp's; None for a
    face planned as it is (``turn`` None) or one tipped but not turned aside (``turn.aside`` 0:
    its outlines are both seen). The face's silhouette: a disc about each mesh point
    facing the camera (``turn.facing`` over ``tuning.facing_share``: the Face Mesh puts the far
    side's hidden points past the outline the photo shows), ``tuning.silhouette_reach`` times
    the mesh's median spacing across, closed and filled."""
    if turn is None or mesh is None or turn.aside == 0.0:
        return None

    tuning = tuning or TurnedTuning()
    xy = np.asarray(mesh, np.float64)[:468, :2]
    lm = np.asarray(lm, np.float64)
    h, w = pixels.shape[:2]
    lo, hi = xy.min(0), xy.max(0)
    pad = 0.1 * float(hi[0] - lo[0]) + 4
    x0, y0 = int(max(np.floor(lo[0] - pad), 0)), int(max(np.floor(lo[1] - pad), 0))
    x1, y1 = int(min(np.ceil(hi[0] + pad), w)), int(min(np.ceil(hi[1] + pad), h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    r = max(1, int(round(tuning.silhouette_reach * float(np.median(d.min(1))))))
    face = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for p in np.round(xy[turn.facing > tuning.facing_share] - [x0, y0]).astype(np.int32):
        cv2.circle(face, (int(p[0]), int(p[1])), r, 1, -1)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * r + 1, 4 * r + 1))
    face = np.asarray(cv2.morphologyEx(face, cv2.MORPH_CLOSE, k), np.uint8)
    contours, _ = cv2.findContours(face, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(face, contours, -1, 1, -1)
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    rel = np.stack([gx - lm[30, 0], gy - lm[30, 1]], -1)
    line = turn.line
    far = (rel @ line) * np.sign(turn.yaw) > 0  # beyond the nose's tip towards the far side
    down = rel @ np.array([-line[1], line[0]])
    eyes = (lm[36:48].mean(0) - lm[30]) @ np.array([-line[1], line[0]])
    chin = (lm[8] - lm[30]) @ np.array([-line[1], line[0]])
    band = (down > eyes) & (down < chin + tuning.below_chin * (chin - eyes))
    beyond = ((face == 0) & far & band).astype(np.float32)
    nose = np.zeros_like(face)
    cv2.fillConvexPoly(nose, np.round(cv2.convexHull(lm[27:36].astype(np.float32)) - [x0, y0]).astype(np.int32), 1)
    soft, ramp = tuning.hidden_feather_px, np.float32(turn.aside)  # coming in with the turn aside
    return Hidden((x0, y0, x1, y1), ramp * cv2.GaussianBlur(beyond, (0, 0), soft),
                  ramp * cv2.GaussianBlur(nose.astype(np.float32), (0, 0), soft), pixels[y0:y1, x0:x1].copy())
