"""The forehead's lines of raised brows drawn as creases in the photo's light.

Raising the brows (the frontalis: its middle AU1, its sides AU2) bunches the forehead's skin into
horizontal furrows. With the inner brows raised and drawn down together (sad, AU1+4) only the
forehead's middle folds: a few short lines over the inner brows, bowed up over them, which with
the glabella's short vertical creases (:mod:`faceedit.stage.creases`) make the "omega" of grief;
with the inner brows raised and not knit (fear as the stage moves it: AU1, the outer brows
held) the lines lie across the forehead's middle, following the brows, wavy, longer than
sad's and closer; with the whole brows raised (surprise, AU1+2) the lines run across towards
the temples, and there the fitted lines of :mod:`faceedit.stage.folds` are drawn instead
(:func:`across_share`). Here the lines are a height field laid out in the face's frame over
the moved brows' arch (:func:`forehead_lines`): ``forehead_heights`` grooves above it, each as
long as ``spread`` says (:func:`forehead_spread`: 0, the middle only; 1, across) and ``knit``
(:func:`forehead_knit`: 1, sad's bow; 0, fear's rows) and fading out towards the temples,
shaded and blurred as the glabella's creases are (:func:`~faceedit.stage.creases.groove_shade`,
:func:`~faceedit.stage.creases.soften`): a darker valley with the wall that faces the light
lighter, never a bright streak. Nothing is drawn where the photo shows hair over the forehead
(:func:`forehead_hair`: the lines' own box read against the cheeks' skin, darker than it or
textured as strands are, a few ms a frame). The constants are
:class:`~faceedit.stage.tuning_folds.FoldsTuning`'s ``forehead_*`` fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.faces.au import AU_IDS
from faceedit.stage.creases import CODE_SIZE, frame_box, groove_shade, soften
from faceedit.stage.moves import face_frame
from faceedit.stage.regions import fine_texture, skin_samples
from faceedit.stage.tuning_folds import FoldsTuning


def forehead_spread(before: np.ndarray, after: np.ndarray) -> float:
    """How far across the forehead a move's lines run (0..1), from its AUs ``before`` ->
    ``after`` (17 each, :data:`AU_IDS` order): the outer brows' rise (AU2) over the larger of the
    inner's (AU1) and theirs; 0 where neither rises (NaN as 0)."""
    rise = np.nan_to_num(np.asarray(after, np.float64) - np.asarray(before, np.float64))
    inner, outer = max(float(rise[AU_IDS.index(1)]), 0.0), max(float(rise[AU_IDS.index(2)]), 0.0)
    top = max(inner, outer)
    return 0.0 if top <= 1e-6 else float(np.clip(outer / top, 0.0, 1.0))


