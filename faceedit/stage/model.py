"""The edit stage under every method: geometry, mouth appearance and shading as statistics.

An edit = geometry (where the parts of the face go) + shading (how it is lit) + appearance
(texture that was not there). Networks trained on a few hundred photos in an hour of CPU do not
learn to move a mouth corner; statistics of the shared pairs do. This module holds those
statistics and applies them to a photo, at its full resolution, before a method's network sees
the face (``../shared/DESIGN.md``, "An edit, in three parts").

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
  added to R, G and B) when they are greyscale.
* **The smile's skin** (``gain_smile_off``): what a smile does to the skin outside the mouth
  (the folds from the nose to the mouth corners, the lifted cheeks, the lower lids) as a luma
  ratio in the neutral frame, fitted on the London pairs. An edit that takes a smile away paints
  it by the AU12 it takes (its creases go with the smile's shape), one that heads for happy
  paints its inverse (:meth:`Stage.smile_skin`).
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
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from faceedit.conditions import canonical_target
from faceedit.edits.attributes import ATTRIBUTES
from faceedit.edits.controls import controls_to_aus
from faceedit.errors import UsageError
from faceedit.faces.au import AU_IDS
from faceedit.faces.iris import iris_points
from faceedit.log import logger
from faceedit.models.base import ConfigError, EditModel, ModelConfig
from faceedit.models.loading import load_as
from faceedit.models.request import EXAGGERATED_STRENGTH, EditRequest, attr_word
from faceedit.stage.eyes import eye_apertures
from faceedit.stage.mouth import BANK_FILE
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.paint import paint_maps
from faceedit.stage.records import FaceEdit, StageEdit, StageFace, StageRequest, mesh_depth, mesh_points
from faceedit.stage.shading import Light, parse_light
from faceedit.stage.state import ExpressionStates, FaceState
from faceedit.stage.steps import (
    choose_cuts,
    draw_lids,
    fill_mouth,
    move_gaze,
    paint_appearance,
    plan_move,
    relight,
    turn_head,
    warp,
)
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
        self._bank, self._bank_tried = None, False
        self._bank_lock = threading.Lock()
        # the AUs of the last few (state, identity) pairs read (:meth:`_state_aus`)
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
    def _a(self, name: str) -> np.ndarray:
        if name not in self._np:
            self._np[name] = getattr(self, name).detach().float().cpu().numpy()
        return self._np[name]

    def _load_from_state_dict(self, *args, **kwargs):  # cached numpy copies and AU readings go stale
        self._np = {}
        with self._aus_lock:
            self._aus.clear()
        return super()._load_from_state_dict(*args, **kwargs)

    def edit_photo(self, pixels: np.ndarray, faces: list[StageFace | Any], request: StageRequest | EditRequest,
                   ) -> tuple[np.ndarray, list[StageEdit]]:
        """Apply the stage to every face of ``pixels`` ((H,W,3) uint8/uint16 RGB, unchanged);
        returns the new photo and per face what was done. ``request``: the stage's request
        (:meth:`request`, made once per photo), or an edit request it is made from here. Each
        face (a :class:`~faceedit.stage.records.StageFace`: its landmarks, Face Mesh points, what
        its video track carries and its own reference face; a detected face or its 68 landmarks
        alone, :meth:`StageFace.of <faceedit.stage.records.StageFace.of>`) with 68 landmarks
        goes through the steps of :mod:`faceedit.stage.steps` in turn (plan the move, choose
        the cuts, warp, fill the mouth, paint the appearance, relight), each face on the photo
        the faces before it left; faces without them are left as they are."""
        if isinstance(request, EditRequest):
            request = self.request(request)
        out = pixels
        done = []
        for face_in in faces:
            face_in = StageFace.of(face_in)
            lm = np.asarray(face_in.landmarks, np.float64)
            if lm.shape != (68, 2):
                done.append(StageEdit(lm, 0.0))
                continue
            mesh = face_in.dense
            own = request if face_in.like is None else dataclasses.replace(request, like=face_in.like)
            face = FaceEdit(own, lm, mesh_points(mesh), mesh_depth(mesh), iris_points(mesh), carried=face_in.carried)
            plan_move(self, face)
            out = move_gaze(self, face, out)
            out = draw_lids(face, out)
            choose_cuts(self, face, out)
            out = warp(self, face, out)
            out = fill_mouth(self, face, out)
            out = paint_appearance(self, face, out)
            out = relight(face, out)
            out = turn_head(face, out)
            done.append(face.result())
        if out is pixels:
            out = pixels.copy()
        return out, done

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

    def widens_eyes(self, cur: FaceState, new: np.ndarray) -> bool:
        """Whether state ``new`` opens either eye of the face (``cur``'s identity) wider than its
        own neutral does (by the tuning's ``eyes.opens``): surprise, fear. A squint let go
        (smiling -> neutral) is not: drawn at its own size there, the iris shows white around it
        and the face stares."""
        neutral = eye_apertures(self.expression_shape(np.zeros_like(new), cur.identity))
        opened = eye_apertures(self.expression_shape(new, cur.identity))
        return bool((opened >= self.tuning.eyes.opens * neutral).any())

    def smile_taken(self, cur: FaceState, new: np.ndarray) -> float:
        """How much of a smile (-1..1) an edit from state ``cur`` (a :class:`FaceState`) to ``new``
        takes away: the drop in AU12 (lip corner puller) it makes, in units of the mean AU12 of
        the smiles the smile-removal map was fitted on; below 0 a smile added (0 for a stage
        without that map)."""
        if not self.cfg.smile_removal:
            return 0.0
        return float(np.clip(self._smile(cur.expression, cur) - self._smile(new, cur), -1.0, 1.0))

    def smile_lift(self, cur: FaceState, new: np.ndarray) -> float:
        """How far state ``new`` (of ``cur``'s face) lifts the upper lip off the teeth as a smile
        does (0..1): its AU12 (lip corner puller) in the units of :meth:`smile_taken` (1 for a
        stage without the smile-removal map: the lip lifted)."""
        if not self.cfg.smile_removal:
            return 1.0
        return float(np.clip(self._smile(new, cur), 0.0, 1.0))

    def _smile(self, state: np.ndarray, cur: FaceState) -> float:
        """AU12 of expression ``state`` on ``cur``'s identity, in units of the mean AU12 of the
        smiles the smile-removal map was fitted on."""
        au12 = float(np.nan_to_num(self._state_aus(state, cur.identity)[AU_IDS.index(12)]))
        return au12 / max(float(self._a("smile_au12")[0]), 1e-3)

    def _state_aus(self, state: np.ndarray, identity: np.ndarray) -> np.ndarray:
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

    def smile_skin(self, taken: float, heads_for: str | None) -> float:
        """How much of the smile map to paint (:meth:`smile_map`: above 0 its removal, below 0
        its inverse) for an edit that takes ``taken`` of a smile away (:meth:`smile_taken`) and
        heads for the appearance target ``heads_for``: a smile's creases go with any edit that
        takes it away, and come only with one that heads for happy (the lip stretch of fear or
        a wink also reads as some AU12: no smile's creases there)."""
        return taken if taken > 0 or (taken < 0 and heads_for == "happy") else 0.0

    def paint_smile(self, pixels: np.ndarray, moved: np.ndarray, skin: float, keep_out: tuple | None = None,
                    *, in_place: bool = False) -> np.ndarray:
        """The smile map on the face at landmarks ``moved``, ``skin`` of it (:meth:`smile_skin`;
        0: ``pixels`` themselves), not where ``keep_out`` says (:func:`faceedit.stage.paint.paint_maps`;
        ``in_place``: written over ``pixels``, a buffer the caller owns)."""
        if skin == 0:
            return pixels
        return paint_maps(pixels, moved, self._a("mean_shape"), self.smile_map(skin > 0), abs(skin), keep_out,
                          in_place=in_place)

    def smile_map(self, off: bool) -> np.ndarray:
        """The smile-removal map (``off``) or its inverse (a smile added: what a smile does to
        the skin) as :func:`faceedit.stage.paint.paint_maps` takes it ((S, S, 2): gain, bias 0)."""
        key = f"smile_{'off' if off else 'on'}"
        if key not in self._np:
            g = self._a("gain_smile_off")[0].astype(np.float32)
            g = g if off else 1.0 / np.maximum(g, 1e-3)
            self._np[key] = np.ascontiguousarray(np.stack([g, np.zeros_like(g)], -1))
        return self._np[key]

    def appearance_amount(self, current: np.ndarray, new: np.ndarray, target: str | None = None
                          ) -> tuple[str | None, float]:
        """Which target's appearance map to paint for a state change ``current`` -> ``new``, and
        how much (0..1): ``target`` when given, else the fitted target the change heads for
        most directly (neutral excepted); the amount is the progress made towards that
        target's state in units of its full strength (for ``neutral``, of a typical
        expression's), so a face already at the target gets no second coat of teeth."""
        w = 1.0 / np.maximum(self._a("expression_scale"), 1e-6)
        step = (new - current) * w
        if not np.any(step) or not self.appearance:
            return None, 0.0
        states = {t: (np.zeros_like(current) if t == "neutral" else self._a(f"state_{t}")) * w
                  for t in self.appearance}
        typical = float(np.median([float(np.linalg.norm(v)) for t, v in states.items() if t != "neutral"]
                                  or [1.0]))
        if target is None:
            best = -np.inf
            for t, v in states.items():
                toward = v - current * w
                cos = float(step @ toward / max(np.linalg.norm(step) * np.linalg.norm(toward), 1e-9))
                if t != "neutral" and cos > best:
                    target, best = t, cos
            if target is None:
                return None, 0.0
        toward = states[target] - current * w
        progress = float(step @ toward / max(np.linalg.norm(toward), 1e-9))
        full = float(np.linalg.norm(states[target])) if target != "neutral" else typical
        return target, float(np.clip(progress / max(full, 1e-9), 0.0, 1.0))

    def mouth_bank(self):
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

    def paint_folds(self, pixels: np.ndarray, face: FaceEdit, heads_for: str | None, progress: float, *,
                    in_place: bool = False) -> np.ndarray:
        """The folds and furrows of the face's move (:mod:`faceedit.stage.folds`) drawn at the
        photo's resolution on its moved landmarks: by the AUs the move raises (AU4, AU1+2 read
        from the landmarks of its states; AU9, AU10, which they do not show, from the target it
        heads for, ``heads_for``, ``progress`` of the way), times the warp's scale, after the
        lines the photo shows of the AUs the move lowers are taken away
        (:func:`~faceedit.stage.folds.smooth_folds`); ``pixels`` themselves where it draws none
        (a zero edit, neutral, the fold statistics not installed); ``in_place``: written over
        ``pixels``, a buffer the caller owns."""
        from faceedit.stage.folds import fold_amounts, fold_removal, paint_folds, shipped_stats, smooth_folds

        r, cur, new = face.warped, face.current, face.new_state
        assert r is not None and cur is not None and new is not None
        if not np.any(new != cur.expression):
            return pixels
        stats = shipped_stats()
        if stats is None:
            return pixels
        before, after = self._state_aus(cur.expression, cur.identity), self._state_aus(new, cur.identity)
        removal = {k: v * r.scale for k, v in fold_removal(stats, before, after).items()}
        smoothed = smooth_folds(pixels, r.landmarks, removal, in_place=in_place)
        amounts = fold_amounts(stats, before, after, heads_for, progress)
        amounts = {k: v * r.scale for k, v in amounts.items()}
        return paint_folds(smoothed, r.landmarks, amounts, stats.params, face.keep_out,
                           in_place=in_place or smoothed is not pixels)

    def appearance_maps(self, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(canonical landmarks of the target's frame, gain (C, S, S), bias (C, S, S))."""
        state = self._a(f"state_{target}") if target != "neutral" else np.zeros(self.cfg.expression_axes)
        frame = self._a("mean_shape") + (state @ self._a("expression_basis")).reshape(68, 2)
        return frame, self._a(f"gain_{target}"), self._a(f"bias_{target}")

    def paint(self, pixels: np.ndarray, moved: np.ndarray, target: str, strength: float,
              keep_out: tuple | None = None, *, in_place: bool = False) -> np.ndarray:
        """Apply the target's per-pixel linear appearance map (in its canonical frame) to the
        face at landmarks ``moved`` (not where ``keep_out`` says, :func:`faceedit.stage.paint.paint_maps`;
        ``in_place``: written over ``pixels``, a buffer the caller owns)."""
        frame = self.appearance_maps(target)[0]
        return paint_maps(pixels, moved, frame, self._stacked(f"gain_{target}", f"bias_{target}"), strength, keep_out,
                          in_place=in_place)

    def _stacked(self, gain: str, bias: str) -> np.ndarray:
        """Buffers ``gain`` and ``bias`` ((C, S, S) each) as one channels-last (S, S, 2C) float32
        array, cached: one remap samples both."""
        key = f"{gain}|{bias}"
        if key not in self._np:
            self._np[key] = np.ascontiguousarray(
                np.concatenate([np.moveaxis(self._a(gain), 0, -1), np.moveaxis(self._a(bias), 0, -1)], -1),
                np.float32)
        return self._np[key]


# A photo step, not an EditModel: registered like one (config, header, load_model); the
# flow tells them apart by has_network. Registered, with the options it takes, by
# faceedit.models.catalogue.stage.
def build_stage(config: StageConfig | Mapping[str, Any] | None = None) -> Stage:
    return Stage(config)

