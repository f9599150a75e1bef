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
  mouth bank (:mod:`faceedit.stage.mouth`); lips closed over teeth meet in a dark line
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
* **Attributes** (``glasses``): a luma per-pixel linear map per direction (``glasses_on``,
  ``glasses_off``) in the neutral canonical frame (``mean_shape``), fitted like the appearance
  maps from Yale's pairs of one subject with and without glasses, and the identity beyond the
  eyes, brows and nose bridge. ``attrs={"glasses": 1.0}`` paints the mean frames on,
  ``0.0`` paints them off, 0.5 leaves the face alone (0.75: on at half strength).
* **Shading**: :mod:`faceedit.stage.shading` relights the whole head (face, ears, neck, hair
  weakened) to a named direction (``lighting``) or any azimuth and elevation (``light``), its
  luma only (``weights/shading.safetensors``, fitted on Extended Yale B).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from faceedit.conditions import canonical_target
from faceedit.errors import UsageError
from faceedit.faces.au import AU_IDS
from faceedit.faces.landmarks import eye_distance
from faceedit.log import logger
from faceedit.models.base import ConfigError, ModelConfig
from faceedit.models.photo import PhotoModel
from faceedit.pixels import from_unit, luma, rgb_to_ycc, to_unit, ycc_to_rgb
from faceedit.stage.controls import controls_to_aus, parse_controls
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.eyes import OPENS, eye_apertures, keep_irises
from faceedit.stage.lips import (
    MESH_INNER_LOWER,
    MESH_INNER_UPPER,
    crease_fragments,
    find_interior,
    lip_in_interior,
    lip_redness,
    upper_teeth_share,
    widen_interior,
)
from faceedit.stage.mouth import BANK_FILE, MouthBank, paint_seam
from faceedit.stage.shading import Light, parse_light, relight
from faceedit.stage.state import LIPS_CLOSED, ExpressionStates, FaceState, lip_gap
from faceedit.stage.warp import (
    canonical_coords,
    face_grid,
    region_weight,
)

#: ``--strength`` above 1 exaggerates the learnt move, up to this factor.
MAX_STRENGTH = 1.5
#: (inner, outer) of the region weight, in eye distances from the face outline, over which the
#: appearance maps (mouth, glasses) and the shading maps are laid onto a face.
PAINT_REGION = (0.0, 0.3)
#: An edit that takes a whole smile away from a face whose teeth it carries into a new opening
#: (smiling -> surprised) shows them this fraction of the smile's opening higher, under the
#: upper lip (``cut_warp``'s ``teeth_rise``, scaled by the share of the smile taken): a smile
#: lifts the upper lip off the teeth and a surprised mouth does not, and the smile's full row of
#: teeth in a wide opening read as a laugh. At 0.6 the upper teeth show as a band of tips under
#: a relaxed lip (london-083, 094, 097, 099, 114 at 1350 px; FER read 11 of the 18 held-out
#: smiles made surprised as surprised, 8 at 0.4, with surprised's smile kept at its posed 0.7;
#: 15 since surprised takes all of it: see ``NO_SMILE`` in faceedit/train/stage.py).
TEETH_RISE = 0.6
#: A mouth that does not close whose interior found from colour spans less than this share of
#: the 68 points' inner corners (the front teeth of a small open smile, between lips that touch
#: towards the corners: london-114 0.70, the other held-out London smiles 0.91-1.13) is cut
#: along the Face Mesh's inner-lip loop instead, corner to corner: cut along the found curves,
#: opened in surprise, their blunt ends stood as the straight sides of a window in the lips.
NARROW_INTERIOR = 0.8
#: The share of the mouth bank's upper teeth drawn under the upper lip in a wide-open mouth whose
#: state has no smile (scaled by the smile it lacks, :meth:`Stage.smile_lift`): a relaxed upper
#: lip covers the top of the teeth a smile shows whole. Neutral faces made surprised showed a
#: full row of crowns under the lip, a shout or a laugh more than surprise; JAFFE's posed
#: surprise (8 of its 10 people looked at) shows the tips of the front teeth or none. With 0.4,
#: tips (008, 061, 094, 097 at 1350 px); FER (18 held-out London faces, 512 px) the same, 15
#: of 18 surprised from neutral and from smiling faces.
TEETH_COVER = 0.4
#: How far (corner distances, at the middle) a shown interior is widened up and down before a
#: mouth that shows it closes (:func:`faceedit.stage.lips.widen_interior`).
CLOSING_MARGIN = (0.01, 0.04)