def forehead_knit(after: np.ndarray, tuning: FoldsTuning | None = None) -> float:
    """How far the brows a move leaves, their inner ends raised, are knit too (0..1), from its AUs
    ``after`` (17, :data:`AU_IDS` order): AU4's level over AU1's, from ``forehead_knit``'s first
    ratio (0) to its second (1), smoothly between; 1 where AU1 reads none (NaN as 0). Read on
    the state the move leaves, not on its rise: a face whose brows were knit before a sad edit
    reads its knit after it (held-out 008 and 114 made sad read AU4's rise 0.25 and -0.04). The
    stage's sad reads 0.54-0.57 on training London (001-018, 10 faces), its fearful 0."""
    lo, hi = (tuning if tuning is not None else FoldsTuning()).forehead_knit[:2]
    level = np.nan_to_num(np.asarray(after, np.float64))
    inner, knit = float(level[AU_IDS.index(1)]), max(float(level[AU_IDS.index(4)]), 0.0)
    if inner <= 1e-6:
        return 1.0
    t = float(np.clip((knit / inner - lo) / max(hi - lo, 1e-6), 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


def across_share(spread: float, tuning: FoldsTuning | None = None) -> float:
    """The share of a forehead's lines drawn as the fitted lines across it
    (:func:`faceedit.stage.folds.fold_curves`, surprise's), the rest as the creases here: 0 up
    to ``forehead_across``'s first ``spread``, 1 from its second, smoothly between."""
    lo, hi = (tuning if tuning is not None else FoldsTuning()).forehead_across
    t = float(np.clip((spread - lo) / max(hi - lo, 1e-6), 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class ForeheadLine:
    """One forehead line in the face's frame (eye distances from the brows' inner ends' middle,
    ``a`` across to the image's right, ``b`` down the face): ``b = c0 + c2 * a^2 + c1 * a`` (the
    brows' arch, flattened and raised), its middle across ``mid``, its half length ``half`` (to
    where it has faded to nothing, ``fade`` before that it starts to), its depth, the phase
    of its wander along it and how far its centre waves (eye distances)."""

    c0: float
    c1: float
    c2: float
    mid: float
    half: float
    fade: float
    depth: float
    phase: float
    wave: float = 0.0


def forehead_lines(lm: np.ndarray, spread: float, code: np.ndarray | None = None,
                   tuning: FoldsTuning | None = None, knit: float = 1.0
                   ) -> tuple[list[ForeheadLine], np.ndarray, np.ndarray]:
    """The forehead lines of a face at 68 landmarks ``lm`` (image px, the moved ones) whose brows
    rose ``spread`` across (:func:`forehead_spread`) and ``knit`` together (:func:`forehead_knit`),
    as uneven as its ``code`` (:func:`faceedit.stage.creases.face_code`; None: even), and the
    frame's origin (px) and axes ((2, 2): u, n). Each row of ``forehead_heights`` lies that far
    above a parabola fitted to the brows' points, keeping ``forehead_arch``'s share of its curve
    (the lowest row the first, the highest the second) and bowed up over the middle by its third
    times 1 - ``spread`` times ``knit``, as deep as ``forehead_depths`` says; half as long as
    ``forehead_reach`` says (its first at spread 0, its second at 1, the higher rows shorter by
    its third share each) fading out over its fourth. Not knit (``knit`` 0), a row's half length
    at spread 0 is ``forehead_knit``'s third, the rows' spacing its fourth share of theirs, the
    top row's depth its fifth share, and each row's centre waves by its sixth."""
    tn = tuning if tuning is not None else FoldsTuning()
    lm = np.asarray(lm, np.float64)
    u, n, ed = face_frame(lm)
    origin = (lm[21] + lm[22]) / 2
    rel = lm[17:27] - origin
    a, b = rel @ u / ed, rel @ n / ed
    c2, c1, c0 = np.polyfit(a, b, 2)
    c = np.zeros(CODE_SIZE) if code is None else np.asarray(code, np.float64)
    s = float(np.clip(spread, 0.0, 1.0))
    loose = 1.0 - float(np.clip(knit, 0.0, 1.0))
    near, far, shorter, fade = tn.forehead_reach
    _, _, loose_near, closer, top_depth, wave = tn.forehead_knit
    near = near + loose * (loose_near - near)
    rows = len(tn.forehead_heights)
    lowest = tn.forehead_heights[0]
    out = []
    for k, (h, depth) in enumerate(zip(tn.forehead_heights, tn.forehead_depths, strict=True)):
        t = k / max(rows - 1, 1)
        h = lowest + (h - lowest) * (1.0 - loose * (1.0 - closer))
        depth = depth * (1.0 - loose * (1.0 - top_depth)) if k == rows - 1 else depth
        flat = tn.forehead_arch[0] + t * (tn.forehead_arch[1] - tn.forehead_arch[0])
        half = (near + s * (far - near)) * (1.0 - shorter * k)
        # a face's own: its rows a little higher or lower, one deeper, each wandering its own way
        # each row its own length and place across (a sine of the code: the rows differ, the same
        # face's rows stay)
        own = np.sin(np.pi * (c[2] + 0.6 * k + 0.3))
        shift = tn.forehead_uneven[1] * (c[3] + 0.5 * np.sin(np.pi * (c[2] - 0.7 * k)))
        half = half * (1.0 + tn.forehead_uneven[3] * own)
        out.append(ForeheadLine(c0=float(c0 - h * (1.0 + tn.forehead_uneven[0] * c[1])), c1=float(flat * c1),
                                c2=float(flat * c2 + tn.forehead_arch[2] * (1.0 - s) * (1.0 - loose)),
                                mid=float(shift * (1.0 - s)), half=float(half), fade=float(min(fade, half)),
                                depth=depth * (1.0 + tn.forehead_uneven[2] * c[0] * (1 - 2 * (k % 2))),
                                phase=float(np.pi * (c[4] + 0.7 * k)), wave=float(wave * loose * (1.0 - s))))
    return out, origin, np.stack([u, n])


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _waving(x: np.ndarray, phase: float) -> np.ndarray:
    """A row's centre's wave along it (-1..1 about): two slow sines of its own phase."""
    return 0.7 * np.sin(2.0 * np.pi * x / 0.45 + phase) + 0.3 * np.sin(2.0 * np.pi * x / 0.21 + 2.0 * phase)


def forehead_field(a: np.ndarray, b: np.ndarray, lines: list[ForeheadLine], tuning: FoldsTuning | None = None
                   ) -> np.ndarray:
    """At face-frame points (``a``, ``b``, eye distances) the lines' grooves (their sum, each
    0..its depth): a Gaussian ``forehead_width`` across each line, full along its middle and
    fading out smoothly towards its ends, its depth wandering a little along it and its centre
    waving by its ``wave``."""
    tn = tuning if tuning is not None else FoldsTuning()
    grooves = np.zeros_like(a)
    for ln in lines:
        x = a - ln.mid
        centre = ln.c0 + ln.c1 * a + ln.c2 * a * a + ln.wave * _waving(x, ln.phase)
        along = _smooth((ln.half - np.abs(x)) / max(ln.fade, 1e-6))
        along = along * (1.0 + 0.15 * np.sin(2.0 * np.pi * x / 0.35 + ln.phase))
        grooves += ln.depth * along * np.exp(-0.5 * ((b - centre) / tn.forehead_width) ** 2)
    return grooves


def forehead_log_ratio(shape: tuple[int, ...], lm: np.ndarray, amount: float, spread: float, code: np.ndarray | None,
                       light: np.ndarray, blur_px: float, tuning: FoldsTuning | None = None,
                       hair: tuple[tuple[int, int, int, int], np.ndarray] | None = None,
                       pixels: np.ndarray | None = None, knit: float = 1.0
                       ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The forehead lines' luma log ratio on a face at ``lm`` in an image of ``shape``, ``amount``
    of their depth (the brows' rise, :func:`faceedit.stage.folds.fold_amounts`' ``forehead``),
    laid out by :func:`forehead_lines` (``spread``, ``code``, ``knit``): (box (x0, y0, x1, y1), log ratio
    over it), None where nothing is drawn. ``light``: the image direction toward the light
    ((2,)); ``blur_px``: the photo's blur (:func:`faceedit.stage.creases.photo_blur`); ``hair``:
    (its box in the image, its matte 0..1 over it), nothing drawn where it is 1; none given, the
    photo ``pixels``' own (:func:`forehead_hair` over the lines' box; neither: no hair)."""
    if amount <= 0:
        return None
    tn = tuning if tuning is not None else FoldsTuning()
    lines, origin, axes = forehead_lines(lm, spread, code, tn, knit)
    ed = face_frame(lm)[2]
    pad = 3.0 * tn.forehead_width + 0.02 + max(ln.wave for ln in lines)
    a_lo = min(ln.mid - ln.half for ln in lines) - 0.02
    a_hi = max(ln.mid + ln.half for ln in lines) + 0.02
    bs = [ln.c0 + ln.c1 * x + ln.c2 * x * x for ln in lines for x in np.linspace(ln.mid - ln.half, ln.mid + ln.half, 9)]
    framed = frame_box(origin, axes, ed, (a_lo, a_hi), (min(bs) - pad, max(bs) + pad), shape)
    if framed is None:
        return None
    (x0, y0, x1, y1), a, b = framed
    grooves = forehead_field(a, b, lines, tn)
    log_ratio = soften(amount * groove_shade(grooves, light, ed, tn.forehead_width, tn), blur_px, ed, tn)
    if hair is None and pixels is not None:
        hair = ((x0, y0, x1, y1), forehead_hair(pixels, lm, (x0, y0, x1, y1), tn))
    if hair is not None:
        (h0, k0, h1, k1), matte = hair
        c0, r0, c1, r1 = max(x0, h0), max(y0, k0), min(x1, h1), min(y1, k1)
        if c1 > c0 and r1 > r0:
            log_ratio[r0 - y0:r1 - y0, c0 - x0:c1 - x0] *= 1.0 - np.clip(matte[r0 - k0:r1 - k0, c0 - h0:c1 - h0], 0.0, 1.0)
    return (x0, y0, x1, y1), log_ratio


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def forehead_hair(pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int],
                  tuning: FoldsTuning | None = None) -> np.ndarray:
    """How much hair (0..1, (y1 - y0, x1 - x0) float32) covers ``box`` (x0, y0, x1, y1) of
    ``pixels`` ((H, W, 3) uint8/uint16 RGB) over the forehead of a face at 68 landmarks ``lm``, from
    those pixels and the cheeks' skin alone (:func:`faceedit.stage.regions.skin_samples`), at
    most 260 px an eye distance: a pixel is hair where its luma over the cheeks' median is low
    (a dark fringe) or where its fine texture is stronger than the cheeks' and runs one way
    (strands: a blond fringe), by ``forehead_hair``, smoothed, where it reaches the top or the sides
    of the box grown by twice the smoothing. Uniform photos read no hair."""
    tn = tuning if tuning is not None else FoldsTuning()
    dark_at, dark_full, tex_at, tex_full, smooth = tn.forehead_hair
    ed = face_frame(lm)[2]
    scale = min(1.0, 260.0 / max(ed, 1e-6))
    x0, y0, x1, y1 = box
    sigma = max(smooth * ed * scale, 1.0)
    grow = int(np.ceil(2.0 * sigma / scale))
    h, w = pixels.shape[:2]
    gx0, gy0, gx1, gy1 = max(x0 - grow, 0), max(y0 - grow, 0), min(x1 + grow, w), min(y1 + grow, h)

    def small(a: np.ndarray) -> np.ndarray:
        return a if scale >= 1.0 else cv2.resize(a, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    fine = max(0.006 * ed * scale, 0.5)
    cheeks = []
    for centre, radius in skin_samples(lm, ed)[:2]:
        cx, cy, r = int(round(centre[0])), int(round(centre[1])), max(int(radius), 2)
        patch = pixels[max(cy - r, 0):min(cy + r, h), max(cx - r, 0):min(cx + r, w)]
        if patch.shape[0] >= 4 and patch.shape[1] >= 4:
            cheeks.append(_luma(small(patch)))
    if not cheeks:
        return np.zeros((y1 - y0, x1 - x0), np.float32)
    own = float(np.median(np.concatenate([c.ravel() for c in cheeks])))
    own_energy = float(np.median(np.concatenate([fine_texture(c, fine, sigma)[0].ravel() for c in cheeks])))
    y = _luma(small(pixels[gy0:gy1, gx0:gx1]))
    energy, one_way = fine_texture(y, fine, sigma)
    dark = np.clip((dark_at - y / max(own, 1.0)) / dark_full, 0.0, 1.0)
    strands = np.clip((energy / max(own_energy, 1e-3) * one_way - tex_at) / tex_full, 0.0, 1.0)
    hair = cv2.GaussianBlur(np.maximum(dark, strands), (0, 0), sigma)
    hair = np.clip((hair - 0.25) / 0.5, 0.0, 1.0)
    # hair hangs in from above or beside the lines' box: a patch touching neither its top nor
    # its sides is the skin's own (a blemish, a sheen's pores)
    count, labels = cv2.connectedComponents((hair > 0).astype(np.uint8), connectivity=8)
    if count > 1:
        edges = np.unique(np.concatenate([labels[0], labels[:, 0], labels[:, -1]]))
        hair = hair * np.isin(labels, edges[edges > 0])
    if scale < 1.0:
        hair = cv2.resize(hair, (gx1 - gx0, gy1 - gy0), interpolation=cv2.INTER_LINEAR)
    return hair[y0 - gy0:y1 - gy0, x0 - gx0:x1 - gx0].astype(np.float32)


def forehead_points(lm: np.ndarray, spread: float, code: np.ndarray | None = None,
                    tuning: FoldsTuning | None = None, k: int = 40, knit: float = 1.0) -> list[np.ndarray]:
    """The lines' centres in image px ((k, 2) each, across the image left to right, over the
    part of each drawn at full depth): for a bench to measure across them."""
    tn = tuning if tuning is not None else FoldsTuning()
    lines, origin, axes = forehead_lines(lm, spread, code, tn, knit)
    ed = face_frame(lm)[2]
    out = []
    for ln in lines:
        a = np.linspace(ln.mid - ln.half + ln.fade, ln.mid + ln.half - ln.fade, k)
        b = ln.c0 + ln.c1 * a + ln.c2 * a * a + ln.wave * _waving(a - ln.mid, ln.phase)
        out.append(origin + (a[:, None] * axes[0] + b[:, None] * axes[1]) * ed)
    return out
