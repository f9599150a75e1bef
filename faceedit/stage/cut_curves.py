"""The cuts of :mod:`faceedit.stage.cutwarp` and their geometry: the curves a cut's two sides
run along (centripetal Catmull-Rom through landmark chains, or given curves that follow them),
the polygons between them, their exact pixel coverage, and the side and zone weights that say
which side's field a point takes.

Coordinates: x right, y down, pixel centres at integers (as :mod:`faceedit.stage.warp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceedit.faces.landmarks import CHIN, eye_centres
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import polygon_distance

#: Curve samples per Catmull-Rom segment (the mouth's curves: 4 segments, 33 points).
SAMPLES_PER_SEGMENT = 8
#: The sharpest turn (degrees, from one sample to the next of curves sampled as the 68-point
#: ones, the 3 samples nearest each corner left out) of a found inner-lip curve that is still
#: the lips' edge. On the 36 held-out London HD photos (neutral and smiling) the face mesh's
#: curves turn at most 37 degrees there; on one smile (114) the loop folds into a V across the
#: teeth, 100 and 91 degrees.
MAX_LIP_TURN = 60.0


@dataclass(frozen=True)
class Cut:
    """A cut: landmark chains of its upper and lower side, corner to corner (both chains start
    at the same corner and end at the same corner)."""

    name: str
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    #: "upper": the interior moves with the upper side (teeth with the upper jaw); "face": it
    #: stays with the face (an eyeball behind the lids).
    interior: str = "upper"
    #: Driving points that belong to one side only (the outer lips): the other side's field
    #: leaves them out. In a closed destination they lie a lip's thickness from the cut but map
    #: across the source opening; a spline through both overshoots there and folds.
    upper_only: tuple[int, ...] = ()
    lower_only: tuple[int, ...] = ()


MOUTH = Cut("mouth", (60, 61, 62, 63, 64), (60, 67, 66, 65, 64), "upper",
            upper_only=(49, 50, 51, 52, 53), lower_only=(55, 56, 57, 58, 59))
LEFT_EYE = Cut("left_eye", (36, 37, 38, 39), (36, 41, 40, 39), "face")
RIGHT_EYE = Cut("right_eye", (42, 43, 44, 45), (42, 47, 46, 45), "face")




def catmull_rom(points: np.ndarray, per_segment: int = SAMPLES_PER_SEGMENT) -> np.ndarray:
    """Centripetal Catmull-Rom curve through ``points`` (K, 2): (K-1) * per_segment + 1 points,
    the first and last exactly the end points; the same parameters on every call, so curves
    through corresponding points correspond sample by sample. The end tangents come from
    mirrored phantom points."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    pad = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    k = len(p) - 1  # segments, all at once: (k, 1, 2) points, (k, 1, 1) knots
    p0, p1, p2, p3 = (pad[j:j + k, None, :] for j in range(4))
    s = np.arange(per_segment, dtype=np.float64)[None, :, None] / per_segment

    # knot intervals |dp|^0.5 (centripetal), kept positive for coincident points
    gaps = np.array([max(float(np.linalg.norm(pad[j + 1] - pad[j])) ** 0.5, 1e-6) for j in range(len(pad) - 1)])
    d01, d12, d23 = (gaps[j:j + k, None, None] for j in range(3))
    t0, t1 = 0.0, d01
    t2, t3 = t1 + d12, t1 + d12 + d23
    t = t1 + s * (t2 - t1)
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    out = ((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)
    return np.vstack([out.reshape(-1, 2), p[-1:]])


def cut_curves(lm: np.ndarray, cut: Cut = MOUTH) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower curves of ``cut`` for landmarks ``lm`` (68, 2), corner to corner."""
    lm = np.asarray(lm, np.float64)
    return catmull_rom(lm[list(cut.upper)]), catmull_rom(lm[list(cut.lower)])


def lip_curves(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(33, 2) upper and lower inner-lip curves, corner 60 to corner 64 (Catmull-Rom through
    60,61,62,63,64 and 60,67,66,65,64)."""
    return cut_curves(lm, MOUTH)


def arc_fractions(curve: np.ndarray) -> np.ndarray:
    """Arc length from the first point to each point of a polyline, over its whole length."""
    t = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    return t / t[-1] if t[-1] > 0 else np.linspace(0.0, 1.0, len(curve))


def resample_by_length(curve: np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Points along the polyline ``curve`` (its ends kept): ``n`` evenly spaced, or at the arc
    length fractions ``n`` (an array in [0, 1])."""
    c = np.asarray(curve, np.float64).reshape(-1, 2)
    u = np.linspace(0.0, 1.0, n) if np.ndim(n) == 0 else np.asarray(n, np.float64)
    t = arc_fractions(c)
    return np.stack([np.interp(u, t, c[:, 0]), np.interp(u, t, c[:, 1])], 1)


def given_curves(upper: np.ndarray, lower: np.ndarray, ref_upper: np.ndarray,
                 ref_lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Caller-given source curves (e.g. a face mesh's inner-lip loop) made ready to stand in
    for the reference ones through the 68 points: oriented like the reference (first corner
    first), the shared corners joined (their mean), and sampled at the reference samples' arc
    length fractions (so the reference curves themselves come back unchanged)."""
    up = np.asarray(upper, np.float64).reshape(-1, 2)
    low = np.asarray(lower, np.float64).reshape(-1, 2)
    if np.linalg.norm(up[0] - ref_upper[0]) > np.linalg.norm(up[-1] - ref_upper[0]):
        up, low = up[::-1], low[::-1]
    a, b = (up[0] + low[0]) / 2, (up[-1] + low[-1]) / 2
    up = resample_by_length(np.vstack([a, up[1:-1], b]), arc_fractions(np.asarray(ref_upper, np.float64)))
    low = resample_by_length(np.vstack([a, low[1:-1], b]), arc_fractions(np.asarray(ref_lower, np.float64)))
    return up, low


def sharpest_turn(curve: np.ndarray, skip: int = 3) -> float:
    """The largest turn (degrees) between consecutive segments of the polyline ``curve``, the
    ``skip`` samples nearest each end left out (a lip curve bends most at its corners)."""
    d = np.diff(np.asarray(curve, np.float64), axis=0)
    a = np.arctan2(d[:, 1], d[:, 0])
    turn = np.degrees(np.abs((np.diff(a) + np.pi) % (2 * np.pi) - np.pi))[skip - 1:len(d) - skip]
    return float(turn.max()) if len(turn) else 0.0


def follow_curves(upper: np.ndarray, lower: np.ndarray, ref_upper: np.ndarray, ref_lower: np.ndarray,
                  moved_upper: np.ndarray, moved_lower: np.ndarray,
                  follows: tuple[float, float] = WarpTuning.opening_follows,
                  plan: tuple[float, float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where curves ``upper``/``lower`` go when the reference curves (sample by sample the same
    parameters) move to ``moved_upper``/``moved_lower``.

    Where the reference gap closes (or stays), each sample keeps its place between the reference
    lips, so lips that meet in the move meet here too; a sample beyond a lip keeps its distance
    beyond it. Where the gap grows (by ``follows``' first growth, wholly from its second;
    :attr:`~faceedit.stage.tuning_face.WarpTuning.opening_follows`), and across a closed
    gap (under 4 px), each sample moves with its own reference lip, keeping its offset from it
    in pixels. Keeping shares of a growing gap would scale the few pixels between a face mesh's
    loop and the 68 points with the opening: a closed smile opened in surprise would grow fangs
    where the gap is thin, a dip of the found upper lip edge would become a notch in the teeth,
    and a smile's curved lower lip edge a laugh's deep U.

    ``plan`` (kept, reach, amount): the curves keep only ``kept`` of their offsets from the
    moved reference curves (as above), and that share fades to none at the corners over
    ``reach`` of the curves' arc from each: the curves come onto the moved reference curves,
    their corners onto its corners; ``amount`` of the way (0: as without a plan). (A laugh's teeth found by colour reach past its 68-point corners and lie
    inside its 68-point lips; kept in pixels, those offsets drew a laugh made surprised as a
    crescent, lower and shorter than planned, with long points to the old corners.)"""
    out = []
    gap, moved_gap = ref_upper - ref_lower, moved_upper - moved_lower
    g2 = (gap * gap).sum(1, keepdims=True)
    ratio = np.sqrt((moved_gap * moved_gap).sum(1, keepdims=True) / np.maximum(g2, 1e-12))
    beta = _smoothstep(np.sqrt(g2), 1.0, 4.0) * (1.0 - _smoothstep(ratio, *follows))
    keep = np.minimum(1.0, 1.0 / np.maximum(ratio, 1e-12))
    for p, ref, moved in ((upper, ref_upper, moved_upper), (lower, ref_lower, moved_lower)):
        rel = p - ref_lower
        t = (rel * gap).sum(1, keepdims=True) / np.maximum(g2, 1e-12)
        inner = np.clip(t, 0.0, 1.0)
        across = moved_lower + (inner + (t - inner) * keep) * moved_gap + (rel - t * gap)
        q = beta * across + (1 - beta) * (p + moved - ref)
        if plan is not None:
            u = arc_fractions(ref)
            kept = plan[0] * _smoothstep(np.minimum(u, 1.0 - u), 0.0, plan[1])[:, None]
            q = q - plan[2] * (1.0 - kept) * (q - moved)
        out.append(q)
    return out[0], out[1]


def corner_wedges(upper: np.ndarray, lower: np.ndarray, lm: np.ndarray, reach: tuple[float, float, float],
                  rim: tuple[float, float] = (0.0, 0.0)) -> list[np.ndarray]:
    """Two polygons (source photo), one at each corner of a mouth's cut (``upper``, ``lower``,
    corner to corner, 60's first): ``reach[0]`` of the cut's largest gap tall at the corner
    (across the chord), narrowing to a point along its ray (:func:`corner_rays`) ``reach[1]`` of
    the way to the outer corner (48, 54 of ``lm``) or ``reach[2]`` of the corner-to-corner width
    out, the longer; above the upper curve, a rim ``rim[0]`` of that width deep at the corner,
    none from ``rim[1]`` of its arc. A laugh's dark corners beyond its teeth (what an interior
    found from colour leaves out) and its dark corridor's top just above a found upper curve lie
    there; kept, they are drawn as dark lines out of a reshaped opening's corners."""
    lm = np.asarray(lm, np.float64)
    chord = upper[-1] - upper[0]
    width = float(np.linalg.norm(chord))
    across = np.array([chord[1], -chord[0]]) / max(width, 1e-9)  # towards the upper lip (y down)
    half = 0.5 * reach[0] * float(np.linalg.norm(upper - lower, axis=1).max())
    u = arc_fractions(upper)
    out = []
    for end, inner, outer, outward in zip((0, -1), (1, -2), (48, 54), corner_rays(upper, lower)):
        corner = upper[end]
        tip = corner + max(reach[1] * float(np.linalg.norm(lm[outer] - corner)), reach[2] * width) * outward
        s = u if end == 0 else 1.0 - u
        along = np.flatnonzero((s > 0) & (s < max(rim[1], s[inner] + 1e-9)))  # the rim, inner first
        along = along[np.argsort(s[along])]
        raised = upper[along] + (rim[0] * width * (1.0 - _smoothstep(s[along], 0.0, max(rim[1], 1e-9))))[:, None] * across
        out.append(np.vstack([upper[along[-1]], raised[::-1], corner + half * across, tip,
                              corner - half * across, lower[inner]]))
    return out


def narrowed_teeth(upper: np.ndarray, carry_lower: np.ndarray, narrowing: float,
                   reach: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The carried upper teeth (between a source mouth's ``upper`` curve and ``carry_lower``,
    corner to corner, sample by sample) narrowed with a mouth whose corner-to-corner width is
    multiplied by ``narrowing``: as tall as found up to ``reach[0]`` of the new opening's half
    width from the middle (in the source, along the upper curve's arc), none from ``reach[1]``.
    The teeth keep their size (they move rigidly): a laugh's row as wide as its old opening
    reached into the new one's corners."""
    half = 0.5 * min(max(narrowing, 1e-6), 1.0)
    d = np.abs(arc_fractions(np.asarray(upper, np.float64)) - 0.5) / half
    share = 1.0 - _smoothstep(d, reach[0], reach[1])
    return upper, upper + share[:, None] * (carry_lower - upper)


def _gaps(upper: np.ndarray, lower: np.ndarray, aspect_range: tuple[float, float]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float] | None:
    """A mouth opening between ``upper`` and ``lower`` (corner to corner): its midline, half
    gaps (upper less the midline) and their lengths, its corner-to-corner width, and how tall it
    is for that width, 0 up to ``aspect_range``'s first height over width, 1 from its second;
    None where it is closed or has no width."""
    mid = (upper + lower) / 2
    half = (upper - lower) / 2
    h = np.linalg.norm(half, axis=1)
    width = float(np.linalg.norm(upper[-1] - upper[0]))
    if width < 1e-6 or h.max() <= 0:
        return None
    lo, hi = aspect_range
    return mid, half, h, width, float(np.clip((2 * h.max() / width - lo) / (hi - lo), 0.0, 1.0))


def round_opening(upper: np.ndarray, lower: np.ndarray, src_upper: np.ndarray | None = None,
                  src_lower: np.ndarray | None = None,
                  aspect_range: tuple[float, float] = WarpTuning.round_aspect) -> tuple[np.ndarray, np.ndarray]:
    """Destination mouth curves whose new opening, where it is tall, ends in rounded corners:
    the curves through a handful of landmarks meet at the corners in a straight-sided wedge (a
    surprised mouth drawn as a hexagon). The gap between them, measured across the mouth, is
    raised towards an ellipse's through the same corners and the same largest gap, by as much
    as the opening is tall for its width (from ``aspect_range``'s first height over width,
    wholly from its second, :attr:`~faceedit.stage.tuning_face.WarpTuning.round_aspect`: a smile's crescent keeps its
    pointed corners, a surprised mouth is an oval), and by as much as the source curves
    (``src_upper``, ``src_lower``) were closed: a mouth the photo shows open keeps its own
    shape. The corners themselves stay where they are."""
    gaps = _gaps(upper, lower, aspect_range)
    if gaps is None:
        return upper, lower
    mid, half, h, width, amount = gaps
    lo = aspect_range[0]
    if src_upper is not None and src_lower is not None:
        src_w = float(np.linalg.norm(src_upper[-1] - src_upper[0]))
        src_aspect = float(np.linalg.norm(src_upper - src_lower, axis=1).max()) / max(src_w, 1e-6)
        amount *= float(np.clip(1.0 - src_aspect / lo, 0.0, 1.0))
    if amount <= 0:
        return upper, lower
    u = arc_fractions(mid)
    ellipse = h.max() * np.sqrt(np.clip(1 - (2 * u - 1) ** 2, 0.0, 1.0))
    want = np.maximum(h, h + amount * (ellipse - h))
    d = (upper[-1] - upper[0]) / width
    n = np.array([d[1], -d[0]])  # across the mouth, towards the upper lip
    if float((half * n).sum()) < 0:
        n = -n
    extra = (want - h)[:, None] * n
    return upper + extra, lower - extra


def unsqueezed(points: np.ndarray, src_points: np.ndarray, curve: np.ndarray, src_chord: tuple[np.ndarray, np.ndarray],
               dst_chord: tuple[np.ndarray, np.ndarray], amount: float) -> np.ndarray:
    """``points`` (N, 2), destinations on the polyline ``curve`` of ``src_points``, slid along it
    so that a mouth whose corner-to-corner chord narrows from ``src_chord`` to ``dst_chord``
    (each a pair of corners) keeps its own width in the middle, ``amount`` (0..1) of the way: a
    point's place along the chord (-1 at the first corner, 1 at the last) becomes
    ``tanh(k x) / tanh(k)`` of its source place ``x``, ``k`` such that the slope in the middle is
    the narrowing's inverse (a pixel's width there) and all of the narrowing is taken up towards
    the corners. Spread evenly, the narrowing squeezed a laugh's stretched upper lip sideways
    into a pursed one. A chord that does not narrow leaves ``points`` as they are."""
    (sa, sb), (da, db) = src_chord, dst_chord
    ws, wd = float(np.linalg.norm(sb - sa)), float(np.linalg.norm(db - da))
    p = np.asarray(points, np.float64)
    if amount <= 0 or wd < 1e-6 or ws <= wd:
        return p
    es, ed = (sb - sa) / ws, (db - da) / wd
    nd = np.array([-ed[1], ed[0]])
    ratio = ws / wd
    k = 1.0  # k / tanh(k) = ratio (Newton's method: the left side rises from 1 at k = 0)
    for _ in range(30):
        t = np.tanh(k)
        k = max(k - (k / t - ratio) / ((t - k * (1 - t * t)) / (t * t)), 1e-3)
    x_src = np.clip((np.asarray(src_points, np.float64) - (sa + sb) / 2) @ es / (ws / 2), -1.0, 1.0)
    mid = (da + db) / 2
    x_dst = (p - mid) @ ed / (wd / 2)
    x_new = x_dst + amount * (np.tanh(k * x_src) / np.tanh(k) - x_dst)
    c = np.asarray(curve, np.float64)
    cx, ch = (c - mid) @ ed / (wd / 2), (c - mid) @ nd
    o = np.argsort(cx)
    return mid + (x_new * wd / 2)[:, None] * ed + np.interp(x_new, cx[o], ch[o])[:, None] * nd


def pointed_ends(upper: np.ndarray, lower: np.ndarray,
                 aspect_range: tuple[float, float] = WarpTuning.round_aspect,
                 meet: float = WarpTuning.plan_meet,
                 taper: float = WarpTuning.plan_taper,
                 power: float = WarpTuning.plan_point) -> tuple[np.ndarray, np.ndarray]:
    """Destination mouth curves whose thin opening ends in pointed corners: the lips meet over ``meet`` of the
    arc from each corner, and between, the gap is at most the curves' largest gap times ``taper`` times a
    parabola's through those points (of height 1), up to 1, raised to ``power`` (the lips part along each other
    from where they meet, the middle keeps its own height); each sample brought in toward its place on the
    midline, as far as the opening is thin for its width (wholly below ``aspect_range``'s first height over
    width, none from its second: a tall opening's corners are rounded, :func:`round_opening`). Where the curves
    are nearer than that they stay, and so do the corners. (A laugh's teeth found by colour reach its corners
    with tall blunt ends; kept in a fearful mouth they stood there as horns.)"""
    gaps = _gaps(upper, lower, aspect_range)
    if gaps is None:
        return upper, lower
    mid, half, h, _, tall = gaps
    amount = 1.0 - tall
    if amount <= 0:
        return upper, lower
    u = np.clip((arc_fractions(mid) - meet) / max(1.0 - 2 * meet, 1e-6), 0.0, 1.0)
    lens = h.max() * np.minimum(1.0, taper * 4 * u * (1 - u)) ** power
    want = np.minimum(h, h + amount * (lens - h))
    keep = (want / np.maximum(h, 1e-12))[:, None]
    return mid + keep * half, mid - keep * half


def covered_row_ends(shown: np.ndarray, carried: np.ndarray, box: tuple[int, int, int, int], upper: np.ndarray,
                     share: tuple[float, float] = WarpTuning.plan_covered) -> np.ndarray:
    """``shown`` ((h, w) over ``box``, x0, y0, x1, y1: the carried teeth's coverage of a
    destination opening whose upper curve is ``upper``) shaded out where the lips cover more of
    the row than they do along most of it: in each pixel-wide strip across the chord, the share
    of the teeth carried there (``carried``, the same over ``box``, in the opening or under the
    lips) that shows, over its 90th percentile along the row, through a smoothstep from
    ``share[0]`` to ``share[1]``. (The teeth move rigidly with the upper lip's chord; where the
    lips close toward a corner over a row's end, its last tooth stood below them as a small,
    dim fragment.)"""
    d = _unit(upper[-1] - upper[0])
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1]
    strip = np.floor((xs - upper[0][0]) * d[0] + (ys - upper[0][1]) * d[1]).astype(np.int64)
    strip -= int(strip.min())
    seen = np.bincount(strip.ravel(), weights=shown.ravel().astype(np.float64))
    whole = np.bincount(strip.ravel(), weights=carried.ravel().astype(np.float64))
    ratio = seen / np.maximum(whole, 1e-6)
    rows = whole >= 1.0  # (strips with a pixel's worth of teeth)
    if not rows.any():
        return shown
    keep = _smoothstep(ratio / max(float(np.percentile(ratio[rows], 90)), 1e-6), *share)
    return (shown * keep[strip]).astype(shown.dtype)


def opening_polygon(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """The closed polygon between two curves sharing their end points (upper there, lower back)."""
    return np.vstack([upper, lower[-2:0:-1]])


def polygon_coverage(poly: np.ndarray, box: tuple[int, int, int, int], sub: int = 4) -> np.ndarray:
    """float32 (y1-y0, x1-x0): the area of every pixel of ``box`` (x0, y0, x1, y1) inside the
    closed polygon ``poly`` (even-odd rule), exact along x and on ``sub`` sub-rows along y. A
    polygon of zero area (two coincident curves) covers nothing."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if h <= 0 or w <= 0:
        return np.zeros((max(h, 0), max(w, 0)), np.float32)
    a = np.asarray(poly, np.float64).reshape(-1, 2) - (x0 - 0.5, 0.0)  # x from the box's left edge
    b = np.roll(a, -1, axis=0)
    ys = y0 - 0.5 + (np.arange(h * sub) + 0.5) / sub  # sub-row centres
    ay, by = a[:, 1][None, :], b[:, 1][None, :]
    rows, edges = np.nonzero((ay <= ys[:, None]) != (by <= ys[:, None]))
    if len(rows) == 0:
        return np.zeros((h, w), np.float32)
    xs = a[edges, 0] + (ys[rows] - a[edges, 1]) * (b[edges, 0] - a[edges, 0]) / (b[edges, 1] - a[edges, 1])
    # along each sub-row the coverage is the even-odd count of crossings to the left; a crossing
    # at x adds a unit step there, spread over the pixel it falls in: +(1 - frac) to that pixel
    # and +frac to the next in a difference array, whose running sum (mod 2 after crossings
    # sorted per row: alternate signs) gives the covered fraction of every pixel
    order = np.lexsort((xs, rows))
    rows, xs = rows[order], xs[order]
    first = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(len(rows)) - np.repeat(first, np.diff(np.r_[first, len(rows)]))
    sign = np.where(rank % 2 == 0, 1.0, -1.0)
    xc = np.clip(xs, 0.0, float(w))
    cell = np.minimum(np.floor(xc).astype(np.int64), w)
    frac = xc - cell
    stride = w + 2
    diff = np.bincount(rows * stride + cell, sign * (1.0 - frac), minlength=h * sub * stride)
    diff += np.bincount(rows * stride + cell + 1, sign * frac, minlength=h * sub * stride)
    cov = np.cumsum(diff.reshape(h * sub, stride), axis=1)[:, :w]
    cov = cov.reshape(h, sub, w).mean(1)
    cov[np.abs(cov) < 1e-6] = 0.0  # rounding where an edge runs back along itself
    return np.clip(cov, 0.0, 1.0).astype(np.float32)


def corner_rays(upper: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors out of the first and the last corner of a cut: the outward bisector of the
    two curves' directions there; the cut's own direction where they coincide, or where the
    bisector points back into the mouth (curves found from colour can leave a corner outwards,
    both bending away from the other corner: the bisector of those points inwards, and the
    upper side's polygon then covered the opening's top)."""
    a, b = upper[0], upper[-1]
    out_a = -_unit(_unit(upper[1] - a) + _unit(lower[1] - a))
    out_b = -_unit(_unit(upper[-2] - b) + _unit(lower[-2] - b))
    if not np.all(np.isfinite(out_a)) or np.linalg.norm(out_a) < 0.5 or out_a @ (a - b) < 0:
        out_a = _unit(a - b)
    if not np.all(np.isfinite(out_b)) or np.linalg.norm(out_b) < 0.5 or out_b @ (b - a) < 0:
        out_b = _unit(b - a)
    return out_a, out_b


def side_weight(upper: np.ndarray, lower: np.ndarray, pts: np.ndarray,
                tuning: WarpTuning | None = None) -> np.ndarray:
    """``g`` (..., ) at ``pts`` (..., 2): 0 within ``side_angles[0]`` of the rays out of the
    corners (:func:`corner_rays`), 1 from ``side_angles[1]`` off them (``tuning``'s, default its
    defaults), a smoothstep of the angle at the nearer-in-angle corner."""
    lo, hi = (np.radians(a) for a in (tuning if tuning is not None else WarpTuning()).side_angles)
    shape = np.shape(pts)[:-1]
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    phi = np.full(len(p), np.pi)
    for corner, ray in zip((upper[0], upper[-1]), corner_rays(upper, lower)):
        v = p - corner
        n = np.maximum(np.linalg.norm(v, axis=1), 1e-9)
        phi = np.minimum(phi, np.arccos(np.clip(v @ ray / n, -1.0, 1.0)))
    return _smoothstep(phi, lo, hi).reshape(shape)


def zone_weight(upper: np.ndarray, lower: np.ndarray, pts: np.ndarray,
                signed_distance: np.ndarray | None = None, tuning: WarpTuning | None = None) -> np.ndarray:
    """(..., ) weight of a cut's fields against ``F0`` at ``pts``: 1 up to ``zone[0]`` chord
    lengths from the opening, 0 from ``zone[1]`` (``tuning``'s, default its defaults;
    ``signed_distance``: the points' distances to the opening polygon as ``polygon_distance``
    gives them, if already known)."""
    zone_lo, zone_hi = (tuning if tuning is not None else WarpTuning()).zone
    shape = np.shape(pts)[:-1]
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    chord = max(float(np.linalg.norm(upper[-1] - upper[0])), 1e-6)
    if signed_distance is None:
        # (a zero-area opening's outline runs along the curve and back: the distance to it)
        signed_distance = polygon_distance(opening_polygon(upper, lower), p)
    d = np.maximum(-np.asarray(signed_distance).reshape(-1), 0.0) / chord
    return (1.0 - _smoothstep(d, zone_lo, zone_hi)).reshape(shape)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def upper_side_polygon(upper: np.ndarray, lower: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The region on the upper side of a cut: the upper curve, closed by rays out of the two
    corners along the outward bisector of the curves there, from their ends out along the
    chord and joined far along ``up``."""
    a, b = upper[0], upper[-1]
    reach = 3.0 * max(float(np.linalg.norm(b - a)), 1e-6)
    out_a, out_b = corner_rays(upper, lower)
    far_a, far_b = a + out_a * reach, b + out_b * reach
    # from each ray's end out along the chord, then up, both by more than the mouth spans: a ray
    # pointing down (a closed mouth's corner bent down) otherwise put the polygon's side or
    # top across the upper lip, whose pixels then took the lower side's field
    side = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
    out_a2, out_b2 = far_a - side * reach, far_b + side * reach
    return np.vstack([upper, far_b, out_b2, out_b2 + up * 2 * reach, out_a2 + up * 2 * reach, out_a2, far_a])


def face_up(lm: np.ndarray) -> np.ndarray:
    """Unit vector from the chin towards the eyes (up in the face)."""
    return _unit(eye_centres(lm).mean(0) - lm[CHIN])


def keep_lips_whole(src_lm: np.ndarray, moved: np.ndarray, cut: Cut, src_curves: tuple[np.ndarray, np.ndarray],
                    dst_curves: tuple[np.ndarray, np.ndarray], keep: float, beside: float, most: float = np.inf,
                    rest: float = np.inf) -> np.ndarray:
    """``moved`` (68, 2) with the cut's outer-lip points (``cut.upper_only`` / ``lower_only``)
    kept beyond their side's cut curve: each lip keeps at least ``keep`` of its source thickness, the lower at most ``most``
    (the outer point's distance beyond the curve along the face's up, at the point's place
    across the face) where the curves move onto it; a lower-lip point within ``beside`` pixels of its curve, and any on
    the opening's side of it (a cut taken past a wide laugh's teeth into a thin upper lip, beyond the 68 points' outer
    lip), moves as the curve does there (a destination across its curve from its source folds the side's field); an upper
    one within ``beside`` stays planned, at most ``rest`` px beyond the curve (dragged down, group_t1#3's philtrum grew)."""
    out = np.array(moved, np.float64)
    up = face_up(src_lm)
    across = np.array([-up[1], up[0]])
    for chain, sign, s_curve, d_curve in ((cut.upper_only, 1.0, src_curves[0], dst_curves[0]),
                                          (cut.lower_only, -1.0, src_curves[1], dst_curves[1])):
        if not chain:
            continue
        u, v = s_curve @ across, s_curve @ up
        order = np.argsort(u)
        u, v = u[order], v[order]
        shift = (d_curve - s_curve)[order]
        for i in chain:
            p = src_lm[i]
            x = float(p @ across)
            if not u[0] < x < u[-1]:
                continue
            thick = sign * (float(p @ up) - float(np.interp(x, u, v)))
            move = np.array([np.interp(x, u, shift[:, 0]), np.interp(x, u, shift[:, 1])])
            if thick <= (beside if sign < 0 else 0.0):
                out[i] = p + move
                continue
            # the destination curve at the moved point's place across the face
            q = out[i]
            du, dv = (s_curve + shift) @ across, (s_curve + shift) @ up
            o = np.argsort(du)
            now = sign * (float(q @ up) - float(np.interp(float(q @ across), du[o], dv[o])))
            top = most if sign < 0 else np.inf if thick > beside else max(rest / thick, 1.0)
            if not keep * thick <= now <= top * thick:
                out[i] = q + sign * (float(np.clip(now, keep * thick, top * thick)) - now) * up
    return out


def _heights(curve: np.ndarray, x: np.ndarray, across: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The height (along ``up``) of ``curve`` at places ``x`` across the face (clamped at its
    ends)."""
    u, v = curve @ across, curve @ up
    o = np.argsort(u)
    return np.interp(x, u[o], v[o])


def inside_outer_lips(src_lm: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                      least: float) -> tuple[np.ndarray, np.ndarray]:
    """Given source mouth curves (``upper``, ``lower``, corner to corner) kept at least ``least``
    of each 68-point lip's thickness (outer lip to inner lip, along the face's up, at each
    point's place across the face) inside its outer lip: a face mesh's inner-lip loop fitted
    above a thin upper lip (a wide laugh's, whose lip the mesh put in the skin below the nose)
    would otherwise cut the whole lip away with the teeth, and the closed mouth had none."""
    lm = np.asarray(src_lm, np.float64)
    up = face_up(lm)
    across = np.array([-up[1], up[0]])
    out = []
    for curve, outer, inner, sign in ((upper, [48, 49, 50, 51, 52, 53, 54], [60, 61, 62, 63, 64], 1.0),
                                      (lower, [48, 59, 58, 57, 56, 55, 54], [60, 67, 66, 65, 64], -1.0)):
        c = np.array(curve, np.float64)
        x, v = c @ across, c @ up
        v_out = _heights(catmull_rom(lm[outer]), x, across, up)
        v_in = _heights(catmull_rom(lm[inner]), x, across, up)
        limit = v_out - sign * least * np.maximum(sign * (v_out - v_in), 0.0)
        beyond = sign * (v - limit)  # > 0: the curve lies past the limit, towards the outer lip
        c += (np.maximum(beyond, 0.0) * -sign)[:, None] * up
        out.append(c)
    return out[0], out[1]


def meeting_drop(src_lm: np.ndarray, moved: np.ndarray, src_curves: tuple[np.ndarray, np.ndarray],
                 mid: np.ndarray, opening: tuple[float, float], middle: float = 0.15, grow: float = 1.0) -> float:
    """How far (px, down the face) closing lips meet below ``mid`` (the midline of the
    destination curves) in the middle of the mouth: as far as the upper lip (the moved 68
    points' outer lip, ``moved``, to that line) keeps ``grow`` times its own thickness in the source
    (``src_lm``'s outer lip to the source upper curve: a smile stretches it thin) or, where the closed mouth is too short
    for both lips' own, its share of the two lips' source thickness; the median over the
    samples within ``middle`` of the chord of its middle. Only as far as the source is open
    there: the gap between the source curves, in shares of the two lips' thickness, from
    ``opening``'s first (a closed mouth's crease: 0) to its second (a smile's teeth: wholly).
    A closing cut meeting at the midline of a smile's opening kept its upper lip a thin line
    under the skin the outer lip came down into, on a small face a thin pink line, and its lower
    lip thicker than its own."""
    lm, goal = np.asarray(src_lm, np.float64), np.asarray(moved, np.float64)
    up = face_up(lm)
    across = np.array([-up[1], up[0]])
    su, sl = (np.asarray(c, np.float64) for c in src_curves)
    t = chord_share(su, across)
    at = np.abs(t - 0.5) <= middle
    if not at.any():
        return 0.0
    su, sl, mid = su[at], sl[at], np.asarray(mid, np.float64)[at]
    outer_up, outer_low = [48, 49, 50, 51, 52, 53, 54], [48, 59, 58, 57, 56, 55, 54]
    own_up = grow * np.maximum(_heights(catmull_rom(lm[outer_up]), su @ across, across, up) - su @ up, 0.0)
    own_low = np.maximum(sl @ up - _heights(catmull_rom(lm[outer_low]), sl @ across, across, up), 0.0)
    top = _heights(catmull_rom(goal[outer_up]), mid @ across, across, up)
    tall = np.maximum(top - _heights(catmull_rom(goal[outer_low]), mid @ across, across, up), 0.0)
    both = np.maximum(own_up + own_low, 1e-9)
    want = np.minimum(own_up, tall * own_up / both)
    drop = float(np.median(np.maximum(want - (top - mid @ up), 0.0)))
    gap = float(np.median(np.maximum(su @ up - sl @ up, 0.0) / both))
    return drop * float(_smoothstep(np.array(gap), *opening))


def chord_share(curve: np.ndarray, across: np.ndarray) -> np.ndarray:
    """Where each point of ``curve`` lies across the face between its two ends (0 at the first
    corner, 1 at the last)."""
    x = np.asarray(curve, np.float64) @ across
    return (x - x[0]) / (x[-1] - x[0]) if abs(x[-1] - x[0]) > 1e-9 else np.full(len(x), 0.5)


def dropped(points: np.ndarray, corners: tuple[np.ndarray, np.ndarray], drop: float, up: np.ndarray,
            reach: float) -> np.ndarray:
    """``points`` moved ``drop`` px down the face (against ``up``) between the mouth's
    ``corners``, fading to none at each over ``reach`` of the corner-to-corner chord."""
    across = np.array([-up[1], up[0]])
    p = np.asarray(points, np.float64)
    a, b = float(corners[0] @ across), float(corners[1] @ across)
    t = (p @ across - a) / (b - a) if abs(b - a) > 1e-9 else np.full(len(p), 0.5)
    w = _smoothstep(np.minimum(t, 1.0 - t), 0.0, reach)
    return p - (drop * w)[:, None] * up
