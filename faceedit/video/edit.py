"""The expression a track holds, and the mouth and eyes steadied from frame to frame.

A frame meets the model through :func:`faceedit.flow.edit_frame` (the editing flow), its
faces from the tracker (smoothed landmarks and mesh), not from a detector.

:class:`ExpressionHold` makes the target a state a person holds while they go on moving: the
edit replaces the slow part of the face's expression state (its mean over about a second) by
the target's, and keeps the rest (talking, blinking) on top:

    new(t) = cur(t) + strength * (goal - slow(t))

so the change applied to the face varies as slowly as ``slow(t)`` does (no flicker from a
frame's landmark noise), while the mouth still opens and closes with the speech. The stage
takes the goal as a reference face (its ``like`` option): :meth:`ExpressionHold.reference`
builds the landmarks whose state is ``cur + goal - slow``. The state carries no closed-lips
smile, so the goal's opening would be added to every frame and the lips would never meet for
m, b, p: where the face's own lips meet (the unsmoothed Face Mesh's, :meth:`ExpressionHold.closed_under`),
the reference's inner lips are closed, which the stage honours by closing the goal's
(:func:`faceedit.stage.steps.like_closes`): a talking face made happy closes its lips with
the speech, and one at rest smiles with closed lips. A target that opens the mouth wide
(:data:`SPEECH_WIDE`: surprise) adds its opening graded by how far the face's own lips are
apart (:func:`speech_opening`): all of it from a speech opening (:data:`SPEECH_OPEN`) up, less
of it (a smaller O, the jaw raised with the lips) as the lips come together, none where they
meet, so the lips close with the speech's while the rest of the face (eyes, brows) holds the
target's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from faceedit.faces.align import apply_affine
from faceedit.stage.state import close_lips, lip_gap
from faceedit.video.smooth import SlowMean

#: A tracked face's inner-lip gap (eye distances, :func:`faceedit.stage.state.lip_gap`, of the
#: Face Mesh's unsmoothed 68 points) under which its lips meet whatever the face: the mesh's
#: closed lips read 0.03-0.06 on most of GRID's speakers (dlib's 0.00-0.03), their vowels 0.10-0.28.
SPEECH_CLOSED = 0.065
#: How far above the lowest gap the track has shown its lips still meet (eye distances), up to
#: :data:`SPEECH_CLOSED_MOST`: on a dark-lipped, moustached speaker the mesh reads closed lips
#: at 0.05-0.10 (GRID's swiz3n).
SPEECH_CLOSED_ABOVE = 0.04
SPEECH_CLOSED_MOST = 0.10
#: The face's own gap from which a wide target adds all of its opening (:func:`speech_opening`):
#: a speech vowel's (the mesh's 0.10-0.28).
SPEECH_OPEN = 0.16
#: A goal state's inner-lip gap from which the target's opening is its own move, added graded by
#: the face's own opening (surprise's mean, 0.40); under it (happy's 0.18, fear's 0.17) the
#: target's opening stays and the lips close wherever the face's own meet.
SPEECH_WIDE = 0.3
#: How far (eye distances) the unsmoothed gap that grades a wide target's opening may move before
#: the grading follows it (a backlash: it follows from that far behind): the mesh's noise on a
#: still face (0.01-0.02 on a 256x192 clip) leaves the opening, and its key frames' reuse, as they
#: are (a jump to the new gap instead made 10 key frames of 30 on the test's still clip, this 5),
#: while a speech move (0.03-0.08 a frame on GRID) is followed on its frame, without the
#: tracker's smoothed shape's lag of about a frame.
OPENING_HOLD = 0.02
#: The points a wide target's graded opening moves (iBUG: the jaw line below the ears, the mouth);
#: the others (brows, eyes, nose) keep the target's full state.
LOWER_FACE = [*range(3, 14), *range(48, 68)]


def speech_opening(gap: float, closed: float) -> float:
    """The share (0..1) of a wide target's opening added on a frame whose face's own (unsmoothed)
    inner-lip gap is ``gap``: 0 up to ``closed`` (the lips meet), 1 from :data:`SPEECH_OPEN` (or
    ``closed`` + 0.05 where that is more), a smoothstep between."""
    top = max(SPEECH_OPEN, closed + 0.05)
    x = min(max((gap - closed) / (top - closed), 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def with_opening(stage, y: np.ndarray, ident: np.ndarray, gap: float) -> np.ndarray:
    """The state nearest ``y`` (least change of the landmarks: the expression axes are
    orthonormal) whose face has the inner-lip gap ``gap``: Newton steps along the gap's
    gradient, which lowers or raises the jaw with the lips."""
    y = np.array(y, np.float64)
    for _ in range(3):
        have = lip_gap(stage.expression_shape(y, ident))
        if abs(have - gap) < 1e-3:
            break
        grad = np.array([(lip_gap(stage.expression_shape(y + e, ident)) - have) for e in np.eye(len(y))])
        y = y + grad * (gap - have) / max(float(grad @ grad), 1e-12)
    return y


class ExpressionHold:
    """Per track: the slow part of its expression state (:class:`SlowMean`, ``seconds``) and the
    reference landmarks that make the stage move the face to ``goal`` plus its own fast moves."""

    def __init__(self, seconds: float = 1.0):
        self.slow = SlowMean(seconds)
        self.lowest: float | None = None  # the least unsmoothed lip gap the track has shown
        self.opening: float | None = None  # the unsmoothed gap held within OPENING_HOLD (speech_opening)

    def closed_under(self, gap: float) -> float:
        """The face's own unsmoothed inner-lip gap under which its lips meet, having seen ``gap``:
        :data:`SPEECH_CLOSED`, or :data:`SPEECH_CLOSED_ABOVE` over the least gap the track has
        shown where that is more (a face whose mesh reads its closed lips apart), at most
        :data:`SPEECH_CLOSED_MOST`."""
        self.lowest = gap if self.lowest is None else min(self.lowest, gap)
        return max(SPEECH_CLOSED, min(self.lowest + SPEECH_CLOSED_ABOVE, SPEECH_CLOSED_MOST))

    def reference(self, stage, lm: np.ndarray, t: float, target: str, like=None,
                  identity: np.ndarray | None = None, mouth: np.ndarray | None = None) -> np.ndarray | None:
        """Landmarks (canonical frame) whose state is ``cur + goal - slow``; None for ``keep``
        without ``like`` (the face keeps its own state: nothing to hold). ``like``: a
        reference's landmarks (its state is the goal); ``identity``: the track's mean identity
        coordinates (default this frame's); ``mouth``: the frame's unsmoothed 68 points, whose
        lips' meeting (:meth:`closed_under`) closes the reference's and whose opening grades a
        wide target's mouth (:func:`speech_opening`; default ``lm``): its lower face goes from
        neutral's at rest to the target's by that share, opened by that share of the target's
        opening beyond the face's own (surprise's O whole over lips that meet is a pout). Every
        state is read as the stage reads a tracked face (MediaPipe's points: ``mediapipe=True``),
        so the state the stage reads off the reference is the one aimed at."""
        cur = stage.state(lm, mediapipe=True)
        slow = self.slow(cur.expression, t)
        if like is not None:
            goal = stage.state(like, mediapipe=True).expression
        elif target == "keep" or target not in stage.expressions and target != "neutral":
            return None
        else:
            goal = stage.target_state(target, cur)
        ident = cur.identity if identity is None else identity

        def aimed(goal: np.ndarray) -> np.ndarray:  # the state the stage reads as cur + goal - slow
            want = cur.expression + goal - slow
            y = want.copy()
            for _ in range(4):  # the state estimate shrinks towards the mean: aim past it
                y = y + (want - stage.state(stage.expression_shape(y, ident), mediapipe=True).expression)
            return y

        y = aimed(goal)
        shape = stage.expression_shape(y, ident)
        own = lip_gap(lm if mouth is None else mouth)
        closed = self.closed_under(own)
        if lip_gap(stage.expression_shape(goal, ident)) >= SPEECH_WIDE:  # the mouth graded by the face's opening
            held = own if self.opening is None else min(max(self.opening, own - OPENING_HOLD), own + OPENING_HOLD)
            self.opening = held
            share = speech_opening(held, closed)
            if share < 1.0:  # the lower face from the mouth at rest (neutral's) to the target's by the share,
                # opened by that share of the target's opening beyond the face's own
                rest = aimed(stage.target_state("neutral", cur))
                have, base = lip_gap(shape), lip_gap(lm)
                less = stage.expression_shape(with_opening(stage, rest + share * (y - rest), ident,
                                                           base + share * (have - base)), ident)
                shape = shape.copy()
                shape[LOWER_FACE] = less[LOWER_FACE]
        return close_lips(shape) if own < closed else shape


#: The parts of a face whose painted inside is steadied from frame to frame (:func:`steady_parts`):
#: the points that place it (iBUG), the polygon of its inside, the pairs whose mean distance is
#: its opening. The mouth's inside is the bank's teeth and cavity; an eye's, the iris the stage
#: draws at its own size where the lids opened (:mod:`faceedit.stage.eyes`).
PARTS = {
    "mouth": (list(range(48, 68)), list(range(60, 68)), ((61, 67), (62, 66), (63, 65))),
    "left_eye": (list(range(36, 42)), list(range(36, 42)), ((37, 41), (38, 40))),  # on the image's left
    "right_eye": (list(range(42, 48)), list(range(42, 48)), ((43, 47), (44, 46))),
}


class Steady(NamedTuple):
    """How a part is steadied (:func:`steady_parts`): the weight of the previous frame
    (``keep``); the change of its points or opening (share of its width) from which none of it is
    kept (``still``); the box's margin (share of its width); the difference (0..255 levels) from
    which a pixel is this frame's alone (``gate``: an iris that moved with the gaze leaves no
    trailing copy; None: no such limit); and whether the previous frame is moved by a
    similarity (``rigid``: an eye's six points would fit a blink's squeeze as an affine)."""

    keep: float
    still: float
    margin: float
    gate: float | None
    rigid: bool


STEADY = {"mouth": Steady(0.6, 0.02, 0.35, None, False), "left_eye": Steady(0.6, 0.04, 0.35, 40.0, True),
          "right_eye": Steady(0.6, 0.04, 0.35, 40.0, True)}


def _opening(pts: np.ndarray, idx: list[int], pairs) -> float:
    """Mean distance of the point pairs ``pairs`` (iBUG numbers) of ``pts`` (rows: ``idx``)."""
    row = {i: k for k, i in enumerate(idx)}
    return float(np.mean([np.linalg.norm(pts[row[a]] - pts[row[b]]) for a, b in pairs]))


def steady_parts(out: np.ndarray, lm: np.ndarray, prev: dict | None) -> dict:
    """Blend the mouth and the eyes of an edited frame with the previous edited frame's, moved
    onto it.

    The stage paints an opened mouth's inside (teeth, the dark of the mouth) and an opened
    eye's iris from the frame's own pixels each frame; on a moving face that painting varies a
    little from frame to frame (its region is found from colour, the iris by a search), which
    shows as a shimmer. Here each part of the previous frame is moved onto this one's by the
    transform that maps its points (``lm``, after the edit) onto these, and mixed in
    (:data:`STEADY`) inside its polygon (feathered off its edge: the lips and lids themselves
    are this frame's alone). Where the part changed shape or opened or closed (speech, a
    blink), less of the previous frame is kept; in an eye, a pixel that changed much (the iris
    moving with the gaze) is this frame's alone.

    ``out`` is changed in place; returns what the next frame needs (``prev``)."""
    prev = prev or {}
    return {name: _steady(out, lm, prev.get(name), name) for name in PARTS}


def _steady(out: np.ndarray, lm: np.ndarray, prev: tuple | None, name: str) -> tuple | None:
    import cv2

    idx, inside, pairs = PARTS[name]
    keep, still, margin, gate, rigid = STEADY[name]
    pts = np.asarray(lm, np.float64)[idx]
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
        fit = cv2.estimateAffinePartial2D if rigid else cv2.estimateAffine2D
        a, _ = fit(ppts, pts, method=cv2.LMEDS)
        if a is not None:
            moved = apply_affine(a, ppts)
            change = max(float(np.abs(moved - pts).max()),
                         abs(_opening(pts, idx, pairs) - _opening(moved, idx, pairs))) / width
            k = keep * float(np.clip(1.0 - change / still, 0.0, 1.0))
            if k > 0:
                shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
                m = np.vstack([shift, [0, 0, 1]]) @ np.vstack([a, [0, 0, 1]])
                back = cv2.warpAffine(frame, m[:2], (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
                poly = np.asarray(lm, np.float64)[inside] - (x0, y0)
                mask = np.zeros((y1 - y0, x1 - x0), np.float32)
                cv2.fillPoly(mask, [np.round(poly * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
                feather = max(1.0, 0.03 * width)
                mask = cv2.GaussianBlur(mask, (0, 0), feather) * mask  # inside, off its edge
                roi = out[y0:y1, x0:x1].astype(np.float32)
                if gate is not None:  # what moved (the iris with the gaze) is this frame's
                    diff = np.abs(back - roi).max(-1) if roi.ndim == 3 else np.abs(back - roi)
                    mask = mask * np.clip(1.0 - diff / gate, 0.0, 1.0)
                wgt = (k * mask)[..., None] if roi.ndim == 3 else k * mask
                out[y0:y1, x0:x1] = np.clip(roi + wgt * (back - roi) + 0.5, 0, 255).astype(out.dtype)
    return out, pts
