"""Relighting a face to a continuous light direction, over the whole head, keeping its colour.

The model (fitted by :mod:`faceedit.train.shading` on Extended Yale B, shipped as
``weights/shading.safetensors``) lives on a canonical head canvas: a mean face (68 landmarks)
with room around it for the hair, the ears and the neck. It holds, per canvas pixel, nine
coefficients of a second-order real spherical-harmonic expansion in the light direction of the
ratio ``I(light) / I(front light)`` of a face's luma (Lambertian shading is close to linear in
the first nine harmonics of the light direction, Ramamoorthi & Hanrahan 2001), fitted to the
median ratio over the training subjects at each of Yale B's 64 light directions, and a head
weight: 1 over the face, the ears, the neck and the hair above the forehead, falling smoothly
to 0 beyond the head's outline.

``relight(pixels, landmarks, light, strength)`` maps the face's pixels onto the canvas (a
thin-plate spline through the 68 landmarks), reads the ratio to the wanted light there,
``R(light) / R(front)`` (exactly 1 for the front light), mixes it with the photo's own light by
``strength`` (``1 - s + s * R``: 1 is Yale B's dark-room point light, lower values leave fill
light in the shadows) and multiplies the luma Y by it; Cb and Cr nearly stay as they were
(``chroma_follow`` of :class:`faceedit.stage.tuning.LightTuning`, which holds the relighting's
tuned values). By default the face's lit part keeps its brightness (``keep_exposure``), as a
camera's exposure would.

Directions are Extended Yale B's: azimuth and elevation in degrees (``yaleB01_P00A+035E+15`` is
azimuth +35, elevation +15); positive azimuth lights the image's left side of the face (the
subject's right), positive elevation lights it from above.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from faceedit.edits.light import (  # noqa: F401 (read here by the stage's modules)
    MAX_AZIMUTH,
    MAX_ELEVATION,
    MAX_STRENGTH,
    NAMED_DIRECTIONS,
    light_strength,
    parse_direction,
)
from faceedit.pixels import pixel_max, rgb_to_ycc, ycc_to_rgb
from faceedit.stage.tuning import LightTuning
from faceedit.stage.warp import Grid, ThinPlateSpline

#: The shipped model's file name in the weights folder (:func:`faceedit.weights.shipped_file`).
SHADING_FILE = "shading.safetensors"
# The named directions, the light strength's cap and the directions the model is fitted on are
# :mod:`faceedit.edits.light`'s (the edit request checks a light with them before any model loads).

#: Grid cells along the longer side of the head's box on which the canonical map is computed.
GRID_CELLS = 48


# --------------------------------------------------------------------------------------------
# directions


def cheek_light(pixels: np.ndarray, lm: np.ndarray) -> float:
    """-1..1: how much brighter the image-right cheek is than the image-left (the side the
    photo's light comes from)."""
    lm = np.asarray(lm, np.float64)
    h, w = pixels.shape[:2]
    top = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0

    def luma(idx: list[int]) -> float:
        c = lm[idx].mean(0)
        r = max(2, int(0.12 * np.linalg.norm(lm[45] - lm[36])))
        x0, x1 = int(np.clip(c[0] - r, 0, w - 1)), int(np.clip(c[0] + r, 1, w))
        y0, y1 = int(np.clip(c[1] - r, 0, h - 1)), int(np.clip(c[1] + r, 1, h))
        patch = pixels[y0:y1, x0:x1].astype(np.float64) / top
        return float(patch.mean()) if patch.size else 0.5

    left, right = luma([2, 31, 41]), luma([14, 35, 46])
    return float(np.clip((right - left) / max(right + left, 1e-6) * 3.0, -1.0, 1.0))


def light_direction(pixels: np.ndarray, lm: np.ndarray, relight: tuple[float, float, float] | None = None
                    ) -> np.ndarray:
    """(2,) the image direction the light comes from: the photo's side (:func:`cheek_light`) from
    above, or, for a face about to be relit, ``relight`` = (azimuth, elevation, strength) in
    Extended Yale B's convention (azimuth + lights the image's left side) mixed in by its
    strength."""
    d = np.array([cheek_light(pixels, lm), -0.8])
    if relight is not None:
        az, el, weight = (float(v) for v in relight)
        new = np.array([-np.sin(np.radians(az)), -np.sin(np.radians(el)) - 0.35])
        w = float(np.clip(weight, 0.0, 1.0))
        d = (1 - w) * d / np.linalg.norm(d) + w * new / max(float(np.linalg.norm(new)), 1e-6)
    return d / max(float(np.linalg.norm(d)), 1e-6)


def direction_vector(azimuth: float, elevation: float) -> np.ndarray:
    """Unit vector of a light at (azimuth, elevation) degrees: x towards the image's left side of
    the face, y up, z towards the camera."""
    a, e = math.radians(azimuth), math.radians(elevation)
    return np.array([math.sin(a) * math.cos(e), math.sin(e), math.cos(a) * math.cos(e)])


def sh9(v: np.ndarray) -> np.ndarray:
    """The nine real spherical harmonics of order <= 2 at unit vectors ``v`` (..., 3) -> (..., 9)."""
    v = np.asarray(v, np.float64)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([
        0.282095 * np.ones_like(x),
        0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1),
        1.092548 * x * z, 0.546274 * (x * x - y * y),
    ], -1)


