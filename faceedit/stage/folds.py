"""Folds and furrows of an expression, drawn as shading at the photo's own resolution.

An expression's skin folds where muscles bunch it: the nose wrinkles (AU9), the furrow from the
nose wing past the mouth corner that a raised upper lip deepens (AU10), the vertical lines
between knitted brows (AU4) and the horizontal lines of a raised forehead (AU1+2). The stage's
appearance maps are 256-px means, too soft to draw them; here each fold is a curve laid out on
the face's moved landmarks (:func:`fold_curves`, so it moves with the warp) and drawn as a luma
ratio across it (the photo's own skin colour and texture kept under it): a valley whose one
side falls off within a pixel or two and whose other side fades over a learnt width, and beyond
its edge on the side the photo's light comes from (:func:`faceedit.stage.shading.light_direction`)
the shoulder of skin that catches it, a fraction of the valley's depth: never a bright line.
The glabellar lines are drawn otherwise: as creases of uneven depth with the bunched skin between
them, shaded by the photo's light and blurred as the photo is (:mod:`faceedit.stage.creases`).

Where each kind of fold lies against its laid-out curve, which side of it is sharp and how wide
its soft side is are statistics of the same people's neutral -> expression luma ratios in JAFFE
and Yale (:mod:`faceedit.train.folds` fits them; ``weights/folds.safetensors``, its card
``weights/folds.md``); the depths, set by looking at 1350-px faces, are
stored with them. A fold is drawn by the amount of the AU that makes
it: AU4 and AU1+2 read from the move's landmarks (:meth:`faceedit.stage.state.ExpressionStates.state_aus`),
AU9 and AU10, which landmarks do not show, from the target the move heads for (its FACS
prototype's level times the progress made towards it).

A move that lowers AU4 or AU1+2 takes away the glabellar or forehead lines the photo shows
(:func:`smooth_folds`): around those kinds' curves, the skin's luma loses the dark part of its
band of scales between pores and the face's shading, by the AUs' fall, so a frowning or
surprised face made neutral does not keep its furrows.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceedit.faces.au import AU_IDS
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.creases import crease_log_ratio, face_code, glabella_box, photo_blur, strip_excess
from faceedit.stage.forehead_creases import across_share, forehead_hair, forehead_log_ratio
from faceedit.stage.moves import face_frame
from faceedit.stage.shading import light_direction
from faceedit.stage.tuning_folds import FoldsTuning

#: The kinds of fold, and the AUs whose sum makes each.
KINDS = ("forehead", "glabella", "nose", "nasolabial")
KIND_AUS: dict[str, tuple[int, ...]] = {"forehead": (1, 2), "glabella": (4,), "nose": (9,), "nasolabial": (10,)}
#: Kinds whose AU the 68 landmarks show (read from the move); the others' AUs are texture.
GEOMETRIC = ("forehead", "glabella")
#: The file of the fitted statistics in the weights folder (the manifest's ``folds`` entry).
FOLDS_FILE = "folds.safetensors"
#: Fold parameters per kind, in this order (``params`` tensor rows): groove depth (a luma
#: ratio's drop, at the fitted level), the soft side's width (eye distances), the sharp side's
#: sign (+1: the sharp edge on the curve's positive side), the shoulder's height (a ratio's
#: rise, under a light straight across the fold), the soft side's width plus how far past the
#: valley's edge the shoulder lies, and its width (eye distances; the shoulder lies on the side
#: the light comes from, :func:`profile`), the fold's offset from the laid-out curve (eye
#: distances, along its positive side).
PARAMS = ("depth", "soft", "sharp_side", "light", "light_at", "light_width", "offset")
#: Kinds whose lines run up the face (blurred along y when they are taken away, :func:`smooth_folds`).
SMOOTH_VERTICAL = ("glabella",)
#: How each fold is drawn and taken away beyond its fitted shape (sharp edges, reach, depth
#: limits, the shade's tint, the smoothing's scales):
#: :class:`~faceedit.stage.tuning_folds.FoldsTuning`, the stage's ``tuning.folds``; a function
#: given none takes its defaults.


def shade_powers(pixels: np.ndarray, tuning: FoldsTuning | None = None) -> np.ndarray:
    """Per pixel of ``pixels`` ((H, W, 3), any range) the power of a shade's ratio for R, G and B
    ((H, W, 3) float32): ``shade_tint`` by the pixel's saturation ((max - min) / max over
    ``tint_chroma``, at most 1), 1 on grey."""
    tn = tuning if tuning is not None else FoldsTuning()
    x = pixels[..., :3].astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]  # (pairwise: a reduction over a 3-long axis is slow)
    top = np.maximum(np.maximum(r, g), b)
    sat = np.clip((top - np.minimum(np.minimum(r, g), b)) / np.maximum(top, 1e-6) / tn.tint_chroma, 0.0, 1.0)
    return 1.0 + sat[..., None] * (np.array(tn.shade_tint).astype(np.float32) - 1.0)


@dataclass(frozen=True)
class Curve:
    """One fold line: points in image px ((K, 2), in drawing order: its positive side is below
    a line drawn left to right, image y down) and a weight per point (0..1: its ends
    taper, its depth varies along it)."""

    kind: str
    points: np.ndarray
    weight: np.ndarray


@functools.cache
def _irregular(k: int, seed: int) -> np.ndarray:
    """A fold's depth along it (``k`` points): a fixed sum of slow sines (a real line deepens
    and fades along its length), tapered to 0 at both ends. Made once per line (read-only)."""
    t = np.linspace(0.0, 1.0, k)
    rng = np.random.default_rng(seed)  # fixed per line: the same line on every frame of a video
    wobble = 1.0 + sum(a * np.sin(2 * np.pi * f * t + p)
                       for a, f, p in zip((0.25, 0.12), (1.3, 2.7), rng.uniform(0, 2 * np.pi, 2), strict=True))
    taper = np.sin(np.pi * t) ** 0.7
    out = (wobble * taper).astype(np.float64)
    out.flags.writeable = False
    return out


def _line(kind: str, pts: np.ndarray, seed: int, k: int = 40) -> Curve:
    """A smooth curve through ``pts`` (a quadratic Bezier of 3 points, else straight) of ``k`` points."""
    t = np.linspace(0.0, 1.0, k)[:, None]
    if len(pts) == 3:
        xy = (1 - t) ** 2 * pts[0] + 2 * (1 - t) * t * pts[1] + t ** 2 * pts[2]
    else:
        xy = (1 - t) * pts[0] + t * pts[-1]
    return Curve(kind, xy, _irregular(k, seed))


def fold_curves(lm: np.ndarray) -> list[Curve]:
    """The fold lines of a face at 68 landmarks ``lm`` (image px), in its own frame (along the
    eye line and down the face, in eye distances): three forehead lines following the brows'
    arch, two glabellar lines between the brows' inner ends, three wrinkles across the nose's
    bridge and two oblique ones down each side of it, and a furrow from each nose wing past the
    mouth corner. Mirror pairs are drawn in mirrored order, so a curve's positive side is the
    lateral one on both sides of the face (below, for the horizontal lines)."""
    lm = np.asarray(lm, np.float64)
    u, n, ed = face_frame(lm)

    def at(origin: np.ndarray, a: float, b: float) -> np.ndarray:
        return origin + a * ed * u + b * ed * n

    curves: list[Curve] = []
    # forehead: the brows' arch (a parabola fitted to the brow points in the face's frame) raised
    brows = lm[17:27]
    mid = brows.mean(0)
    a = (brows - mid) @ u / ed
    b = (brows - mid) @ n / ed
    c2, c1, c0 = np.polyfit(a, b, 2)
    span = 0.75 * min(-a.min(), a.max())
    # (height above the brows, share of their arch kept, share of the span, wobble phase): the
    # higher lines flatter, the middle one longest, each wandering a little along its length
    for k, (h, flat, share, phase) in enumerate(((0.28, 0.85, 0.85, 0.4), (0.41, 0.65, 1.0, 2.1), (0.55, 0.5, 0.7, 4.0))):
        s = np.linspace(-share * span, share * span, 48)
        wander = 0.008 * np.sin(2.3 * np.pi * s / span + phase) + 0.004 * np.sin(5.1 * np.pi * s / span + 2 * phase)
        bb = c0 + flat * (c2 * s * s + c1 * s) - h + wander
        pts = mid + s[:, None] * ed * u + bb[:, None] * ed * n
        curves.append(Curve("forehead", pts, _irregular(48, 11 + k)))
    # glabella: from above the brows' inner ends down between them, fanning out upwards
    inner_l, inner_r = lm[21], lm[22]
    centre = (inner_l + inner_r) / 2
    gap = float((inner_r - inner_l) @ u) / ed
    x = float(np.clip(0.18 * gap, 0.03, 0.06))
    for side, seed in ((-1, 21), (1, 22)):
        top, bend, bottom = at(centre, side * (x + 0.025), -0.2), at(centre, side * (x + 0.005), -0.05), \
            at(centre, side * x, 0.07)
        curves.append(_line("glabella", np.array([top, bend, bottom] if side < 0 else [bottom, bend, top]), seed))
    # nose: short creases across the root (27 to 28), bent down at their ends, and oblique
    # lines down each side of the bridge towards the inner cheek
    root, below = lm[27], lm[28]
    for k, f in enumerate((0.35, 0.7)):
        c = root + f * (below - root)
        w = 0.07 + 0.015 * k
        curves.append(_line("nose", np.array([at(c, -w, 0.03), at(c, 0.0, -0.015), at(c, w, 0.03)]), 31 + k))
    for side, seed in ((-1, 41), (1, 43)):
        for k, f in enumerate((0.8, 1.3)):
            c = root + f * (below - root)
            pts = [at(c, side * 0.07, -0.01), at(c, side * 0.12, 0.03), at(c, side * 0.17, 0.08)]
            curves.append(_line("nose", np.array(pts if side > 0 else pts[::-1]), seed + k))
    # nasolabial: from above the nose wing, out round the cheek, to beside the mouth corner;
    # deepest in its upper third, where the raised upper lip bunches the skin
    for side, wing, corner, seed in ((-1, lm[31], lm[48], 51), (1, lm[35], lm[54], 52)):
        top = at(wing, side * 0.04, -0.09)
        knee = at(wing, side * 0.13, 0.08)
        end = at(corner, side * 0.09, -0.03)
        line = _line("nasolabial", np.array([top, knee, end]), seed)
        t = np.linspace(0.0, 1.0, len(line.weight))
        weight = line.weight * (1.2 - 0.7 * t)
        pts, weight = (line.points, weight) if side < 0 else (line.points[::-1], weight[::-1])
        curves.append(Curve("nasolabial", pts, weight))
    return curves


#: The most tile pixels :func:`_nearest` measures in one stack (segments x tile height x width).
TILE_BUDGET = 1 << 20


def _nearest(box: tuple[int, int, int, int], pts: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Over the pixels of ``box`` (x0, y0, x1, y1): the signed distance (px; positive on the
    side where the cross product of the drawing direction and the offset is positive: below a
    line drawn left to right, image y down) to polyline ``pts`` and the parameter (0..K-1) of
    its nearest point, for the pixels within ``margin`` px of it (elsewhere inf and 0, or the
    distance to a segment farther than ``margin``).

    Each segment is measured over a tile around it: its own box grown by ``margin`` (a pixel
    within ``margin`` of the polyline lies in the box of its nearest segment), every tile of
    the largest such size, so that the segments are measured in a few array operations. The
    first segment at the least distance wins, as an argmin over all of them would pick it."""
    x0, y0, x1, y1 = box
    best = np.full((y1 - y0, x1 - x0), np.inf)
    seg = np.full(best.shape, -1, np.int64)
    a, ab = pts[:-1], pts[1:] - pts[:-1]
    lo = np.maximum(np.floor(np.minimum(pts[:-1], pts[1:]) - margin).astype(np.int64), (x0, y0))
    hi = np.minimum(np.ceil(np.maximum(pts[:-1], pts[1:]) + margin).astype(np.int64) + 1, (x1, y1))
    used = np.flatnonzero((hi > lo).all(1))
    where = np.zeros(best.shape)
    if not used.size:
        return best, where
    tw, th = (hi[used] - lo[used]).max(0)
    # tiles shifted back inside ``box`` where they would cross its far edge (each still holds
    # its segment's own box)
    ox, oy = np.minimum(lo[:, 0], x1 - tw), np.minimum(lo[:, 1], y1 - th)
    l2 = np.maximum(ab[:, 0] * ab[:, 0] + ab[:, 1] * ab[:, 1], 1e-12)
    per = max(1, TILE_BUDGET // int(tw * th))
    for c0 in range(0, used.size, per):
        js = used[c0:c0 + per]
        gx = (ox[js, None] + np.arange(tw)).astype(np.float64)[:, None, :]
        gy = (oy[js, None] + np.arange(th)).astype(np.float64)[:, :, None]
        ax, ay, bx, by, l2j = (v[js, None, None] for v in (a[:, 0], a[:, 1], ab[:, 0], ab[:, 1], l2))
        t = np.clip(((gx - ax) * bx + (gy - ay) * by) / l2j, 0.0, 1.0)
        dx, dy = gx - (ax + t * bx), gy - (ay + t * by)
        d2 = dx * dx + dy * dy
        for k, j in enumerate(js):  # in drawing order: the first at the least distance wins
            sub = np.s_[oy[j] - y0:oy[j] - y0 + th, ox[j] - x0:ox[j] - x0 + tw]
            nearer = d2[k] < best[sub]
            np.copyto(best[sub], d2[k], where=nearer)
            np.copyto(seg[sub], j, where=nearer)
    # the nearest segment's parameter and side at each pixel, as measured above
    found = seg >= 0
    j = seg[found]
    py, px = np.nonzero(found)
    rx, ry = (px + x0).astype(np.float64) - a[j, 0], (py + y0).astype(np.float64) - a[j, 1]
    where[found] = j + np.clip((rx * ab[j, 0] + ry * ab[j, 1]) / l2[j], 0.0, 1.0)
    cross = np.zeros(best.shape)
    cross[found] = ab[j, 0] * ry - ab[j, 1] * rx
    return np.sqrt(best) * np.where(cross > 0, 1.0, -1.0), where


def profile(d: np.ndarray, p: dict[str, float], sharp: float, lit: np.ndarray | float = 0.0,
            tuning: FoldsTuning | None = None) -> np.ndarray:
    """A fold's log-ratio across it at signed distances ``d`` (eye distances from the fold),
    for its parameters ``p`` (:data:`PARAMS`) at depth 1 x ``p['depth']``: a valley whose sharp
    side falls off over ``sharp`` and whose soft side over ``p['soft']``, and a shoulder on the
    side the light comes from. ``lit`` (-1..1, per point or one for all): the image direction
    toward the light along the fold's positive side; the shoulder (the skin rising out of the
    crease, turned to the light) lies on that side just beyond the valley's edge (two of that
    side's widths from its floor, and ``p['light_at']`` less the soft width further),
    ``p['light']`` x ``|lit|`` high, at most ``shoulder`` of the valley's depth; none on the
    side away from the light, none under a light along the fold (the valley no deeper than
    ``min_ratio``; ``tuning``'s, default its defaults)."""
    tn = tuning if tuning is not None else FoldsTuning()
    soft_side = -np.sign(p["sharp_side"]) or 1.0
    s = d * soft_side  # > 0 on the soft side
    soft = max(p["soft"], sharp)
    groove = np.exp(-0.5 * (s / np.where(s > 0, soft, sharp)) ** 2)
    valley = np.log(np.maximum(1.0 - p["depth"] * groove, tn.min_ratio))
    lit = np.broadcast_to(np.asarray(lit, np.float64), np.shape(d))
    toward = np.where(lit >= 0, 1.0, -1.0)
    t = d * toward  # > 0 on the lit side
    side = np.where(toward * soft_side > 0, soft, sharp)  # the valley's width on the lit side
    width = max(p["light_width"], sharp)
    height = min(max(p["light"], 0.0), tn.shoulder * p["depth"]) * np.minimum(np.abs(lit), 1.0)
    # beyond the valley's edge on the lit side (two of that side's widths from its floor) by
    # what ``light_at`` reaches past the soft side's width; rising as the valley ends (0 at its floor)
    at = 2.0 * side + p["light_at"] - soft
    rise = 1.0 - np.exp(-0.5 * (t / side) ** 2)
    shoulder = np.where(t > 0, rise * np.exp(-0.5 * ((t - at) / width) ** 2), 0.0)
    return valley + np.log1p(height * shoulder)


def reach_of(p: dict[str, float], sharp: float, tuning: FoldsTuning | None = None) -> float:
    """How far across its line (eye distances either side) a fold of parameters ``p`` is drawn:
    ``reach`` (``tuning``'s, default its defaults), or 2.5 shoulder widths past its shoulder's centre (:func:`profile`, the
    valley's soft side towards the light) where that lies further."""
    soft = max(p["soft"], sharp)
    at = 2.0 * soft + p["light_at"] - soft
    return max((tuning if tuning is not None else FoldsTuning()).reach, at + 2.5 * max(p["light_width"], sharp))


def fade(d: np.ndarray, reach: float, tuning: FoldsTuning | None = None) -> np.ndarray:
    """1 within ``1 - reach_fade`` of ``reach`` (eye distances), falling smoothly to 0 at it."""
    share = (tuning if tuning is not None else FoldsTuning()).reach_fade
    t = np.clip((reach - np.abs(d)) / (share * reach), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def fold_ratio(shape: tuple[int, ...], lm: np.ndarray, amounts: dict[str, float],
               params: dict[str, dict[str, float]], light: np.ndarray | None = None,
               tuning: FoldsTuning | None = None, code: np.ndarray | None = None,
               blur_px: float = 1.0, excess: np.ndarray | None = None, spread: float = 1.0,
               pixels: np.ndarray | None = None,
               hair: tuple[tuple[int, int, int, int], np.ndarray] | None = None, knit: float = 1.0
               ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The luma ratio the folds make on a face at landmarks ``lm`` in an image of ``shape``:
    (roi (x0, y0, x1, y1), ratio over it), or None where no fold is drawn. ``amounts``: per kind
    how much of it (1 = its fitted depth); ``params``: per kind its :data:`PARAMS`; ``light``:
    the image direction toward the light ((2,), :func:`faceedit.stage.shading.light_direction`;
    None: from straight above), each fold's shoulder on its side (:func:`profile`); ``tuning``:
    :class:`~faceedit.stage.tuning_folds.FoldsTuning` (default its defaults). The glabellar lines
    are creases in the light (:func:`faceedit.stage.creases.crease_log_ratio`, as uneven as the
    face's ``code``, :func:`~faceedit.stage.creases.face_code`; blurred by the photo's
    ``blur_px``; the skin between them brought down by the photo's ``excess`` there,
    :func:`~faceedit.stage.creases.strip_excess`), shorter where the forehead's lines are drawn with them (AU1+4).
    The forehead's lines with the inner brows raised alone (``spread`` 0; knit, sad's, or not, ``knit``) are creases too
    (:func:`faceedit.stage.forehead_creases.forehead_log_ratio`, none where the photo ``pixels``
    shows hair over them, :func:`~faceedit.stage.forehead_creases.forehead_hair`); with the whole brows raised (``spread`` 1,
    surprise's) the fitted lines across it; between, each by its share (:func:`faceedit.stage.forehead_creases.across_share`).
    ``hair``: (its box, its matte 0..1 over the glabella, :func:`glabella_hair`): no glabellar line on it."""
    tn = tuning if tuning is not None else FoldsTuning()
    toward = np.array([0.0, -1.0]) if light is None else np.asarray(light, np.float64)
    toward = toward / max(float(np.linalg.norm(toward)), 1e-9)
    made = []
    if amounts.get("glabella", 0.0) > 0 and "glabella" in params:
        made.append(crease_log_ratio(shape, lm, amounts["glabella"], face_code(None) if code is None else code, toward,
                                     blur_px, min(amounts.get("forehead", 0.0), 1.0), tn, excess, hair))
    across = across_share(spread, tn)
    if amounts.get("forehead", 0.0) > 0 and "forehead" in params and across < 1.0:
        made.append(forehead_log_ratio(shape, lm, amounts["forehead"] * (1.0 - across), spread, code, toward,
                                       blur_px, tn, pixels=pixels, knit=knit))
    made_creases = [m for m in made if m is not None]
    amounts = {**amounts, "forehead": amounts.get("forehead", 0.0) * across}
    curves = [c for c in fold_curves(lm) if amounts.get(c.kind, 0.0) > 0 and c.kind in params and c.kind != "glabella"]
    if not curves and not made_creases:
        return None
    ed = face_frame(lm)[2]
    sharp = max(tn.sharp, tn.sharp_px / ed)
    h, w = shape[:2]
    x0, y0, x1, y1 = w, h, 0, 0
    for (c0, r0, c1, r1), _ in made_creases:
        x0, y0, x1, y1 = min(x0, c0), min(y0, r0), max(x1, c1), max(y1, r1)
    if curves:
        reach = max(reach_of(params[c.kind], sharp, tn) + abs(params[c.kind]["offset"]) for c in curves) * ed
        allp = np.concatenate([c.points for c in curves])
        x0, y0 = (min(int(max(v, 0)), o) for v, o in zip(np.floor(allp.min(0) - reach), (x0, y0)))
        x1 = max(int(min(np.ceil(allp[:, 0].max() + reach) + 1, w)), x1)
        y1 = max(int(min(np.ceil(allp[:, 1].max() + reach) + 1, h)), y1)
    if x1 <= x0 or y1 <= y0:
        return None
    log_ratio = np.zeros((y1 - y0, x1 - x0), np.float64)
    for (c0, r0, c1, r1), lr in made_creases:
        log_ratio[r0 - y0:r1 - y0, c0 - x0:c1 - x0] += lr
    for c in curves:
        p = {**params[c.kind], "sharp_side": 1.0} if c.kind in tn.soft_medial else params[c.kind]
        edge = max(sharp, tn.sharp_kind.get(c.kind, 0.0))
        own = reach_of(p, edge, tn)
        lo = np.floor(c.points.min(0) - (own + abs(p["offset"])) * ed).astype(int)
        hi = np.ceil(c.points.max(0) + (own + abs(p["offset"])) * ed).astype(int) + 1
        bx0, by0 = max(lo[0], x0), max(lo[1], y0)
        bx1, by1 = min(hi[0], x1), min(hi[1], y1)
        if bx1 <= bx0 or by1 <= by0:
            continue
        dist, t = _nearest((bx0, by0, bx1, by1), c.points, (own + abs(p["offset"])) * ed + 2.0)
        d = dist / ed - p["offset"]
        inside = np.abs(d) < own
        knots = np.arange(len(c.weight))
        along = np.interp(t[inside], knots, c.weight)
        # the light along the fold's positive side (the tangent turned a quarter towards it)
        tangent = np.gradient(c.points, axis=0)
        tx, ty = (np.interp(t[inside], knots, tangent[:, i]) for i in (0, 1))
        lit = (-ty * toward[0] + tx * toward[1]) / np.maximum(np.hypot(tx, ty), 1e-9)
        log_ratio[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0][inside] += \
            profile(d[inside], p, edge, lit, tn) * fade(d[inside], own, tn) * along * amounts[c.kind]
    return (x0, y0, x1, y1), np.exp(log_ratio)


def glabella_hair(pixels: np.ndarray, lm: np.ndarray, tuning: FoldsTuning | None = None
                  ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The hair over the glabella of a face at ``lm`` in ``pixels``: (the box,
    :func:`~faceedit.stage.creases.glabella_box`; its matte 0..1 over it,
    :func:`~faceedit.stage.forehead_creases.forehead_hair`, kept where it hangs in from the
    box's top: a fringe, not the brows' own hair reaching its sides), None where the box is empty."""
    box = glabella_box(lm, pixels.shape)
    if box is None:
        return None
    matte = forehead_hair(pixels, lm, box, tuning)
    count, labels = cv2.connectedComponents((matte > 0).astype(np.uint8), connectivity=8)
    top = np.unique(labels[0])
    return box, matte * np.isin(labels, top[top > 0])


def paint_folds(pixels: np.ndarray, lm: np.ndarray, amounts: dict[str, float],
                params: dict[str, dict[str, float]], keep_out: tuple | None = None, *,
                in_place: bool = False, tuning: FoldsTuning | None = None,
                code: np.ndarray | None = None, spread: float = 1.0, knit: float = 1.0) -> np.ndarray:
    """``pixels`` with the folds of ``amounts`` (per kind, 1 = its fitted depth) drawn on the
    face at landmarks ``lm`` as a luma ratio (R, G and B by its powers: the skin's own colour
    and texture under it), each fold's shoulder on the side the photo's light comes from
    (:func:`faceedit.stage.shading.light_direction` of ``pixels``), not where ``keep_out``
    ((roi, mask 0..1): the mouth drawn at the photo's resolution) says. No fold asked for:
    ``pixels`` themselves; else a new array, or ``pixels`` written over with ``in_place`` (a
    buffer the caller owns). ``code``: the face's own unevenness of its glabellar lines
    (:func:`faceedit.stage.creases.face_code`; None: even), blurred as the photo is
    (:func:`faceedit.stage.creases.photo_blur`); the forehead's lines across it as far as
    ``spread`` says (:func:`faceedit.stage.forehead_creases.forehead_spread`; sad's bow as far as
    ``knit``, :func:`~faceedit.stage.forehead_creases.forehead_knit`), none on the hair
    (:func:`faceedit.stage.forehead_creases.forehead_hair`)."""
    if not any(v > 0 for v in amounts.values()):
        return pixels
    glabella = amounts.get("glabella", 0.0) > 0
    forehead = amounts.get("forehead", 0.0) > 0 and "forehead" in params and across_share(spread, tuning) < 1.0
    blur = photo_blur(pixels, lm) if glabella or forehead else 1.0
    sad = min(amounts.get("forehead", 0.0), 1.0)
    hair = glabella_hair(pixels, lm, tuning) if glabella else None
    excess = strip_excess(pixels, lm, code, sad, tuning, hair) if glabella else None
    made = fold_ratio(pixels.shape, lm, amounts, params, light_direction(pixels, lm), tuning, code, blur, excess,
                      spread, pixels, hair, knit)
    if made is None:
        return pixels
    (x0, y0, x1, y1), ratio = made
    if keep_out is not None:
        (k0, l0, k1, l1), mask = keep_out
        a0, b0, a1, b1 = max(x0, k0), max(y0, l0), min(x1, k1), min(y1, l1)
        if a1 > a0 and b1 > b0:
            keep = np.clip(mask[b0 - l0:b1 - l0, a0 - k0:a1 - k0], 0.0, 1.0)
            sub = ratio[b0 - y0:b1 - y0, a0 - x0:a1 - x0]
            ratio[b0 - y0:b1 - y0, a0 - x0:a1 - x0] = 1.0 + (sub - 1.0) * (1.0 - keep)
    return shade_box(pixels, (x0, y0, x1, y1), np.log(ratio), in_place=in_place, tuning=tuning)


def fold_removal(stats: FoldStats, before: np.ndarray, after: np.ndarray,
                 tuning: FoldsTuning | None = None) -> dict[str, float]:
    """How much of the lines a face shows an edit takes away, per kind of ``smooth_reach``
    (0..1): the fall of its AUs between the move's landmarks ``before`` -> ``after`` (17 AUs
    each, :data:`AU_IDS` order) from above ``smooth_from_au``, over the fitted level. A
    neutral face's own state reads up to that much (noise), and the lines a face has at rest
    are the person's: an edit of a neutral face takes little or none away."""
    tn = tuning if tuning is not None else FoldsTuning()
    return {k: float(np.clip((au_sum(before, k) - max(au_sum(after, k), tn.smooth_from_au))
                             / max(stats.au_ref.get(k, 1.0), 1e-3), 0.0, 1.0))
            for k in tn.smooth_reach}


def smooth_folds(pixels: np.ndarray, lm: np.ndarray, removal: dict[str, float], *,
                 in_place: bool = False, tuning: FoldsTuning | None = None) -> np.ndarray:
    """``pixels`` with the lines the face at landmarks ``lm`` shows taken away, ``removal`` of
    them per kind (:func:`fold_removal`; the nose's wrinkles too where a frown the photo shows
    is released, :func:`faceedit.stage.appearance.paint_move_folds`): round the kind's curves
    (:func:`fold_curves`, ``smooth_reach`` and ``release_reach``), clear of the brows and eyes, each pixel's log luma loses what of its
    band between ``smooth_fine`` (blurred along the kind's lines) and ``smooth_broad``
    is dark (a crease's shade; the skin's pores, its spots and the face's shading stay), R, G
    and B lifted by powers of the ratio (:func:`shade_powers`). The lines' directions are the
    image's axes: a head tilted far blurs them across a little. None to take away: ``pixels``
    themselves; else a new array, or ``pixels`` written over with ``in_place``."""
    tn = tuning if tuning is not None else FoldsTuning()
    reach = {**tn.smooth_reach, **tn.release_reach}
    kinds = [k for k, v in removal.items() if v > 0 and k in reach]
    if not kinds:
        return pixels
    lm = np.asarray(lm, np.float64)
    ed = face_frame(lm)[2]
    curves = [c for c in fold_curves(lm) if c.kind in kinds]
    pad = max(reach[k] for k in kinds) * ed + 3.0 * tn.smooth_broad * ed
    allp = np.concatenate([c.points for c in curves])
    h, w = pixels.shape[:2]
    x0, y0 = (int(max(v, 0)) for v in np.floor(allp.min(0) - pad))
    x1, y1 = int(min(np.ceil(allp[:, 0].max() + pad) + 1, w)), int(min(np.ceil(allp[:, 1].max() + pad) + 1, h))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return pixels
    origin = np.array([x0, y0], np.float64)
    masks = {k: np.zeros((y1 - y0, x1 - x0), np.float32) for k in kinds}
    for c in curves:
        line = np.zeros_like(masks[c.kind])
        cv2.polylines(line, [np.round(c.points - origin).astype(np.int32)], False, 1.0,
                      thickness=max(1, int(round(2 * reach[c.kind] * ed))), lineType=cv2.LINE_AA)
        np.maximum(masks[c.kind], line * removal[c.kind], out=masks[c.kind])
    clear = np.zeros((y1 - y0, x1 - x0), np.float32)
    for idx in (range(17, 22), range(22, 27)):
        cv2.polylines(clear, [np.round(lm[list(idx)] - origin).astype(np.int32)], False, 1.0,
                      thickness=max(1, int(round(2 * tn.smooth_clear * ed))), lineType=cv2.LINE_AA)
    for idx in (range(36, 42), range(42, 48)):
        eye = np.round(lm[list(idx)] - origin).astype(np.int32)
        cv2.fillPoly(clear, [eye], 1.0, lineType=cv2.LINE_AA)
        cv2.polylines(clear, [eye], True, 1.0, thickness=max(1, int(round(2 * tn.smooth_clear * ed))),
                      lineType=cv2.LINE_AA)
    feather = max(0.5, 0.25 * min(reach.values()) * ed)
    keep = 1.0 - np.clip(cv2.GaussianBlur(clear, (0, 0), feather), 0, 1)
    top = float(np.iinfo(pixels.dtype).max) if np.issubdtype(pixels.dtype, np.integer) else 1.0
    x = pixels[y0:y1, x0:x1, :3].astype(np.float32) / top
    log_l = np.log(np.maximum(x @ np.asarray(LUMA_WEIGHTS, np.float32), 1.0 / 1024))
    broad = cv2.GaussianBlur(log_l, (0, 0), tn.smooth_broad * ed)
    fine, along = max(0.5, tn.smooth_fine * ed), tn.smooth_along * ed
    lift = np.zeros_like(log_l)
    for k, mask in masks.items():
        sx, sy = (fine, along) if k in SMOOTH_VERTICAL else (along, fine)
        band = cv2.GaussianBlur(log_l, (0, 0), sigmaX=sx, sigmaY=sy) - broad
        lift += -np.minimum(band, 0.0) * cv2.GaussianBlur(mask, (0, 0), feather) * keep
    return shade_box(pixels, (x0, y0, x1, y1), lift, in_place=in_place, tuning=tn)


def shade_box(pixels: np.ndarray, box: tuple[int, int, int, int], log_ratio: np.ndarray, *,
              in_place: bool = False, tuning: FoldsTuning | None = None) -> np.ndarray:
    """``pixels`` ((H, W, C), integer levels or floats in [0, 1]) with the box (x0, y0, x1, y1)
    multiplied by a luma ratio, ``exp(log_ratio)`` ((y1 - y0, x1 - x0)), R, G and B by its powers
    (:func:`shade_powers`), clipped to the range; a new array, or ``pixels`` written over with
    ``in_place``. Only the pixels whose ``log_ratio`` is not 0 are computed (the others keep
    their levels: a ratio of 1)."""
    x0, y0, x1, y1 = box
    integer = np.issubdtype(pixels.dtype, np.integer)
    top = float(np.iinfo(pixels.dtype).max) if integer else 1.0
    out = pixels if in_place else pixels.copy()
    block = np.ascontiguousarray(out[y0:y1, x0:x1, :3])
    # one element per pixel (its 3 channels' bytes): gathered and put back by flat index
    texel = np.dtype((np.void, 3 * block.itemsize))
    cells = block.reshape(-1, 3).view(texel).reshape(-1)
    at = np.flatnonzero(np.asarray(log_ratio) != 0)
    x = cells.take(at).view(pixels.dtype).reshape(-1, 3).astype(np.float64)
    x = np.clip(x * np.exp(np.asarray(log_ratio).reshape(-1).take(at)[:, None] * shade_powers(x, tuning)), 0.0, top)
    x = np.round(x).astype(pixels.dtype) if integer else x.astype(pixels.dtype)
    np.put(cells, at, np.ascontiguousarray(x).view(texel).reshape(-1))
    out[y0:y1, x0:x1, :3] = block
    return out


@dataclass(frozen=True)
class FoldStats:
    """The fitted fold statistics: per kind its :data:`PARAMS`, the AU level they were fitted
    at (``au_ref``, the sum of :data:`KIND_AUS`) and per target how deep it makes each kind
    (``levels``, in units of the fitted depth)."""

    params: dict[str, dict[str, float]]
    au_ref: dict[str, float]
    levels: dict[str, dict[str, float]]

    def save(self, path: str | Path, metadata: dict[str, str]) -> None:
        from safetensors.numpy import save_file

        targets = sorted(self.levels)
        tensors = {
            "params": np.array([[self.params[k][p] for p in PARAMS] for k in KINDS], np.float32),
            "au_ref": np.array([self.au_ref[k] for k in KINDS], np.float32),
            "levels": np.array([[self.levels[t].get(k, 0.0) for k in KINDS] for t in targets], np.float32),
        }
        save_file(tensors, str(path), {**metadata, "kinds": ",".join(KINDS), "params": ",".join(PARAMS),
                                       "targets": ",".join(targets)})

    @classmethod
    def load(cls, path: str | Path | None = None) -> FoldStats:
        """Read a file written by :meth:`save` (default: the shipped :data:`FOLDS_FILE`)."""
        from safetensors import safe_open

        from faceedit.weights import shipped_file

        path = Path(path) if path is not None else shipped_file("folds")
        if not path.is_file():
            raise FileNotFoundError(f"fold statistics not found: {path}")
        with safe_open(str(path), "np") as f:
            meta = f.metadata() or {}
            t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
        kinds, names = meta["kinds"].split(","), meta["params"].split(",")
        targets = [s for s in meta.get("targets", "").split(",") if s]
        params = {k: {p: float(t["params"][i, j]) for j, p in enumerate(names)} for i, k in enumerate(kinds)}
        au_ref = {k: float(t["au_ref"][i]) for i, k in enumerate(kinds)}
        levels = {tg: {k: float(t["levels"][r, i]) for i, k in enumerate(kinds)} for r, tg in enumerate(targets)}
        return cls(params, au_ref, levels)


_STATS: list[FoldStats | None] = []
_STATS_LOCK = threading.Lock()


def shipped_stats() -> FoldStats | None:
    """The shipped fold statistics, read once; None where the file is not installed (no folds
    are drawn; logged once)."""
    with _STATS_LOCK:
        if not _STATS:
            try:
                _STATS.append(FoldStats.load())
            except FileNotFoundError as e:
                from faceedit.log import logger

                logger.warning("%s: expressions are drawn without their folds", e)
                _STATS.append(None)
        return _STATS[0]


def au_sum(aus: np.ndarray, kind: str) -> float:
    """The sum of ``kind``'s AUs (:data:`KIND_AUS`) in an AU vector (:data:`AU_IDS` order); NaN as 0."""
    return float(sum(np.nan_to_num(aus[AU_IDS.index(a)]) for a in KIND_AUS[kind]))


def fold_amounts(stats: FoldStats, before: np.ndarray, after: np.ndarray, heads_for: str | None,
                 progress: float, tuning: FoldsTuning | None = None) -> dict[str, float]:
    """How much of each kind of fold an edit draws (1 = its fitted depth): the AUs of the move's
    landmarks ``before`` -> ``after`` (17 AUs each, :data:`AU_IDS` order) for the kinds the
    landmarks show (their AUs' rises, each's own, over the fitted level), and for AU9's and AU10's the level
    (its FACS prototype's) of the target the move heads for (``heads_for``) times the ``progress`` made towards it.
    Folds the face already shows are not drawn again; none are taken away."""
    out: dict[str, float] = {}
    level = stats.levels.get(heads_for or "", {})
    for kind in KINDS:
        if kind in GEOMETRIC:  # each AU's own rise (fear's inner brows rise as its outer ones fall)
            rise = sum(max(float(np.nan_to_num(after[AU_IDS.index(a)]) - np.nan_to_num(before[AU_IDS.index(a)])), 0.0)
                       for a in KIND_AUS[kind])
            v = rise / max(stats.au_ref.get(kind, 1.0), 1e-3)
        else:
            v = level.get(kind, 0.0) * progress
        out[kind] = float(np.clip(v, 0.0, (tuning if tuning is not None else FoldsTuning()).max_amount))
    return out
