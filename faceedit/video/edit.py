"""Editing a frame whose faces are already known, and the expression a track holds.

:func:`edit_faces` is the one place a video frame meets the model: the faces come from the
tracker (smoothed landmarks and mesh), not from a detector.

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

from faceedit.api import Editor
from faceedit.faces.align import align_face, apply_affine
from faceedit.faces.types import Face
from faceedit.flow import crop_landmarks
from faceedit.video.smooth import SlowMean


def edit_faces(editor: Editor, pixels: np.ndarray, faces: list[Face], target: str,
               strength: float = 1.0, *, likes: list | None = None,
               exemplars: list[int | None] | None = None, **options) -> tuple[np.ndarray, list]:
    """Edit the given faces of one RGB frame (``target`` already checked); returns the new frame
    (``pixels`` is not changed) and per face the stage's :class:`StageEdit` (None without a
    stage). ``likes``: per face a reference for the stage's ``like`` (landmarks or None: the
    ``like`` of ``options``); ``exemplars``: per face the mouth bank entry to paint (None: the
    best fit, which the returned edit names). ``options`` as :meth:`Editor.edit`'s."""
    aligned = editor.align(pixels, faces)  # with their paste masks
    out, done = pixels, [None] * len(faces)
    stage = editor.stage
    if stage is not None:
        lighting = options.get("lighting")
        if lighting in (None, "keep") or lighting not in stage.lighting:
            lighting = None
        ref = options.get("like")
        ref = None if ref is None else editor.reference_landmarks(ref)
        restaged = []
        for i, a in enumerate(aligned):
            like = likes[i] if likes is not None and likes[i] is not None else ref
            out, d = stage.edit_photo(
                out, [a.face.landmarks], target, strength,
                lighting=lighting, light=options.get("light"), light_strength=options.get("light_strength"),
                aus=options.get("aus"), like=like, controls=options.get("controls"),
                attrs=editor.stage_attrs(options.get("attrs")), dense=[a.face.dense],
                mouth_exemplar=None if exemplars is None else exemplars[i])
            done[i] = d[0]
        for a, d in zip(aligned, done):
            b = align_face(out, a.face, a.template)
            b.landmarks = apply_affine(b.matrix, d.landmarks)
            b.extra.update(a.extra)
            restaged.append(b)
        aligned = restaged
    out = out.copy() if out is pixels else out
    if aligned and editor.uses_network(target):
        edited = editor.edit_crops(np.stack([a.crop for a in aligned]), target, min(strength, 1.0),
                                   landmarks=crop_landmarks(aligned), **editor.network_options(options))
        for a, e in zip(aligned, edited):
            editor.paste(out, a, e, strength)
    return out, done


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
