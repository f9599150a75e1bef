"""Editing a frame whose faces are already known, and the expression a track holds.

:func:`edit_faces` is the one place a video frame meets the model (the editing flow,
:mod:`faceedit.flow`): the faces come from the tracker (smoothed landmarks and mesh), not from
a detector.

:class:`ExpressionHold` makes the target a state a person holds while they go on moving: the
edit replaces the slow part of the face's expression state (its mean over about a second) by
the target's, and keeps the rest (talking, blinking) on top:

    new(t) = cur(t) + strength * (goal - slow(t))

so the change applied to the face varies as slowly as ``slow(t)`` does (no flicker from a
frame's landmark noise), while the mouth still opens and closes with the speech. The stage
takes the goal as a reference face (its ``like`` option): :meth:`ExpressionHold.reference`
builds the landmarks whose state is ``cur + goal - slow``.
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.align import apply_affine
from faceedit.faces.types import Face
from faceedit.flow import finish_photo, prepare_photo
from faceedit.video.smooth import SlowMean


def edit_faces(editor, pixels: np.ndarray, faces: list[Face], target: str,
               strength: float = 1.0, *, likes: list | None = None,
               exemplars: list[int | None] | None = None, **options) -> tuple[np.ndarray, list]:
    """Edit the given faces of one RGB frame (``target`` already checked) through the editing
    flow (:mod:`faceedit.flow`); returns the new frame (``pixels`` is not changed) and per face
    the stage's :class:`StageEdit` (None without a stage: its moved landmarks, the mouth
    exemplar drawn). ``editor``: a :class:`faceedit.api.Editor` (a flow that also reads a
    ``like`` photo); ``likes``: per face a reference for the stage's ``like`` (landmarks or
    None: the ``like`` of ``options``); ``exemplars``: per face the mouth bank entry to paint
    (None: the best fit). ``options`` as :meth:`Editor.edit`'s."""
    photo = prepare_photo(editor, pixels, faces, target, strength, likes=likes, exemplars=exemplars,
                          **options)
    out = finish_photo(editor, photo, target, strength, **options)
    return (out.copy() if out is pixels else out), list(photo.edits)


class ExpressionHold:
    """Per track: the slow part of its expression state (:class:`SlowMean`, ``seconds``) and the
    reference landmarks that make the stage move the face to ``goal`` plus its own fast moves."""

    def __init__(self, seconds: float = 1.0):
        self.slow = SlowMean(seconds)

    def reference(self, stage, lm: np.ndarray, t: float, target: str, like=None,
                  identity: np.ndarray | None = None) -> np.ndarray | None:
        """Landmarks (canonical frame) whose state is ``cur + goal - slow``; None for ``keep``
        without ``like`` (the face keeps its own state: nothing to hold). ``like``: a
        reference's landmarks (its state is the goal); ``identity``: the track's mean identity
        coordinates (default this frame's)."""
        cur = stage.state(lm)
        slow = self.slow(cur.expression, t)
        if like is not None:
            goal = stage.state(like).expression
        elif target == "keep" or target not in stage.expressions and target != "neutral":
            return None
        else:
            goal = stage.target_state(target, cur)
        want = cur.expression + goal - slow
        ident = cur.identity if identity is None else identity
        y = want.copy()
        for _ in range(4):  # the state estimate shrinks towards the mean: aim past it
            shape = stage.expression_shape(y, ident)
            y = y + (want - stage.state(shape).expression)
        return stage.expression_shape(y, ident)


MOUTH = list(range(48, 68))  # iBUG mouth points (outer 48-59, inner 60-67)
INNER_LIPS = list(range(60, 68))


def _opening(mouth: np.ndarray) -> float:
    """Mean inner-lip opening of the mouth's points (48-67 as rows 0-19)."""
    return float(np.mean([np.linalg.norm(mouth[a - 48] - mouth[b - 48]) for a, b in ((61, 67), (62, 66), (63, 65))]))


def steady_mouth(out: np.ndarray, lm: np.ndarray, prev: tuple | None, keep: float = 0.6, still: float = 0.02,
                 margin: float = 0.35) -> tuple | None:
    """Blend the mouth of an edited frame with the previous edited frame's, moved onto it.

    The stage paints an opened mouth's inside (teeth, the dark of the mouth) from the frame's
    own colours each frame; on a moving face that painting varies a little from frame to frame
    (its region is found from colour), which shows as a shimmer inside the mouth. Here the
    previous frame's mouth is moved onto this one's by the affine that maps its mouth points
    (``lm`` 48-67, after the edit) onto these, and mixed in with weight ``keep`` inside the
    inner lips (feathered off their edge: the lips themselves, which show the opening, are
    this frame's alone). Where the mouth changed shape or opened or closed (speech), less of the
    previous frame is kept, none from a change of ``still`` of its width on.

    ``out`` is changed in place; returns what the next frame needs (``prev``)."""
    import cv2

    pts = np.asarray(lm, np.float64)[MOUTH]
    lo, hi = pts.min(0), pts.max(0)
    width = float(max(hi[0] - lo[0], 1.0))
    pad = margin * width
    h, w = out.shape[:2]
    x0, y0 = int(max(0, np.floor(lo[0] - pad))), int(max(0, np.floor(lo[1] - pad)))
    x1, y1 = int(min(w, np.ceil(hi[0] + pad))), int(min(h, np.ceil(hi[1] + pad)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    if prev is not None:
        frame, ppts = prev
        a, _ = cv2.estimateAffine2D(ppts, pts, method=cv2.LMEDS)
        if a is not None:
            moved = apply_affine(a, ppts)
            change = max(float(np.abs(moved - pts).max()), abs(_opening(pts) - _opening(moved))) / width
            k = keep * float(np.clip(1.0 - change / still, 0.0, 1.0))
            if k > 0:
                shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
                m = np.vstack([shift, [0, 0, 1]]) @ np.vstack([a, [0, 0, 1]])
                back = cv2.warpAffine(frame, m[:2], (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
                inner = np.asarray(lm, np.float64)[INNER_LIPS] - (x0, y0)
                mask = np.zeros((y1 - y0, x1 - x0), np.float32)
                cv2.fillPoly(mask, [np.round(inner * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
                feather = max(1.0, 0.03 * width)
                mask = cv2.GaussianBlur(mask, (0, 0), feather) * mask  # inside, off its edge
                wgt = (k * mask)[..., None]
                roi = out[y0:y1, x0:x1].astype(np.float32)
                out[y0:y1, x0:x1] = np.clip(roi + wgt * (back.astype(np.float32) - roi) + 0.5,
                                            0, 255).astype(out.dtype)
    return out, pts
