"""The engines' calls into the editing flow (:mod:`faceedit.flow`), each in one place.

The photo engine (:mod:`faceedit.pipeline`) stages each photo on its worker threads and runs the
network on crops gathered across photos; the video engine (:mod:`faceedit.video`) edits a frame
whose faces the tracker found. Both carry the run's edit request
(:class:`faceedit.models.request.EditRequest`) without reading it, and hand it to the flow here:
a change of how the flow takes it is a change of this module alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faceedit.faces.types import AlignedFace, Face
    from faceedit.flow import Flow, PreparedPhoto
    from faceedit.models.request import EditRequest
    from faceedit.stage.steps import Carried

# faceedit.flow (torch) is imported where it is used: a command that stops at a usage error never
# imports torch (2-3 s of a command's start).


def stage(flow: Flow, pixels: np.ndarray, aligned: list[AlignedFace], request: EditRequest) -> PreparedPhoto:
    """The stage's edit of a photo's aligned faces (:func:`faceedit.flow.stage_faces`)."""
    from faceedit.flow import stage_faces

    return stage_faces(flow, pixels, aligned, request)


def network(flow: Flow, faces: list[AlignedFace], request: EditRequest, *, with_masks: bool = False):
    """The network on crops of any number of photos in one forward (:func:`faceedit.flow.run_network`)."""
    from faceedit.flow import run_network

    return run_network(flow, faces, request, with_masks=with_masks)


def edit_frame(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest, *,
               likes: list | None = None,
               carried: list[Carried | None] | None = None) -> tuple[np.ndarray, list, bool]:
    """Edit the given faces of one RGB frame (``target`` already checked) through the whole flow;
    returns the new frame (``pixels`` is not changed), per face the stage's edit (None
    without a stage: its moved landmarks, what its track carries on) and whether the network's
    change altered a pixel (:attr:`~faceedit.flow.PreparedPhoto.network`). ``likes``: per face a
    reference for the stage's ``like`` (landmarks or None: the request's ``like``);
    ``carried``: per face what its video track carries from earlier frames (:class:`Carried`: the
    mouth bank entry to paint, the head's mattes; None: found on this frame)."""
    from faceedit.flow import finish_photo, prepare_photo

    photo = prepare_photo(flow, pixels, faces, request, likes=likes, carried=carried)
    out = finish_photo(flow, photo, request)
    return (out.copy() if out is pixels else out), list(photo.edits), photo.network


def reference(request: EditRequest):
    """The ``like`` reference photo of the request (None: none)."""
    return request.like
