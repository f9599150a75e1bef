"""The engines' calls into the editing flow (:mod:`faceedit.flow`), each in one place.

The photo engine (:mod:`faceedit.pipeline`) stages each photo on its worker threads and runs the
network on crops gathered across photos; the video engine (:mod:`faceedit.video`) edits a frame
whose faces the tracker found. Both carry the run's edit options (``options``: what
:meth:`faceedit.api.Editor.edit` takes) without reading them, and hand them to the flow here:
a change of how the flow takes them is a change of this module alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faceedit.faces.types import AlignedFace, Face
    from faceedit.flow import Flow, StagedPhoto

# faceedit.flow (torch) is imported where it is used: a command that stops at a usage error never
# imports torch (2-3 s of a command's start).


def stage(flow: Flow, pixels: np.ndarray, aligned: list[AlignedFace], target: str, strength: float,
          options: dict) -> StagedPhoto:
    """The stage's edit of a photo's aligned faces (:func:`faceedit.flow.stage_faces`)."""
    from faceedit.flow import stage_faces

    return stage_faces(flow, pixels, aligned, target, strength, **options)


def network(flow: Flow, faces: list[AlignedFace], target: str, strength: float, options: dict, *,
            with_masks: bool = False):
    """The network on crops of any number of photos in one forward (:func:`faceedit.flow.run_network`)."""
    from faceedit.flow import run_network

    return run_network(flow, faces, target, strength, with_masks=with_masks, **options)


def edit_frame(flow: Flow, pixels: np.ndarray, faces: list[Face], target: str, strength: float,
               options: dict, *, likes: list | None = None,
               exemplars: list[int | None] | None = None) -> tuple[np.ndarray, list]:
    """Edit the given faces of one RGB frame (``target`` already checked) through the whole flow;
    returns the new frame (``pixels`` is not changed) and per face the stage's edit (None
    without a stage: its moved landmarks, the mouth exemplar drawn). ``likes``: per face a
    reference for the stage's ``like`` (landmarks or None: the options' ``like``);
    ``exemplars``: per face the mouth bank entry to paint (None: the best fit)."""
    from faceedit.flow import finish_photo, prepare_photo

    photo = prepare_photo(flow, pixels, faces, target, strength, likes=likes, exemplars=exemplars,
                          **options)
    out = finish_photo(flow, photo, target, strength, **options)
    return (out.copy() if out is pixels else out), list(photo.edits)


def reference(options: dict):
    """The ``like`` reference photo of the options (None: none)."""
    return options.get("like")
