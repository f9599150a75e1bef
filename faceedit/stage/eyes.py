"""Eyes opened wider keep the size of their eyeball: the iris is not stretched with the lids.

A warp that opens an eye (surprise, fear, a squint let go) stretches everything between the
lids, the iris and pupil with them (a surprised iris comes out about 1.25x as tall and wide as
the photo's, a doll's eye). A real eye opens by its lids moving
off the same eyeball: the iris keeps its size and place, more white shows around it.
:func:`keep_irises` repaints, after the warp, the inside of every eye that opened:

1. the source eye's opening is the Face Mesh's eyelid contour (its lower margin raised a little:
   it lies on the lower lid's rim), its iris the circle across which the eye brightens most on
   its left and right arcs (:func:`find_iris`, Daugman's integro-differential search); no
   confident iris (a closed eye, no contrast): the eye is left as warped; a small eye shut or
   cast down (:func:`faceedit.stage.eye_open.shut`; its "iris" would be the lash line) is redrawn
   instead, its lash line moved as a line over an eyeball (:func:`faceedit.stage.eye_open.open_shut_eye`);
2. the warp's own map from the edited photo back to the source tells each edited pixel whether
   it shows the source's opening and the source's iris;
3. the iris is drawn at its own size where the eyeball is (its centre moves with the eye's corners,
   not with the lids): read from the source's iris at the same offset where the source shows it,
   elsewhere (its top often lies under the lid) its own median colour at that distance from its
   centre (copying a visible part there doubles catchlights and makes seams), its edge as soft
   as the source shows it (:func:`~faceedit.stage.iris_rings.iris_edge`): the photo's own edge carried past its dark limbal
   ring where the source shows it, elsewhere drawn where the photo's edge rises into the white;
   where the stretched iris and its dark limbal ring
   show outside that circle, the white of the eye: the source's white shaded along the eye as
   the source's is (darker toward the corners) and in the lid's shadow, in the source white's
   colour, as light against that as the warped white around it (read past the stretched
   limbal ring's soft tail, not on the lashes or the lid's skin: :func:`_white_fill`), with
   the grain the source's white shows (a seeded field as strong as its fine detail); the same white
   where the lids' travel uncovered the eyeball above the iris and the warp stretched the dark
   band under the source's lid there (the lid's margin itself kept); the upper lid's shadow over
   the iris. Outside the opening (the lids, the lashes) the warped photo stays as it is;
4. a small eye opened wide (a group photo's face) then has its upper lid's margin moved as a line
   at its own thickness, not stretched with the opening, the eyeball below it (where too little of
   its iris shows to keep, the iris redrawn at its size there:
   :func:`faceedit.stage.lid_move.move_lid_margin`).

The stage calls it only where the target opens an eye wider than the face's own neutral
(:func:`widens_eyes`).

Only the pixels of an opened eye's box change; an eye that does not open is not touched, nor is
a greyscale (2-D) photo.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np

from faceedit.pixels import from_unit, luma, pixel_max
from faceedit.stage.blur_reading import FILL_BLUR, edge_blur
from faceedit.stage.cut_curves import polygon_coverage
from faceedit.stage.eye_open import eye_weight, open_shut_eye, shut
from faceedit.stage.eye_shadow import lid_seen, lid_shade, read_iris, shade_under, top_edge
from faceedit.stage.iris_rings import _sample, iris_edge, soft_disc
from faceedit.stage.lid_move import move_lid_margin, shut_in
from faceedit.stage.lit_white import lift_white
from faceedit.stage.membrane import membrane_fill
from faceedit.stage.records import Statistics
from faceedit.stage.state import FaceState
from faceedit.stage.tuning import EyesTuning

#: Face Mesh eyelid contours (upper from the outer corner to the inner, lower likewise) of the
#: eye on the image's left (68-point 36-41) and on its right (42-47).
MESH_EYES = (
    ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133)),
    ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362)),
)
LM_EYES = (tuple(range(36, 42)), tuple(range(42, 48)))


def eye_apertures(lm: np.ndarray) -> np.ndarray:
    """(2,) the distance between the lids of each eye (mean of the two middle pairs), px."""
    lm = np.asarray(lm, np.float64)
    return np.array([float(np.linalg.norm(lm[[e[1], e[2]]] - lm[[e[5], e[4]]], axis=1).mean()) for e in LM_EYES])


def widens_eyes(stats: Statistics, cur: FaceState, new: np.ndarray) -> bool:
    """Whether state ``new`` opens either eye of the face (``cur``'s identity) wider than its
    own neutral does (by the tuning's ``eyes.opens``), read off the stage's statistics: surprise,
    fear. A squint let go (smiling -> neutral) is not: drawn at its own size there, the iris
    shows white around it and the face stares."""
    neutral = eye_apertures(stats.expression_shape(np.zeros_like(new), cur.identity))
    opened = eye_apertures(stats.expression_shape(new, cur.identity))
    return bool((opened >= stats.tuning.eyes.opens * neutral).any())


def eye_polygon(mesh: np.ndarray, k: int, lower_raise: float) -> np.ndarray:
    """(16, 2) the opening of eye ``k`` (0: the image's left) along the mesh's lid margins, the
    lower one raised by ``lower_raise`` of the lids' distance (outer corner first, along the
    upper lid to the inner corner, back along the lower)."""
    upper, lower = MESH_EYES[k]
    xy = np.asarray(mesh, np.float64)[:, :2]
    up, low = xy[list(upper)], xy[list(lower)].copy()
    low[1:-1] -= lower_raise * (low[1:-1] - up[1:-1])
    return np.vstack([up, low[1:-1][::-1]])


def in_polygon(poly: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(N,) bool: points (N, 2) inside the closed polygon ``poly`` (K, 2) or on its outline,
    as ``cv2.pointPolygonTest(poly, pt, False) >= 0`` decides each (both in float32, the
    differences in float32 and their cross products in double, as OpenCV makes them), for all
    points at once."""
    v = np.asarray(poly, np.float32).reshape(-1, 2)
    v0 = np.roll(v, 1, 0)  # each edge from the vertex before
    p = np.asarray(pts, np.float32).reshape(-1, 2)
    px, py = p[:, :1], p[:, 1:]  # (N, 1) against (K,) edges
    skip = ((v0[:, 1] <= py) & (v[:, 1] <= py)) | ((v0[:, 1] > py) & (v[:, 1] > py)) | \
        ((v0[:, 0] < px) & (v[:, 0] < px))
    on_vertex_row = skip & (py == v[:, 1]) & ((px == v[:, 0]) | ((py == v0[:, 1]) & (
        ((v0[:, 0] <= px) & (px <= v[:, 0])) | ((v[:, 0] <= px) & (px <= v0[:, 0])))))
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    cross = f64(py - v0[:, 1]) * f64(v[:, 0] - v0[:, 0]) - f64(px - v0[:, 0]) * f64(v[:, 1] - v0[:, 1])
    cross = np.where(v[:, 1] < v0[:, 1], -cross, cross)
    on_edge = ~skip & (cross == 0)
    crossings = (~skip & (cross > 0)).sum(1)
    return (on_vertex_row | on_edge).any(1) | (crossings % 2 == 1)


def find_iris(rgb: np.ndarray, poly: np.ndarray, tuning: EyesTuning | None = None,
              radius: float | None = None, centre: np.ndarray | None = None) -> tuple[np.ndarray, float] | None:
    """(centre, radius) in photo px of the iris of the eye whose opening is ``poly``, in ``rgb``
    ((H, W, 3), unit floats), or None where no confident one is found. The limbus is the circle
    across which the eye brightens most, outwards, on its left and right arcs (the top and the
    bottom often lie under the lids): the integro-differential search of Daugman (1993) over
    centres inside the opening and radii ``iris_radius_min``..``iris_radius_max`` of the eye's
    width (``tuning``, :class:`faceedit.stage.tuning.EyesTuning`); given the iris model's
    ``radius`` (px) and a best circle further than ``iris_model_spread`` from it (and half the
    radii's step: a tiny eye's grid), again within that spread of it (there the best was a
    smaller circle off the centre: one arc on the limbus, the other on the pupil's edge). Given the
    model's ``centre`` too (px, with ``radius``), the circle's centre is searched within
    ``iris_model_shift`` of that radius of it: where heavy lashes, make-up or a lid cross an arc, the
    best circle was a smaller one beside the iris (its lit side's limbus and the pupil's edge), and
    the iris kept at its size left the rest of the photo's iris showing beside it as a grey block."""
    tuning = tuning if tuning is not None else EyesTuning()
    width = float(np.linalg.norm(poly[0] - poly[8]))
    if width < 12:
        return None
    lum = luma(rgb)
    # catchlights off (a grey opening: bright spots narrower than ``catchlight`` of the width go
    # dark as the iris round them): beside one, the iris's own dark read as a limbus
    side = 2 * int(round(tuning.catchlight * width / 2)) + 1
    if side >= 3:
        lum = cv2.morphologyEx(lum, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    lum = cv2.GaussianBlur(lum, (0, 0), max(0.5, width / 120))
    mid = (poly[0] + poly[8]) / 2
    half = np.array([0.3 * width, 0.22 * width])
    step = max(1.0, width / 60)
    xs = np.arange(mid[0] - half[0], mid[0] + half[0] + 1e-6, step)
    ys = np.arange(mid[1] - half[1], mid[1] + half[1] + 1e-6, step)
    centres = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    near = None
    if centre is not None and radius is not None:
        # within the model's spread of its centre, on the grid and at that centre itself
        near = (np.asarray(centre, np.float64), tuning.iris_model_shift * radius)
        centres = np.vstack([centres[np.linalg.norm(centres - near[0], axis=1) <= near[1]], near[0][None]])
    centres = centres[in_polygon(poly, centres)]  # centres must lie inside the opening
    if len(centres) == 0:
        return None
    r_step = max(1.0, width / 90)
    radii = np.arange(tuning.iris_radius_min * width, tuning.iris_radius_max * width, r_step)
    ang = np.deg2rad(np.r_[np.linspace(-40, 40, 9), np.linspace(140, 220, 9)])
    dirs = np.stack([np.cos(ang), np.sin(ang)], 1)
    d = max(1.0, width / 60)  # the edge's half width

    def ring(cc: np.ndarray, rr: np.ndarray) -> np.ndarray:  # (centres, radii) mean luma on the arcs
        pts = cc[:, None, None, :] + rr[None, :, None, None] * dirs[None, None]
        m = pts.reshape(-1, len(ang), 2).astype(np.float32)
        v = cv2.remap(lum, m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return v.reshape(len(cc), len(rr), len(ang)).mean(-1)

    score = ring(centres, radii + d) - ring(centres, radii - d)
    best = np.unravel_index(int(np.argmax(score)), score.shape)
    if radius is not None and abs(float(radii[best[1]]) - radius) > tuning.iris_model_spread * radius + r_step / 2:
        # the iris model's radius disagrees (beyond the grid's half step): searched again near it
        radii = np.arange((1 - tuning.iris_model_spread) * radius, (1 + tuning.iris_model_spread) * radius, r_step)
        score = ring(centres, radii + d) - ring(centres, radii - d)
        best = np.unravel_index(int(np.argmax(score)), score.shape)
    contrast = float(score[best])
    c, r = centres[best[0]], float(radii[best[1]])
    # then a quarter of the grid's step around the best (a video's frames must not jump by a
    # whole step: a pixel of a 7-px radius)
    fine = np.linspace(-1.0, 1.0, 9)
    cc = (c + np.stack(np.meshgrid(fine * step, fine * step), -1).reshape(-1, 2))
    if near is not None:
        cc = cc[np.linalg.norm(cc - near[0], axis=1) <= near[1] + 1e-9]
    rr = r + fine * r_step
    rr = rr[rr > 2 * d]
    if radius is not None:
        # within the iris model's spread of its radius where any of them is: the coarse grid's
        # half step is a third of a small eye's radius, and below the spread the circle was the
        # pupil's (a light iris at a 128-px face: a dark dot kept, its own iris whitened round
        # it, a bullseye)
        band = rr[np.abs(rr - radius) <= tuning.iris_model_spread * radius]
        rr = band if len(band) else rr
    sc = ring(cc, rr + d) - ring(cc, rr - d)
    fb = np.unravel_index(int(np.argmax(sc)), sc.shape)
    c, r = cc[fb[0]], float(rr[fb[1]])
    inner = float(ring(c[None], np.array([0.5 * r]))[0, 0])
    white = float(np.percentile(lum[_box(poly, lum.shape)], 90))
    # a real limbus: the eye clearly brighter outside than in, the iris darker than the white
    if contrast < 0.04 * max(white, 1e-6) or inner > 0.8 * white:
        return None
    return c.copy(), r


def _box(poly: np.ndarray, shape) -> tuple[slice, slice]:
    x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int), 0)
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 1
    return slice(y0, min(y1, shape[0])), slice(x0, min(x1, shape[1]))


def keep_irises(source: np.ndarray, warped: np.ndarray, lm: np.ndarray, moved: np.ndarray,
                mesh: np.ndarray, source_points: Callable[[tuple[int, int, int, int]], np.ndarray],
                tuning: EyesTuning | None = None, *, in_place: bool = False, photo_scale: float = 1.0,
                irises: np.ndarray | None = None, child: bool = False) -> np.ndarray:
    """``warped`` (the photo after the warp moved landmarks ``lm`` to ``moved``) with the iris of
    every eye that opened by ``opens`` or more (``tuning``, :class:`faceedit.stage.tuning.EyesTuning`;
    default its defaults) drawn at its size in ``source`` (the photo
    before the warp; same shape and dtype), the white of the eye where the stretched iris showed
    beyond it, and an opening whose white stays in its lids' shadow lifted to an open eye's light
    (:func:`~faceedit.stage.lit_white.lift_white`). ``mesh``: the source face's Face Mesh points ((468, 2) or (468, 3));
    ``source_points(box)``: the warp's map, (h, w, 2) source coordinates of the pixels of a box
    (x0, y0, x1, y1) of ``warped`` (:meth:`faceedit.stage.cutwarp.CutWarpResult.source_points`).
    ``photo_scale``: the photo's own pixels per pixel here (a small eye's, :func:`~faceedit.stage.eye_open.eye_weight`).
    ``irises``: the iris model's (2, 5, 2) points (:func:`faceedit.faces.iris.iris_points`) or None;
    each iris's edge is searched near the radius they give it (:func:`find_iris`); a young child's (``child``) up to
    ``child_iris_radius_max`` of the eye's width, near ``child_iris_model`` times it (its iris is larger for its eye
    than the model reads it: kept at the model's size, the white drawn round it cut the iris's top off as a band).
    On a small face (eyes under ``keep_iris_least_px`` of the photo's pixels) both irises are kept
    or neither: where one eye's iris cannot be (too little white to read), the other's is left
    as warped too, its lid's margin moved as the first's (one doll's eye beside a stretched one).
    Returns ``warped`` itself when no eye opened or no iris was found, else a new array, or
    ``warped`` written over with ``in_place`` (a buffer the caller owns)."""
    tuning = tuning if tuning is not None else EyesTuning()
    lm, moved = np.asarray(lm, np.float64), np.asarray(moved, np.float64)
    grow = eye_apertures(moved) / np.maximum(eye_apertures(lm), 1e-6)
    if warped.ndim != 3 or not (grow >= tuning.opens).any():
        return warped
    eyes = [int(k) for k in np.nonzero(grow >= tuning.opens)[0]]
    widths = [float(np.linalg.norm(lm[e[3]] - lm[e[0]])) for e in LM_EYES]
    alike = len(eyes) == 2 and float(np.mean(widths)) * photo_scale < tuning.keep_iris_least_px
    box = None
    if alike and in_place:  # what the first try writes over, to be had back
        pts = np.vstack([lm[list(LM_EYES[0] + LM_EYES[1])], moved[list(LM_EYES[0] + LM_EYES[1])]])
        pad = int(np.ceil(max(widths))) + 4
        x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - pad, 0)
        x1, y1 = np.ceil(pts.max(0)).astype(int) + pad
        box = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
        before = warped[box].copy()
    if child:
        tuning, irises = child_search(tuning), None if irises is None else child_irises(irises, tuning)
    out, kept = _keep_irises(source, warped, lm, moved, mesh, source_points, tuning, eyes, True, in_place,
                             photo_scale, irises)
    if alike and len(kept) == 1:
        if box is not None:
            warped[box] = before
        out, _ = _keep_irises(source, warped, lm, moved, mesh, source_points, tuning, eyes, False, in_place,
                              photo_scale, irises)
    return out


def child_search(tuning: EyesTuning) -> EyesTuning:
    """``tuning`` with :func:`find_iris`'s search a young child's: radii up to ``child_iris_radius_max`` of the eye's
    width, within ``child_iris_spread`` of the radius given (:func:`child_irises`')."""
    return dataclasses.replace(tuning, iris_radius_max=tuning.child_iris_radius_max,
                               iris_model_spread=tuning.child_iris_spread)


def child_irises(irises: np.ndarray, tuning: EyesTuning) -> np.ndarray:
    """The iris model's (2, 5, 2) points with each rim ``child_iris_model`` times as far from its centre: a young
    child's iris as large for its eye as it is (the model reads it smaller)."""
    irises = np.asarray(irises, np.float64)
    out = irises.copy()
    out[:, 1:] = irises[:, :1] + tuning.child_iris_model * (irises[:, 1:] - irises[:, :1])
    return out


def _keep_irises(source: np.ndarray, warped: np.ndarray, lm: np.ndarray, moved: np.ndarray, mesh: np.ndarray,
                 source_points: Callable[[tuple[int, int, int, int]], np.ndarray], tuning: EyesTuning,
                 eyes: list[int], keep: bool, in_place: bool, photo_scale: float, irises: np.ndarray | None
                 ) -> tuple[np.ndarray, list[int]]:
    """:func:`keep_irises` of the opened ``eyes`` (indices into :data:`LM_EYES`); with ``keep``
    False no iris is kept (each eye as where none is found). Returns (the photo, the eyes whose
    iris was kept)."""
    unit = pixel_max(source.dtype)
    out = warped
    kept: list[int] = []
    for k in eyes:
        poly = eye_polygon(mesh, int(k), tuning.lower_lid_raise)
        width = float(np.linalg.norm(poly[0] - poly[8]))
        pad = int(np.ceil(0.6 * width))
        bx0, by0 = np.floor(poly.min(0)).astype(int) - pad
        bx1, by1 = np.ceil(poly.max(0)).astype(int) + pad
        bx0, by0 = max(bx0, 0), max(by0, 0)
        bx1, by1 = min(bx1, source.shape[1]), min(by1, source.shape[0])
        if bx1 - bx0 < 8 or by1 - by0 < 8:
            continue
        src = source[by0:by1, bx0:bx1, :3].astype(np.float32) / unit
        soft = edge_blur(luma(src), np.ones(src.shape[:2], bool))  # the photo's own at the eye (lids, lashes, iris)
        # shut or cast down: a small eye's lash line moved as a line (eye_open); else its iris
        redrawn = _open_shut(source, out, lm, moved, int(k), tuning, photo_scale)
        rim = None if irises is None else float(np.linalg.norm(irises[k, 1:] - irises[k, 0], axis=1).mean())
        # round the model's centre on an eye of ``keep_iris_least_px`` or more (a smaller one's white test
        # and kept pair are set on the free search: the two lie a pixel or so apart there)
        mid = None if irises is None or width * photo_scale < tuning.keep_iris_least_px \
            else np.asarray(irises[k, 0], np.float64) - [bx0, by0]
        found = None if redrawn is not None or not keep else find_iris(src, poly - [bx0, by0], tuning, rim, mid)
        if found is None:
            if redrawn is not None:
                if out is warped:
                    out = warped if in_place else warped.copy()
                (x0, y0, x1, y1), px = redrawn
                out[y0:y1, x0:x1, :3] = from_unit(px, warped.dtype)
            else:
                out = _move_margin(source, out, warped, lm, moved, int(k), source_points, None, tuning, photo_scale,
                                   in_place)
            continue
        c_s, r = found[0] + [bx0, by0], found[1]
        e = list(LM_EYES[k])
        corners = [e[0], e[3]]
        c_d = c_s + (moved[corners] - lm[corners]).mean(0)
        # the destination box: the eye as moved, with room for the lids' travel
        mx0, my0 = np.floor(moved[e].min(0)).astype(int) - pad
        mx1, my1 = np.ceil(moved[e].max(0)).astype(int) + pad
        mx0, my0 = max(mx0, 0), max(my0, 0)
        mx1, my1 = min(mx1, warped.shape[1]), min(my1, warped.shape[0])
        if mx1 - mx0 < 8 or my1 - my0 < 8:  # the eye at the photo's edge
            continue
        yy, xx = np.mgrid[my0:my1, mx0:mx1]
        p = np.stack([xx, yy], -1).astype(np.float64)
        q = source_points((int(mx0), int(my0), int(mx1), int(my1))).astype(np.float64)  # where each came from
        # the source opening's coverage, read where each destination pixel came from; its core
        # (the mesh's own contour, eroded: no lid margin, no lashes) is what the iris is read from
        sbox = np.array([bx0, by0], np.float64)
        cover_s = polygon_coverage(poly, (bx0, by0, bx1, by1))
        cover_0 = polygon_coverage(eye_polygon(mesh, int(k), lower_raise=0.0), (bx0, by0, bx1, by1))
        # (none on an eye under 20 px wide, as the gaze reads it: a pixel's erosion of a 16-px eye's
        # opening left 0-3 px of its white to read, and its iris was never kept)
        erode = int(round(width / 40))
        core = cover_0
        if erode:
            core = cv2.erode(cover_0, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
            core = cv2.GaussianBlur(core, (0, 0), erode)  # gradual hand-overs between the readings
        open_d = _sample(cover_s, q - sbox)
        # the iris at its own size, centred where the eyeball is
        rel = p - c_d
        # its edge as soft as the source shows it; the white over the source's dark limbal ring
        # too where the warp stretched it (left, it rings the kept iris: a halo)
        blur, reach, mid = iris_edge(luma(src), c_s - sbox, r, tuning)
        was = np.clip(r * reach + 0.5 - np.linalg.norm(q - c_s, axis=-1), 0.0, 1.0)
        sy, sx = np.nonzero(core > 0.5)
        d_s = np.linalg.norm(np.stack([sx, sy], 1) + sbox - c_s, axis=1)
        read = read_iris(src, core, (bx0, by0, bx1, by1), poly, c_s, r, rel, blur, tuning)
        if read is None:  # too few of the iris's rings seen: its margin moved, the eyeball redrawn
            out = _move_margin(source, out, warped, lm, moved, int(k), source_points, (c_s, c_d, r, False), tuning,
                               photo_scale, in_place)
            continue
        profile, iris_col, seen = read
        # the disc's edge: where the source shows the iris at the same offset its own pixels carry the
        # edge, the dark limbal ring and its rise into the white, out to ``reach`` and a blur beyond;
        # elsewhere (its top under the source's lid) drawn at ``mid``. A disc edged at ``r`` (the limbus's
        # steepest circle) with the edge's blur whitened the limbal ring from inside: a pale ring round a
        # smaller iris
        edge = r * mid * (1 - seen) + (r * reach + blur) * seen
        disc = soft_disc(np.linalg.norm(rel, axis=-1), edge, blur)
        cur = out[my0:my1, mx0:mx1, :3].astype(np.float32) / unit
        # the source opening's top: how far below it each pixel came from (its margin is kept)
        top = top_edge(poly)
        below = q[..., 1] - np.interp(q[..., 0], top[:, 0], top[:, 1])
        # the upper lid's shadow over the eyeball, cast from where the lid now is
        shade = lid_shade(p, top_edge(poly, lm[e[:4]], moved[e[:4]]), width, tuning)
        # the white where the stretched iris was: per row, from the warped white just beside it
        # (in the lid's shadow as the rest of the row is), or the eye's own white a little shaded
        # where a lash or the lid's skin lies there
        beyond = d_s > max(1.2, reach) * r
        sclera = src[sy, sx][beyond]
        sl = luma(sclera)
        white_col = np.median(sclera[sl >= np.percentile(sl, 60)], 0).astype(np.float32) if len(sclera) >= 5 \
            else None
        if white_col is None or float(np.median(luma(profile))) > 0.8 * float(luma(white_col)):
            # no white read beside it (too little of it, or not lighter than the iris: find_iris's
            # limbus test): a nearly shut eye (its "white" the lids' shadow: London 013 smiling at 96 px
            # stretched into two dark blobs) as where too few of its rings show, its margin moved, the
            # eyeball redrawn; another (a turned face's far eye) left as warped
            if shut_in(lm[list(LM_EYES[k])], tuning) > 0.0:
                out = _move_margin(source, out, warped, lm, moved, int(k), source_points, (c_s, c_d, r, False),
                                   tuning, photo_scale, in_place, rings=profile)
            continue
        # the white by its place along the eye (darker toward the corners), as the source shows it
        seen = (np.stack([sx, sy], 1) + sbox)[beyond]
        white_at = _white_along(sclera, _along(seen, lm[corners]), white_col, tuning.white_bins,
                                tuning.white_corner_least)
        # what the lids' travel uncovered above the iris is the eyeball's white too where it came
        # out dark: the source's band under its upper lid (the lid's margin and its shadow over
        # iris and white) is stretched tall there, a dark arc over a crescent of white, a halo
        # round the iris. The margin itself (its source within ``lid_margin`` of the lid) stays;
        # what is already about as light as the shaded white stays; from the iris's middle up
        # the white comes in over a third of its radius (no seam along the middle)
        light = float(luma(white_col)) * shade
        dark = np.clip((0.8 * light - luma(cur)) / (0.3 * light), 0.0, 1.0)
        rise = np.clip(-rel[..., 1] / (0.35 * r), 0.0, 1.0)
        above = (dark * rise * (below > tuning.lid_margin * width)).astype(np.float32)
        whiten = np.maximum(was, above)
        # and from where the lid shows now: the lashes of a made-up eye hang below the mesh's margin
        shade = np.minimum(shade, shade_under(lid_seen(cur, open_d, whiten, rel, disc, float(luma(white_col))),
                                              width, tuning))
        # the white expected there (by its place along the eye, in the lid's shadow), as light
        # as the white around it shows it, in the photo's own white's colour (the lids' shadow
        # beside it is bluish)
        expect = white_at(_along(p, moved[corners])) * shade[..., None].astype(np.float32)
        white_fill = _white_fill(cur, (whiten > 0.01) & (open_d > 0.5), open_d > 0.5, expect, tuning.white_least,
                                 int(np.ceil(tuning.white_clear * blur)), width, tuning.white_ratio_least)
        # with the grain the source's white shows (drawn smooth it reads as a painted ring)
        lum_s = luma(src)
        fine = (lum_s - cv2.GaussianBlur(lum_s, (0, 0), 1.0))[sy, sx][beyond]
        spread = min(white_grain(fine, sl), tuning.white_grain_most)
        noise = cv2.GaussianBlur(np.random.default_rng(k).standard_normal(white_fill.shape[:2]).astype(np.float32),
                                 (0, 0), 0.7)
        white_fill = white_fill * (1 + spread * noise / max(float(noise.std()), 1e-6))[..., None]
        a_iris = (disc * open_d)[..., None]
        # where the source showed its iris and the lower lid came down off it, the white reaches the
        # mesh's own lower lid contour: the iris's bottom between it and the raised opening (under the
        # lower lid's rim), stretched by the lid's travel, drew a dark crescent under the kept iris.
        # Where the lid stays on the iris (moves.hold_lower_lids) that band is the lid's rim: whitened,
        # a white band under the kept iris, the eye staring
        axis = (lm[corners[1]] - lm[corners[0]]) / max(float(np.linalg.norm(lm[corners[1]] - lm[corners[0]])), 1e-9)
        lows = [e[4], e[5]]
        drop = float(((moved[lows] - lm[lows]).mean(0) - (c_d - c_s)) @ np.array([-axis[1], axis[0]]))
        down = float(np.clip(drop / max(1.0, tuning.lid_drop_white * width), 0.0, 1.0))
        open_w = np.where(was > 0, open_d + down * np.maximum(_sample(cover_0, q - sbox) - open_d, 0.0), open_d)
        # the white under the iris, the iris over it: blurred as a ring round a hole, a thin ring
        # (a small eye's) kept half the stretched iris at the kept one's edge (a grey halo)
        a_white = cv2.GaussianBlur((whiten * open_w).astype(np.float32), (0, 0), max(0.5, width / 100))
        a_white = np.minimum(a_white, 1 - disc)[..., None]
        drawn = (iris_col * shade[..., None]) * a_iris + white_fill * a_white
        alpha = a_iris + a_white
        # as soft as the photo: the drawn iris and white (premultiplied) blurred by what the photo's own blur adds
        # to the drawing's (drawn sharp in a soft photo, the white where the stretched iris was stood as a light
        # ring round a dark disc: a bullseye); the photo's own blur is its reading beyond what a sharp drawing
        # reads (FILL_BLUR: a pixel step reads 0.83 px), else a sharp small face's eye (reading 0.8-1.1) had its
        # kept iris smeared into a grey ring
        own = float(np.sqrt(max(soft ** 2 - FILL_BLUR ** 2, 0.0)))
        extra = float(np.sqrt(max(own ** 2 - max(blur, width / 100, 0.5) ** 2, 0.0)))
        if extra > tuning.soft_least:
            drawn = cv2.GaussianBlur(drawn.astype(np.float32), (0, 0), extra)
            alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), extra)[..., None]
        new = cur * (1 - alpha) + drawn
        if out is warped:
            out = warped if in_place else warped.copy()
        out[my0:my1, mx0:mx1, :3] = from_unit(np.clip(new, 0, 1), warped.dtype)
        kept.append(k)
        out = _move_margin(source, out, warped, lm, moved, int(k), source_points, (c_s, c_d, r, True), tuning,
                           photo_scale, in_place)
        # the white lifted outside the iris as far in as the photo's edge has risen half way (``mid``): the
        # carried edge's white part with the rest of the white, the gain read off the white alone
        iris_cover = soft_disc(np.linalg.norm(rel, axis=-1), r * mid, blur)
        out = lift_white(out, source, lm[e], moved[e], (c_d, r), tuning,
                         (iris_cover, (int(mx0), int(my0))))  # out is this call's (or the caller's)
    return out, kept