def ambient_basis() -> np.ndarray:
    """The nine harmonics averaged over the front hemisphere (z > 0) of light directions."""
    rng = np.random.default_rng(0)
    v = rng.normal(size=(20000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[:, 2] = np.abs(v[:, 2])
    return sh9(v).mean(0)


@dataclass(frozen=True)
class Light:
    """A light: a direction (azimuth, elevation degrees) or None for even (ambient) light, and how
    strongly it replaces the photo's own light (0..:data:`MAX_STRENGTH`)."""

    direction: tuple[float, float] | None
    strength: float = LightTuning.strength
    name: str = ""

    def basis(self) -> np.ndarray:
        if self.direction is None:
            return ambient_basis()
        return sh9(direction_vector(*self.direction))


def parse_light(spec, strength: float | None = None) -> Light:
    """A :class:`Light` from a name of :data:`NAMED_DIRECTIONS`, ``"AZ,EL"`` (degrees), an
    (azimuth, elevation) pair or a Light; ``strength`` (default
    :attr:`faceedit.stage.tuning.LightTuning.strength`, or the Light's own) must lie in 0..MAX_STRENGTH. UsageError otherwise."""
    if isinstance(spec, Light):
        light = spec
    else:
        name, direction = parse_direction(spec)
        light = Light(direction, LightTuning.strength, name)
    if strength is not None:
        light = Light(light.direction, light_strength(strength), light.name)
    return light


def nearest_class(light, classes) -> str | None:
    """The lighting class of ``classes`` (a network's vocabulary: left, right, top, bottom, front,
    ambient) that a light falls in, by Extended Yale B's grouping of its photos into classes
    (|azimuth| > 20 -> left / right, else elevation > 20 -> top, < -20 -> bottom, else front);
    None when that class is not among ``classes``."""
    light = parse_light(light)
    if light.direction is None:
        name = "ambient"
    else:
        az, el = light.direction
        name = ("left" if az > 20 else "right" if az < -20 else "top" if el > 20
                else "bottom" if el < -20 else "front")
    return name if name in list(classes) else None


# --------------------------------------------------------------------------------------------
# the model


@dataclass
class ShadingModel:
    """The fitted model: canvas landmarks ``frame`` (68, 2), spherical-harmonic coefficient maps
    ``coef`` (9, S, S) of the luma ratio to the front light, the head weight ``head`` (S, S),
    the face weight ``face`` (S, S, where the mean brightness is measured) and the card's
    metadata."""

    frame: np.ndarray
    coef: np.ndarray
    head: np.ndarray
    face: np.ndarray
    meta: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> ShadingModel:
        """Read a model written by :meth:`save` (default: :data:`SHADING_FILE` in the weights
        folder: ``$FACEEDIT_WEIGHTS``, a checkout's ``weights/``, or an installed one)."""
        from safetensors import safe_open

        from faceedit.weights import shipped_file

        path = Path(path) if path is not None else shipped_file("shading")
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            t = {k: f.get_tensor(k).astype(np.float32) for k in f.keys()}  # noqa: SIM118 (a safe_open handle)
        return cls(t["frame"].astype(np.float64), t["coef"], t["head"], t["face"], meta)

    def save(self, path: str | Path, meta: dict | None = None) -> None:
        from safetensors.numpy import save_file

        t: dict[str, np.ndarray] = {"frame": self.frame.astype(np.float32), "coef": self.coef.astype(np.float16),
             "head": self.head.astype(np.float16), "face": self.face.astype(np.float16)}
        m = {k: v if isinstance(v, str) else json.dumps(v) for k, v in {**self.meta, **(meta or {})}.items()}
        save_file(t, str(path), metadata=m)

    @property
    def size(self) -> int:
        return int(self.coef.shape[-1])

    def raw_ratio(self, basis: np.ndarray) -> np.ndarray:
        """The fitted ratio to the front light (S, S) under harmonics ``basis`` (9,), unclipped."""
        return np.tensordot(basis.astype(np.float32), self.coef, 1)

    def ratio(self, light: Light, keep_exposure: bool = True, tuning: LightTuning | None = None) -> np.ndarray:
        """The factor (S, S) the luma is multiplied by on the canvas for ``light`` at its strength
        (before the head weight): ``1 - s + s * R(light) / R(front)``, clipped to ``tuning``'s
        ``ratio_clip``; with ``keep_exposure`` divided by its ``exposure_percentile`` percentile
        over the face (:class:`faceedit.stage.tuning.LightTuning`, default its defaults)."""
        tn = tuning if tuning is not None else LightTuning()
        key = (light.direction, light.strength, keep_exposure, tn.ratio_clip, tn.exposure_percentile)
        if key not in self._cache:
            front = np.maximum(self.raw_ratio(sh9(direction_vector(0.0, 0.0))), 0.05)
            r = np.clip(self.raw_ratio(light.basis()) / front, *tn.ratio_clip)
            r = 1.0 - light.strength + light.strength * r
            if keep_exposure:
                r = r / float(np.percentile(r[self.face > 0.5], tn.exposure_percentile))
            self._cache[key] = np.clip(r, *tn.ratio_clip).astype(np.float32)
        return self._cache[key]

    def head_to_photo(self, landmarks: np.ndarray) -> np.ndarray:
        """The canvas's head outline (points where the head weight is > 0) in photo coordinates."""
        ys, xs = np.nonzero(self.head > 0)
        pts = np.stack([xs, ys], 1).astype(np.float64)
        hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
        return ThinPlateSpline(self.frame, landmarks, reg=1e-2)(hull)

    def canvas_maps(self, shape: tuple[int, ...], landmarks: np.ndarray
                    ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
        """For a face at ``landmarks`` in an image of ``shape``: (roi, canvas x, canvas y) of
        every ROI pixel (float32 maps for cv2.remap); the ROI covers the head region."""
        lm = np.asarray(landmarks, np.float64)
        outline = self.head_to_photo(lm)
        grid = Grid.around(outline, GRID_CELLS)
        grid = Grid(grid.x0 - 2 * grid.step, grid.y0 - 2 * grid.step, grid.step, grid.nx + 4, grid.ny + 4)
        roi = grid.roi(shape)
        uv = ThinPlateSpline(lm, self.frame, reg=1e-2)(grid.points())
        at = grid.sample(uv, roi)
        return roi, np.ascontiguousarray(at[..., 0]), np.ascontiguousarray(at[..., 1])

    def factor(self, pixels: np.ndarray, landmarks: np.ndarray, light: Light, keep_exposure: bool = True,
               scene: bool = True, tuning: LightTuning | None = None) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """(roi, per-pixel luma factor over the ROI): the canvas ratio laid onto the face at
        ``landmarks``, weighted by the head weight (1 = unchanged beyond the head) and, beyond
        the face, by :func:`background_weight` (the scene behind the head keeps its light;
        ``scene=False``: no scene is looked for, e.g. on a tight face crop; ``tuning``:
        :class:`faceedit.stage.tuning.LightTuning`)."""
        lm = np.asarray(landmarks, np.float64)
        roi, u, v = self.canvas_maps(pixels.shape, lm)
        r = cv2.remap(self.ratio(light, keep_exposure, tuning), u, v, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
        w = cv2.remap(np.ascontiguousarray(self.head, np.float32), u, v, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        w = np.clip(w, 0.0, 1.0)
        if scene:
            w = w * (1.0 - background_weight(pixels, lm, roi, w, tuning))
        # in the log domain: a half weight gives the geometric mean of old and new light
        return roi, np.exp(np.log(r) * w)

    def relight(self, pixels: np.ndarray, landmarks: np.ndarray, light, strength: float | None = None,
                *, keep_exposure: bool = True, tuning: LightTuning | None = None) -> np.ndarray:
        """``pixels`` ((H, W, 3) uint8/uint16 RGB, or (H, W) grey) with the face at ``landmarks``
        ((68, 2) photo coordinates) relit to ``light`` (see :func:`parse_light`): its luma
        multiplied by the factor of :meth:`factor`, its Cb and Cr nearly kept
        (``tuning``'s ``chroma_follow``, :class:`faceedit.stage.tuning.LightTuning`). Returns a new array; at
        strength 0 an exact copy, and every pixel beyond the head region is the input's own."""
        light = parse_light(light, strength)
        out = np.array(pixels, copy=True)
        lm = np.asarray(landmarks, np.float64)
        if light.strength == 0.0 or lm.shape != (68, 2):
            return out
        tn = tuning if tuning is not None else LightTuning()
        roi, f = self.factor(pixels, lm, light, keep_exposure, tuning=tn)
        x0, y0, x1, y1 = roi
        if x1 <= x0 or y1 <= y0:
            return out
        changed = np.abs(f - 1.0) > 1e-6
        region = out[y0:y1, x0:x1]
        x = region.astype(np.float32)
        if x.ndim == 2:
            new = x * f
        else:
            ycc = rgb_to_ycc(x)
            ycc[..., 0] *= f
            # chroma follows the light a little: the same Cb, Cr on a much darker luma reads as a
            # saturated tan, on a much brighter one as grey skin
            ycc[..., 1:] *= f[..., None] ** tn.chroma_follow
            new = ycc_to_rgb(ycc)
        new = np.clip(np.rint(new), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
        region[changed] = new[changed]
        return out


def background_weight(pixels: np.ndarray, landmarks: np.ndarray, roi: tuple[int, int, int, int],
                      head: np.ndarray, tuning: LightTuning | None = None) -> np.ndarray:
    """How much each ROI pixel looks like the scene behind the head (0..1), 0 over the face: the
    colour (Y, Cb, Cr, 8-bit levels) of the ring just inside the head region's outer edge
    (0 < head weight < ``background_ring``, down to ``background_below_chin`` eye distances
    below the chin: beside the hair, the ears, the jaw and the neck,
    mostly scene), its median and spread; a pixel within the spread of that colour counts as
    scene, softly, smoothed over ``background_smooth`` eye distances; the face's outline and
    the head region's core are never scene (the names are ``tuning``'s,
    :class:`faceedit.stage.tuning.LightTuning`, default its defaults)."""
    tn = tuning if tuning is not None else LightTuning()
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.warp import region_outline

    x0, y0, x1, y1 = roi
    iod = eye_distance(landmarks)
    x = pixels[y0:y1, x0:x1].astype(np.float32) * (255.0 / pixel_max(pixels.dtype))
    ycc = rgb_to_ycc(x if x.ndim == 3 else np.repeat(x[..., None], 3, -1))
    ys = np.arange(y0, y1, dtype=np.float32)[:, None].repeat(x1 - x0, 1)
    ring = (head > 0.01) & (head < tn.background_ring) & (ys < landmarks[8, 1] + tn.background_below_chin * iod)
    out: np.ndarray = np.zeros(head.shape, np.float32)
    if ring.sum() < 50:
        return out
    # the scene's colour near each pixel: the ring's colours spread by a wide normalised blur
    sigma = max(tn.background_reach * iod, 1.0)
    wr = cv2.GaussianBlur(ring.astype(np.float32), (0, 0), sigma)
    ref = cv2.GaussianBlur(ycc * ring[..., None], (0, 0), sigma) / np.maximum(wr, 1e-4)[..., None]
    spread = np.median(np.abs(ycc[ring] - ref[ring]), 0) * 1.4826 + tn.background_floor
    d2 = (((ycc - ref) / spread) ** 2).sum(-1)
    out = np.exp(-0.5 * d2 / 9.0).astype(np.float32)  # within ~3 spreads
    # grown by two smoothing radii first, so that the smoothing does not leave a rim of the scene
    # along the head's edge (pixels part skin, part scene) in the new light
    sigma = max(tn.background_smooth * iod, 0.5)
    r = int(np.ceil(2 * sigma))
    out = cv2.GaussianBlur(cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))),
                           (0, 0), sigma)
    # never the face, nor the neck below it: the face's outline and the head region's core (full
    # weight: the face and the neck column) shrunk by background_core_shrink eye distances
    face: np.ndarray = np.zeros(head.shape, np.uint8)
    poly = region_outline(landmarks, -0.2, tn.background_forehead) - np.array([x0, y0])
    cv2.fillConvexPoly(face, np.rint(poly).astype(np.int32), 1)
    r = max(round(tn.background_core_shrink * iod), 1)
    core = cv2.erode((head >= 0.999).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    face = cv2.GaussianBlur(np.maximum(face, core).astype(np.float32), (0, 0), max(0.05 * iod, 0.5))
    return np.clip(out * (1.0 - face), 0.0, 1.0)


_MODEL: dict[str, ShadingModel] = {}


def load_shading(path: str | Path | None = None) -> ShadingModel:
    """The shading model (the shipped one by default), loaded once per path."""
    key = str(path)
    if key not in _MODEL:
        _MODEL[key] = ShadingModel.load(path)
    return _MODEL[key]


def relight(pixels: np.ndarray, landmarks: np.ndarray, light, strength: float | None = None, *,
            keep_exposure: bool = True, model: ShadingModel | None = None,
            tuning: LightTuning | None = None) -> np.ndarray:
    """Relight the face at ``landmarks`` in ``pixels`` to ``light`` (a name of
    :data:`NAMED_DIRECTIONS`, ``"AZ,EL"`` degrees, an (az, el) pair or a :class:`Light`) at
    ``strength`` (0..:data:`MAX_STRENGTH`; default the Light's) with the
    shipped model (or ``model``), by ``tuning`` (:class:`faceedit.stage.tuning.LightTuning`).
    See :meth:`ShadingModel.relight`."""
    m = model if model is not None else load_shading()
    return m.relight(pixels, landmarks, light, strength, keep_exposure=keep_exposure, tuning=tuning)
