"""Python entry points: load a model once, edit faces in photos.

    from faceedit.api import Editor
    editor = Editor.from_pretrained("reggan")
    out = editor.edit(rgb_uint8, "happy")          # numpy in, numpy out, every face edited
    editor.declined                                # the faces it left as they are, and why
    out = editor.edit_each(rgb_uint8, {0: "happy", 1: {"target": "sad", "controls": {"brows": 0.4}}})

The editing itself is :mod:`faceedit.flow` (an Editor is a :class:`faceedit.flow.Flow` that
also detects faces). The CLI is a thin layer over this module and :mod:`faceedit.pipeline`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from faceedit.device import DEVICES, PRECISIONS, autocast_dtype, resolve_device  # noqa: F401 (re-exported)
from faceedit.errors import FaceEditError, UsageError
from faceedit.faces.reading import face_decline_reason
from faceedit.faces.types import Face
from faceedit.flow import Flow, edit_each, edit_frame, face_numbers, planned_moves, select_faces
from faceedit.log import logger, mark, timed
from faceedit.models.loading import load_model
from faceedit.models.refine import shipped_refiner_source
from faceedit.models.request import EditRequest
from faceedit.pixels import to_uint8

if TYPE_CHECKING:
    from faceedit.stage.model import Stage


@dataclass
class Editor(Flow):
    """A loaded model with its device, precision and face detector: the editing flow
    (:class:`faceedit.flow.Flow`) plus detection.

    ``stage``: the geometry/shading/appearance statistics (:class:`faceedit.stage.model.Stage`)
    applied to the photo before the model's network
    sees the face; None for a model that edits pixels alone (``stage=False``).

    ``declined``: the faces the last :meth:`edit` left as they are, ``[{"face": N, "declined":
    reason}]`` (N numbers the photo's faces as ``face`` does, largest first; a photo record's
    ``declined``); empty where it edited every face it chose."""

    detector_name: str = "auto"
    declined: list[dict] = field(default_factory=list)
    _detector: object | None = None
    _references: dict = field(default_factory=dict)  # --like photo path -> its landmarks

    def __post_init__(self) -> None:
        # A model that estimates the input's lighting (LEGAN's lighting="keep") gets the project's
        # lighting classifier: an analysis network, which the models layer may not import itself.
        if getattr(self.loaded.model, "lighting_estimator", False) is None:
            cast(Any, self.loaded.model).lighting_estimator = _lighting_estimator  # a duck-typed slot

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        device: str = "auto",
        precision: str = "auto",
        detector: str = "auto",
        allow_download: bool = True,
        stage: bool = True,
    ) -> Editor:
        """Load ``name_or_path``; ``stage=False`` leaves out the stage the model sits on (the
        network then edits the unedited face, as a pure pixel method)."""
        mark("load")
        with timed("load"):
            dev = resolve_device(device)
            amp = autocast_dtype(dev, precision)
            loaded = load_model(name_or_path, device=str(dev), allow_download=allow_download)  # on dev, eval mode
            step: Stage | None = None
            if not getattr(loaded.model, "has_network", True):  # a photo step alone: the stage
                step = cast("Stage", loaded.model)
            elif stage and loaded.spec.stage:
                step = cast("Stage", load_model(loaded.spec.stage, allow_download=allow_download).model)
            # the method's refiner of what the stage invents, where its weights are installed
            refiner = shipped_refiner_source(loaded.spec.name, device=dev) \
                if step is not None and step is not loaded.model else None
        return cls(loaded=loaded, device=dev, amp_dtype=amp, detector_name=detector, stage=step,
                   refiner_source=refiner)

    def reference_landmarks(self, like, max_pixels: int | None = None) -> np.ndarray:
        """The 68 landmarks of ``like`` for the stage's ``like=`` option: landmarks as they
        are, or the largest face of a photo (a path or an RGB array). Cached per path. A photo
        that cannot be read (or has more than ``max_pixels``) or shows no face is a UsageError
        naming it."""
        if isinstance(like, np.ndarray) and like.shape == (68, 2):
            return like
        key = str(like) if not isinstance(like, np.ndarray) else None
        if key is not None and key in self._references:
            return self._references[key]
        if key is not None:
            from faceedit.io.decode import DEFAULT_MAX_PIXELS, read_image

            try:
                like = read_image(key, max_pixels=max_pixels or DEFAULT_MAX_PIXELS).rgb8()
            except FaceEditError as e:
                raise UsageError(f"`like` {key}: {e.reason}") from None
        faces = self.detector.detect(to_uint8(np.asarray(like)))
        faces = [f for f in faces if np.asarray(f.landmarks).shape == (68, 2)]
        if not faces:
            raise UsageError(f"`like` {key or 'image'}: no face with 68 landmarks found in the reference")
        lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
        if key is not None:
            self._references[key] = lm
        return lm

    def check_detector(self) -> None:
        """UsageError where the face detector gives fewer than the 68 landmarks this model's
        edit moves or reads (:attr:`landmark_user`; opencv finds 5): its faces would be written
        unedited. Told from the detector registry, without creating the detector."""
        user = self.landmark_user
        if user is not None:
            from faceedit.faces.detectors import require_points

            require_points(self.detector_name, 68, user)

    @property
    def detector(self):
        if self._detector is None:
            from faceedit.faces.detectors import get_detector

            with timed("load"):
                self._detector = get_detector(self.detector_name, device=str(self.device))
        return self._detector

    def edit(self, image: np.ndarray, target: str | EditRequest, strength: float = 1.0, *, force: bool = False,
             **fields: Any) -> np.ndarray:
        """Edit the faces of one RGB photo ((H, W, 3) uint8/uint16 array, or a PIL image);
        returns a new array. ``target``: a target name, with ``strength`` and the request's
        other fields as keywords (:data:`faceedit.models.request.FIELDS`: ``lighting``,
        ``light``, ``light_strength``, ``aus``, ``controls`` (``{"smile": 0.5}``), ``attrs``,
        ``like`` (a reference photo, as a path, an RGB array or its 68 landmarks, whose
        expression is copied), ``phase``, ``face``, ``max_faces``; any other keyword is a
        setting of the model's own), or an :class:`EditRequest` itself. The request is checked
        against the model before anything is done (UsageError naming the field and what it
        takes); then detects, chooses the faces (:func:`faceedit.flow.select_faces`), leaves
        those the edit declines as they are (:func:`faceedit.faces.reading.decline_reason`: turned
        past 45 degrees, eyes under 12 px apart; :func:`faceedit.flow.move_declines`: a move the
        stage plans that the warp cannot hold; named with the reason in :attr:`declined`;
        ``force``: edits them too) and runs :func:`faceedit.flow.edit_faces` on the others. A
        value given as key frames (:class:`faceedit.edits.keyed.Keyed`) is a UsageError here:
        they are for a video."""
        if isinstance(target, EditRequest):
            if fields or strength != 1.0:
                raise UsageError("give the edit as an EditRequest or as keywords, not both")
            request = target
        else:
            request = EditRequest.of(target, strength, **fields)
        if request.keyed():
            raise UsageError(f"{', '.join(request.keyed())} given as key frames: a photo takes one value "
                             "(key frames are for a video: faceedit.video.runner.edit_video)")
        request = self.check_request(request)
        self.check_detector()
        self.declined = []
        if not isinstance(image, np.ndarray):  # a PIL image
            image = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
        with timed("detect"):
            faces = self.detector.detect(to_uint8(image))
        chosen = select_faces(faces, request.face, request.max_faces)
        mark("first face")
        whys = [None if force else face_decline_reason(f, pixels=image) for f in chosen]
        plans: dict[int, Any] = {}  # each judged face's planned move, taken on by its edit
        if not force:  # the move the stage plans, where the face itself is taken on
            held = [i for i, why in enumerate(whys) if why is None]
            judged, verdicts = planned_moves(self, image, [chosen[i] for i in held], request)
            for k, (i, why) in enumerate(zip(held, verdicts)):
                whys[i] = why
                plans[i] = None if judged is None else judged[k]
        kept = [f for f, why in zip(chosen, whys) if why is None]
        self.declined = [{"face": n, "declined": why} for n, why in zip(face_numbers(faces, chosen), whys)
                         if why is not None]
        for d in self.declined:
            logger.info("face %d left as it is: %s (force=True edits it)", d["face"], d["declined"])
        out = edit_frame(self, image, kept, request,
                         plans=[plans.get(i) for i, why in enumerate(whys) if why is None] if plans else None)[0]
        logger.debug("edited %d face(s)", len(kept))
        return out


    def edit_each(self, image: np.ndarray, edits: Mapping[int, EditRequest | str | Mapping[str, Any]], *,
                  force: bool = False) -> np.ndarray:
        """One edit per person: ``edits`` maps a face number (as ``face`` N numbers a photo's
        faces: largest first, from 0) to its own edit: an :class:`EditRequest`, a target name, or
        :meth:`edit`'s keywords as a mapping (``{"target": "sad", "controls": {"brows": 0.4}}``).
        Every request is checked before anything is done; the faces are detected once; a face
        not named is left as it is, a number without its face is a NoFaceError; each face's
        pixels are its own edit's (:func:`faceedit.flow.edit_each`). Declined faces as
        :meth:`edit` leaves them (``force``: edited too). Returns a new array."""
        requests = {}
        for number, edit in edits.items():
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise UsageError(f"`face` {number!r}: give a face number (0 = the largest)")
            if isinstance(edit, str):
                edit = EditRequest.of(edit)
            elif isinstance(edit, Mapping):
                edit = EditRequest.of(**edit)
            requests[number] = self.check_request(dataclasses.replace(edit, face=str(number)))
        self.check_detector()
        self.declined = []
        if not isinstance(image, np.ndarray):  # a PIL image
            image = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
        with timed("detect"):
            faces = self.detector.detect(to_uint8(image))
        chosen, plans = [], []  # plans: each judged face's planned move, taken on by its edit
        for number, request in requests.items():
            (face,) = select_faces(faces, request.face)
            why, plan = None if force else face_decline_reason(face, pixels=image), None
            if why is None and not force:
                judged, (why,) = planned_moves(self, image, [face], request)
                plan = None if judged is None else judged[0]
            if why is None:
                chosen.append((face, request))
                plans.append(plan)
            else:
                self.declined.append({"face": number, "declined": why})
                logger.info("face %d left as it is: %s (force=True edits it)", number, why)
        return edit_each(self, image, chosen, plans)


def expression_states(faces: list[Face], stage: Stage | None = None) -> list[dict | None]:
    """Per face, its expression state as the stage reads it (:meth:`Stage.describe`: AU
    intensities against the face's own identity, the state in standard deviations, the nearest
    named expression); None for a face without 68 landmarks. ``stage``: default the shipped one."""
    if stage is None:
        stage = cast("Stage", load_model("stage").model)
    return [stage.describe(f.landmarks) if np.shape(f.landmarks) == (68, 2) else None for f in faces]


def _lighting_estimator(x: torch.Tensor, classes: list[str]) -> torch.Tensor:
    """The project's lighting classifier over ``classes`` (loaded at the first use)."""
    from faceedit.analysis.classify import estimate_lighting

    return estimate_lighting(x, classes)