def _move_margin(source: np.ndarray, out: np.ndarray, warped: np.ndarray, lm: np.ndarray, moved: np.ndarray, k: int,
                 source_points: Callable[[tuple[int, int, int, int]], np.ndarray],
                 iris: tuple[np.ndarray, np.ndarray, float, bool] | None, tuning: EyesTuning, photo_scale: float,
                 in_place: bool, rings: np.ndarray | None = None) -> np.ndarray:
    """``out`` with eye ``k``'s upper margin moved as a line where it is small or nearly shut and opened wide
    (:func:`faceedit.stage.lid_move.move_lid_margin`; a copy of ``warped`` first where ``out`` is it)."""
    e = list(LM_EYES[k])
    moved_px = move_lid_margin(source, out, lm[e], moved[e], source_points, iris, tuning, photo_scale,
                               unit=pixel_max(source.dtype), rings=rings)
    if moved_px is None:
        return out
    if out is warped and not in_place:
        out = warped.copy()
    (x0, y0, x1, y1), px = moved_px
    out[y0:y1, x0:x1, :3] = from_unit(px, warped.dtype)
    return out


def _open_shut(source: np.ndarray, warped: np.ndarray, lm: np.ndarray, moved: np.ndarray, k: int,
               tuning: EyesTuning, photo_scale: float = 1.0) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """:func:`faceedit.stage.eye_open.open_shut_eye` of eye ``k`` on the photos' pixels read as
    unit floats where it samples them (None for an eye too large to redraw or open in the source)."""
    e = list(LM_EYES[k])
    if not shut(lm[e], tuning) or eye_weight(float(np.linalg.norm(lm[e[3]] - lm[e[0]])), tuning, photo_scale) <= 0.0:
        return None
    return open_shut_eye(source, warped, lm[e], moved[e], seed=k, tuning=tuning, photo_scale=photo_scale,
                         unit=pixel_max(source.dtype))


