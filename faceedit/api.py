"""Python entry points: load a model once, edit faces in photos.

    from faceedit.api import Editor
    editor = Editor.from_pretrained("reggan")
    out = editor.edit(rgb_uint8, "happy")          # numpy in, numpy out, every face edited

The CLI is a thin layer over this module and :mod:`faceedit.pipeline`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch

from faceedit.device import DEVICES, PRECISIONS, autocast_dtype, resolve_device  # noqa: F401 (re-exported)
from faceedit.errors import FaceEditError, NoFaceError, TooManyFacesError, UsageError
from faceedit.faces.align import align_face, apply_affine, face_mask, paste_back
from faceedit.faces.types import AlignedFace, Face
from faceedit.log import logger, mark, timed
from faceedit.models.registry import LoadedModel, load_model
from faceedit.models.shading import nearest_class
from faceedit.models.stage import Stage
from faceedit.pixels import levels_to_signed, luma_tensor, signed_to_levels, to_uint8


def crop_landmarks(aligned: list[AlignedFace]) -> np.ndarray | None:
    """The 68 landmarks of every aligned face in crop pixels, or None when a face has fewer
    (e.g. the OpenCV backend's 5 points)."""
    if not aligned or any(np.asarray(a.landmarks).shape != (68, 2) for a in aligned):
        return None
    return np.stack([np.asarray(a.landmarks, np.float32) for a in aligned])


def select_faces(faces: list[Face], face: str = "all", max_faces: int = 10, path=None) -> list[Face]:
    """Apply the ``--face`` choice (all | largest | N, numbered largest first) and the
    ``--max-faces`` limit (0 = no limit). Raises NoFaceError / TooManyFacesError."""
    if not faces:
        raise NoFaceError("no face found", path)
    if face == "all":
        if max_faces and len(faces) > max_faces:
            raise TooManyFacesError(
                f"{len(faces)} faces found, more than --max-faces {max_faces} "
                "(raise --max-faces, or pick one with --face largest|N)",
                path,
            )
        return faces
    if face == "largest":
        return [max(faces, key=lambda f: f.area)]
    try:
        index = int(face)
    except ValueError:
        raise UsageError(f"bad --face {face!r}; valid: all, largest, or a face number (0 = largest)")
    if not 0 <= index < len(faces):
        raise NoFaceError(f"--face {index}: only {len(faces)} face(s) found", path)
    return [sorted(faces, key=lambda f: -f.area)[index]]


#: Model options only the stage reads (``lighting`` and ``aus`` go to the network too).
STAGE_ONLY_OPTIONS = ("like", "controls", "light", "light_strength")


@dataclass
class Editor:
    """A loaded model with its device, precision and face detector.

    ``stage``: the geometry/shading/appearance statistics (:class:`faceedit.models.stage.Stage`)
    applied to the photo before the model's network sees the face; None for a model that edits
    pixels alone (``prior=False``)."""

    loaded: LoadedModel
    device: torch.device
    amp_dtype: torch.dtype | None
    detector_name: str = "auto"
    _detector: object | None = None
    stage: Stage | None = None
    _references: dict = field(default_factory=dict)  # --like photo path -> its landmarks

    def __post_init__(self) -> None:
        # A model that estimates the input's lighting (LEGAN's lighting="keep") gets the project's
        # lighting classifier: an analysis network, which the models layer may not import itself.
        if getattr(self.loaded.model, "lighting_estimator", False) is None:
            self.loaded.model.lighting_estimator = _lighting_estimator

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        device: str = "auto",
        precision: str = "auto",
        detector: str = "auto",
        allow_download: bool = True,
        prior: bool = True,
    ) -> "Editor":
        """Load ``name_or_path``; ``prior=False`` leaves out the stage the model sits on (the
        network then edits the unedited face, as a pure pixel method)."""
        mark("load")
        with timed("load"):
            dev = resolve_device(device)
            amp = autocast_dtype(dev, precision)
            loaded = load_model(name_or_path, device=str(dev), allow_download=allow_download)
            loaded.model.to(dev).eval()
            stage = None
            if isinstance(loaded.model, Stage):
                stage = loaded.model
            elif prior and loaded.spec.prior:
                stage = load_model(loaded.spec.prior, allow_download=allow_download).model
        return cls(loaded=loaded, device=dev, amp_dtype=amp, detector_name=detector, stage=stage)

    # -- model side -------------------------------------------------------------------------
    @property
    def spec(self):
        return self.loaded.spec

    def targets(self) -> list[str]:
        """The network's targets, then those only the stage applies (e.g. ``keep``, ``neutral``)."""
        own = list(self.loaded.model.targets())
        extra = [t for t in self.stage.targets() if t not in own] if self.stage is not None else []
        return own + extra

    def check_target(self, target: str) -> str:
        """A target of the network, or one only the stage applies (``keep``, ``neutral``...:
        :meth:`uses_network` tells which)."""
        if self.stage is not None and self.has_network and target in self.stage.targets():
            return target
        return self.loaded.model.check_target(target)

    def uses_network(self, target: str) -> bool:
        """Whether the network runs for ``target`` (a target only the stage knows skips it)."""
        if not self.has_network:
            return False
        try:
            self.loaded.model.check_target(target)
        except UsageError:
            return False
        return True

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
            from faceedit.io import DEFAULT_MAX_PIXELS, read_image

            try:
                like = read_image(key, max_pixels=max_pixels or DEFAULT_MAX_PIXELS).rgb8()
            except FaceEditError as e:
                raise UsageError(f"--like {key}: {e.reason}") from None
        faces = self.detector.detect(to_uint8(np.asarray(like)))
        faces = [f for f in faces if np.asarray(f.landmarks).shape == (68, 2)]
        if not faces:
            raise UsageError(f"--like {key or 'image'}: no face with 68 landmarks found in the reference")
        lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
        if key is not None:
            self._references[key] = lm
        return lm

    @property
    def detector(self):
        if self._detector is None:
            from faceedit.faces.detectors import get_detector

            with timed("load"):
                self._detector = get_detector(self.detector_name, device=str(self.device))
        return self._detector

    def edit_crops(
        self, crops: np.ndarray, target: str, strength: float = 1.0, *,
        landmarks: np.ndarray | None = None, with_masks: bool = False, **options
    ) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
        """The bare model forward on aligned crops.

        crops: (B, S, S, 3) uint8 RGB at the template size. Returns float32 (B, S, S, C) in
        0..255, C = the model's channels (1 = luminance). ``strength`` is passed to models that
        handle it; for the others the caller scales the change (see paste_back).
        ``landmarks`` (B, 68, 2) in crop pixels go to models that use them (``wants_landmarks``,
        e.g. LSSL's landmark side image); others ignore them. ``with_masks=True`` returns
        ``(edited, {name: masks})`` with the model's intermediate masks (``mask_names``, e.g.
        LEGAN's), each float32 (B, S, S, C) in 0..255 like the edit.
        """
        with timed("forward"):
            return self._edit_crops(crops, target, strength, landmarks=landmarks,
                                    with_masks=with_masks, **options)

    def _edit_crops(self, crops, target, strength, *, landmarks, with_masks, **options):
        model = self.loaded.model
        if landmarks is not None and getattr(model, "wants_landmarks", False):
            options = {**options, "landmarks": torch.as_tensor(np.asarray(landmarks, np.float32), device=self.device)}
        x = levels_to_signed(torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)).permute(0, 3, 1, 2)
        if self.spec.channels == 1:
            x = luma_tensor(x)
        amp = (
            torch.autocast(self.device.type, dtype=self.amp_dtype)
            if self.amp_dtype is not None
            else contextlib.nullcontext()
        )
        s = strength if model.handles_strength else 1.0
        with torch.inference_mode():
            with amp:
                if with_masks:
                    y, masks = model.edit_and_masks(x, target, s, **options)
                else:
                    y, masks = model.edit(x, target, s, **options), {}
            pixels = _crop_pixels(y)
            if not with_masks:
                return pixels
            return pixels, {k: _crop_pixels(m) for k, m in masks.items()}

    # -- photo side -------------------------------------------------------------------------
    def align(self, pixels: np.ndarray, faces: list[Face]) -> list[AlignedFace]:
        return [align_face(pixels, f, self.spec.template) for f in faces]

    @property
    def max_strength(self) -> float:
        return self.stage.max_strength if self.stage is not None else 1.0

    @property
    def has_network(self) -> bool:
        return not isinstance(self.loaded.model, Stage)

    def network_options(self, options: dict) -> dict:
        """The options the network takes: :data:`STAGE_ONLY_OPTIONS` left out, ``lighting`` and
        ``aus`` left out when the stage applies them and the network has no such vocabulary,
        and for the stage model alone none at all. ``attrs`` keeps only the attributes the network
        edits itself (SeCGAN's glasses) when a stage paints them for the others."""
        if not self.has_network:
            return {}
        drop = set(STAGE_ONLY_OPTIONS)
        out = dict(options)
        if self.stage is not None:  # the stage relights and moves AUs for networks that cannot
            drop.update(k for k, vocab in (("lighting", "lighting"), ("aus", "aus"))
                        if vocab not in self.loaded.spec.conditions)
            if options.get("attrs"):  # the stage paints glasses on networks that cannot
                own = set(getattr(self.loaded.model, "attributes", []))
                out["attrs"] = {k: v for k, v in _attrs_dict(options["attrs"]).items() if k in own}
                if not out["attrs"]:
                    drop.add("attrs")
        if options.get("light") is not None and options.get("lighting") is None and "lighting" not in drop:
            # a network that relights by class gets the class the stage's direction falls in
            own = (self.loaded.spec.conditions or {}).get("lighting") or []
            cls = nearest_class(options["light"], own)
            if cls is not None:
                out["lighting"] = cls
        return {k: v for k, v in out.items() if k not in drop}

    def apply_stage(
        self, pixels: np.ndarray, aligned: list[AlignedFace], target: str, strength: float = 1.0,
        **options,
    ) -> tuple[np.ndarray, list[AlignedFace]]:
        """The stage's full-resolution edit of every aligned face (geometry, mouth appearance,
        attributes such as glasses (:meth:`stage_attrs`), shading); returns the new photo and the
        faces re-cut from it with the same alignment (so the network sees the face where it was)
        and their moved landmarks. Without a stage, the inputs unchanged."""
        if self.stage is None:
            return pixels, aligned
        lighting = options.get("lighting")
        if lighting in (None, "keep") or lighting not in self.stage.lighting:
            lighting = None
        like = options.get("like")
        staged, done = self.stage.edit_photo(
            pixels, [a.face.landmarks for a in aligned], target, strength,
            lighting=lighting, light=options.get("light"), light_strength=options.get("light_strength"),
            aus=options.get("aus"),
            like=None if like is None else self.reference_landmarks(like),
            controls=options.get("controls"), attrs=self.stage_attrs(options.get("attrs")),
            dense=[a.face.dense for a in aligned],
        )
        out = []
        for a, d in zip(aligned, done):
            b = align_face(staged, a.face, a.template)
            b.landmarks = apply_affine(b.matrix, d.landmarks)
            b.extra.update(a.extra)
            out.append(b)
        return staged, out

    def stage_attrs(self, attrs):
        """The part of ``attrs`` the stage paints: all of it for the stage alone; beside a network,
        all but the attributes only the network edits (the stage refuses what neither knows)."""
        if not attrs or self.stage is None or not self.has_network:
            return attrs or None
        own = set(getattr(self.loaded.model, "attributes", []))
        return {k: v for k, v in _attrs_dict(attrs).items()
                if k in self.stage.attributes or k not in own} or None

    def paste(
        self, pixels: np.ndarray, aligned: AlignedFace, edited: np.ndarray, strength: float
    ) -> None:
        """Paste one edited crop into ``pixels`` (in place); nothing where the network did not
        run (``edited`` None: the stage alone, or a target only the stage applies)."""
        if edited is None:
            return
        paste_back(
            pixels,
            aligned,
            edited[..., 0] if edited.shape[-1] == 1 else edited,
            strength=1.0 if self.loaded.model.handles_strength else min(strength, 1.0),
            color_match=self.spec.color_match,
            luminance_only=self.spec.channels == 1,
            mask=aligned.extra.get("mask"),
            smooth=self.spec.delta_smooth,
        )

    def prepare_masks(self, aligned: list[AlignedFace]) -> None:
        for a in aligned:
            a.extra["mask"] = face_mask(a)

    def edit(
        self,
        image: np.ndarray,
        target: str,
        strength: float = 1.0,
        *,
        face: str = "all",
        max_faces: int = 10,
        **options,
    ) -> np.ndarray:
        """Edit the faces of one RGB photo ((H, W, 3) uint8/uint16 array, or a PIL image);
        returns a new array. ``options``: ``lighting``, ``aus``, ``attrs``, ``controls``
        (``{"smile": 0.5}``), ``like`` (a reference photo, as a path, an RGB array or its 68
        landmarks, whose expression is copied) and the model's own."""
        if not isinstance(image, np.ndarray):  # a PIL image
            image = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
        target = self.check_target(target)
        with timed("detect"):
            faces = self.detector.detect(to_uint8(image))
        faces = select_faces(faces, face, max_faces)
        mark("first face")
        with timed("align"):
            aligned = self.align(image, faces)
            self.prepare_masks(aligned)
        with timed("stage"):
            out, aligned = self.apply_stage(image, aligned, target, strength, **options)
        out = out.copy() if out is image else out
        if self.uses_network(target):
            edited = self.edit_crops(np.stack([a.crop for a in aligned]), target, min(strength, 1.0),
                                     landmarks=crop_landmarks(aligned), **self.network_options(options))
            with timed("paste"):
                for a, e in zip(aligned, edited):
                    self.paste(out, a, e, strength)
        logger.debug("edited %d face(s)", len(aligned))
        return out


