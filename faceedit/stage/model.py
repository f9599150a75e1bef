"""The edit stage under every method: geometry, mouth appearance and shading as statistics.

An edit = geometry (where the parts of the face go) + shading (how it is lit) + appearance
(texture that was not there). Networks trained on a few hundred photos in an hour of CPU do not
learn to move a mouth corner; statistics of the shared pairs do. This module holds those
statistics (:class:`Stage`: its buffers, config and tuned values, and the request it takes);
the steps of :mod:`faceedit.stage.steps` apply them to a photo, at its full resolution, before a
method's network sees the face, through painters that are modules of their own
(``../shared/DESIGN.md``, "An edit, in three parts").

Canonical frame: the prepared datasets' 256-px crop template. ``mean_shape`` is the mean
neutral 68-point shape there; a face is put in that frame by the similarity on its
expression-stable points (eye contours and nose), so an expression's move does not shift it.

* **Geometry**: a face's expression is a *state* (:mod:`faceedit.stage.state`: the shape model,
  targets as states, AUs set on top); an edit moves the state from the face's own to the
  target's, applied as a fold-free warp of the photo with the inner lips (and the eyelids when
  they close) as cuts (:mod:`faceedit.stage.cutwarp`). A mouth opened wider than the photo
  shows keeps the face's own upper teeth (carried with the upper lip) and is painted from the
  mouth bank (:mod:`faceedit.stage.mouth_bank`); lips closed over teeth meet in a dark line
  (:func:`faceedit.stage.mouth.paint_seam`).
* **Appearance** (per target): a per-pixel linear map ``gain * x + bias`` in the target's
  canonical frame (the mean shape showing the target's state), fitted from (source warped to the real
  target's landmarks, real target). Where the target parts the lips, it is what draws teeth
  (London smiles) or a mouth cavity (JAFFE/Yale surprise); elsewhere it learns the cheeks and
  folds, and it is regularised to the identity beyond the face. RGB when the target's pairs
  are in colour (as Y, Cb, Cr maps: chroma is not predicted from luma), luma (the same change
  added to R, G and B) when they are greyscale (:mod:`faceedit.stage.appearance`).
* **The smile's skin** (``gain_smile_off``): what a smile does to the skin outside the mouth
  (the folds from the nose to the mouth corners, the lifted cheeks, the lower lids) as a luma
  ratio in the neutral frame, fitted on the London pairs. An edit that takes a smile away paints
  it by the AU12 it takes (its creases go with the smile's shape), one that heads for happy
  paints its inverse (:mod:`faceedit.stage.smile`).
* **Attributes**: glasses drawn on as a posed 3D frame (:mod:`faceedit.stage.glasses`); hair
  recoloured, skin toned and brows thickened or thinned on the photo's own pixels
  (:mod:`faceedit.stage.hair`, :mod:`~faceedit.stage.skin`, :mod:`~faceedit.stage.brows`, over the
  regions of :mod:`faceedit.stage.regions`). Glasses off is refused
  (:data:`faceedit.conditions.GLASSES_OFF_REFUSED`): the luma maps per direction (``glasses_on``,
  ``glasses_off``, fitted in the neutral canonical frame from Yale's pairs of one subject with and
  without glasses) are still held and loaded, but their ``off`` map paints a blurred ghost.
* **Shading**: :mod:`faceedit.stage.shading` relights the whole head (face, ears, neck, hair
  weakened) to a named direction (``lighting``) or any azimuth and elevation (``light``), its
  luma only (``weights/shading.safetensors``, fitted on Extended Yale B).

:meth:`Stage.edit_photo` applies them face by face through the steps of
:mod:`faceedit.stage.steps`. The values set by looking rather than fitted are the record
:class:`faceedit.stage.tuning.StageTuning` (``Stage.tuning``), saved in the checkpoint's config.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from faceedit.conditions import canonical_target
from faceedit.edits.attributes import ATTRIBUTES
from faceedit.edits.controls import controls_to_aus
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.models.base import ConfigError, EditModel, ModelConfig
from faceedit.models.loading import load_as
from faceedit.models.request import EXAGGERATED_STRENGTH, EditRequest, attr_word
from faceedit.stage.fine import edit_fine
from faceedit.stage.hold import planned_decline
from faceedit.stage.mouth import BANK_FILE
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.records import FaceEdit, StageEdit, StageFace, StageRequest
from faceedit.stage.shading import Light, parse_light
from faceedit.stage.state import ExpressionStates
from faceedit.stage.tuning import StageTuning

#: ``--strength`` above 1 exaggerates the learnt move, up to this factor (the edit request's).
MAX_STRENGTH = EXAGGERATED_STRENGTH


@dataclasses.dataclass(frozen=True)
class StageConfig(ModelConfig):
    """What the stage holds statistics for (its buffers follow from these).
    ``attribute_channels`` are channel counts (SeCGAN's and LSSL's ``attributes`` are class
    names)."""

    arch = "stage"
    method = "stage"

    canon_size: int = 256  # side of the canonical frame of the appearance and shading maps
    identity_axes: int = 16  # principal axes of neutral shapes (people's own face shape)
    expression_axes: int = 10  # principal axes of within-subject expression moves (the state)
    targets: list[str] = dataclasses.field(default_factory=list)  # expressions with a landmark move
    lighting: list[str] = dataclasses.field(default_factory=list)  # named light directions it relights to
    # target -> channels (3 = colour, 1 = luma) of its appearance map
    appearance: dict[str, int] = dataclasses.field(default_factory=dict)
    aus: list[int] = dataclasses.field(default_factory=list)  # AUs of the AU basis (EGGAN's --au)
    # binary attribute -> channels of its on / off maps (1 = luma)
    attribute_channels: dict[str, int] = dataclasses.field(default_factory=dict)
    smile_removal: bool = False  # holds the smile-removal map (an edit that takes a smile away)
    # the tuned values (faceedit.stage.tuning.StageTuning's form; what it lacks takes the defaults)
    tuning: dict[str, Any] = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        if self.identity_axes < 1 or self.expression_axes < 1:
            raise ConfigError("stage config: identity_axes and expression_axes must be at least 1")
        for name, c in (*self.appearance.items(), *self.attribute_channels.items()):
            if c not in (1, 3):
                raise ConfigError(f"stage config: {name} has {c} channels; use 1 or 3")
        try:
            StageTuning.from_dict(self.tuning)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"stage config: {e}") from None


class Stage(ExpressionStates, nn.Module):
    """The stage: statistics with no network, applied to whole photos at their full resolution.

    The editing flow (:mod:`faceedit.flow`) runs it on the photo before a method's network sees
    the face; the registry entry ``stage`` applies it alone (the baseline, the fastest model).
    It is configured, loaded and saved as every registered model is, by the same methods as
    :class:`faceedit.models.base.EditModel` (``cfg``/``config``, ``save_pretrained``,
    ``targets``; :func:`faceedit.models.loading.load_model` loads it, :meth:`from_pretrained`
    loads it alone), and has no network over crops (``has_network = False``: nothing is pasted
    back)."""

    has_network: ClassVar[bool] = False
    max_strength = MAX_STRENGTH
    cfg: StageConfig

    config = EditModel.config
    save_pretrained = EditModel.save_pretrained

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *, device: str | torch.device = "cpu",
                        allow_download: bool = True) -> Stage:
        """The stage of a registered name or a ``.safetensors`` path, in eval mode on ``device``
        (:func:`faceedit.models.loading.load_as`); UsageError when the file holds another model."""
        return load_as(cls, name_or_path, device=device, allow_download=allow_download)

    def __init__(self, config: StageConfig | Mapping[str, Any] | None = None):
        super().__init__()
        cfg = self.cfg = StageConfig.from_dict(config)
        size, ki, ke = cfg.canon_size, cfg.identity_axes, cfg.expression_axes
        self.canon_size = size
        self.expressions = list(cfg.targets)
        self.lighting = list(cfg.lighting)
        self.appearance = dict(cfg.appearance)  # target -> channels (1 or 3)
        self.aus = list(cfg.aus)
        self.smile_removal = bool(cfg.smile_removal)  # holds the smile map (faceedit.stage.smile)
        self.attribute_channels = dict(cfg.attribute_channels)  # name -> channels (1 = luma)
        self.tuning = StageTuning.from_dict(cfg.tuning)
        self.register_buffer("mean_shape", torch.zeros(68, 2))
        self.register_buffer("identity_basis", torch.zeros(ki, 136))
        self.register_buffer("identity_scale", torch.ones(ki))
        self.register_buffer("expression_basis", torch.zeros(ke, 136))
        self.register_buffer("expression_scale", torch.ones(ke))
        for t in self.expressions:
            if t != "neutral":
                self.register_buffer(f"state_{t}", torch.zeros(ke))
        for t, c in self.appearance.items():
            self.register_buffer(f"gain_{t}", torch.ones(int(c), size, size))
            self.register_buffer(f"bias_{t}", torch.zeros(int(c), size, size))
        for a, c in self.attribute_channels.items():
            for d in ("on", "off"):
                self.register_buffer(f"gain_{a}_{d}", torch.ones(int(c), size, size))
                self.register_buffer(f"bias_{a}_{d}", torch.zeros(int(c), size, size))
        if cfg.smile_removal:
            self.register_buffer("gain_smile_off", torch.ones(1, size, size))
            self.register_buffer("smile_au12", torch.ones(1))
        self._np: dict[str, np.ndarray] = {}
        self._bank: MouthBank | None = None
        self._bank_tried = False
        self._bank_lock = threading.Lock()
        # the AUs of the last few (state, identity) pairs read (:meth:`state_aus_cached`)
        self._aus: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._aus_lock = threading.Lock()

    # -- what it applies -------------------------------------------------------------------
    def targets(self) -> list[str]:
        """The named expressions, ``keep`` (the face's own state, for lighting, attributes,
        controls, ``like``) and ``au`` (the face's own state with ``aus`` set: ``--au`` alone)."""
        return list(self.expressions) + ["keep"] + (["au"] if self.aus else [])

    @property
    def attributes(self) -> list[str]:
        """Attributes that ``attrs=`` accepts: those registered
        (:data:`faceedit.edits.attributes.ATTRIBUTES`: glasses drawn, hair, skin and brows
        repainted, and any registered since)."""
        return list(ATTRIBUTES)

    def attribute_amounts(self, attrs: Mapping[str, float | str] | None) -> dict[str, float | str]:
        """The request's attribute values (:attr:`faceedit.models.request.EditRequest.attrs`,
        read there by :func:`faceedit.edits.attributes.attribute_value`) as signed amounts: +1 =
        on in full, -1 = off, 0 (a value of 0.5) nothing; a word (a style, a colour) stays the
        word. UsageError for an attribute that is not registered, one the stage refuses off (its
        record's ``off``: glasses, :data:`faceedit.conditions.GLASSES_OFF_REFUSED`) and off for
        an attribute without statistics to take it off."""
        out: dict[str, float | str] = {}
        for key, value in (attrs or {}).items():
            record = ATTRIBUTES.get(key)
            if record is None:
                raise UsageError(f"unknown attribute {key!r} for the stage; valid: {', '.join(self.attributes)}")
            if isinstance(value, str):
                out[key] = value
                continue
            amount = out[key] = 2.0 * float(value) - 1.0
            if amount < 0 and record.off:
                raise UsageError(f"attribute {key}={attr_word(value)}: {record.off}")
            if amount < 0 and key not in self.attribute_channels:
                raise UsageError(f"attribute {key}={attr_word(value)}: this stage has no statistics to take {key} off")
        return out

    def eval_conditions(self) -> list[dict]:
        """``faceedit eval`` measures a network on aligned crops; the stage has none."""
        raise UsageError(f"{type(self).__name__} edits whole photos and has no network over crops: "
                         "faceedit eval measures networks (evaluate the stage on photos, bench/)")

    def check_target(self, target: str) -> str:
        target = canonical_target(target)
        if target not in self.targets():
            raise UsageError(f"unknown target {target!r}; valid targets: {', '.join(self.targets())}")
        return target

    # -- statistics as numpy ----------------------------------------------------------------
    def array(self, name: str) -> np.ndarray:
        """Buffer ``name`` as a float32 numpy array, made once (until the buffers load again)."""
        if name not in self._np:
            self._np[name] = getattr(self, name).detach().float().cpu().numpy()
        return self._np[name]

    _a = array  # the name the state model's methods (faceedit.stage.state) read the buffers by

    def cached(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """An array a painter makes from the buffers (``make()``), made once and kept under
        ``key`` beside the buffers' numpy copies (dropped with them when the buffers load again)."""
        if key not in self._np:
            self._np[key] = make()
        return self._np[key]

    def _load_from_state_dict(self, *args, **kwargs):  # cached numpy copies and AU readings go stale
        self._np = {}
        with self._aus_lock:
            self._aus.clear()
        return super()._load_from_state_dict(*args, **kwargs)

    def edit_photo(self, pixels: np.ndarray, faces: list[StageFace | Any], request: StageRequest | EditRequest,
                   plans: list[FaceEdit | None] | None = None) -> tuple[np.ndarray, list[StageEdit]]:
        """Apply the stage to every face of ``pixels`` ((H,W,3) uint8/uint16 RGB, unchanged);
        returns the new photo and per face what was done. ``request``: the stage's request
        (:meth:`request`, made once per photo), or an edit request it is made from here. Each
        face (a :class:`~faceedit.stage.records.StageFace`: its landmarks, Face Mesh points, what
        its video track carries and its own reference face; a detected face or its 68 landmarks
        alone, :meth:`StageFace.of <faceedit.stage.records.StageFace.of>`) with 68 landmarks
        goes through the steps of :mod:`faceedit.stage.steps` in turn
        (:func:`~faceedit.stage.steps.edit_face`: plan the move, choose the cuts, warp, fill the
        mouth, paint the appearance, relight; a small face on a finer copy of itself,
        :func:`~faceedit.stage.fine.edit_fine`), each face on the photo the faces before it left;
        faces without them are left as they are. This is the one loop over a photo's faces.
        ``plans``: per face its move planned on ``pixels`` for ``request`` (the move verdict's,
        :func:`faceedit.stage.hold.judged`), taken on while no face before it changed the photo."""
        if isinstance(request, EditRequest):
            request = self.request(request)
        out, done = pixels, []
        for i, face in enumerate(faces):
            plan = plans[i] if plans is not None and out is pixels else None
            out, edit = edit_fine(self, StageFace.of(face), request, out, plan)
            done.append(edit)
        if out is pixels:
            out = pixels.copy()
        return out, done

    def move_declines(self, pixels: np.ndarray, faces: list[StageFace | Any], request: StageRequest | EditRequest,
                      ) -> list[str | None]:
        """Per face of ``pixels`` (as :meth:`edit_photo` takes them) why its planned move is left
        undone (:func:`faceedit.stage.hold.move_decline_reason`), or None where the warp holds it
        (and for a face without 68 landmarks)."""
        if isinstance(request, EditRequest):
            request = self.request(request)
        return [planned_decline(self, StageFace.of(face), request, pixels) for face in faces]

    def request(self, request: EditRequest, like: np.ndarray | None = None,
                network_attributes: Collection[str] = ()) -> StageRequest:
        """The stage's part of ``request`` (its values checked when it was made), made once per
        photo: the target by its canonical name; the named controls' AUs merged into ``aus``
        (the stage's AUs; an AU in both: ``aus`` wins); the attributes as signed amounts
        (:meth:`attribute_amounts`), those a network beside the stage edits itself
        (``network_attributes``, not registered with the stage) left to it; the light as a
        :class:`faceedit.stage.shading.Light`: ``light`` (a direction), else a ``lighting`` class
        this stage draws (another, or ``keep``, is the network's), at ``light_strength`` (default
        the tuning's); ``like``: the reference face's 68 landmarks (default the request's
        ``like`` where it is landmarks). UsageError for what the stage cannot do."""
        aus = dict(request.aus) if request.aus else None
        controls = dict(request.controls) if request.controls else None
        if controls:
            named = {k: v for k, v in controls_to_aus(controls).items() if k in self.aus}
            aus = {**named, **(aus or {})} or None
        attrs = {k: v for k, v in (request.attrs or {}).items() if k in ATTRIBUTES or k not in network_attributes}
        shade: Light | None = None
        lighting = request.lighting if request.lighting in self.lighting else None
        spec = request.light if request.light is not None else lighting
        if spec is not None:
            strength = request.light_strength if request.light_strength is not None else self.tuning.light.strength
            shade = parse_light(spec, strength)
        if like is None and request.like is not None:
            like = np.asarray(request.like) if np.shape(request.like) == (68, 2) else None
            if like is None:
                raise UsageError("like: give the reference's 68 landmarks (an Editor also takes a photo)")
        return StageRequest(canonical_target(request.target), request.strength, aus=aus, like=like,
                            attributes=self.attribute_amounts(attrs) or None, light=shade, controls=controls)

    def state_aus_cached(self, state: np.ndarray, identity: np.ndarray) -> np.ndarray:
        """:meth:`state_aus` (clipped), kept for the last few pairs read: an edit reads its face's
        states' AUs in several steps (the smile taken, the teeth covered, the folds). Read-only."""
        state, identity = np.asarray(state, np.float64), np.asarray(identity, np.float64)
        key = state.tobytes() + identity.tobytes()
        with self._aus_lock:
            hit = self._aus.get(key)
            if hit is not None:
                self._aus.move_to_end(key)
                return hit
        aus = self.state_aus(state, identity)
        aus.flags.writeable = False
        with self._aus_lock:
            self._aus[key] = aus
            while len(self._aus) > 16:  # a few faces' states (video workers edit side by side)
                self._aus.popitem(last=False)
        return aus

    def mouth_bank(self) -> MouthBank | None:
        """The mouth-interior bank (:class:`faceedit.stage.mouth_bank.MouthBank`), loaded once; None
        where its file is not installed (the appearance maps then draw the mouth)."""
        with self._bank_lock:  # worker threads share the stage: none may see a bank half loaded
            if not self._bank_tried:
                try:
                    self._bank = MouthBank.load()
                except FileNotFoundError:
                    logger.warning("the mouth bank (%s) is not installed: opened mouths are drawn from the "
                                   "stage's mean maps", BANK_FILE)
                self._bank_tried = True
        return self._bank


# A photo step, not an EditModel: registered like one (config, header, load_model); the
# flow tells them apart by has_network. Registered, with the options it takes, by
# faceedit.models.catalogue.stage.
def build_stage(config: StageConfig | Mapping[str, Any] | None = None) -> Stage:
    return Stage(config)

