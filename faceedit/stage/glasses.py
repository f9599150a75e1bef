"""Glasses drawn on a face as augmented-reality try-on draws them: a small 3D frame posed by the
head, rendered anti-aliased at the photo's resolution.

* **Frames** (:data:`STYLES`): each style is a lens outline (round, rounded rectangle, aviator
  teardrop, rimless) with a rim width, a bridge and two temples, in a head frame measured in eye
  distances (origin between the eye centres, x to the image's right of a frontal face, y down,
  z away from the camera). The front wraps slightly round the face; the temples run from hinges
  beside the rims back to the ears.
* **Pose**: the head's rotation is fitted (``cv2.solvePnP``, a near-orthographic camera) from the
  face's 68 landmarks to :data:`HEAD_68`, a 3D mean of the 68 points taken from MediaPipe Face
  Mesh's depth on London faces (:func:`head_template` makes it again from meshes); the frame is
  then placed and scaled so that its lens centres fall by the face's own eye centres.
* **Hidden parts**: a temple's point is hidden where the ray from it to the camera passes
  through the head (an ellipsoid in the head frame), so the far temple goes behind the head as
  the face turns; the temples fade where they reach the ears.
* **Drawing**: every layer is filled at :data:`SUPERSAMPLE` times the photo's resolution and
  averaged down (anti-aliased edges at the photo's own pixels): a soft contact shadow of the
  frame on the face, offset away from the light (the photo's, read from the cheeks' brightness,
  or the one the face is relit to), a
  faint lens tint with a soft reflection, the frame in its colour with an edge lit from the same
  light (tortoiseshell mottled), the temples behind. ``opacity`` scales every layer; 0 leaves
  the photo as it is.

No torch: numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.conditions import GLASSES_COLOURS, GLASSES_DEFAULT, GLASSES_STYLES, glasses_style, glasses_words
from faceedit.errors import UsageError
from faceedit.stage.shading import light_direction

#: The mean 3D shape of the 68 iBUG points in the head frame (eye distances; origin between the
#: eye centres, x right, y down, z away from the camera): MediaPipe Face Mesh points with their
#: depth on the 43 odd-numbered London neutral photos, mapped to the 68 points
#: (:mod:`faceedit.faces.mesh68`), each face turned frontal by :func:`head_template`, averaged
#: and made left-right symmetric.
HEAD_68 = np.array([
    [-1.097, 0.178, 0.867], [-1.082, 0.475, 0.895], [-1.057, 0.757, 0.831], [-0.995, 1.029, 0.702],
    [-0.883, 1.265, 0.488], [-0.716, 1.433, 0.225], [-0.495, 1.573, -0.003], [-0.257, 1.664, -0.192],
    [0.000, 1.694, -0.255], [0.257, 1.664, -0.192], [0.495, 1.573, -0.003], [0.716, 1.433, 0.225],
    [0.883, 1.265, 0.488], [0.995, 1.029, 0.702], [1.057, 0.757, 0.831], [1.082, 0.475, 0.895],
    [1.097, 0.178, 0.867], [-0.876, -0.213, 0.118], [-0.794, -0.312, 0.029], [-0.590, -0.400, -0.098],
    [-0.380, -0.400, -0.182], [-0.206, -0.295, -0.202], [0.206, -0.295, -0.202], [0.380, -0.400, -0.182],
    [0.590, -0.400, -0.098], [0.794, -0.312, 0.029], [0.876, -0.213, 0.118], [0.000, -0.075, -0.255],
    [0.000, 0.102, -0.377], [0.000, 0.259, -0.557], [0.000, 0.432, -0.677], [-0.198, 0.632, -0.366],
    [-0.102, 0.653, -0.440], [0.000, 0.678, -0.452], [0.102, 0.653, -0.440], [0.198, 0.632, -0.366],
    [-0.705, 0.009, 0.089], [-0.596, -0.059, -0.011], [-0.430, -0.072, -0.038], [-0.270, 0.018, 0.003],
    [-0.418, 0.052, -0.035], [-0.581, 0.051, -0.007], [0.270, 0.018, 0.003], [0.430, -0.072, -0.038],
    [0.596, -0.059, -0.011], [0.705, 0.009, 0.089], [0.581, 0.051, -0.007], [0.418, 0.052, -0.035],
    [-0.386, 1.027, -0.214], [-0.265, 0.915, -0.381], [-0.107, 0.863, -0.459], [0.000, 0.872, -0.474],
    [0.107, 0.863, -0.459], [0.265, 0.915, -0.381], [0.386, 1.027, -0.214], [0.241, 1.104, -0.376],
    [0.108, 1.143, -0.436], [0.000, 1.149, -0.443], [-0.108, 1.143, -0.436], [-0.241, 1.104, -0.376],
    [-0.326, 1.006, -0.237], [-0.103, 0.980, -0.381], [0.000, 0.981, -0.398], [0.103, 0.980, -0.381],
    [0.326, 1.006, -0.237], [0.104, 1.004, -0.383], [0.000, 1.005, -0.399], [-0.104, 1.004, -0.383],
])
#: Each iBUG point's mirror image (a frontal face's left-right flip).
MIRROR_68 = (list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30, 35, 34, 33, 32, 31]
             + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40] + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
             + [64, 63, 62, 61, 60, 67, 66, 65])
#: The points the pose is fitted on: brows, nose and eyes (they move little with an expression;
#: the jaw's points slide along the cheek's outline as the head turns).
POSE_POINTS = np.arange(17, 48)
#: The head as an ellipsoid (centre, semi-axes) in the head frame: what hides the temples.
HEAD_CENTRE = np.array([0.0, 0.25, 1.0])
HEAD_AXES = np.array([1.08, 1.9, 1.35])
#: Drawing resolution over the photo's (each layer averaged down: anti-aliased edges).
SUPERSAMPLE = 4
#: Faces whose eye centres lie closer than this (px) get no glasses: too small to draw a frame.
MIN_EYE_DISTANCE = 6.0

RGB = tuple[float, float, float]
COLOURS: dict[str, RGB] = {
    "black": (0.045, 0.042, 0.045),
    "tortoise": (0.20, 0.10, 0.045),
    "gold": (0.80, 0.64, 0.34),
    "silver": (0.74, 0.75, 0.77),
}
#: Tortoiseshell's light amber, mottled into its dark brown.
TORTOISE_LIGHT: RGB = (0.58, 0.34, 0.12)


@dataclass(frozen=True)
class Style:
    """One frame: its lens outline (``shape``), size (``width`` x ``height`` eye distances, lens
    centres ``centre_x`` either side, ``centre_y`` below the eyes' line), the rim's width around
    the lens (0: rimless; ``rim_top`` above it), metal or acetate, the default colour, the lens
    tint (RGB, opacity) and a second bar over the bridge (aviators)."""

    shape: str
    width: float
    height: float
    rim: float
    rim_top: float
    metal: bool
    colour: str
    centre_x: float = 0.53
    centre_y: float = -0.03
    tint: RGB = (0.55, 0.6, 0.62)
    tint_opacity: float = 0.07
    top_bar: bool = False


STYLES: dict[str, Style] = {
    "rectangular": Style("rectangle", 0.80, 0.47, 0.055, 0.075, metal=False, colour="black", centre_y=-0.01),
    "round": Style("round", 0.70, 0.70, 0.026, 0.026, metal=True, colour="gold", centre_x=0.52),
    "aviator": Style("aviator", 0.86, 0.70, 0.024, 0.024, metal=True, colour="gold", centre_x=0.55,
                     centre_y=0.02, tint=(0.45, 0.38, 0.25), tint_opacity=0.16, top_bar=True),
    "rimless": Style("rimless", 0.78, 0.48, 0.0, 0.0, metal=True, colour="silver", tint_opacity=0.10),
}
assert tuple(STYLES) == GLASSES_STYLES, "the styles' names are declared in faceedit.conditions"
assert tuple(COLOURS) == GLASSES_COLOURS, "the colours' names are declared in faceedit.conditions"


def style_of(word: str | None) -> tuple[Style, str]:
    """The frame a word names (``STYLE`` or ``STYLE-COLOUR``, None for the default) and its
    colour. UsageError listing the styles for any other word."""
    named = glasses_style(GLASSES_DEFAULT if word is None else word)
    if named is None:
        raise UsageError(f"glasses={word}: unknown style; valid: {glasses_words()}")
    style, colour = named
    frame = STYLES[style]
    return frame, colour or frame.colour


# -- the head's pose -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pose:
    """A head frame put in the photo: ``rotation`` (3, 3, head frame -> camera), and the
    orthographic projection ``image = scale * (rotation @ X)[:2] @ roll.T + shift`` that lays the
    frame's eye centres on the face's."""

    rotation: np.ndarray
    scale: float
    roll: np.ndarray  # (2, 2) in-plane correction
    shift: np.ndarray  # (2,)

    def camera(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) head-frame points in the camera's frame (unscaled, before the projection)."""
        return np.asarray(points, np.float64) @ self.rotation.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) head-frame points -> (N, 2) image pixels."""
        return self.scale * self.camera(points)[:, :2] @ self.roll.T + self.shift

    @property
    def toward_camera(self) -> np.ndarray:
        """The direction to the camera, in the head frame."""
        return -self.rotation[2]

    def angles(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees, for reports."""
        r = self.rotation
        yaw = np.degrees(np.arcsin(np.clip(-r[2, 0], -1, 1)))
        pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
        roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
        return float(yaw), float(pitch), float(roll)