def _narrow(shown: tuple[np.ndarray, np.ndarray], lm: np.ndarray) -> bool:
    """Whether the interior found from colour spans less than :data:`NARROW_INTERIOR` of the
    68 points' inner corners (60, 64)."""
    width = float(np.linalg.norm(shown[0][-1] - shown[0][0]))
    return width < NARROW_INTERIOR * float(np.linalg.norm(lm[64] - lm[60]))


def closes_eyes(lm: np.ndarray, moved: np.ndarray, ratio: float = 0.7) -> bool:
    """Whether a move narrows either eye to under ``ratio`` of its opening (a blink, a wink,
    sleepy lids): the eyelids are then cut like the lips, so the lids meet over the eye."""
    def aperture(p: np.ndarray, eye: list[int]) -> float:
        top, bottom = eye[1:3], eye[4:6][::-1]
        return float(np.linalg.norm(p[top] - p[bottom], axis=1).mean())

    lm, moved = np.asarray(lm, np.float64), np.asarray(moved, np.float64)
    return any(aperture(moved, e) < ratio * aperture(lm, e) for e in (list(range(36, 42)), list(range(42, 48))))


def _mouth_keep_out(roi, lm: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Where the appearance maps stay off an open mouth drawn at the photo's own resolution
    (0..1 over ``roi``): what the cut and the bank drew (``drawn``) and the whole mouth inside
    the outer lips of ``lm`` (68 points), feathered over a tenth of an eye distance. An open
    target's mean map darkens where the mean face's mouth is open, which on a face whose own
    opening sits elsewhere (a smile's teeth carried into a surprise) falls on the lips as a dark
    band. (A closed mouth keeps its map: the shading of the lips' seam and corners.)"""
    x0, y0, x1, y1 = (int(v) for v in roi)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    lips = np.asarray(lm, np.float64)[48:60] - (x0, y0)
    cv2.fillPoly(mask, [np.round(lips * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    sigma = max(0.1 * eye_distance(lm), 0.5)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    out = np.maximum(np.minimum(2.0 * soft, 1.0), cv2.dilate(np.clip(drawn, 0, 1).astype(np.float32),
                                                                np.ones((3, 3), np.uint8)))
    return out.astype(np.float32)


def _without(weight: np.ndarray, roi, keep_roi, keep: np.ndarray) -> np.ndarray:
    """``weight`` (over ``roi``) times 1 - ``keep`` (over ``keep_roi``) where the two overlap."""
    x0, y0, x1, y1 = roi
    k0, l0, k1, l1 = keep_roi
    a0, b0, a1, b1 = max(x0, k0), max(y0, l0), min(x1, k1), min(y1, l1)
    if a1 <= a0 or b1 <= b0:
        return weight
    weight = weight.copy()
    weight[b0 - y0:b1 - y0, a0 - x0:a1 - x0] *= 1.0 - keep[b0 - l0:b1 - l0, a0 - k0:a1 - k0]
    return weight


def luma_change(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Change the luma of RGB pixels ``x`` (0..1, (..., 3)) by ``dy`` (...,): a darkening scales
    R, G and B together (a lip opened into a shadowed mouth turns dark brown, where subtracting
    the same amount from each channel would leave a saturated dark red), a brightening adds the
    same light to each (teeth are white whatever the lip colour). On a grey photo both are the
    same change."""
    y = luma(x)
    ratio = (y + dy) / np.maximum(y, 1e-3)
    return np.where((dy < 0)[..., None], x * np.clip(ratio, 0.0, 1.0)[..., None], x + dy[..., None])


@dataclass
class StageEdit:
    """What the stage did to one face: its landmarks after the edit, the warp scale used (below 1
    where the full move would have folded the image), its expression state before and after and
    the mouth exemplar drawn (pass it back as ``mouth_exemplar`` to keep one per face in a video)."""

    landmarks: np.ndarray
    scale: float
    state: np.ndarray | None = None
    new_state: np.ndarray | None = None
    mouth_exemplar: int | None = None  # the mouth bank entry painted into an opened mouth


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

    def validate(self) -> None:
        if self.identity_axes < 1 or self.expression_axes < 1:
            raise ConfigError("stage config: identity_axes and expression_axes must be at least 1")
        for name, c in (*self.appearance.items(), *self.attribute_channels.items()):
            if c not in (1, 3):
                raise ConfigError(f"stage config: {name} has {c} channels; use 1 or 3")


class Stage(ExpressionStates, PhotoModel):
    """The statistics model: a photo step (:class:`faceedit.models.photo.PhotoStep`) with no
    network; the registry entry ``stage`` applies it alone (the baseline, the fastest model)."""

    max_strength = MAX_STRENGTH
    cfg: StageConfig

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

    # -- what it applies -------------------------------------------------------------------
    def targets(self) -> list[str]:
        """The named expressions, ``keep`` (the face's own state, for lighting, attributes,
        controls, ``like``) and ``au`` (the face's own state with ``aus`` set: ``--au`` alone)."""
        return list(self.expressions) + ["keep"] + (["au"] if self.aus else [])

    @property
    def attributes(self) -> list[str]:
        """Binary attributes that ``attrs=`` accepts (those it has maps for)."""
        return list(self.attribute_channels)

    def attribute_amounts(self, attrs: dict | str | None) -> dict[str, float]:
        """``{"glasses": 1.0 | "on" | 0.0 | "off" | 0..1}`` (or ``"glasses=on"``) -> signed
        amounts: +1 = the ``on`` map in full, -1 = the ``off`` map, 0 (a value of 0.5) nothing.
        UsageError for an attribute this stage has no statistics for."""
        if not attrs:
            return {}
        from faceedit.models.stargan import attr_value, parse_attrs  # the same words as SeCGAN

        if isinstance(attrs, str):
            attrs = parse_attrs(attrs)
        out = {}
        for key, value in attrs.items():
            if key not in self.attribute_channels:
                if not self.attribute_channels:
                    raise UsageError(f"attribute {key!r}: this stage has no attribute statistics")
                raise UsageError(f"unknown attribute {key!r} for the stage; valid: {', '.join(self.attributes)}")
            out[key] = 2.0 * attr_value(key, value) - 1.0
        return out

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

    def _load_from_state_dict(self, *args, **kwargs):  # cached numpy copies go stale
        self._np = {}
        return super()._load_from_state_dict(*args, **kwargs)

    def edit_photo(self, pixels: np.ndarray, faces_lm: list[np.ndarray], target: str,
                   strength: float = 1.0, *, lighting: str | None = None, aus: dict | None = None,
                   like: np.ndarray | None = None, controls: dict | None = None,
                   attrs: dict | str | None = None, mouth_exemplar: int | None = None,
                   dense: list[np.ndarray | None] | None = None,
                   light: str | tuple | None = None, light_strength: float | None = None,
                   ) -> tuple[np.ndarray, list[StageEdit]]:
        """Apply the stage to every face of ``pixels`` ((H,W,3) uint8/uint16 RGB, unchanged);
        returns the new photo and per face what was done. Faces without 68 landmarks are left
        as they are. ``aus``: AU intensities to set ({au: 0..5}, absolute); ``controls``: named
        fine controls (:data:`CONTROLS`), absolute too (an AU in both: ``aus`` wins).
        ``attrs``: attribute edits, e.g. ``{"glasses": 1.0}`` (on; 0.0 off, see
        :meth:`attribute_amounts`), painted after the geometry and the mouth, before the light,
        scaled by ``strength`` up to 1.

        Geometry: :func:`faceedit.stage.cutwarp.cut_warp` with the inner lips as a cut (and the
        eyelids where the move closes an eye), so lips part and close, each keeping its own
        texture; a mouth opened beyond what the photo shows is painted from the mouth bank
        (:class:`faceedit.stage.mouth.MouthBank`; ``mouth_exemplar``: which entry, default the
        best fit to the opening). ``dense``: per face its Face Mesh points ((468, 2), or (468, 3)
        with depth) or None: the interior the photo shows is found around the mesh's inner-lip
        loop and is the cut (on a smile the 68 points' inner lips lie on the teeth)."""
        target = canonical_target(target)
        amounts = self.attribute_amounts(attrs)
        if controls:  # absolute AU values; an explicit --au of the same AU wins
            named = {k: v for k, v in controls_to_aus(parse_controls(controls)).items() if k in self.aus}
            aus = {**named, **(aus or {})}
        if not 0.0 <= strength <= MAX_STRENGTH:
            raise UsageError(f"`strength` {strength:g}: must be between 0 and {MAX_STRENGTH:g}")
        # a named direction (``lighting``) or any direction (``light``, "AZ,EL" degrees), at the
        # light's own strength (:mod:`faceedit.stage.shading`); UsageError for neither
        shade: Light | None = None
        if light is not None or lighting is not None:
            shade = parse_light(light if light is not None else lighting, light_strength)
        out = pixels
        done = []
        for i, lm in enumerate(faces_lm):
            lm = np.asarray(lm, np.float64)
            mesh = dense[i] if dense is not None and i < len(dense) else None
            if lm.shape != (68, 2):
                done.append(StageEdit(lm, 0.0))
                continue
            cur, new = self.plan(lm, target, strength, aus=aus, like=like)
            goal_lm = self.goal_landmarks(lm, cur, new, strength)
            closing = self.closes_mouth(cur, new, strength)
            lips = shown = lip_a = None
            if mesh is not None and np.shape(mesh)[0] == 468:  # (468, 2) or with depth (468, 3)
                xy = np.asarray(mesh, np.float64)[:, :2]
                # the interior the photo shows, from colour; else the mesh's inner-lip loop
                shown = find_interior(out, xy)
                if shown is not None and closing > 0:  # teeth that must all go
                    shown = widen_interior(*shown, *CLOSING_MARGIN)
                elif shown is not None and _narrow(shown, lm):  # a window of front teeth
                    shown = None
                lips = shown or (xy[MESH_INNER_UPPER], xy[MESH_INNER_LOWER])
                if shown is None:
                    lip_a = lip_redness(out, xy)
            # a smile taken away: the teeth it showed rise under the relaxing upper lip (its
            # skin is painted below). Not by AUs set that leave the smile alone (the others are
            # kept, the smile with them: AU25/26 alone move the AU12 reading a little)
            smile_set = target not in ("keep", "au") or like is not None or 12 in (aus or {})
            taken = self.smile_taken(cur, new) if smile_set else 0.0
            # and only the upper teeth go up with the upper lip: below them (the lower teeth, a
            # strip of lower lip colour found with them) the opening is left to the filler
            carry = None
            if shown is not None and taken > 0 and closing == 0:
                share = upper_teeth_share(out, *shown)[:, None]
                carry = shown[0] + share * (shown[1] - shown[0])
            r = cut_warp(out, lm, goal_lm, eyelids=closes_eyes(lm, goal_lm), lips=lips,
                         close_mouth=closing if lips is not None else 0.0,
                         teeth_rise=TEETH_RISE * max(taken, 0.0), carry_lower=carry)
            if mesh is not None and np.shape(mesh)[0] == 468 and self.widens_eyes(cur, new):
                # eyes opened wider than the face's own neutral keep their irises' size
                warped = keep_irises(out, r.pixels, lm, r.landmarks, np.asarray(mesh, np.float64)[:, :2],
                                     r.source_points)
            else:
                warped = r.pixels
            out, moved, scale = warped, r.landmarks, r.scale
            opening, interior = r.opening, r.interior
            bank = self.mouth_bank()
            if bank is not None and lip_a is not None and float(interior.max()) > 0:
                # no teeth shown: what the loop carried that is lip, and the pieces of the
                # crease between closed lips, are painted like the rest of the opening
                lip = lip_in_interior(out, r.roi, interior, lip_a)
                lip += crease_fragments(interior - lip, float(np.linalg.norm(moved[64] - moved[60])))
                opening, interior = opening + lip, interior - lip
            keep_out, exemplar = None, None
            if bank is not None and float(opening.max()) > 0:
                # the face's own teeth are carried into the opening: paint what lies below them
                # (with the bank's upper teeth too, a thin band of own teeth got a second row)
                carried = float(interior.sum())
                own = shown is not None and carried > 0
                out, exemplar = bank.fill(out, r.roi, opening, r.upper, r.lower, face_lm=moved,
                                          exemplar=mouth_exemplar, own_teeth=own,
                                          teeth_cover=TEETH_COVER * (1.0 - self.smile_lift(cur, new)))
            if closing > 0 and (shown is not None or lip_gap(lm) > 2 * LIPS_CLOSED):
                # lips that showed teeth, closed: the dark line where they meet
                out = paint_seam(out, r.upper, r.lower, eye_distance(moved), closing * scale)
            drawn = opening + interior
            if bank is not None and float(drawn.max()) > 0:  # an open mouth drawn at full resolution
                keep_out = (r.roi, _mouth_keep_out(r.roi, moved, drawn))
            if aus or like is not None or target not in self.expressions:  # keep, AUs, a reference
                appearance, amount = self.appearance_amount(cur.expression, new)
            elif target in self.appearance:
                appearance, amount = self.appearance_amount(cur.expression, new, target)
            else:  # neutral: nothing to paint
                appearance, amount = None, 0.0
            out = self.paint_smile(out, moved, self.smile_skin(taken, appearance) * scale, keep_out)
            if appearance is not None and amount > 0:
                out = self.paint(out, moved, appearance, amount * scale, keep_out)
            for a, v in amounts.items():
                if v != 0.0 and strength > 0:
                    d = "on" if v > 0 else "off"
                    out = self._paint_maps(out, moved, self._a("mean_shape"),
                                           self._stacked(f"gain_{a}_{d}", f"bias_{a}_{d}"),
                                           abs(v) * min(strength, 1.0))
            if shade is not None:
                out = self._shade(out, lm, shade, min(strength, MAX_STRENGTH))
            reached = cur.expression + scale * (new - cur.expression)
            done.append(StageEdit(moved, scale, cur.expression, reached, exemplar))
        if out is pixels:
            out = pixels.copy()
        return out, done

    def widens_eyes(self, cur: FaceState, new: np.ndarray) -> bool:
        """Whether state ``new`` opens either eye of the face (``cur``'s identity) wider than its
        own neutral does (by :data:`faceedit.stage.eyes.OPENS`): surprise, fear. A squint let go
        (smiling -> neutral) is not: drawn at its own size there, the iris showed white around it
        and the face stared (FER read 2 of 18 such edits as fearful)."""
        neutral = eye_apertures(self.expression_shape(np.zeros_like(new), cur.identity))
        return bool((eye_apertures(self.expression_shape(new, cur.identity)) >= OPENS * neutral).any())

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
        au12 = float(np.nan_to_num(self.state_aus(state, cur.identity)[AU_IDS.index(12)]))
        return au12 / max(float(self._a("smile_au12")[0]), 1e-3)

    def smile_skin(self, taken: float, heads_for: str | None) -> float:
        """How much of the smile map to paint (:meth:`smile_map`: above 0 its removal, below 0
        its inverse) for an edit that takes ``taken`` of a smile away (:meth:`smile_taken`) and
        heads for the appearance target ``heads_for``: a smile's creases go with any edit that
        takes it away, and come only with one that heads for happy (the lip stretch of fear or
        a wink also reads as some AU12: no smile's creases there)."""
        return taken if taken > 0 or (taken < 0 and heads_for == "happy") else 0.0

    def paint_smile(self, pixels: np.ndarray, moved: np.ndarray, skin: float, keep_out: tuple | None = None
                    ) -> np.ndarray:
        """The smile map on the face at landmarks ``moved``, ``skin`` of it (:meth:`smile_skin`;
        0: ``pixels`` themselves), not where ``keep_out`` says (:meth:`_paint_maps`)."""
        if skin == 0:
            return pixels
        return self._paint_maps(pixels, moved, self._a("mean_shape"), self.smile_map(skin > 0), abs(skin), keep_out)

    def smile_map(self, off: bool) -> np.ndarray:
        """The smile-removal map (``off``) or its inverse (a smile added: what a smile does to
        the skin) as :meth:`_paint_maps` takes it ((S, S, 2): gain, bias 0)."""
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

    def warp_to(self, pixels: np.ndarray, lm: np.ndarray, moved: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, float]:
        """The photo with the face at landmarks ``lm`` warped (fold-free, full resolution, lips
        cut) so they go to ``moved``; returns (photo, the landmarks reached, the scale the move
        was held to). An opened mouth is left with the warp's placeholder fill."""
        r = cut_warp(pixels, lm, moved, eyelids=closes_eyes(lm, moved))
        return r.pixels, r.landmarks, r.scale

    def mouth_bank(self):
        """The mouth-interior bank (:class:`faceedit.stage.mouth.MouthBank`), loaded once; None
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

    def appearance_maps(self, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(canonical landmarks of the target's frame, gain (C, S, S), bias (C, S, S))."""
        state = self._a(f"state_{target}") if target != "neutral" else np.zeros(self.cfg.expression_axes)
        frame = self._a("mean_shape") + (state @ self._a("expression_basis")).reshape(68, 2)
        return frame, self._a(f"gain_{target}"), self._a(f"bias_{target}")

    def canonical_maps(self, shape: tuple[int, ...], moved: np.ndarray, frame_lm: np.ndarray,
                       maps: list[np.ndarray], region: tuple[float, float]):
        """Sample canonical-frame maps (frame landmarks ``frame_lm``) at every pixel of the face
        region of a face at ``moved`` in an image of ``shape``; returns (roi, [maps at the ROI],
        region weight at the ROI). ``region``: e.g. :data:`PAINT_REGION`."""
        inner, outer = region
        grid = face_grid(moved, outer=outer)
        roi = grid.roi(shape)
        x0, y0, x1, y1 = roi
        nodes = np.concatenate([canonical_coords(moved, frame_lm, grid),
                                region_weight(moved, grid.points(), inner=inner, outer=outer)[..., None]], -1)
        at_roi = grid.sample(nodes, roi)  # (h, w, 3): canonical u, v and the region weight
        # remap makes these fixed-point maps of float ones itself: the same samples, made once
        u, v = cv2.convertMaps(at_roi[..., 0], at_roi[..., 1], cv2.CV_16SC2)
        sampled = [cv2.remap(np.ascontiguousarray(m, np.float32), u, v, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE) for m in maps]
        return roi, sampled, at_roi[..., 2]

    def paint(self, pixels: np.ndarray, moved: np.ndarray, target: str, strength: float,
              keep_out: tuple | None = None) -> np.ndarray:
        """Apply the target's per-pixel linear appearance map (in its canonical frame) to the
        face at landmarks ``moved`` (not where ``keep_out`` says, see :meth:`_paint_maps`)."""
        frame = self.appearance_maps(target)[0]
        return self._paint_maps(pixels, moved, frame, self._stacked(f"gain_{target}", f"bias_{target}"),
                                strength, keep_out)

    def _stacked(self, gain: str, bias: str) -> np.ndarray:
        """Buffers ``gain`` and ``bias`` ((C, S, S) each) as one channels-last (S, S, 2C) float32
        array, cached: one remap samples both."""
        key = f"{gain}|{bias}"
        if key not in self._np:
            self._np[key] = np.ascontiguousarray(
                np.concatenate([np.moveaxis(self._a(gain), 0, -1), np.moveaxis(self._a(bias), 0, -1)], -1),
                np.float32)
        return self._np[key]

    def _paint_maps(self, pixels: np.ndarray, moved: np.ndarray, frame: np.ndarray, gain_bias: np.ndarray,
                    strength: float, keep_out: tuple | None = None) -> np.ndarray:
        """Apply a per-pixel linear map ``gain * x + bias`` (:meth:`_stacked`: (S, S, 2C), C = 1
        luma or 3 Y, Cb, Cr) drawn in the canonical frame whose landmarks are ``frame``.
        ``keep_out``: (roi, mask 0..1 over it) where the map is not applied (a mouth interior
        drawn at the photo's resolution)."""
        c = gain_bias.shape[-1] // 2
        roi, (gb,), w = self.canonical_maps(pixels.shape, moved, frame, [gain_bias], PAINT_REGION)
        if keep_out is not None:
            w = _without(w, roi, *keep_out)
        g, b = (gb[..., 0], gb[..., 1]) if c == 1 else (gb[..., :c], gb[..., c:])
        x0, y0, x1, y1 = roi
        out = pixels.copy()
        x = to_unit(out[y0:y1, x0:x1])
        grey = bool(np.abs(x - x[..., :1]).max() < 1.5 / 255)  # a greyscale photo stays grey
        if g.ndim == 3 and grey:
            g, b = g[..., 0], b[..., 0]  # the luma part of a Y, Cb, Cr map
        if g.ndim == 2:  # luma map (fitted on greyscale photos)
            x = luma_change(x, ((g - 1.0) * luma(x) + b) * (w * strength))
        else:  # Y, Cb, Cr maps
            ycc = rgb_to_ycc(x)
            x = ycc_to_rgb(ycc + ((g - 1.0) * ycc + b) * (w * strength)[..., None])
        out[y0:y1, x0:x1] = from_unit(x, pixels.dtype)
        return out

    def _shade(self, pixels: np.ndarray, lm: np.ndarray, lighting, strength: float) -> np.ndarray:
        """Relight the head to ``lighting`` (a :class:`faceedit.stage.shading.Light`) at the
        light's strength times the edit's (up to 1): :func:`faceedit.stage.shading.relight`,
        its head region laid by the face's landmarks ``lm`` before the expression edit (head and
        neck do not move with an expression; laid by the edited ones, surprised's dropped jaw
        stretched the neck column 14 px further down, onto the astronaut's suit)."""
        return relight(pixels, lm, lighting, lighting.strength * min(strength, 1.0))


# A photo step, not an EditModel: registered like one (config, header, from_pretrained); the
# flow tells them apart by has_network. Registered, with the options it takes, by
# faceedit.models.catalogue.stage.
def build_stage(config: StageConfig | Mapping[str, Any] | None = None) -> Stage:
    return Stage(config)