def _white_fill(cur: np.ndarray, where: np.ndarray, opening: np.ndarray, expect: np.ndarray, least: float,
                clear: int, width: float, floor: float = 0.0) -> np.ndarray:
    """The white of the eye over ``cur`` (unit RGB) where ``where`` (in the eye's ``opening``,
    (h, w) bool, where the white around it is read): the white expected there (``expect``,
    (h, w, 3)) times how light the white around it is against what is expected there, carried
    in smoothly from every side (:func:`~faceedit.stage.membrane.membrane_fill` of the ratio of
    lumas): read ``clear`` px beyond ``where`` (the stretched limbal ring's soft tail lies just
    outside it), on the pixels there that are the white (at least ``least`` of the expected
    luma: not a lash, not the lid's skin), the ratio at most 1.5 and at least ``floor``; 1 where
    none is; smoothed."""
    lum_e = np.maximum(luma(expect), 1e-6)
    ratio = (luma(cur) / lum_e).astype(np.float32)
    zone = cv2.dilate(where.astype(np.uint8), np.ones((2 * clear + 1, 2 * clear + 1), np.uint8)) > 0 if clear > 0 \
        else where
    known = ~zone & opening & (ratio >= least)
    if known.any():
        ratio = np.maximum(membrane_fill(np.clip(ratio, least, 1.5), known.astype(np.float32)), floor)
    else:
        ratio = np.ones_like(ratio)
    return cv2.GaussianBlur(expect * ratio[..., None], (0, 0), max(0.7, width / 80))


