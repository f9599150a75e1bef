"""The one editing flow: every way of editing a photo (or a video frame) runs these steps, in
this order.

    decode -> detect (photos) or track (video) -> select faces -> align once -> stage
           -> network -> paste back -> encode

Decoding, detection and encoding are the caller's (:class:`faceedit.api.Editor` detects; the
engines decode and encode); this module takes a photo's pixels and its faces and does the
rest. :meth:`faceedit.api.Editor.edit`, the batch engine (:mod:`faceedit.pipeline`, and through
it the Ray actors of :mod:`faceedit.ray_engine`) and the video engine call it; they only
schedule (threads, actors, frames).

Entry points, in the data's order (``flow``: a :class:`Flow`, the loaded network and the stage
under it; a :class:`faceedit.api.Editor` is one; ``request``: the edit, an
:class:`~faceedit.models.request.EditRequest`):

``select_faces(faces, face="all", max_faces=10, path=None) -> list[Face]``
    The ``face`` / ``max_faces`` choice among detected faces (``face_numbers``: the chosen
    faces' numbers).
``align_faces(flow, pixels, faces) -> list[AlignedFace]``
    Each face aligned once to the network's crop template, with its paste mask.
``stage_faces(flow, pixels, aligned, request, *, likes=None, carried=None) -> PreparedPhoto``
    The stage on the whole photo (without one, the photo as it is) and the crops the network
    sees, cut from the staged photo by the same alignment, the landmarks moved with the face.
``prepare_photo(flow, pixels, faces, request, *, likes=None, carried=None) -> PreparedPhoto``
    ``align_faces`` then ``stage_faces``: the per-photo half.
``run_network(flow, faces, request, *, with_masks=False) -> list[np.ndarray | None]``
    The network on the crops of any number of photos in one forward (the batch half); None per
    face where no network runs for the target. ``with_masks=True``: ``(edits, masks)``, masks
    ``{name: (N, S, S, C)}``.
``paste_faces(flow, pixels, faces, edited, strength=1.0) -> None``
    The network's change to each crop pasted into ``pixels`` (the staged photo), in place.
``finish_photo(flow, photo, request) -> np.ndarray``
    ``run_network`` then ``paste_faces`` on one staged photo: its final pixels.
``edit_faces(flow, pixels, faces, request) -> np.ndarray``
    All of it for one photo or frame whose faces (with landmarks) are known: no detection
    inside. ``pixels`` is not changed.
``edit_frame(flow, pixels, faces, request, *, likes=None, carried=None) -> (pixels, edits, network)``
    ``edit_faces`` for a video frame: what each track holds in, the stage's edits and whether
    the network changed a pixel out.

The engines (:mod:`faceedit.pipeline`, :mod:`faceedit.video`) import this module (torch) where
they call it: a command that stops at a usage error never imports torch.

What each field of the request means (``strength`` included) is declared once, in
:data:`faceedit.models.request.FIELDS`; :attr:`Flow.max_strength` is this model's top strength.
:meth:`Flow.stage_request` and :meth:`Flow.network_options` are the request as each step takes
it.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from faceedit.conditions import parse_switch
from faceedit.errors import NoFaceError, TooManyFacesError, UsageError
from faceedit.faces.align import align_face, recut
from faceedit.faces.paste import face_mask, mouth_hold, paste_back
from faceedit.faces.types import AlignedFace, Face
from faceedit.log import timed
from faceedit.models.options import INTERNAL_OPTIONS, ModelOptions, StageOptions
from faceedit.models.refine import SETTING as REFINE
from faceedit.models.refine import RegionRefiner, ShippedRefiner, refine_photo
from faceedit.models.registry import ARCH_OPTIONS
from faceedit.models.request import FIELD, STAGE_ONLY, EditRequest
from faceedit.pixels import levels_to_signed, luma_tensor, pixel_max, signed_to_levels
from faceedit.stage.hold import judged
from faceedit.stage.records import Carried, StageFace, StageRequest
from faceedit.stage.shading import nearest_class

#: Held while a flow reads its refiner on first use (:attr:`Flow.refiner`: two worker threads
#: that ask at once read it once).
_REFINER_LOAD = threading.Lock()

if TYPE_CHECKING:
    from faceedit.models.loading import LoadedModel
    from faceedit.stage.model import Stage


@dataclass
class Flow:
    """A loaded network (``loaded``: its model and spec) with its device and autocast dtype, and
    the photo step it sits on (``stage``; None for a network that edits pixels alone). A loaded
    model that is a photo step alone (the registry's ``stage``) has no network: ``stage`` is
    that model and nothing is pasted. ``refiner``: the method's refiner of the regions the stage
    invents, run on the staged photo where the request turns it on (:meth:`refines`)."""

    loaded: LoadedModel
    device: torch.device
    amp_dtype: torch.dtype | None
    stage: Stage | None = None
    #: where the method's refiner of what the stage invents (:mod:`faceedit.models.refine`) is
    #: read from the first time a request turns it on (:attr:`refiner`), or None
    refiner_source: ShippedRefiner | None = None
    _refiner: RegionRefiner | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def refiner(self) -> RegionRefiner | None:
        """The method's refiner of what the stage invents, or None: the one set here, else the
        one of :attr:`refiner_source`, read (verified) the first time it is asked for."""
        if self._refiner is None and self.refiner_source is not None:
            with _REFINER_LOAD:
                if self._refiner is None:
                    self._refiner = self.refiner_source.load()
        return self._refiner

    @refiner.setter
    def refiner(self, value: RegionRefiner | None) -> None:
        self._refiner, self.refiner_source = value, None

    def _refiner_config(self):
        """The refiner's config without reading its weights, or None where it has none."""
        if self._refiner is not None:
            return self._refiner.cfg
        return None if self.refiner_source is None else self.refiner_source.cfg

    # -- what the model takes ------------------------------------------------------------------
    @property
    def spec(self):
        return self.loaded.spec

    @property
    def has_network(self) -> bool:
        """Whether the loaded model runs a network over crops (a photo step alone does not)."""
        return getattr(self.loaded.model, "has_network", True)

    @property
    def landmark_user(self) -> str | None:
        """What in this flow moves or reads each face's 68 landmarks (the stage; a network that
        takes them, ``wants_landmarks``: LSSL), in words; None where the edit needs no more than
        the points an alignment takes."""
        if self.stage is not None:
            return f"model {self.spec.name} (the stage moves them)"
        if getattr(self.loaded.model, "wants_landmarks", False):
            return f"model {self.spec.name} (its network reads them)"
        return None

    @property
    def max_strength(self) -> float:
        return self.stage.max_strength if self.stage is not None else 1.0

    def targets(self) -> list[str]:
        """The network's targets, then those only the stage applies (e.g. ``keep``, ``neutral``)."""
        own = list(self.loaded.model.targets())
        extra = [t for t in self.stage.targets() if t not in own] if self.stage is not None else []
        return own + extra

    def check_target(self, target: str) -> str:
        """A target of the network, or one only the stage applies (``keep``, ``neutral``...:
        :meth:`uses_network` tells which); UsageError for any other, listing them all
        (:meth:`targets`)."""
        if self.stage is not None and self.has_network and target in self.stage.targets():
            return target
        try:
            return self.loaded.model.check_target(target)
        except UsageError:
            if self.stage is None or not self.has_network:
                raise
            raise UsageError(f"unknown target {target!r}; valid targets: {', '.join(self.targets())}") from None

    def uses_network(self, target: str) -> bool:
        """Whether the network runs for ``target``: a target only the stage knows skips it, and
        so does one the model's header leaves to its stage (``stage_only``: where its change
        spoilt the stage's edit)."""
        if not self.has_network:
            return False
        if self.stage is not None and target in self.spec.stage_only:
            return False
        try:
            self.loaded.model.check_target(target)
        except UsageError:
            return False
        return True

    def _network_aus(self) -> list:
        """The AUs the network moves: its header's, those its declaration allows
        (:meth:`faceedit.models.options.ModelOption.vocabulary_of`: EGGAN's estimable ones)."""
        aus = list((self.spec.conditions or {}).get("aus") or [])
        declared = {o.key: o for o in ARCH_OPTIONS.get(self.loaded.meta.arch) or ()}
        if "aus" in declared:
            allowed = declared["aus"].vocabulary_of(self.loaded.meta)
            aus = [a for a in aus if a in allowed]
        return aus

    def accepts(self) -> ModelOptions:
        """What the loaded model takes of a request (its network's ``edit`` keywords and
        vocabularies, its stage's), in the form :func:`faceedit.models.options.model_options`
        gives before loading: the rule :meth:`check_request` applies."""
        stage, model = self.stage, self.loaded.model
        own = self.spec.conditions or {}
        network: set[str] = set()
        if self.has_network:  # the keywords its edit names (SeCGAN's attributes too: glasses=)
            network = (_keywords(model.edit) | set(getattr(model, "attributes", []))) - INTERNAL_OPTIONS
            declared = {o.key for o in ARCH_OPTIONS.get(self.spec.arch, ())}
            if self._refiner_config() is not None or REFINE in declared:  # on where installed, off always
                network.add(REFINE)
        # the stage's fields: its declaration's (faceedit.models.catalogue.stage)
        stage_keys = {o.key for o in ARCH_OPTIONS.get(stage.cfg.arch, ())} if stage is not None else set()
        return ModelOptions(
            name=self.spec.name,
            targets=list(model.targets()),
            network=network,
            lighting=list(own.get("lighting") or []),
            aus=self._network_aus(),
            attributes=list(getattr(model, "attributes", [])) if self.has_network else [],
            stage=None if stage is None else StageOptions(
                lighting=list(stage.lighting), aus=list(stage.aus), attributes=list(stage.attributes),
                targets=list(stage.targets()), keys=stage_keys,
                controls=list(FIELD["controls"].allowed) if "controls" in stage_keys else []),
            has_network=self.has_network,
            without_stage=bool(self.spec.stage),
        )

    def check_request(self, request: EditRequest) -> EditRequest:
        """``request`` checked against this model: its target (:meth:`check_target`; the request
        returned names it as the model does), its strength up to :attr:`max_strength`, and each
        field it sets (:meth:`accepts`). UsageError naming the field and what it takes."""
        target = self.check_target(request.target)
        top = self.max_strength
        if request.strength > top:
            raise UsageError(f"`strength` {request.strength:g}: must be between 0 and {top:g}")
        self.accepts().check(request)
        return request if target == request.target else request.at(target, request.strength)

    def reference_landmarks(self, like, max_pixels: int | None = None) -> np.ndarray:
        """The 68 landmarks of ``like`` for the stage's ``like=`` option. A flow takes them as
        they are; :meth:`faceedit.api.Editor.reference_landmarks` also finds them in a photo."""
        if isinstance(like, np.ndarray) and like.shape == (68, 2):
            return like
        raise UsageError("like: give the reference's 68 landmarks (an Editor also takes a photo)")

    def stage_request(self, request: EditRequest, like: np.ndarray | None = None) -> StageRequest:
        """The stage's request (:meth:`faceedit.stage.model.Stage.request`), made once per photo:
        the attributes the network beside the stage edits itself left to it, ``like`` as the
        reference's landmarks (:meth:`reference_landmarks`; ``like`` given: those)."""
        assert self.stage is not None, "a stage request for a flow without a stage"
        if like is None and request.like is not None:
            like = self.reference_landmarks(request.like)
        own = getattr(self.loaded.model, "attributes", []) if self.has_network else []
        return self.stage.request(request, like, network_attributes=set(own))

    def network_options(self, request: EditRequest) -> dict[str, Any]:
        """The request as the network's ``edit`` takes it (the keywords it names, only those set):
        ``lighting``, ``aus``, ``attrs``, ``phase`` and the model's own settings; none of the
        fields only the stage reads (:data:`~faceedit.models.request.STAGE_ONLY`). Beside a
        stage, ``lighting`` and ``aus`` are left out where the network has no such vocabulary
        (the stage applies them) and ``attrs`` keeps only the attributes the network edits
        itself (SeCGAN's glasses); a ``light`` direction reaches a network that relights by
        class as the class it falls in. The stage model alone takes none."""
        if not self.has_network:
            return {}
        out: dict[str, Any] = {k: getattr(request, k) for k in ("lighting", "aus", "attrs", "phase")
                               if getattr(request, k) is not None}
        out.update(request.settings)
        if out.get("lighting") == "keep" and not hasattr(self.loaded.model, "lighting_estimator"):
            del out["lighting"]  # keep: a network that does not estimate the photo's own (LEGAN's) leaves it as it is
        if "aus" in out:
            out["aus"] = dict(out["aus"])
        if "attrs" in out:
            out["attrs"] = dict(out["attrs"])
        drop: set[str] = {*STAGE_ONLY, REFINE}  # the refiner's switch is the flow's (:meth:`refines`)
        if self.stage is not None:  # the stage relights and moves AUs for networks that cannot
            drop.update(k for k in ("lighting", "aus") if k not in (self.loaded.spec.conditions or {}))
            if "attrs" in out:  # the stage paints glasses on networks that cannot
                own = set(getattr(self.loaded.model, "attributes", []))
                out["attrs"] = {k: v for k, v in out["attrs"].items() if k in own}
                if not out["attrs"]:
                    drop.add("attrs")
        if request.light is not None and request.lighting is None and "lighting" not in drop:
            # a network that relights by class gets the class the stage's direction falls in
            classes = (self.loaded.spec.conditions or {}).get("lighting") or []
            cls = nearest_class(request.light, classes)
            if cls is not None:
                out["lighting"] = cls
        return {k: v for k, v in out.items() if k not in drop}

    def refines(self, request: EditRequest) -> bool:
        """Whether the refiner runs on the staged photo for ``request``: its ``refine`` setting
        (on | off), else the refiner's own default; never without a stage or a refiner.
        UsageError for another value, or ``refine=on`` where no refiner is installed."""
        value = request.settings.get(REFINE)
        on = None if value is None else parse_switch(str(value))
        if value is not None and on is None:
            raise UsageError(f"`settings` {REFINE}={value}: use on or off")
        cfg = self._refiner_config()
        if cfg is None or self.stage is None:
            if on:
                raise UsageError(f"`settings` {REFINE}=on: model {self.spec.name} has no refiner installed")
            return False
        return cfg.default_on if on is None else on

    def align(self, pixels: np.ndarray, faces: list[Face]) -> list[AlignedFace]:
        """:func:`align_faces`: each face aligned once, with its paste mask."""
        return align_faces(self, pixels, faces)

    # -- the network ---------------------------------------------------------------------------
    def edit_crops(
        self, crops: np.ndarray, request: EditRequest, *,
        landmarks: np.ndarray | None = None, with_masks: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
        """The bare network forward on aligned crops, for ``request`` (its target, its strength
        up to 1, and :meth:`network_options`).

        crops: (B, S, S, 3) uint8 RGB at the template size. Returns float32 (B, S, S, C) in
        0..255, C = the model's channels (1 = luminance). The strength is passed to models that
        handle it; for the others the change is scaled when pasted (:func:`paste_faces`).
        ``landmarks`` (B, 68, 2) in crop pixels go to models that use them (``wants_landmarks``,
        e.g. LSSL's landmark side image); others ignore them. ``with_masks=True`` returns
        ``(edited, {name: masks})`` with the model's intermediate masks (``mask_names``, e.g.
        LEGAN's), each float32 (B, S, S, C) in 0..255 like the edit.
        """
        with timed("forward"):
            model = self.loaded.model
            target = request.target
            network = self.network_options(request)
            if landmarks is not None and getattr(model, "wants_landmarks", False):
                network["landmarks"] = torch.as_tensor(np.asarray(landmarks, np.float32), device=self.device)
            x = levels_to_signed(torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)).permute(0, 3, 1, 2)
            if self.spec.channels == 1:
                x = luma_tensor(x)
            amp = (torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype is not None
                   else contextlib.nullcontext())
            s = min(request.strength, 1.0) if model.handles_strength else 1.0
            with torch.inference_mode():
                with amp:
                    if with_masks:
                        y, masks = model.edit_and_masks(x, target, s, **network)
                    else:
                        y, masks = model.edit(x, target, s, **network), {}
                pixels = _crop_pixels(y)
                if not with_masks:
                    return pixels
                return pixels, {k: _crop_pixels(m) for k, m in masks.items()}

    def paste(self, pixels: np.ndarray, aligned: AlignedFace, edited: np.ndarray | None,
              strength: float) -> bool:
        """Paste one edited crop into ``pixels`` (in place); nothing where the network did not
        run (``edited`` None: the stage alone, or a target only the stage applies). Where the
        stage invented an open mouth (``aligned.extra["invented"]``, set by :func:`stage_faces`
        with the landmarks it moved, ``extra["lips"]``) its pixels and the lips round it are kept
        and the network's change fades in around them (:func:`faceedit.faces.paste.mouth_hold`).
        Returns whether the network's change altered any pixel before that."""
        if edited is None:
            return False
        held = aligned.extra.get("invented")  # the stage's open mouth and its lips: kept as the stage drew them
        held = mouth_hold(pixels.shape, held, aligned.extra.get("lips")) if held is not None else None
        if held is not None:
            (x0, y0, x1, y1), weight = held
            kept = pixels[y0:y1, x0:x1].astype(np.float32)
        changed = paste_back(
            pixels,
            aligned,
            edited[..., 0] if edited.shape[-1] == 1 else edited,
            strength=1.0 if self.loaded.model.handles_strength else min(strength, 1.0),
            color_match=self.spec.color_match,
            luminance_only=self.spec.channels == 1,
            mask=aligned.extra.get("mask"),
            smooth=self.spec.delta_smooth,
            ratio=getattr(self.loaded.model, "paste_ratio", False),
        )
        if held is not None:
            region = pixels[y0:y1, x0:x1]
            w = weight[..., None] if region.ndim == 3 else weight
            region[...] = np.clip(np.rint(region * (1.0 - w) + kept * w), 0, pixel_max(pixels.dtype))
        return changed


@dataclass
class PreparedPhoto:
    """One photo after the stage, ready for the network: ``pixels`` (the staged photo; the input
    array itself where nothing was staged), ``faces`` (per face its alignment, the crop the
    network sees cut from ``pixels``, its landmarks there and its paste mask), ``edits`` (per
    face what the stage did, e.g. :class:`faceedit.stage.records.StageEdit` with what a video
    track carries on; None without a stage) and ``owns_pixels`` (whether ``pixels`` is a new array)."""

    pixels: np.ndarray
    faces: list[AlignedFace]
    edits: list[Any] = field(default_factory=list)
    owns_pixels: bool = False  # ``pixels`` is a new array (the stage's), not the caller's input
    network: bool = False  # the network's change altered a pixel (set by :func:`finish_photo`)


# -- select ------------------------------------------------------------------------------------
def select_faces(faces: list[Face], face: str = "all", max_faces: int = 10, path=None) -> list[Face]:
    """Apply the ``--face`` choice (all | largest | N, numbered largest first) and the
    ``--max-faces`` limit (0 = no limit). Raises NoFaceError / TooManyFacesError."""
    if not faces:
        raise NoFaceError("no face found", path)
    if face == "all":
        if max_faces and len(faces) > max_faces:
            raise TooManyFacesError(
                f"{len(faces)} faces found, more than `max_faces` {max_faces} "
                "(raise `max_faces`, or pick one with `face` largest|N)",
                path,
            )
        return faces
    if face == "largest":
        return [max(faces, key=lambda f: f.area)]
    try:
        index = int(face)
    except ValueError:
        raise UsageError(f"`face` {face!r}; valid: all, largest, or a face number (0 = largest)") from None
    if not 0 <= index < len(faces):
        raise NoFaceError(f"`face` {index}: only {len(faces)} face(s) found", path)
    return [sorted(faces, key=lambda f: -f.area)[index]]


def face_numbers(found: list[Face], chosen: list[Face]) -> list[int]:
    """Each face of ``chosen`` (from :func:`select_faces`) by its number among ``found``, as
    ``face`` N numbers them: largest first, from 0."""
    order = sorted(range(len(found)), key=lambda i: -found[i].area)
    number = {id(found[i]): n for n, i in enumerate(order)}
    return [number[id(f)] for f in chosen]


# -- align once --------------------------------------------------------------------------------
def align_faces(flow: Flow, pixels: np.ndarray, faces: list[Face]) -> list[AlignedFace]:
    """Each face aligned to the network's crop template (the crop cut from ``pixels``) with the
    mask its change is pasted through (``extra["mask"]``), from the face as detected."""
    with timed("align"):
        aligned = [align_face(pixels, f, flow.spec.template) for f in faces]
        for a in aligned:
            a.extra["mask"] = face_mask(a)
    return aligned


# -- stage -------------------------------------------------------------------------------------
def move_declines(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest) -> list[str | None]:
    """Per face why the edit leaves it as it is, the warp unable to hold the move the stage plans
    (:func:`faceedit.stage.hold.planned_decline`), or None: one verdict for every model on the stage."""
    return planned_moves(flow, pixels, faces, request)[1]


def planned_moves(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest,
                  ) -> tuple[list | None, list[str | None]]:
    """:func:`move_declines` with the moves it judged: ``(plans, whys)``, ``plans`` per face its
    move as the stage plans it on ``pixels`` (:func:`faceedit.stage.hold.judged`), what
    :func:`stage_faces`' ``plans`` takes on so that a face judged and edited is planned once;
    None without a stage."""
    if flow.stage is None or not faces:
        return None, [None] * len(faces)
    stage_request = flow.stage_request(request)
    both = [judged(flow.stage, StageFace(f.landmarks, f.dense, photo_scale=f.photo_scale), stage_request, pixels) for f in faces]
    return [p for p, _ in both], [why for _, why in both]


def stage_faces(flow: Flow, pixels: np.ndarray, aligned: list[AlignedFace], request: EditRequest, *,
                likes: list | None = None, carried: list[Carried | None] | None = None,
                plans: list | None = None) -> PreparedPhoto:
    """The stage's full-resolution edit of every aligned face (geometry, mouth appearance,
    attributes, shading) and the crops the network sees, cut from the staged photo by each
    face's own alignment (so the network sees the face where it was) with the face's moved
    landmarks. Without a stage: ``pixels`` and ``aligned`` as they are.

    ``likes``: per face a reference for the stage's ``like`` (68 landmarks, or None for the
    request's ``like``); ``carried``: per face what its video track carries from earlier
    frames (:class:`~faceedit.stage.records.Carried`: the mouth bank entry to paint, the head's
    mattes; None: found here, and named in the returned ``edits``). The stage's request is made
    once (:meth:`Flow.stage_request`); the faces are staged in one call
    (:meth:`Stage.edit_photo <faceedit.stage.model.Stage.edit_photo>`, the one loop over the
    faces, each on the photo the faces before it left); the refiner sees the whole staged photo
    before the crops are cut again. ``plans``: per face its move planned on ``pixels`` for this
    request with these ``likes`` (:func:`planned_moves`), taken on instead of planning it again."""
    if flow.stage is None:
        return PreparedPhoto(pixels, aligned, [None] * len(aligned))
    with timed("stage"):
        each = [StageFace(a.face.landmarks, a.face.dense, None if carried is None else carried[i],
                          None if likes is None else likes[i], a.face.photo_scale) for i, a in enumerate(aligned)]
        staged, edits = flow.stage.edit_photo(pixels, each, flow.stage_request(request), plans)
        refiner = flow.refiner if flow.refines(request) else None
        if refiner is not None:  # what the stage invented, made to look photographed
            with timed("refine"):
                staged = refine_photo(refiner, staged, [(e.landmarks, e.invented) for e in edits],
                                      device=flow.device)
        faces = []
        for a, e in zip(aligned, edits):  # each crop cut again from the staged photo
            f = recut(a, staged, e.landmarks)
            if getattr(e, "invented", None) is not None:  # held off the network's paste (Flow.paste)
                f.extra["invented"], f.extra["lips"] = e.invented, np.asarray(e.landmarks, np.float64)
            faces.append(f)
    return PreparedPhoto(staged, faces, list(edits), owns_pixels=staged is not pixels)


def prepare_photo(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest, *,
                  likes: list | None = None, carried: list[Carried | None] | None = None,
                  plans: list | None = None) -> PreparedPhoto:
    """The per-photo half: :func:`align_faces` then :func:`stage_faces`."""
    return stage_faces(flow, pixels, align_faces(flow, pixels, faces), request, likes=likes,
                       carried=carried, plans=plans)


# -- network -----------------------------------------------------------------------------------
def crop_landmarks(aligned: list[AlignedFace]) -> np.ndarray | None:
    """The 68 landmarks of every aligned face in crop pixels, or None when a face has fewer
    (e.g. the OpenCV backend's 5 points)."""
    if not aligned or any(np.asarray(a.landmarks).shape != (68, 2) for a in aligned):
        return None
    return np.stack([np.asarray(a.landmarks, np.float32) for a in aligned])


def run_network(flow: Flow, faces: list[AlignedFace], request: EditRequest, *, with_masks: bool = False):
    """The batch half: the network on the crops of ``faces`` (of any number of photos) in one
    forward. Returns per face its edited crop (float32 (S, S, C), 0..255), or None for every face
    where no network runs for the request's target (the stage alone); with ``with_masks``,
    ``(edits, {name: (N, S, S, C) masks})``. The network takes its part of the request
    (:meth:`Flow.network_options`)."""
    if not faces or not flow.uses_network(request.target):
        edits = [None] * len(faces)
        return (edits, {}) if with_masks else edits
    out = flow.edit_crops(np.stack([a.crop for a in faces]), request, landmarks=crop_landmarks(faces),
                          with_masks=with_masks)
    if with_masks:
        return list(out[0]), out[1]
    return list(out)


# -- paste back --------------------------------------------------------------------------------
def paste_faces(flow: Flow, pixels: np.ndarray, faces: list[AlignedFace],
                edited: list[np.ndarray | None], strength: float = 1.0) -> bool:
    """Each face's network change pasted into ``pixels`` (the photo its crop was cut from), in
    place; nothing for a face whose edit is None. Returns whether the network's change altered
    any pixel: False where it did not run, and where its change rounded to nothing (the photo is
    then the stage's edit alone, byte for byte)."""
    changed = False
    with timed("paste"):
        for a, e in zip(faces, edited):
            changed = flow.paste(pixels, a, e, strength) or changed
    return changed


def finish_photo(flow: Flow, photo: PreparedPhoto, request: EditRequest) -> np.ndarray:
    """The network and the paste-back on one staged photo; returns its final pixels: the staged
    array pasted in place, or a copy of the caller's input where nothing was staged (the input
    itself where nothing changed). ``photo.network`` says whether the network's change altered
    a pixel."""
    edited = run_network(flow, photo.faces, request)
    out = photo.pixels
    if any(e is not None for e in edited):
        out = out if photo.owns_pixels else out.copy()
        photo.network = paste_faces(flow, out, photo.faces, edited, request.strength)
    return out


def edit_faces(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest) -> np.ndarray:
    """Edit the given ``faces`` (with their landmarks, e.g. tracked in a video) of one RGB photo
    or frame ((H, W, 3) uint8/uint16, not changed) as ``request`` asks: align, stage, network,
    paste; no detection. The request's target as :meth:`Flow.check_target` accepts it. Returns
    a new array."""
    return edit_frame(flow, pixels, faces, request)[0]


def edit_each(flow: Flow, pixels: np.ndarray, edits: list[tuple[Face, EditRequest]],
              plans: list | None = None) -> np.ndarray:
    """One edit per face: each ``(face, request)`` of ``edits`` edited as :func:`edit_faces` edits one
    face, on the photo the edits before it left (as the stage edits one request's faces), so a face's
    pixels are its own edit's. ``plans``: per edit its face's move planned on ``pixels``
    (:func:`planned_moves`), taken on while no edit before it changed the photo. A new array."""
    out = pixels
    for k, (face, request) in enumerate(edits):
        out = edit_frame(flow, out, [face], request, plans=[plans[k]] if plans and out is pixels else None)[0]
    return out.copy() if out is pixels else out


def edit_frame(flow: Flow, pixels: np.ndarray, faces: list[Face], request: EditRequest, *,
               likes: list | None = None, carried: list[Carried | None] | None = None,
               plans: list | None = None) -> tuple[np.ndarray, list, bool]:
    """:func:`edit_faces` with what a video track holds: ``likes`` per face a reference for the
    stage's ``like`` (landmarks or None: the request's ``like``), ``carried`` per face what its
    track carries from earlier frames (:class:`~faceedit.stage.records.Carried`: the mouth bank
    entry to paint, the head's mattes; None: found on this frame). Returns the new frame
    (``pixels`` is not changed), per face the stage's edit (None without a stage: its moved
    landmarks, what its track carries on) and whether the network's change altered a pixel
    (:attr:`PreparedPhoto.network`). ``plans``: as :func:`stage_faces` takes them."""
    photo = prepare_photo(flow, pixels, faces, request, likes=likes, carried=carried, plans=plans)
    out = finish_photo(flow, photo, request)
    return (out.copy() if out is pixels else out), list(photo.edits), photo.network


def _keywords(function) -> set[str]:
    """The keyword parameters ``function`` names (not ``**`` catch-alls)."""
    params = inspect.signature(function).parameters.values()
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _crop_pixels(t: torch.Tensor) -> np.ndarray:
    """Model output (B, C, S, S) in [-1, 1] -> float32 (B, S, S, C) in 0..255."""
    return signed_to_levels(t).permute(0, 2, 3, 1).contiguous().cpu().numpy()
