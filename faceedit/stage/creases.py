"""The glabellar lines of a frown (AU4) drawn as creases in the photo's light.

The corrugators draw the brows' inner ends together and down; the skin between them bunches and
folds into one or two near-vertical furrows above each inner brow end. Here those furrows are a
small height field laid out in the face's frame from the moved brows' inner ends
(:func:`crease_lines`): each a groove of its own depth and length (one deeper than the other,
fading out above, its lower end bent out towards the brow's head), and between them the bunched
skin's soft bulge. The field is shaded, not drawn: a groove's floor darkens (less light reaches
into it), and every slope brightens or darkens by how it faces the photo's light
(:func:`faceedit.stage.shading.light_direction`); the whole is blurred by the photo's own blur
(:func:`photo_blur`), so a line is never sharper than the skin's detail round it.

How uneven a face's lines are is its own: :func:`face_code` turns the face's identity
coefficients into a few numbers in (-1, 1) (a fixed projection: the same person gets the same
lines on every frame, and a slightly different fit a slightly different line, not another one).
The constants are :class:`~faceedit.stage.tuning_folds.FoldsTuning`'s ``crease_*`` fields.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_folds import FoldsTuning

#: How many numbers :func:`face_code` gives (depth, length, bend, tilt, the wobble's phase).
CODE_SIZE = 5
#: The fixed projection's seed (:func:`face_code`).
CODE_SEED = 53
#: How many rows down the strip between the creases :func:`strip_excess` measures.
STRIP_ROWS = 6
#: The most of a row's excess (a log ratio) :func:`crease_log_ratio` takes off between the lines:
#: training London made angry read 0.094 (median), 0.236 (90th percentile) at most in a row;
#: more is mostly a measure gone wrong (hair or shadow beside the brows' heads), and darkening
#: up to the floor ``min_ratio`` there left a block with straight edges.
STRIP_MOST = 0.25


def face_code(identity: np.ndarray | None) -> np.ndarray:
    """(:data:`CODE_SIZE`,) numbers in (-1, 1) from a face's identity coefficients: a fixed random
    projection of their direction, through tanh (continuous in them); zeros where there are none
    (two even lines)."""
    if identity is None:
        return np.zeros(CODE_SIZE)
    v = np.nan_to_num(np.asarray(identity, np.float64).reshape(-1))
    norm = float(np.linalg.norm(v))
    if norm < 1e-9:
        return np.zeros(CODE_SIZE)
    proj = np.random.default_rng(CODE_SEED).standard_normal((CODE_SIZE, v.size))
    return np.tanh(proj @ (v / norm))


def photo_blur(pixels: np.ndarray, lm: np.ndarray) -> float:
    """The blur of the photo's detail round the brows (a Gaussian sigma, px): at its strongest
    edges (the top tenth of the luma's gradient in a box round the brows and the glabella), the
    gradient's fall when blurred again by a known sigma ``s`` gives the photo's own
    (``s / sqrt(r^2 - 1)``, ``r`` the fall's ratio); the median of them, within 0.4..3 px."""
    lm = np.asarray(lm, np.float64)
    pts = lm[17:28]
    ed = face_frame(lm)[2]
    h, w = pixels.shape[:2]
    x0, y0 = (int(max(v, 0)) for v in np.floor(pts.min(0) - 0.1 * ed))
    x1, y1 = int(min(np.ceil(pts[:, 0].max() + 0.1 * ed), w)), int(min(np.ceil(pts[:, 1].max() + 0.1 * ed), h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 1.0
    top = float(np.iinfo(pixels.dtype).max) if np.issubdtype(pixels.dtype, np.integer) else 1.0
    y = pixels[y0:y1, x0:x1, :3].astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32) / top
    s = 1.5

    def grad(a: np.ndarray) -> np.ndarray:
        return np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3))

    g0, g1 = grad(y), grad(cv2.GaussianBlur(y, (0, 0), s))
    strong = g0 >= np.quantile(g0, 0.9)
    r = g0[strong] / np.maximum(g1[strong], 1e-6)
    sig = s / np.sqrt(np.maximum(r * r - 1.0, 1e-3))
    return float(np.clip(np.median(sig), 0.4, 3.0))


@dataclass(frozen=True)
class Crease:
    """One glabellar line in the face's frame (eye distances from the brows' inner ends' middle,
    ``a`` across to the image's right, ``b`` down the face): its top and bottom ``b``, where it
    lies across at its top (``a``), how far its lower end bends out (signed) and leans, and its
    depth (1: the fitted one)."""

    top: float
    bottom: float
    a: float
    bend: float
    tilt: float
    depth: float
    phase: float


def crease_lines(lm: np.ndarray, code: np.ndarray, sad: float = 0.0, tuning: FoldsTuning | None = None
                 ) -> tuple[list[Crease], np.ndarray, np.ndarray]:
    """The two glabellar creases of a face at 68 landmarks ``lm`` (image px, the moved ones), as
    uneven as its ``code`` (:func:`face_code`) says, shorter by ``sad`` (0..1: the inner brows
    raised with them, AU1+4: short furrows above the inner brows, ``crease_sad``; shallower by
    ``crease_sad_soft``'s first): each from
    ``crease_layout``'s drop below the brows' inner ends up by its length, across at a share of
    their gap; and the frame's origin (px) and axes ((2, 2): u, n)."""
    tn = tuning if tuning is not None else FoldsTuning()
    lm = np.asarray(lm, np.float64)
    u, n, ed = face_frame(lm)
    inner_l, inner_r = lm[21], lm[22]
    origin = (inner_l + inner_r) / 2
    gap = float((inner_r - inner_l) @ u) / ed
    drop, length, apart, lo, hi, bend, tilt = tn.crease_layout
    u_depth, u_length, u_bend, u_tilt = tn.crease_uneven
    half = float(np.clip(apart * gap, lo, hi))
    ends_b = [float((p - origin) @ n) / ed for p in (inner_l, inner_r)]
    c = np.asarray(code, np.float64)
    sad = float(np.clip(sad, 0.0, 1.0))
    short = 1.0 - tn.crease_sad[0] * sad
    shallow = 1.0 - (1.0 - tn.crease_sad_soft[0]) * sad
    out = []
    for k, side in enumerate((-1.0, 1.0)):
        # the deeper line is the longer one (one number moves both), on the side the code picks
        lean = side * c[0]
        bottom = ends_b[k] + drop - tn.crease_sad[1] * sad
        top = bottom - length * short * (1.0 + u_length * lean)
        out.append(Crease(top=top, bottom=bottom, a=side * half, bend=side * bend * (1.0 + u_bend * c[2] * side),
                          tilt=tilt + u_tilt * c[3], depth=(1.0 + u_depth * lean) * shallow, phase=np.pi * (c[4] + 0.5 * k)))
    return out, origin, np.stack([u, n])


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def crease_field(a: np.ndarray, b: np.ndarray, lines: list[Crease], tuning: FoldsTuning | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """At face-frame points (``a``, ``b``, eye distances) the creases' grooves (their sum, each
    0..its depth) and the bulge between them (0..1):
    each groove a Gaussian ``crease_width`` across its line, deepest in its lower middle,
    fading out slowly above and quickly below its lower end (a ripple along it by its phase);
    the bulge a Gaussian between the lines' middles (``crease_bulge``'s last two: its sigma
    across as a share of the lines' spacing, and down the face)."""
    tn = tuning if tuning is not None else FoldsTuning()
    grooves = np.zeros_like(a)
    for ln in lines:
        t = (b - ln.top) / max(ln.bottom - ln.top, 1e-6)  # 0 at the top, 1 at the lower end
        centre = ln.a + ln.tilt * (t - 0.5) * (ln.bottom - ln.top) * np.sign(ln.a) + ln.bend * np.clip(t, 0, 1.2) ** 2
        along = _smooth(t / 0.6) * _smooth((1.15 - t) / 0.3) * (1.0 + 0.2 * np.sin(2 * np.pi * 1.3 * t + ln.phase))
        grooves += ln.depth * along * np.exp(-0.5 * ((a - centre) / tn.crease_width) ** 2)
    across, down = tn.crease_bulge[2:]
    spacing = abs(lines[1].a - lines[0].a) if len(lines) > 1 else 0.1
    mid_b = np.mean([0.5 * (ln.top + ln.bottom) for ln in lines])
    bulge = np.exp(-0.5 * ((a / (across * spacing)) ** 2 + ((b - mid_b) / down) ** 2))
    return grooves, bulge


def strip_span(lines: list[Crease], tuning: FoldsTuning) -> tuple[float, float]:
    """The strip between the lines down the face (``b``, eye distances): from a third of the
    way down the higher line to ``crease_even``'s reach below the lower ends."""
    return (min(ln.top + (ln.bottom - ln.top) / 3 for ln in lines),
            max(ln.bottom for ln in lines) + tuning.crease_even[1])


def frame_box(origin: np.ndarray, axes: np.ndarray, ed: float, a_range: tuple[float, float],
              b_range: tuple[float, float], shape: tuple[int, ...]
              ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray] | None:
    """The image box round a rectangle of the glabella's frame (``a_range`` across, ``b_range``
    down, in eye distances ``ed`` from ``origin`` along ``axes``), clipped to an image of
    ``shape``, and each of its pixels' coordinates in that frame: ((x0, y0, x1, y1), a, b); None
    where the box is under 3 px either way."""
    corners = np.array([origin + (aa * axes[0] + bb * axes[1]) * ed for aa in a_range for bb in b_range])
    h, w = shape[:2]
    x0, y0 = (int(max(v, 0)) for v in np.floor(corners.min(0)))
    x1, y1 = int(min(np.ceil(corners[:, 0].max()) + 1, w)), int(min(np.ceil(corners[:, 1].max()) + 1, h))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    rx, ry = gx - origin[0], gy - origin[1]
    return (x0, y0, x1, y1), (rx * axes[0, 0] + ry * axes[0, 1]) / ed, (rx * axes[1, 0] + ry * axes[1, 1]) / ed


def glabella_box(lm: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The image box (x0, y0, x1, y1) round the glabella of a face at ``lm`` that holds the
    creases' box and :func:`strip_excess`'s (0.4 eye distances either side of the brows' inner
    ends' middle, 0.6 above them to 0.3 below): where a hair matte over them is read once."""
    u, n, ed = face_frame(lm)
    lm = np.asarray(lm, np.float64)
    framed = frame_box((lm[21] + lm[22]) / 2, np.stack([u, n]), ed, (-0.4, 0.4), (-0.6, 0.3), shape)
    return None if framed is None else framed[0]


def matte_on(hair: tuple[tuple[int, int, int, int], np.ndarray] | None, box: tuple[int, int, int, int]
             ) -> np.ndarray | None:
    """A hair matte (its box in the image, 0..1 over it) over another ``box`` (x0, y0, x1, y1): 0
    where the matte does not reach; None where there is no matte."""
    if hair is None:
        return None
    (h0, k0, h1, k1), matte = hair
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0), np.float64)
    c0, r0, c1, r1 = max(x0, h0), max(y0, k0), min(x1, h1), min(y1, k1)
    if c1 > c0 and r1 > r0:
        out[r0 - y0:r1 - y0, c0 - x0:c1 - x0] = np.clip(matte[r0 - k0:r1 - k0, c0 - h0:c1 - h0], 0.0, 1.0)
    return out


def strip_excess(pixels: np.ndarray, lm: np.ndarray, code: np.ndarray | None = None, sad: float = 0.0,
                 tuning: FoldsTuning | None = None,
                 hair: tuple[tuple[int, int, int, int], np.ndarray] | None = None) -> np.ndarray:
    """How much lighter the skin between the creases (:func:`crease_lines` of a face at ``lm``)
    is than the forehead beside the brows' heads, in ``pixels``, row by row down
    :func:`strip_span` (:data:`STRIP_ROWS` rows, top to bottom): the log of the luma's median
    between the lines (across within 0.3 of their spacing of the middle) in the row over its
    median beside the brows' heads (0.22..0.32 eye distances either side of the middle, over
    the strip's heights, 0.04 or more above the brows' points: not their hair); 0 in a row
    where either has no pixel. ``hair``: (its box in the image, its matte 0..1 over it, as
    :func:`faceedit.stage.forehead_creases.forehead_hair` reads it): pixels over half hair are
    neither strip nor forehead, and where hair covers over half of the forehead beside the
    brows' heads nothing is measured (all 0: a dark fringe there is no skin to match)."""
    tn = tuning if tuning is not None else FoldsTuning()
    out = np.zeros(STRIP_ROWS)
    lines, origin, axes = crease_lines(lm, np.zeros(CODE_SIZE) if code is None else code, sad, tn)
    ed = face_frame(lm)[2]
    top, bottom = strip_span(lines, tn)
    half = 0.3 * abs(lines[1].a - lines[0].a)
    framed = frame_box(origin, axes, ed, (-0.32, 0.32), (top, bottom), pixels.shape)
    if framed is None:
        return out
    (x0, y0, x1, y1), a, b = framed
    a = np.abs(a)
    band = (b >= top) & (b <= bottom)
    # the brows' hair lies about their points and below them: the forehead is above them by 0.04
    brow = np.asarray(lm, np.float64)[17:27] - origin
    ba, bb = np.abs(brow @ axes[0]) / ed, brow @ axes[1] / ed
    order = np.argsort(ba)
    above = b < np.interp(a, ba[order], bb[order]) - 0.04
    y = pixels[y0:y1, x0:x1, :3].astype(np.float64) @ np.asarray(LUMA_WEIGHTS, np.float64)
    matte = matte_on(hair, (x0, y0, x1, y1))
    skin = np.ones_like(y, bool) if matte is None else matte < 0.5
    beside = band & above & (a >= 0.22) & (a <= 0.32)
    side = y[beside & skin]
    if side.size == 0 or side.size < 0.5 * np.count_nonzero(beside):
        return out
    level = max(float(np.median(side)), 1e-6)
    edges = np.linspace(top, bottom, STRIP_ROWS + 1)
    for k in range(STRIP_ROWS):
        mid = y[(b >= edges[k]) & (b <= edges[k + 1]) & (a <= half) & skin]
        if mid.size:
            out[k] = np.log(max(float(np.median(mid)), 1e-6) / level)
    return out


def crease_log_ratio(shape: tuple[int, ...], lm: np.ndarray, amount: float, code: np.ndarray,
                     light: np.ndarray, blur_px: float, sad: float = 0.0, tuning: FoldsTuning | None = None,
                     excess: np.ndarray | None = None,
                     hair: tuple[tuple[int, int, int, int], np.ndarray] | None = None
                     ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The creases' luma log ratio on a face at ``lm`` in an image of ``shape``, ``amount`` of
    the fitted depth: (box (x0, y0, x1, y1), log ratio over it), None where nothing is drawn.
    ``light``: the image direction toward the light ((2,)); ``blur_px``: the photo's blur
    (:func:`photo_blur`). The shade: ``crease_shade`` = (a groove's floor's darkening per
    depth, its walls' lightening as they turn to the light), the bulge's ``crease_bulge`` =
    (its lift at its top, its slopes' lightening as they turn to the light), all blurred by
    ``blur_px``. ``excess``: how much lighter the photo's skin between the lines is than the
    forehead beside them, row by row (:func:`strip_excess`; None: none); ``crease_even`` of it
    where positive, up to :data:`STRIP_MOST`, is taken off over the strip between them
    (:func:`strip_span`, brought in from ``crease_even_fade`` above its top), under the
    bulge's own relief. ``hair``: (its box in the image, its matte 0..1 over it): nothing drawn
    where it is 1."""
    if amount <= 0:
        return None
    tn = tuning if tuning is not None else FoldsTuning()
    lines, origin, axes = crease_lines(lm, code, sad, tn)
    # sad's furrows are softer too (crease_sad_soft's second: their sigma's factor at full sad)
    soft_by = 1.0 + (tn.crease_sad_soft[1] - 1.0) * float(np.clip(sad, 0.0, 1.0))
    tn = replace(tn, crease_width=tn.crease_width * soft_by)
    ed = face_frame(lm)[2]
    pad = 0.12
    a_lo = min(ln.a - abs(ln.bend) for ln in lines) - pad
    a_hi = max(ln.a + abs(ln.bend) for ln in lines) + pad
    b_lo, b_hi = min(ln.top for ln in lines) - pad, max(ln.bottom for ln in lines) + pad
    framed = frame_box(origin, axes, ed, (a_lo, a_hi), (b_lo, b_hi), shape)
    if framed is None:
        return None
    (x0, y0, x1, y1), a, b = framed
    grooves, bulge = crease_field(a, b, lines, tn)
    rise, slopes = tn.crease_bulge[:2]
    log_ratio = amount * (groove_shade(grooves, light, ed, tn.crease_width, tn)
                          + rise * bulge + slopes * lit(bulge, light, tn.crease_bulge[3] * ed))
    # the strip between them: across as the bulge, down the face over strip_span, softly
    top, bottom = strip_span(lines, tn)
    soft = 0.5 * tn.crease_even[1]
    strip = np.exp(-0.5 * (a / (tn.crease_bulge[2] * abs(lines[1].a - lines[0].a))) ** 2) \
        * _smooth((b - top + tn.crease_even_fade) / (soft + tn.crease_even_fade)) * _smooth((bottom + soft - b) / (2 * soft))
    rows = np.zeros(STRIP_ROWS) if excess is None else np.asarray(excess, np.float64)
    centres = np.linspace(top, bottom, 2 * len(rows) + 1)[1::2]
    level = min(amount, 1.0) * np.clip(np.interp(b, centres, rows), 0.0, STRIP_MOST)
    log_ratio -= tn.crease_even[0] * level * strip
    log_ratio = soften(log_ratio, blur_px, ed, tn)
    matte = matte_on(hair, (x0, y0, x1, y1))
    return (x0, y0, x1, y1), log_ratio if matte is None else log_ratio * (1.0 - matte)


def lit(height: np.ndarray, light: np.ndarray, scale_px: float) -> np.ndarray:
    """How much a height field's slopes (a grid of image px) face the light: its gradient against
    ``light`` (the image direction toward it, (2,)), times ``scale_px`` (a Gaussian of that sigma
    peaks at 0.6)."""
    toward = np.asarray(light, np.float64) / max(float(np.linalg.norm(light)), 1e-9)
    hy, hx = np.gradient(height)
    return -(hx * toward[0] + hy * toward[1]) * scale_px


def groove_shade(grooves: np.ndarray, light: np.ndarray, ed: float, width: float,
                 tuning: FoldsTuning | None = None) -> np.ndarray:
    """The luma log ratio of grooves (a grid of image px, each 0..its depth, ``width`` eye
    distances across) in the photo's light: ``crease_shade`` = (the floor's darkening per depth,
    the walls' lightening as they turn to the light, :func:`lit`); eye distance ``ed`` px."""
    tn = tuning if tuning is not None else FoldsTuning()
    cavity, walls = tn.crease_shade
    return -cavity * grooves + walls * lit(-grooves, light, width * ed)


def soften(log_ratio: np.ndarray, blur_px: float, ed: float, tuning: FoldsTuning | None = None) -> np.ndarray:
    """A box's shading log ratio blurred by the photo's blur (``blur_px``, :func:`photo_blur`),
    no darker than ``min_ratio``, and brought to nothing over 0.03 eye distances (``ed`` px) at
    the box's edge (the Gaussians there are already far down)."""
    tn = tuning if tuning is not None else FoldsTuning()
    blurred = np.maximum(cv2.GaussianBlur(log_ratio, (0, 0), max(blur_px, 0.3)), np.log(tn.min_ratio))
    h, w = log_ratio.shape
    fy = _smooth(np.minimum(np.arange(h), np.arange(h)[::-1]) / max(0.03 * ed, 1.0))
    fx = _smooth(np.minimum(np.arange(w), np.arange(w)[::-1]) / max(0.03 * ed, 1.0))
    return blurred * fy[:, None] * fx[None, :]


def crease_points(lm: np.ndarray, code: np.ndarray | None = None, sad: float = 0.0,
                  tuning: FoldsTuning | None = None, k: int = 40) -> list[np.ndarray]:
    """The creases' centre lines in image px ((k, 2) each, top to lower end), as
    :func:`crease_field` lays their grooves: for a bench to measure across them."""
    tn = tuning if tuning is not None else FoldsTuning()
    lines, origin, axes = crease_lines(lm, np.zeros(CODE_SIZE) if code is None else code, sad, tn)
    ed = face_frame(lm)[2]
    t = np.linspace(0.0, 1.0, k)
    out = []
    for ln in lines:
        b = ln.top + t * (ln.bottom - ln.top)
        a = ln.a + ln.tilt * (t - 0.5) * (ln.bottom - ln.top) * np.sign(ln.a) + ln.bend * t ** 2
        out.append(origin + (a[:, None] * axes[0] + b[:, None] * axes[1]) * ed)
    return out
