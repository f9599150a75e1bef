"""The backward fields of the cut warp (:mod:`faceedit.stage.cutwarp`): per cut an upper and a
lower side's thin-plate spline field and an interior field, on the face's coarse grid, scaled
down as a whole where any would fold.

The fast render (:mod:`faceedit.stage.precision`) evaluates the thin-plate splines on every
other node of that grid and fills the nodes between with cubic interpolation
(:func:`~faceedit.stage.warp.upsample_nodes`), except at the nodes next to a landmark or a
cut's curve point, where they bend most; its region weight likewise
(:func:`~faceedit.stage.warp.grid_region_weight`). The exact render evaluates them at every node.

Below a dropped jaw the fixed ring and the region weight give way with the drop, so the chin is
carried whole and overlaps the neck (:mod:`faceedit.stage.chin_slide`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from faceedit.stage.chin_slide import slid_anchors, slid_region_weight
from faceedit.stage.cut_curves import (
    MOUTH,
    Cut,
    catmull_rom,
    cut_curves,
    dropped,
    face_up,
    follow_curves,
    given_curves,
    inside_outer_lips,
    keep_lips_whole,
    meeting_drop,
    opening_polygon,
    pointed_ends,
    round_opening,
    side_weight,
    unsqueezed,
    upper_side_polygon,
    zone_weight,
)
from faceedit.stage.lip_start import corner_stretch
from faceedit.stage.outline import smooth_outline
from faceedit.stage.precision import is_exact
from faceedit.stage.teeth_hang import hang_amount, hung_field
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import (
    MIN_JACOBIAN,
    WARP_POINTS,
    Grid,
    carried_points,
    carried_values,
    half_grid,
    jacobian_det,
    polygon_distance,
    upsample_nodes,
    warp_anchors,
)

#: Smoothing of the thin-plate splines (in the unit frame of their centres, as backward_field).
TPS_REG = 1e-3
#: The fast render's splines are evaluated at every node within this many nodes of a landmark
#: or a cut's curve point (elsewhere on every other node, cubic between).
NEAR_REACH = 1




@dataclass
class _CutGeometry:
    cut: Cut
    dst_upper: np.ndarray
    dst_lower: np.ndarray
    src_upper: np.ndarray
    src_lower: np.ndarray
    side_poly: np.ndarray  # destination upper side
    g: np.ndarray  # (ny, nx) side weight on the grid nodes of the zone's box (0 beyond it)
    zone: np.ndarray  # (ny, nx) weight of the cut's fields against F0
    up_nodes: np.ndarray  # (ny, nx) bool: node on the upper side
    open_nodes: np.ndarray  # (ny, nx) bool: node inside the destination opening
    active: np.ndarray  # (ny, nx) bool: node where the two side fields differ
    #: (ny, nx, 2) half the two side fields' difference before the side weight: the upper side's field is
    #: their mean plus ``g`` times it, the lower side's the mean less it (:func:`faceedit.stage.cutwarp.side_fields`)
    half: np.ndarray | None = None


@dataclass
class CutFields:
    """The backward fields of a cut warp on ``grid`` (each (ny, nx, 2); output pixel p samples
    the source at p + field(p)): ``up`` for pixels on a cut's upper side (and everywhere away
    from the cuts), ``low`` for pixels on a lower side (equal to ``up`` away from the cuts),
    ``interior[name]`` for the cut's destination opening (None where no source interior can
    show: the source or the destination opening has no area). ``cuts``: per cut, its curves,
    side polygon and the node masks the fold test used."""

    grid: Grid
    up: np.ndarray
    low: np.ndarray
    interior: dict
    scale: float
    landmarks: np.ndarray
    cuts: list
    #: how far the mouth's given curves follow the plan (:func:`plan_amount`; 0 without ``follow_plan``)
    follows_plan: float = 0.0


def _nodes_inside(grid: Grid, poly: np.ndarray) -> np.ndarray:
    """(ny, nx) bool: the grid nodes inside ``poly`` (rasterised in node units; nodes within
    a small fraction of a cell of the outline may go either way)."""
    m = np.zeros((grid.ny, grid.nx), np.uint8)
    q = (np.asarray(poly, np.float64) - (grid.x0, grid.y0)) / grid.step
    cv2.fillPoly(m, [np.round(q * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return m.astype(bool)


class _SplineBank:
    """Thin-plate splines sharing one set of centres and one evaluation grid: the kernel
    between the nodes and every centre is computed once, and each spline (a subset of the
    centres) is a small solve; the splines of one warp meet the kernel in one matrix product
    (:meth:`fields`). As :class:`~faceedit.stage.warp.ThinPlateSpline`
    (``r^2 log r^2`` in a unit frame, smoothing ``reg``), with the frame of all the centres."""

    def __init__(self, centres: np.ndarray, nodes: np.ndarray, where: np.ndarray | None = None,
                 like: _SplineBank | None = None):
        self.c0: np.ndarray
        self.s: float
        self.p: np.ndarray
        self.kcc: np.ndarray
        if like is not None:  # a bank with the same centres: its frame and centre kernel
            self.c0, self.s, self.p, self.kcc = like.c0, like.s, like.p, like.kcc
        else:
            c = np.asarray(centres, np.float64)
            self.c0 = c.mean(0)
            self.s = max(float(np.abs(c - self.c0).max()), 1e-6)
            self.p = (c - self.c0) / self.s
            dx = self.p[:, None, 0] - self.p[None, :, 0]
            dy = self.p[:, None, 1] - self.p[None, :, 1]
            d2 = torch.from_numpy(dx * dx + dy * dy)
            # r^2 log r^2 in float64 (the solves need it), 0 at r = 0
            self.kcc = torch.where(d2 > 0, d2 * torch.log(d2), 0.0).numpy()
        self.shape = nodes.shape
        # ``where`` (ny, nx) bool: the nodes whose values are wanted (the others come back 0):
        # the kernel, the bulk of the cost, is only evaluated there
        self.rows = None if where is None else np.flatnonzero(np.asarray(where).reshape(-1))
        q = np.asarray(nodes, np.float64).reshape(-1, 2)
        q = ((q if self.rows is None else q[self.rows]) - self.c0) / self.s
        self.q1 = np.hstack([np.ones((len(q), 1)), q])  # affine part
        qt = torch.from_numpy(q).float()
        pt = torch.from_numpy(self.p).float()
        r2 = torch.cdist(qt, pt).square_()
        # the kernel part in float32 as ThinPlateSpline's (< 1e-3 px from float64), the affine
        # part in float64
        self.knc = r2.add(1e-30).log_().mul_(r2).numpy()  # (N, M) float32, 0 at r = 0
        self.nodes = self.q1[:, 1:] * self.s + self.c0  # the nodes' positions, as evaluated

    def field(self, idx, values: np.ndarray, reg: float = TPS_REG) -> np.ndarray:
        """(ny, nx, 2): the spline through centres ``idx`` taking them to ``values``, minus the
        node positions (a backward displacement field)."""
        return self.fields([(idx, values)], reg)[0]

    def fields(self, splines: list[tuple[np.ndarray, np.ndarray]], reg: float = TPS_REG,
               solved: tuple[np.ndarray, list] | None = None) -> list[np.ndarray]:
        """:meth:`field` for each (centres, values) of ``splines``: their kernel weights applied
        in one matrix product (one pass over the kernel). ``solved``: their :meth:`solve` (by a
        bank with the same centres), not solved again."""
        w, affine = self.solve(splines, reg) if solved is None else solved
        kw = self.knc @ w
        out = []
        for j, aff in enumerate(affine):
            f = kw[:, 2 * j:2 * j + 2].astype(np.float64) + self.q1 @ aff
            if self.rows is None:
                out.append((f - self.nodes).reshape(self.shape))
                continue
            full = np.zeros((self.shape[0] * self.shape[1], 2))
            full[self.rows] = f - self.nodes
            out.append(full.reshape(self.shape))
        return out

    def solve(self, splines: list[tuple[np.ndarray, np.ndarray]], reg: float = TPS_REG) -> tuple[np.ndarray, list]:
        """The splines' kernel weights (M, 2 * len(splines)) float32 and affine parts (3, 2)."""
        w = np.zeros((self.knc.shape[1], 2 * len(splines)), np.float32)
        affine = []
        for j, (idx, values) in enumerate(splines):
            idx = np.asarray(idx)
            n = len(idx)
            a = np.zeros((n + 3, n + 3))
            a[:n, :n] = self.kcc[np.ix_(idx, idx)]
            a.flat[:n * (n + 4):n + 4] += reg  # the diagonal of the kernel block
            a[:n, n] = 1.0
            a[:n, n + 1:] = self.p[idx]
            a[n, :n] = 1.0
            a[n + 1:, :n] = self.p[idx].T
            b = np.zeros((n + 3, 2))
            b[:n] = values
            try:
                coef = np.linalg.solve(a, b)
            except np.linalg.LinAlgError:  # coincident centres without smoothing
                coef = np.linalg.lstsq(a, b, rcond=None)[0]
            w[idx, 2 * j:2 * j + 2] = coef[:n]
            affine.append(coef[n:])
        return w, affine