def expression_states(faces: list[Face], stage: Stage | None = None) -> list[dict | None]:
    """Per face, its expression state as the stage reads it (:meth:`Stage.describe`: AU
    intensities against the face's own identity, the state in standard deviations, the nearest
    named expression); None for a face without 68 landmarks. ``stage``: default the shipped one."""
    if stage is None:
        stage = load_model("stage").model
    return [stage.describe(f.landmarks) if np.shape(f.landmarks) == (68, 2) else None for f in faces]


def _lighting_estimator(x: torch.Tensor, classes: list[str]) -> torch.Tensor:
    """The project's lighting classifier over ``classes`` (loaded at the first use)."""
    from faceedit.analysis.classify import estimate_lighting

    return estimate_lighting(x, classes)


def _attrs_dict(attrs) -> dict:
    """``attrs`` as a dict (``"glasses=on"`` parsed as on the command line)."""
    if isinstance(attrs, str):
        from faceedit.models.stargan import parse_attrs

        return parse_attrs(attrs)
    return dict(attrs)


def _crop_pixels(t: torch.Tensor) -> np.ndarray:
    """Model output (B, C, S, S) in [-1, 1] -> float32 (B, S, S, C) in 0..255."""
    return signed_to_levels(t).permute(0, 2, 3, 1).contiguous().cpu().numpy()
