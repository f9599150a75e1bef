"""Python entry points: load a model once, edit faces in photos.

    from faceedit.api import Editor
    editor = Editor.from_pretrained("reggan")
    out = editor.edit(rgb_uint8, "happy")          # numpy in, numpy out, every face edited

The CLI is a thin layer over this module and :mod:`faceedit.pipeline`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from faceedit.errors import NoFaceError, TooManyFacesError, UsageError
from faceedit.faces.align import align_face, face_mask, paste_back
from faceedit.faces.types import LUMA_WEIGHTS, AlignedFace, Face
from faceedit.io import to_uint8
from faceedit.log import logger
from faceedit.models.registry import LoadedModel, load_model

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def resolve_device(name: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU. An explicit device that is absent is a usage error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise UsageError(f"unknown device {name!r}; valid: {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: CUDA is not available on this machine")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise UsageError("--device mps: Apple MPS is not available on this machine")
    return torch.device(name)


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for inference, or None for full fp32. auto = bf16/fp16 on CUDA, fp32
    elsewhere (CPU autocast is slower than fp32 for these small convnets)."""
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision == "fp32" or device.type == "cpu" and precision == "auto":
        return None
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None
    return torch.float16 if precision == "fp16" else torch.bfloat16


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


@dataclass
class Editor:
    """A loaded model with its device, precision and face detector."""

    loaded: LoadedModel
    device: torch.device
    amp_dtype: torch.dtype | None
    detector_name: str = "auto"
    _detector: object | None = None

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        device: str = "auto",
        precision: str = "auto",
        detector: str = "auto",
        allow_download: bool = True,
    ) -> "Editor":
        dev = resolve_device(device)
        amp = autocast_dtype(dev, precision)
        loaded = load_model(name_or_path, device=str(dev), allow_download=allow_download)
        loaded.model.to(dev).eval()
        return cls(loaded=loaded, device=dev, amp_dtype=amp, detector_name=detector)

    # -- model side -------------------------------------------------------------------------
    @property
    def spec(self):
        return self.loaded.spec

    def targets(self) -> list[str]:
        return list(self.loaded.model.targets())

    def check_target(self, target: str) -> str:
        return self.loaded.model.check_target(target)

    @property
    def detector(self):
        if self._detector is None:
            from faceedit.faces.detect import get_detector

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
        model = self.loaded.model
        if landmarks is not None and getattr(model, "wants_landmarks", False):
            options = {**options, "landmarks": torch.as_tensor(np.asarray(landmarks, np.float32), device=self.device)}
        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        if self.spec.channels == 1:
            w = torch.tensor(LUMA_WEIGHTS, device=x.device).view(1, 3, 1, 1)
            x = (x * w).sum(1, keepdim=True)
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

    def paste(
        self, pixels: np.ndarray, aligned: AlignedFace, edited: np.ndarray, strength: float
    ) -> None:
        """Paste one edited crop into ``pixels`` (in place)."""
        paste_back(
            pixels,
            aligned,
            edited[..., 0] if edited.shape[-1] == 1 else edited,
            strength=1.0 if self.loaded.model.handles_strength else strength,
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
        """Edit the faces of one RGB photo (H, W, 3) uint8/uint16; returns a new array."""
        self.check_target(target)
        faces = select_faces(self.detector.detect(to_uint8(image)), face, max_faces)
        aligned = self.align(image, faces)
        self.prepare_masks(aligned)
        edited = self.edit_crops(np.stack([a.crop for a in aligned]), target, strength,
                                 landmarks=crop_landmarks(aligned), **options)
        out = image.copy()
        for a, e in zip(aligned, edited):
            self.paste(out, a, e, strength)
        logger.debug("edited %d face(s)", len(aligned))
        return out


def _crop_pixels(t: torch.Tensor) -> np.ndarray:
    """Model output (B, C, S, S) in [-1, 1] -> float32 (B, S, S, C) in 0..255."""
    t = t.float().clamp(-1, 1).add_(1.0).mul_(127.5)
    return t.permute(0, 2, 3, 1).contiguous().cpu().numpy()