def _nodes_near(grid: Grid, pts: np.ndarray, reach: int = 2) -> np.ndarray:
    """(ny, nx) bool: the grid nodes within ``reach`` nodes (a square) of the nearest node of
    any of ``pts``."""
    m = np.zeros((grid.ny, grid.nx), np.uint8)
    q = np.rint((np.asarray(pts, np.float64) - (grid.x0, grid.y0)) / grid.step).astype(np.int64)
    q = q[(q[:, 0] >= 0) & (q[:, 0] < grid.nx) & (q[:, 1] >= 0) & (q[:, 1] < grid.ny)]
    m[q[:, 1], q[:, 0]] = 1
    return cv2.dilate(m, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(bool)


def cut_fields(src_lm: np.ndarray, dst_lm: np.ndarray, grid: Grid, cuts: list[Cut] | None = None,
               min_jacobian: float = MIN_JACOBIAN,
               src_curves: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
               close_mouth: float = 0.0, mouth_interior: bool = True, teeth_rise: float = 0.0,
               tuning: WarpTuning | None = None, follow_plan: bool = False,
               upper_from: tuple[float, float] = (0.0, 0.0), brows: np.ndarray | None = None) -> CutFields:
    """The cut warp's fields moving ``src_lm`` to ``dst_lm`` ((68, 2) photo coordinates) on
    ``grid`` (default cuts: the mouth). ``src_curves``: {cut name: (upper, lower)} source curves
    (corner to corner, the corner of the cut's first landmark first) in place of those through
    the 68 points; their destination follows the move of the 68-point curves (see
    :func:`given_curves`); where ``close_mouth`` is above 0 they are kept inside the 68 points'
    outer lips (:func:`~faceedit.stage.cut_curves.inside_outer_lips`) and the outer-lip points'
    destinations beyond them (:func:`~faceedit.stage.cut_curves.keep_lips_whole`). ``close_mouth`` (0..1): the mouth's destination curves are then moved
    that much of the way to their midline (in the middle brought down as far as the upper lip
    keeps its source thickness, :func:`~faceedit.stage.cut_curves.meeting_drop`, the 68 points'
    inner lips with it), so lips the move closes meet along the given curves too (the 68 points' inner lips of a smile can lie on the teeth, nearer each other than the
    lips' edges are). ``mouth_interior`` False: the source mouth shows nothing to carry (closed
    lips, whose loop covers only the crease between them): all of the new opening is hole.
    ``teeth_rise``: the mouth's carried interior is sampled that fraction of the source
    opening's middle height lower, so the teeth rise under the upper lip (a smile's lifted lip
    relaxing over them as the mouth opens in surprise). When a field would fold where it is
    used, the whole move is scaled down (bisection) until none does. ``tuning``: the region
    moved, the forehead's pins and how the mouth's curves follow and round
    (:class:`~faceedit.stage.tuning_face.WarpTuning`, default its defaults). ``follow_plan``
    (a laugh's teeth carried into a reshaped opening): the given mouth curves come onto the
    planned ones, their corners onto the planned inner corners
    (:attr:`~faceedit.stage.tuning_face.WarpTuning.plan_follows`,
    :func:`~faceedit.stage.cut_curves.follow_curves`), and are rounded as planned, as far as the
    mouth narrows (:func:`plan_amount`, kept in :attr:`CutFields.follows_plan`). A mouth whose
    move narrows it that way and leaves it open (``close_mouth`` 0) keeps its upper lip's own
    width in the middle: the upper curve's and the outer upper lip's destinations slide along
    their curves as far (:func:`~faceedit.stage.cut_curves.unsqueezed`); a thin opening's lips
    then meet toward its corners (:func:`~faceedit.stage.cut_curves.pointed_ends`). ``upper_from``:
    the arc shares of the mouth's source upper curve from each corner over which no upper lip
    lies above it (:func:`~faceedit.stage.lip_start.upper_lip_from`): the upper side's field
    takes that stretch onto the new curve's tip (:func:`~faceedit.stage.lip_start.corner_stretch`). ``brows``:
    how deep each brow's band is carried (:func:`~faceedit.stage.warp.carried_points`); None: ``tuning``'s band."""
    tn = tuning if tuning is not None else WarpTuning()
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    band = None if brows is None else (brows, tn.brow_band[3])
    cuts = [MOUTH] if cuts is None else list(cuts)
    nodes = grid.points()
    coarse = None if is_exact() else half_grid(grid).points()
    anchors = warp_anchors(src_lm, dst_lm, tn)
    slid = slid_anchors(src_lm, dst_lm, anchors)  # (a dropped chin slides over the neck)
    cut_pts = {i for c in cuts for i in c.upper + c.lower}
    base = sorted(set(WARP_POINTS) - cut_pts)  # the corners come with the curves
    nbase = len(base)
    up_dir = face_up(src_lm)
    src_cut = {c.name: cut_curves(src_lm, c) for c in cuts}  # the same at every scale tried
    given = {c.name: given_curves(*src_curves[c.name], *src_cut[c.name])
             for c in cuts if src_curves and c.name in src_curves}
    if MOUTH.name in given and close_mouth > 0:  # the closing cut keeps some of each lip (a mesh's
        # loop can lie past one)
        given[MOUTH.name] = inside_outer_lips(src_lm, *given[MOUTH.name], tn.lips_inside)

    def build(scale: float) -> tuple[CutFields, bool]:
        moved = src_lm + scale * (dst_lm - src_lm)
        w = slid_region_weight(src_lm, moved, grid, tn)[..., None]
        moved_anchors = anchors + scale * (slid - anchors)
        curves = []
        plans: dict[str, float] = {}
        teeth: dict[str, np.ndarray] = {}
        for c in cuts:
            (du, dl), (su, sl) = cut_curves(moved, c), src_cut[c.name]
            if c.name in given:  # the given source curves, moved as the 68-point ones
                gu, gl = given[c.name]
                plan = None
                if follow_plan and c.name == MOUTH.name:
                    plan = (*tn.plan_follows, plan_amount(su, du, tn))
                    plans[c.name] = plan[2]
                planned = (du, dl)
                (du, dl), (su, sl) = follow_curves(gu, gl, su, sl, du, dl, tn.opening_follows, plan), (gu, gl)
                if plan is not None:  # (the narrowed opening's ends at the planned corners)
                    ends = narrowed(src_cut[c.name][0], planned[0], tn.plan_corners[:2])
                    du, dl = onto_corners(du, dl, (planned[0][0], planned[0][-1]), tn.plan_corners[2], ends)
            if c.name == MOUTH.name and close_mouth > 0:
                mid = (du + dl) / 2
                if c.name in given:  # the upper lip keeps its thickness: the lips meet lower
                    drop = meeting_drop(src_lm, moved, (su, sl), mid, tn.lips_opening, grow=tn.lips_meet_grow)
                    if drop > 0:
                        corners = (mid[0], mid[-1])
                        mid = dropped(mid, corners, drop, up_dir, tn.lips_drop_reach)
                        moved = moved.copy()  # the 68 points' inner lips meet there too
                        inner = [61, 62, 63, 65, 66, 67]
                        moved[inner] = dropped(moved[inner], corners, close_mouth * scale * drop, up_dir,
                                               tn.lips_drop_reach)
                du, dl = du + close_mouth * scale * (mid - du), dl + close_mouth * scale * (mid - dl)
            if c.name == MOUTH.name:
                # (following the plan, the photo's own open shape is not kept: rounded as planned)
                kept_u, kept_l = round_opening(du, dl, su, sl, tn.round_aspect)
                a = plans.get(c.name, 0.0)
                if a > 0:  # (following the plan, the photo's own open shape is not kept)
                    plan_u, plan_l = round_opening(du, dl, None, None, tn.round_aspect)
                    kept_u, kept_l = kept_u + a * (plan_u - kept_u), kept_l + a * (plan_l - kept_l)
                du, dl = kept_u, kept_l
                if close_mouth == 0:  # (an opening's outline: smooth, its ends round)
                    du, dl = smooth_outline(du, dl, tn, su, sl)
                # a narrowing mouth that stays open keeps its upper lip's own width in the middle
                # (moved, not squeezed)
                narrows = plan_amount(src_cut[c.name][0], cut_curves(moved, c)[0], tn) if close_mouth == 0 else 0.0
                if narrows > 0:
                    teeth[c.name] = du  # (the teeth's rigid frame stays the planned curve's)
                    chords = ((su[0], su[-1]), (du[0], du[-1]))
                    du = np.vstack([du[:1], unsqueezed(du[1:-1], su[1:-1], du, *chords, narrows), du[-1:]])
                    outer = list(c.upper_only)
                    moved = moved.copy()
                    moved[outer] = unsqueezed(moved[outer], src_lm[outer], catmull_rom(moved[[48, *outer, 54]]),
                                              *chords, narrows)
                if follow_plan and c.name in given:  # a laugh's blunt ends: the lips meet at the corners
                    du, dl = pointed_ends(du, dl, tn.round_aspect, tn.plan_meet, tn.plan_taper, tn.plan_point)
            if c.name == MOUTH.name and c.name in given and close_mouth > 0:  # the outer lips stay
                # beyond the given curves that close
                chord = float(np.linalg.norm(su[-1] - su[0]))
                moved = keep_lips_whole(src_lm, moved, c, (su, sl), (du, dl), tn.lips_kept, tn.lips_beside * chord,
                                        tn.lips_kept_most, tn.lips_beside_most * chord)
            curves.append(((du, dl), (su, sl)))
        corners_dst = [x for (du, _), _ in curves for x in (du[0], du[-1])]
        corners_src = [x for _, (su, _) in curves for x in (su[0], su[-1])]
        # (and the bands carried with the upper lids and the brows, last)
        base_dst, base_src = carried_values(np.vstack([moved[base], moved_anchors, corners_dst]),
                                            np.vstack([src_lm[base], anchors, corners_src]),
                                            carried_points(src_lm, moved, *tn.carried_bands, brows=band), TPS_REG)
        nb = len(base_dst)
        n_carried = nb - (nbase + len(anchors) + len(corners_dst))
        # every spline's centres: the base points (landmarks, anchors, the cuts' corners, the carried bands), then
        # each cut's curve points
        centre_parts, value_parts, first = [base_dst], [base_src], []
        for cut, ((du, dl), (su, sl)) in zip(cuts, curves):
            first.append(nb + sum(len(x) for x in centre_parts[1:]))
            centre_parts += [du[1:-1], dl[1:-1]]
            if cut.name == MOUTH.name and max(upper_from) > 0:  # (the new corner takes the lip)
                su = corner_stretch(su, upper_from, tn.lip_from_shape)
            value_parts += [su[1:-1], sl[1:-1]]
        centres, values = np.vstack(centre_parts), np.vstack(value_parts)
        if coarse is None:
            bank = _SplineBank(centres, nodes, w[..., 0] > 0)  # every field is used times w
        else:  # the fast render: the splines on every other node, cubic between, and at every
            # node near a landmark or a cut's curve (where the fields bend most)
            bank = _SplineBank(centres, coarse)
            near = _nodes_near(grid, np.vstack([base_dst[:nbase], *centre_parts[1:]]), NEAR_REACH) & (w[..., 0] > 0)
            detail = _SplineBank(centres, nodes, near, like=bank)
        splines = [(np.arange(nb), base_src)]  # F0, then each cut's upper and lower side
        for cut, ((du, _), _), i0 in zip(cuts, curves, first):
            m = len(du) - 2
            on_up, on_low = np.arange(i0, i0 + m), np.arange(i0 + m, i0 + 2 * m)
            keep_up = [k for k, i in enumerate(base) if i not in cut.lower_only]
            keep_up = np.r_[keep_up, np.arange(nbase, nb), on_up]  # + anchors, corners, the curve
            keep_low = [k for k, i in enumerate(base) if i not in cut.upper_only]
            # (an eye's lower lid: not the bands carried over its upper lid)
            shared = np.arange(nbase, nb if cut.name == MOUTH.name else nb - n_carried)
            keep_low = np.r_[keep_low, shared, on_low]
            splines += [(keep_up, values[keep_up]), (keep_low, values[keep_low])]
        if coarse is None:
            made = [f * w for f in bank.fields(splines)]
        else:
            solved = bank.solve(splines)
            made = [np.where(near[..., None], f_near, upsample_nodes(f, grid.ny, grid.nx)) * w
                    for f, f_near in zip(bank.fields(splines, solved=solved), detail.fields(splines, solved=solved))]
        f0 = made[0]
        up_total, low_total = f0.copy(), f0.copy()
        zone_sum = np.zeros(nodes.shape[:2])
        ok = True
        interior, geos, extras = {}, [], []
        for j, (cut, ((du, dl), (su, sl))) in enumerate(zip(cuts, curves)):
            f_up, f_low = made[1 + 2 * j], made[2 + 2 * j]
            hole = opening_polygon(du, dl)
            # signed distances to the opening where the zone is above 0 (within zone[1] chord
            # lengths of it, plus a pixel's margin); farther nodes are far outside
            reach = tn.zone[1] * max(float(np.linalg.norm(du[-1] - du[0])), 1e-6) + 1.0
            near = ((nodes >= hole.min(0) - reach) & (nodes <= hole.max(0) + reach)).all(-1)
            inside = np.full(nodes.shape[:2], -np.inf)
            inside[near] = polygon_distance(hole, nodes[near])
            zone = zone_weight(du, dl, nodes, inside, tn)
            open_nodes = inside > 0
            # the side weight and the blended side fields only where the zone is above 0 (its
            # box): elsewhere they add nothing
            rows, cols = np.flatnonzero((zone > 0).any(1)), np.flatnonzero((zone > 0).any(0))
            box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)) if rows.size else (slice(0, 0),) * 2
            g = np.zeros(nodes.shape[:2] + (1,))
            g[box] = side_weight(du, dl, nodes[box], tn)[..., None]
            gb, diff = g[box], f_up[box] - f_low[box]
            b_up = f_low[box] + 0.5 * (1 + gb) * diff
            b_low = f_low[box] + 0.5 * (1 - gb) * diff
            side = upper_side_polygon(du, dl, up_dir)
            up_nodes = _nodes_inside(grid, side)
            if polygon_area(opening_polygon(su, sl)) < 0.5 or polygon_area(hole) < 0.5 or \
                    (cut.name == MOUTH.name and not mouth_interior):
                f_in = None  # no source interior to show, or nowhere to show it
            elif cut.interior == "upper":
                f_in = rigid_field(teeth.get(cut.name, du), su, nodes) if not follow_plan or cut.name != MOUTH.name \
                    else hung_field(teeth.get(cut.name, du), du, su, nodes, hang_amount(du, dl, tn.teeth_hang, tn.round_aspect))
                if cut.name == MOUTH.name and teeth_rise > 0:  # sampled lower: the teeth rise
                    m_mid = len(su) // 2
                    f_in = f_in + teeth_rise * (sl[m_mid] - su[m_mid])
            else:
                f_in = f0
            interior[cut.name] = f_in
            # nodes where the side matters: the two side fields differ by more than 1/100 px
            # (remap resolves 1/32 px)
            active = np.zeros(nodes.shape[:2], bool)
            active[box] = (zone[box][..., None] * gb * np.abs(diff)).max(-1) > 0.01
            geos.append(_CutGeometry(cut, du, dl, su, sl, side, g[..., 0], zone, up_nodes,
                                     open_nodes, active))
            extras.append((box, zone, b_up, b_low, diff))
            zone_sum += zone
        norm = np.maximum(zone_sum, 1.0)[..., None]  # overlapping zones share (never expected)
        for geo, (box, zone, b_up, b_low, diff) in zip(geos, extras):
            share = zone[box][..., None] / norm[box]
            up_total[box] += share * (b_up - f0[box])
            low_total[box] += share * (b_low - f0[box])
            geo.half = np.zeros(nodes.shape[:2] + (2,))
            geo.half[box] = 0.5 * share * diff
        # where each field is used (its side of every cut, the area away from the cuts), with a
        # ring of nodes around that (pixels there interpolate from them)
        k = np.ones((3, 3), np.uint8)
        use_up = np.ones(nodes.shape[:2], bool)
        use_low = np.ones(nodes.shape[:2], bool)
        for geo in geos:
            use_up &= ~(geo.active & ~geo.up_nodes)
            use_low &= ~(geo.active & (geo.up_nodes | geo.open_nodes))
        use_up = cv2.dilate(use_up.astype(np.uint8), k).astype(bool)
        use_low = cv2.dilate(use_low.astype(np.uint8), k).astype(bool)
        step = grid.step
        # (the first field that folds decides: the others are not tested)
        ok = ok and bool(jacobian_det(up_total, step)[use_up].min(initial=np.inf) >= min_jacobian)
        ok = ok and bool(jacobian_det(low_total, step)[use_low].min(initial=np.inf) >= min_jacobian)
        for geo in geos:
            shown = interior[geo.cut.name]
            if ok and shown is not None and geo.open_nodes.any():
                near = cv2.dilate(geo.open_nodes.astype(np.uint8), k).astype(bool)
                ok = bool(jacobian_det(shown, step)[near].min() >= min_jacobian)
        return CutFields(grid, up_total, low_total, interior, scale, moved, geos, plans.get(MOUTH.name, 0.0)), ok

    fields, ok = build(1.0)
    if ok:
        return fields
    lo, hi = 0.0, 1.0
    for _ in range(10):
        mid = (lo + hi) / 2
        if build(mid)[1]:
            lo = mid
        else:
            hi = mid
    return build(lo)[0]