def eye_centres(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image-left and image-right eye centres of 68 landmarks (their contours' means)."""
    lm = np.asarray(lm, np.float64)
    return lm[36:42].mean(0), lm[42:48].mean(0)


def fit_pose(lm: np.ndarray) -> Pose:
    """The head's pose from its 68 landmarks: its rotation fitted to :data:`HEAD_68` through a
    camera far enough away to be near-orthographic, then the projection that lays the template's
    eye centres exactly on the face's (rims on the eyes whatever the template's error)."""
    lm = np.asarray(lm, np.float64)
    left, right = eye_centres(lm)
    d = float(np.linalg.norm(right - left))
    if not d > 1.0:
        raise ValueError("eye centres too close together to place glasses")
    centre = (left + right) / 2
    focal = 40.0 * d  # the head 40 eye distances from the camera: near-orthographic
    cam = np.array([[focal, 0, centre[0]], [0, focal, centre[1]], [0, 0, 1]], np.float64)
    obj = HEAD_68[POSE_POINTS] * d
    img = lm[POSE_POINTS]
    rvec0 = np.zeros((3, 1))
    roll0 = np.arctan2(right[1] - left[1], right[0] - left[0])
    rvec0[2, 0] = roll0
    tvec0 = np.array([[0.0], [0.0], [40.0 * d]])
    ok, rvec, _ = cv2.solvePnP(obj, img, cam, None, rvec0, tvec0, useExtrinsicGuess=True,
                               flags=cv2.SOLVEPNP_ITERATIVE)
    rotation = cv2.Rodrigues(rvec)[0] if ok else cv2.Rodrigues(rvec0)[0]
    # the projection that lays the template's eye centres on the face's
    eyes = rotation @ np.array([[-0.5, 0.0, 0.0], [0.5, 0.0, 0.0]]).T
    a, b = eyes[:2, 0], eyes[:2, 1]
    v, w = b - a, right - left
    scale = float(np.linalg.norm(w) / max(np.linalg.norm(v), 1e-6))
    ang = np.arctan2(w[1], w[0]) - np.arctan2(v[1], v[0])
    roll = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    shift = centre - scale * roll @ ((a + b) / 2)
    return Pose(rotation, scale, roll, shift)


def head_template(meshes: list[np.ndarray]) -> np.ndarray:
    """(68, 3) :data:`HEAD_68` from Face Mesh point sets ((468, 3) each, with depth): each mapped
    to the 68 points, turned frontal (x along its mirrored pairs, y from the chin up to the nose's
    top), centred between and scaled by its eye centres, then averaged and made symmetric."""
    from faceedit.faces.mesh68 import _IDX, _W

    shapes = []
    pairs = [(i, j) for i, j in enumerate(MIRROR_68) if j > i]
    for m in meshes:
        p = np.einsum("kj,kjd->kd", _W, np.asarray(m, np.float64)[_IDX, :3])
        x = np.mean([p[j] - p[i] for i, j in pairs], 0)
        x /= np.linalg.norm(x)
        up = p[27] - p[8]
        y = -(up - (up @ x) * x)
        y /= np.linalg.norm(y)
        frame = np.stack([x, y, np.cross(x, y)])
        left, right = p[36:42].mean(0), p[42:48].mean(0)
        shapes.append((p - (left + right) / 2) @ frame.T / np.linalg.norm(right - left))
    mean = np.mean(shapes, 0)
    return (mean + mean[MIRROR_68] * [-1.0, 1.0, 1.0]) / 2


# -- the frame as 3D geometry ----------------------------------------------------------------------
def _outline(style: Style, n: int = 96) -> np.ndarray:
    """(n, 2) the right lens's outline around its centre (x outward from the nose, y down)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a, b = style.width / 2, style.height / 2
    c, s = np.cos(t), np.sin(t)
    if style.shape == "round":
        return np.stack([a * c, b * s], 1)
    if style.shape in ("rectangle", "rimless"):
        p = 4.0 if style.shape == "rectangle" else 3.0  # superellipse: rounded corners
        x = a * np.sign(c) * np.abs(c) ** (2 / p)
        y = b * np.sign(s) * np.abs(s) ** (2 / p)
        y = y + 0.06 * b * (x / a) * (y > 0)  # the outer lower corner a little deeper
        return np.stack([x, y], 1)
    # aviator: a teardrop: a gently curved brow line, the outer side round, the bottom deep and
    # deepest toward the nose
    x = a * np.sign(c) * np.abs(c) ** (2 / 2.6)
    y = b * np.sign(s) * np.abs(s) ** (2 / 2.6)
    y = np.where(s < 0, 0.62 * y - 0.05 * b * (x / a), y * (1.0 - 0.22 * (x / a)))
    return np.stack([x, y - 0.2 * b], 1)


def _front_z(x: np.ndarray) -> np.ndarray:
    """The frame front's depth at ``x`` (eye distances): in front of the nose's bridge, wrapping
    back toward the temples."""
    return -0.34 + 0.07 * np.asarray(x) ** 2


def _lens(style: Style, side: int, grow: float = 0.0) -> np.ndarray:
    """(n, 3) a lens outline (``side`` -1 image-left, +1 image-right) grown outward by ``grow``
    eye distances (``rim_top`` above: the rim's outer edge), in the head frame."""
    o = _outline(style)
    if grow:
        norm = o / np.maximum(np.linalg.norm(o, axis=1, keepdims=True), 1e-6)
        width = np.where(norm[:, 1] < 0, grow + (style.rim_top - style.rim) * (-norm[:, 1]), grow)
        o = o + norm * width[:, None]
    x = side * (style.centre_x + o[:, 0])
    y = style.centre_y + o[:, 1]
    return np.stack([x, y, _front_z(x)], 1)


def _edge_point(style: Style, side: int, which: str) -> np.ndarray:
    """The rim's outer edge point where a part attaches: ``hinge`` (outer side, upper third) or
    ``bridge`` (nose side, upper part), head frame."""
    o = _lens(style, side, style.rim)
    if which == "hinge":
        k = np.argmax(side * o[:, 0] - 0.6 * np.maximum(o[:, 1] - (style.centre_y - 0.12), 0))
    else:
        k = np.argmin(side * o[:, 0] + 0.8 * np.abs(o[:, 1] - (style.centre_y - 0.08)))
    return o[k]


def _bridge(style: Style) -> list[np.ndarray]:
    """The bridge's curves (head frame): an arch over the nose between the rims' nose sides, and
    an aviator's straight bar across their tops."""
    a, b = _edge_point(style, -1, "bridge"), _edge_point(style, 1, "bridge")
    t = np.linspace(0, 1, 24)[:, None]
    arch = (1 - t) * a + t * b
    arch[:, 1] -= 0.05 * np.sin(np.pi * t[:, 0])  # up over the nose
    arch[:, 2] = _front_z(arch[:, 0]) - 0.01
    out = [arch]
    if style.top_bar:
        left, right = _lens(style, -1, style.rim), _lens(style, 1, style.rim)
        y = style.centre_y + _outline(style)[:, 1].min() + 0.045
        pa = left[np.argmin(np.abs(left[:, 1] - y) + 5 * (left[:, 0] < -0.3 - style.centre_x + 0.3))]
        pb = right[np.argmin(np.abs(right[:, 1] - y) + 5 * (right[:, 0] > 0.3 + style.centre_x - 0.3))]
        bar = (1 - t) * pa + t * pb
        bar[:, 1] = y - 0.01 * np.sin(np.pi * t[:, 0])
        bar[:, 2] = _front_z(bar[:, 0]) - 0.01
        out.append(bar)
    return out


def _temple(style: Style, side: int) -> np.ndarray:
    """(n, 3) a temple from the hinge back to over the ear, head frame."""
    h = _edge_point(style, side, "hinge")
    ear = np.array([side * 1.14, h[1] + 0.10, 1.25])
    bend = h + np.array([side * 0.05, 0.0, 0.08])  # the hinge's end piece, turning back
    t = np.linspace(0, 1, 40)[:, None]
    return np.concatenate([h[None], (1 - t) * bend + t * ear])


def hidden_by_head(points: np.ndarray, toward_camera: np.ndarray) -> np.ndarray:
    """(N,) 0..1 how far each head-frame point is hidden by the head (the ray from it to the
    camera passes through the ellipsoid :data:`HEAD_CENTRE`, :data:`HEAD_AXES`; soft at the
    head's outline)."""
    p = (np.asarray(points, np.float64) - HEAD_CENTRE) / HEAD_AXES
    d = toward_camera / HEAD_AXES
    t = np.maximum(-(p @ d) / max(float(d @ d), 1e-9), 0.0)  # nearest approach along the ray
    closest = p + t[:, None] * d
    f = np.sqrt((closest**2).sum(1))
    return np.clip((1.02 - f) / 0.04, 0.0, 1.0)


# -- drawing -----------------------------------------------------------------------------------------
class _Canvas:
    """Layers drawn at :data:`SUPERSAMPLE` times a region of the photo, each averaged down to it."""

    def __init__(self, box: tuple[int, int, int, int]):
        self.x0, self.y0, self.x1, self.y1 = box
        self.shape = ((self.y1 - self.y0) * SUPERSAMPLE, (self.x1 - self.x0) * SUPERSAMPLE)

    def _pts(self, xy: np.ndarray) -> np.ndarray:
        p = (np.asarray(xy, np.float64) - [self.x0 - 0.5, self.y0 - 0.5]) * SUPERSAMPLE - 0.5
        return np.round(p * 16).astype(np.int32)  # 4 fractional bits

    def blank(self) -> np.ndarray:
        return np.zeros(self.shape, np.float32)

    def fill(self, layer: np.ndarray, xy: np.ndarray, value: float = 1.0) -> None:
        cv2.fillPoly(layer, [self._pts(xy)], float(value), cv2.LINE_AA, shift=4)

    def line(self, layer: np.ndarray, xy: np.ndarray, width_px: float, value: float = 1.0,
             closed: bool = False) -> None:
        t = max(1, int(round(width_px * SUPERSAMPLE)))
        cv2.polylines(layer, [self._pts(xy)], closed, float(value), t, cv2.LINE_AA, shift=4)

    def down(self, layer: np.ndarray) -> np.ndarray:
        h, w = self.y1 - self.y0, self.x1 - self.x0
        return cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA)


def _tortoise(shape: tuple[int, int], scale: float) -> np.ndarray:
    """0..1 a tortoiseshell mottle over ``shape`` (blobs about ``scale`` px), the same every run."""
    rng = np.random.default_rng(7)
    h, w = shape
    small = rng.random((max(2, int(h / scale) + 2), max(2, int(w / scale) + 2))).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip((big - 0.62) * 2.5, 0.0, 1.0)


@dataclass(frozen=True)
class Placed:
    """A frame placed on a face, in image pixels: each lens outline and rim's outer outline
    (image-left first; no rims when rimless), the bridge's curves, each temple from its hinge
    back (with how visible each point is, 0..1: hidden by the head, fading over the ear), the
    hinges, and the pose."""

    lenses: list[np.ndarray]
    outers: list[np.ndarray]
    bridges: list[np.ndarray]
    temples: list[np.ndarray]
    temple_visible: list[np.ndarray]
    hinges: np.ndarray  # (2, 2)
    pose: Pose

    def points(self) -> np.ndarray:
        return np.concatenate([*self.lenses, *self.outers, *self.bridges, *self.temples])


def place(lm: np.ndarray, frame: Style) -> Placed:
    """``frame`` posed on the face at 68 landmarks ``lm`` (:func:`fit_pose`) and projected."""
    pose = fit_pose(lm)
    temples = [_temple(frame, s) for s in (-1, 1)]
    visible = []
    for temple in temples:
        fade = np.clip((len(temple) - 1 - np.arange(len(temple))) / (0.3 * len(temple)), 0, 1)
        visible.append((1.0 - hidden_by_head(temple, pose.toward_camera)) * fade)
    return Placed(
        lenses=[pose.project(_lens(frame, s)) for s in (-1, 1)],
        outers=[pose.project(_lens(frame, s, frame.rim)) for s in (-1, 1)] if frame.rim > 0 else [],
        bridges=[pose.project(b) for b in _bridge(frame)],
        temples=[pose.project(t) for t in temples],
        temple_visible=visible,
        hinges=pose.project(np.stack([_edge_point(frame, s, "hinge") for s in (-1, 1)])),
        pose=pose,
    )


def draw_glasses(pixels: np.ndarray, lm: np.ndarray, style: str | None = None, opacity: float = 1.0,
                 relight: tuple[float, float, float] | None = None) -> np.ndarray:
    """``pixels`` ((H, W, 3) uint8/uint16 RGB, unchanged) with glasses of ``style``
    (:func:`style_of`'s words; None the default) drawn on the face at 68 landmarks ``lm``, every
    layer at ``opacity`` (0, or a face under :data:`MIN_EYE_DISTANCE`: the photo as it is, a copy);
    the shadow and the lit edges from :func:`light_direction` (``relight``: the light the face is
    about to be relit to)."""
    frame, colour_name = style_of(style)
    left, right = eye_centres(lm)
    if opacity <= 0 or np.linalg.norm(right - left) < MIN_EYE_DISTANCE:
        return pixels.copy()
    placed = place(lm, frame)
    pose = placed.pose
    d = pose.scale  # pixels per eye distance
    every = placed.points()
    h, w = pixels.shape[:2]
    pad = 0.3 * d
    x0, y0 = (int(np.floor(v)) for v in every.min(0) - pad)
    x1, y1 = (int(np.ceil(v)) for v in every.max(0) + pad)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return pixels.copy()
    cv = _Canvas((x0, y0, x1, y1))

    light_dir = light_direction(pixels, lm, relight)  # the image direction toward the light

    # the frame front: rims (outer outline less the lens), the bridge; metal rims as wires with
    # a specular line along their side toward the light
    front, spec = cv.blank(), cv.blank()
    bar_px = (0.030 if frame.metal else 0.045) * d
    wires = [(lens + outer) / 2 for lens, outer in zip(placed.lenses, placed.outers)] if frame.metal else []
    for wire in wires:
        cv.line(front, wire, frame.rim * d, closed=True)
        cv.line(spec, wire + light_dir * 0.2 * frame.rim * d, 0.22 * frame.rim * d, closed=True)
    if not frame.metal:
        for lens, outer in zip(placed.lenses, placed.outers):
            cv.fill(front, outer)
            cv.fill(front, lens, 0.0)
    for bridge in placed.bridges:
        cv.line(front, bridge, bar_px)
        if frame.metal:
            cv.line(spec, bridge + light_dir * 0.2 * bar_px, 0.3 * bar_px)
    bevel = cv.blank()
    if not placed.outers:  # rimless: the lens edges' bevel, and short end pieces where the temples hold
        for side, lens in zip((-1, 1), placed.lenses):
            cv.line(bevel, lens, 0.012 * d, closed=True)
            hinge = _edge_point(frame, side, "hinge")
            cv.line(front, pose.project(np.stack([hinge - [side * 0.06, 0, 0], hinge])), 0.035 * d)
    lens_cov = cv.blank()
    for lens in placed.lenses:
        cv.fill(lens_cov, lens)
    # the temples: behind the front, hidden where the head hides them, fading over the ears
    back = cv.blank()
    for xy, a in zip(placed.temples, placed.temple_visible):
        width = (0.030 if frame.metal else 0.045) * d
        for k in range(len(xy) - 1):
            v = float(min(a[k], a[k + 1]))
            if v > 0.01:
                cv.line(back, xy[k:k + 2], width, v)
    back = np.minimum(back, 1.0) * (1.0 - np.clip(front, 0, 1))

    frame_cov = cv.down(np.clip(front, 0, 1))
    back_cov = cv.down(np.clip(back, 0, 1))
    lens_a = cv.down(np.clip(lens_cov, 0, 1)) * (1.0 - frame_cov)
    bevel_a = cv.down(np.clip(bevel, 0, 1)) * (1.0 - frame_cov)

    top = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    region = pixels[y0:y1, x0:x1].astype(np.float32) / top

    # contact shadow: the frame's silhouette, blurred, away from the light, on the face only
    sil = np.clip(frame_cov + back_cov + 0.25 * lens_a, 0, 1)
    off = -light_dir * 0.07 * d
    m = np.array([[1, 0, off[0]], [0, 1, off[1]]], np.float32)
    shadow = cv2.warpAffine(sil, m, (x1 - x0, y1 - y0), borderMode=cv2.BORDER_CONSTANT)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.5, 0.022 * d))
    face = np.zeros((y1 - y0, x1 - x0), np.float32)
    hull = cv2.convexHull((np.asarray(lm, np.float64)[:27] - [x0, y0]).astype(np.float32))
    cv2.fillConvexPoly(face, np.round(hull * 16).astype(np.int32), 1.0, cv2.LINE_AA, shift=4)
    face = cv2.GaussianBlur(face, (0, 0), max(0.5, 0.05 * d))
    depth = 0.40 + 0.15 * abs(float(light_dir[0]))
    region = region * (1.0 - (depth * opacity * shadow * face))[..., None]

    # lens: a faint tint and a soft reflection across its upper part, toward the light
    tint = np.array(frame.tint, np.float32)
    a = (frame.tint_opacity * opacity * lens_a)[..., None]
    region = region * (1 - a) + tint * a
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    cx, cy = pose.project(np.array([[0.0, frame.centre_y, -0.34]]))[0]
    across = ((xx - cx) * light_dir[1] * -1 + (yy - cy) * light_dir[0]) / d  # along the glint's band
    up = ((xx - cx) * light_dir[0] + (yy - cy) * light_dir[1]) / d
    glint = np.exp(-(((up - 0.12) / 0.09) ** 2)) * (0.6 + 0.4 * np.cos(across * 2.0))
    a = (0.16 * opacity * lens_a * glint)[..., None]
    region = region * (1 - a) + a

    # a rimless lens's cut edge: a light line with a dark rim beside it
    a = (0.32 * opacity * bevel_a)[..., None]
    region = region * (1 - a) + np.float32(0.93) * a
    inner = cv2.GaussianBlur(bevel_a, (0, 0), max(0.5, 0.01 * d)) - bevel_a
    region = region * (1.0 - 0.35 * opacity * np.clip(inner, 0, 1))[..., None]

    # temples, then the front
    base = np.array(COLOURS[colour_name], np.float32)
    dark = base * 0.55

    def paint(region: np.ndarray, cov: np.ndarray, colour: np.ndarray) -> np.ndarray:
        a = (opacity * cov)[..., None]
        return region * (1 - a) + colour * a

    region = paint(region, back_cov, np.broadcast_to(dark, region.shape))
    colour = np.broadcast_to(base, region.shape).copy()
    if colour_name == "tortoise":
        mottle = _tortoise(region.shape[:2], 0.07 * d)[..., None]
        colour = colour * (1 - mottle) + np.array(TORTOISE_LIGHT, np.float32) * mottle
    # the edge facing the light catches it; the far edge darker
    k = max(1, int(round((0.012 if frame.metal else 0.016) * d * SUPERSAMPLE)))
    shifted = np.roll(np.roll(front, int(round(light_dir[1] * -k)), 0), int(round(light_dir[0] * -k)), 1)
    lit = cv.down(np.clip(front - shifted, 0, 1))
    shade = cv.down(np.clip(front - np.roll(np.roll(front, int(round(light_dir[1] * k)), 0),
                                            int(round(light_dir[0] * k)), 1), 0, 1))
    if frame.metal:  # a wire: darker at its sides, a bright line where it faces the light
        shine = cv.down(np.clip(spec, 0, 1))[..., None]
        colour = colour * 0.72 * (1 - 0.3 * shade[..., None])
        colour = colour + (1 - colour) * 0.5 * shine
    else:
        colour = colour * (1 - 0.35 * shade[..., None]) + (1 - colour) * (0.22 * lit[..., None])
    region = paint(region, frame_cov, colour)

    out = pixels.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(region * top), 0, top).astype(pixels.dtype)
    return out