def white_grain(fine: np.ndarray, lum: np.ndarray) -> float:
    """The grain of an eye's white, over its luma: the robust spread (1.4826 times the median
    absolute deviation) of its pixels' fine detail ``fine`` (luma less its blur) on its lighter part
    (luma ``lum`` at or above its 60th percentile, the part its colour is read on) over the median
    luma. A small squinting eye's "white" holds the lashes' and the iris's edges; their steps read
    as grain (0.1 of the luma on a world photo's laughing eye, 0.02 on its lighter part) and drew a
    speckled ring round the kept iris."""
    light = fine[lum >= np.percentile(lum, 60)]
    return 1.4826 * float(np.median(np.abs(light - np.median(light)))) / max(float(np.median(lum)), 1e-6)


def _along(pts: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Where points (..., 2) lie along the eye from its outer corner (0) to its inner (1)."""
    axis = corners[1] - corners[0]
    return ((pts - corners[0]) @ axis) / max(float(axis @ axis), 1e-6)


def _white_along(pixels: np.ndarray, t: np.ndarray, white: np.ndarray, bins: int, least: float
                 ) -> Callable[[np.ndarray], np.ndarray]:
    """The eye's white ``white`` (its colour) shaded by the place along the eye (:func:`_along`)
    as the source shows it: in each of ``bins`` stretches from corner to corner, the median luma
    of the lighter half of the white ``pixels`` seen there (at ``t``; off the lashes' shadows)
    over ``white``'s, at least ``least`` (a lash or the lid's shadow over all of a corner) and at
    most 1; a stretch with under a quarter of their mean count (a few pixels at the lids'
    margins beside the iris) takes, between two seen ones, the lighter of the nearest on either
    side (the iris lies mid-eye, where the white is lightest: the nearest alone, a tie going to
    the darker corner, drew a grey ring round the iris's outer side), beyond them the nearest
    seen one's, 1 where none is; linear between the stretches' middles, the end ones kept beyond."""
    k = np.clip(np.floor(t * bins), 0, bins - 1).astype(int)
    ratio = np.full(bins, np.nan, np.float32)
    lw = max(float(luma(white)), 1e-6)
    fewest = max(5.0, 0.25 * len(pixels) / bins)
    for b in range(bins):
        sel = luma(pixels[k == b])
        if len(sel) >= fewest:
            ratio[b] = np.clip(np.median(sel[sel >= np.median(sel)]) / lw, least, 1.0)
    known = np.nonzero(~np.isnan(ratio))[0]
    if len(known) == 0:
        ratio[:] = 1.0
    else:
        filled = ratio.copy()
        for gap in np.nonzero(np.isnan(ratio))[0]:
            before, after = known[known < gap], known[known > gap]
            filled[gap] = max(ratio[before[-1]], ratio[after[0]]) if len(before) and len(after) \
                else ratio[known[np.argmin(np.abs(known - gap))]]
        ratio = filled
    mids = (np.arange(bins) + 0.5) / bins

    def at(tq: np.ndarray) -> np.ndarray:
        return (np.interp(tq, mids, ratio)[..., None] * white).astype(np.float32)
    return at