def plan_amount(src_upper: np.ndarray, moved_upper: np.ndarray, tuning: WarpTuning) -> float:
    """How far a laugh's found mouth curves follow the plan
    (:attr:`~faceedit.stage.tuning_face.WarpTuning.plan_narrowing`): by how much the reference
    curves' corner-to-corner width narrows from ``src_upper`` to ``moved_upper``."""
    return narrowed(src_upper, moved_upper, tuning.plan_narrowing)


def narrowed(src_upper: np.ndarray, moved_upper: np.ndarray, between: tuple[float, float]) -> float:
    """0..1: how far the corner-to-corner width of ``moved_upper`` over ``src_upper``'s is below
    ``between``'s second share, wholly at its first (smoothstep)."""
    w0 = max(float(np.linalg.norm(src_upper[-1] - src_upper[0])), 1e-6)
    ratio = float(np.linalg.norm(moved_upper[-1] - moved_upper[0])) / w0
    lo, hi = between
    t = float(np.clip((hi - ratio) / (hi - lo), 0.0, 1.0))
    return t * t * (3 - 2 * t)


def onto_corners(upper: np.ndarray, lower: np.ndarray, corners: tuple[np.ndarray, np.ndarray],
                 reach: float, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Mouth curves ``upper``/``lower`` (corner to corner, sharing their ends) whose ends short of
    the planned ``corners`` (first, last; inside them along the chord) come ``amount`` of the way
    onto them: each curve shifted by those ends' offsets, each fading to none over ``reach`` of
    the curve's arc from its end (smoothstep), the middle left where it is; an end already past
    its corner stays (it reaches into the photo's dark corner). (Given curves keep their ends'
    offsets from the 68 points' corners in pixels: a smile's found cut ending 19 px short of one
    corner set its narrowed opening that far off centre, the long closed stretch at that side
    filled with the smile's carried corner, a pale pink tab.)"""
    if amount <= 0:
        return upper, lower
    up = np.asarray(upper, np.float64)
    chord = (up[-1] - up[0]) / max(float(np.linalg.norm(up[-1] - up[0])), 1e-9)
    shift = [d if float(d @ o) > 0 else np.zeros(2) for d, o in
             ((np.asarray(corners[0], np.float64) - up[0], -chord),
              (np.asarray(corners[1], np.float64) - up[-1], chord))]
    out = []
    for c in (up, np.asarray(lower, np.float64)):
        t = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(c, axis=0), axis=1))]
        u = (t / t[-1] if t[-1] > 0 else np.linspace(0.0, 1.0, len(c)))[:, None]
        fade = [np.clip(1.0 - s / max(reach, 1e-6), 0.0, 1.0) for s in (u, 1.0 - u)]
        fade = [f * f * (3 - 2 * f) for f in fade]
        out.append(c + amount * (fade[0] * shift[0] + fade[1] * shift[1]))
    return out[0], out[1]


def rigid_field(dst_curve: np.ndarray, src_curve: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Backward field (nodes (..., 2) -> source offset) of the rigid motion (rotation and
    translation, no scaling) that takes the source curve's chord onto the destination's: what
    the upper teeth do when the upper lip moves. (A spline through the lip stretched them with
    the mouth: a smile narrowed into a surprised O would show tall, thin teeth.)"""
    def frame(c: np.ndarray) -> tuple[np.ndarray, float]:
        d = c[-1] - c[0]
        return c.mean(0), float(np.arctan2(d[1], d[0]))

    (cd, ad), (cs, as_) = frame(np.asarray(dst_curve, np.float64)), frame(np.asarray(src_curve, np.float64))
    t = as_ - ad
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    src = (nodes - cd) @ rot.T + cs
    return src - nodes


def polygon_area(poly: np.ndarray) -> float:
    """Absolute area of a closed polygon (shoelace)."""
    x, y = np.asarray(poly, np.float64).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
