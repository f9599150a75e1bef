"""A dense, fold-free face warp with the inner-lip contour (and optionally the eyelids) as
cuts: lips part and close at a photo's full resolution.

(The cuts' curves, polygons and weights are in :mod:`faceedit.stage.cut_curves`, their fields
in :mod:`faceedit.stage.cut_fields`; the plain warp's pieces it reuses in
:mod:`faceedit.stage.warp`. This module resamples the photo.)

:func:`faceedit.stage.warp.backward_field` is one smooth map, so it cannot part two lips that
touch (the inner lips are left out of it). :func:`cut_warp` lets the map tear along a *cut*: a
curve from one corner (the inner mouth corners 60 and 64) to the other, with an upper and a
lower side that move independently.

How (the two-field construction; chosen over a triangulated piecewise-affine mesh because every
field stays a smooth thin-plate spline sampled bilinearly from a coarse grid, so the photo shows
no kinks along triangle edges at full resolution, and the fold test is the Jacobian of smooth
fields):

* Each cut has two destination curves, ``upper`` and ``lower`` (centripetal Catmull-Rom through
  60,61,62,63,64 and 60,67,66,65,64; :func:`lip_curves`), and the same curves in the source.
* Backward fields (output pixel -> source position) on the coarse face grid (a
  :class:`~faceedit.stage.warp.Grid`, as ``backward_field``), all thin-plate splines times
  :func:`~faceedit.stage.warp.region_weight`, so exactly zero beyond the face region: ``F0``
  through the plain warp's driving points (:data:`~faceedit.stage.warp.WARP_POINTS`, the
  fixed anchors around the face) plus the cut's corners; ``F_up`` the same without the lower
  outer lip (:attr:`Cut.lower_only`) plus the dense upper curve (destination upper curve ->
  source upper curve); ``F_low`` likewise with the lower curve, without the upper outer lip.
  (A spline through both a lip's outer points and the other lip's inner curve folds when the
  destination is closed: the two lie a lip's thickness apart there but map across the source
  opening.)
* Which field a pixel uses. The side label: a polygon of the region above the destination
  upper curve, closed by rays out of the two corners along the outward bisector of the two
  curves (:func:`upper_side_polygon`). The side weight ``g`` (:func:`side_weight`): the angle,
  seen from the nearer corner, between the pixel and that corner's ray, through a smoothstep
  from 30 to 75 degrees: 1 over the whole region above and below the mouth, 0 on the rays. On
  the upper side the field is ``F_low + (1+g)/2 (F_up - F_low)``, on the lower side
  ``F_low + (1-g)/2 (F_up - F_low)``: each side's own field alone above and below the lips,
  the same average of both on the rays, where the label changes, so the map is continuous
  everywhere but across the cut. A zone weight (:func:`zone_weight`, 1 up to 0.4 and 0 from
  0.8 corner-to-corner lengths away from the opening) fades both into ``F0``. The fields are
  smooth grid fields sampled per pixel (bilinearly); round each corner (:data:`CORNER_CELLS`)
  the side weight is read at each pixel (:func:`side_fields`: the two sides' mean plus and less
  ``g`` times their half difference), since ``g`` read on the nodes and interpolated is not 0 on
  the rays within a cell of a corner (the two sides there px apart: a step in the skin beside
  the corner). The label and the opening are decided per pixel, with exact anti-aliased polygon
  coverage where it matters (the opening's box), a plain label elsewhere (on the rays both
  fields agree).
* The destination opening (the polygon between the two destination curves) samples neither
  side: an interior field ``F_in`` (for the mouth: the rigid motion of the upper inner lip's
  chord, :func:`rigid_field`, so the teeth move with the upper lip and keep their size; for
  an eye: ``F0``, the eyeball stays) maps it into the source; where that lands inside the source
  opening (the source polygon between its curves) the photo's own interior is shown
  (``interior``), elsewhere nothing in the source can fill it (``opening``): those pixels are
  painted with a smooth membrane of the surrounding lip colours for the caller to paint over.
* Lips never show the source interior: before the two side fields sample the photo, the source
  opening is replaced by the same membrane fill of the lips around it, so even the bicubic
  kernel at the lip line reads lip colours, and closing a smiling mouth leaves no teeth.
* Fold-free: the Jacobian determinant of each field, on the grid nodes where it is used, is at
  least :data:`~faceedit.stage.warp.MIN_JACOBIAN`; otherwise the whole move is scaled down (a
  bisection, as ``backward_field``).

The photo is resampled once per pixel (bicubic) over the face region's ROI; only the lower
side's pixels near a cut and the opening's box are resampled again (with their own fields) and
composited. A zero move returns the input unchanged; a pixel where every field is zero (beyond
the face region) is the input's own, bit for bit.

Better curves (``lips=``): the 68-point inner lips of a smile often sit on the teeth rather
than at the lip's edge (on the London smiles, up to ~10 px at 1350 px), and what lies outside
the curves moves with the lips, teeth included. A caller with a face mesh can cut along its
inner-lip loop instead; those curves follow the 68-point curves' move (:func:`follow_curves`).

Eyelids (``eyelids=True``): the same cut between the upper lid (36,37,38,39) and the lower lid
(36,41,40,39), and likewise for the other eye; the eye interior stays with the face (``F0``).
A blink then closes the lids over the landmark eye polygon; the detector's eye contour often
lies inside the visible eye (on the London photos a few pixels of iris and white stay outside
it), and what lies outside the polygon moves with the lids.

Coordinates: x right, y down, pixel centres at integers (as :mod:`faceedit.stage.warp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.stage.chin_slide import slid_grid
from faceedit.stage.corner_fill import hidden_corners
from faceedit.stage.cut_curves import (
    LEFT_EYE,
    MAX_LIP_TURN,
    MOUTH,
    RIGHT_EYE,
    corner_wedges,
    covered_row_ends,
    given_curves,
    lip_curves,
    narrowed_teeth,
    opening_polygon,
    polygon_coverage,
    sharpest_turn,
    side_weight,
)
from faceedit.stage.cut_fields import cut_fields
from faceedit.stage.lip_edge import found_lower_lip
from faceedit.stage.lip_start import rim_muted, upper_lip_from
from faceedit.stage.lip_top import found_upper_lip
from faceedit.stage.membrane import membrane_fill, mirrored_grain
from faceedit.stage.precision import is_exact
from faceedit.stage.teeth_look import small_weight
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import (
    MIN_JACOBIAN,
    Grid,
    face_grid,
)


@dataclass
class CutWarpResult:
    """What :func:`cut_warp` made.

    ``pixels``: the warped photo (a new array, the input's dtype and shape). Inside ``opening``
    it holds a smooth fill of the surrounding lip colours: a placeholder for the caller to
    paint the mouth interior over (``pixels * (1 - opening) + filler * opening`` over ``roi``).
    ``roi``: (x0, y0, x1, y1), the area the warp may change (nothing outside it changed).
    ``opening``: float32 (y1-y0, x1-x0) in [0, 1]: the part of the destination mouth opening
    that nothing in the source fills (anti-aliased, ~1 px edge). ``interior``: same shape, the
    part of the destination opening that shows the source's own mouth interior (its teeth),
    carried with the upper lip; ``opening + interior`` is the coverage of the destination
    opening. ``eye_opening``: the same as ``opening`` for the eyes (all zero without
    ``eyelids``): eye area opened wider than the source shows. ``upper`` / ``lower``: (N, 2)
    destination inner-lip curves, corner 60 to corner 64. ``scale``: the fraction of the move
    applied (< 1 only where the full move would fold). ``landmarks``: (68, 2) the landmarks
    reached, ``src + scale * (dst - src)`` (with ``lips`` and ``close_mouth``, the outer-lip
    points kept beyond the given curves: :func:`~faceedit.stage.cut_curves.keep_lips_whole`)."""

    pixels: np.ndarray
    roi: tuple[int, int, int, int]
    opening: np.ndarray
    interior: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    scale: float
    landmarks: np.ndarray
    eye_opening: np.ndarray
    #: the face's field (the cuts' upper sides) on its refined grid; None: nothing moved
    face_field: tuple[Grid, np.ndarray] | None = None
    #: the ROI of the face's own grid (:func:`~faceedit.stage.warp.face_grid`, inside ``roi``, which reaches
    #: below a dropped jaw): the mouth's window (:func:`~faceedit.stage.chin_slide.face_window`); None: ``roi``
    face_roi: tuple[int, int, int, int] | None = None

    def source_points(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(y1-y0, x1-x0, 2) float32: where in the source photo each pixel of ``box`` (x0, y0, x1,
        y1) was sampled from by the face's field (the cuts' upper sides: everything but the
        lower lip, the jaw and, with eyelids cut, the lower lids, whose fields differ only near
        their cuts)."""
        x0, y0, x1, y1 = box
        if self.face_field is None:
            return np.stack(np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)), -1)
        out = _sample(*self.face_field, box)  # (a new array: each pixel's own place added to it)
        out[..., 0] += np.arange(x0, x1, dtype=np.float32)
        out[..., 1] += np.arange(y0, y1, dtype=np.float32)[:, None]
        return out


def _sample(grid: Grid, node_field: np.ndarray, box) -> np.ndarray:
    """A node field (ny, nx, C) bilinearly sampled at every pixel of ``box`` (as
    ``Grid.sample``, as one affine resampling: no per-pixel coordinate arrays). OpenCV places
    the sampling points to 1/32 of a cell; sample a :func:`_refined` field for finer."""
    x0, y0, x1, y1 = box
    m = np.array([[1.0 / grid.step, 0.0, (x0 - grid.x0) / grid.step],
                  [0.0, 1.0 / grid.step, (y0 - grid.y0) / grid.step]])
    out = cv2.warpAffine(np.ascontiguousarray(node_field, np.float32), m, (x1 - x0, y1 - y0),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(out.shape[:2] + node_field.shape[2:])


#: Round each corner of a cut, within this many grid cells, the side weight is read at each pixel
#: (:func:`side_fields`); the last quarter of the way the nodes' fields fade in.
CORNER_CELLS = 2.0


def side_fields(fine: Grid, up_px: np.ndarray, low_px: np.ndarray, half_px: np.ndarray, geo,
                box: tuple[int, int, int, int], tuning: WarpTuning, corner: np.ndarray,
                step: float) -> tuple[np.ndarray, np.ndarray]:
    """The upper and the lower side's backward fields (h, w, 2) over ``box`` round a ``corner`` of the cut
    ``geo`` (:class:`~faceedit.stage.cut_fields._CutGeometry`; ``step``: the grid's cell, px): their mean
    (``up_px``, ``low_px`` on the :func:`_refined` grid ``fine``) plus and less the cut's ``half`` difference
    (``half_px``, refined) times its side weight (:func:`~faceedit.stage.cut_curves.side_weight`) read at each
    pixel, 0 on the rays out of the corners: the two sides meet there without a step. Within
    :data:`CORNER_CELLS` cells of the corner, the nodes' own fields faded in over the last quarter of it."""
    x0, y0, x1, y1 = box
    up, low = _sample(fine, up_px, box), _sample(fine, low_px, box)
    mean = 0.5 * (up + low)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    pts = np.stack([xx, yy], -1).astype(np.float64)
    g = side_weight(geo.dst_upper, geo.dst_lower, pts, tuning)
    part = g[..., None].astype(np.float32) * _sample(fine, half_px, box)
    reach = CORNER_CELLS * step
    w = np.clip((reach - np.linalg.norm(pts - corner, axis=-1)) / (0.25 * reach), 0.0, 1.0)[..., None]
    w = w.astype(np.float32)
    return up + w * (mean + part - up), low + w * (mean - part - low)


def _refined(grid: Grid, node_field: np.ndarray, k: int = 4) -> tuple[Grid, np.ndarray]:
    """The same bilinear field on a grid ``k`` times finer: its nodes at k-ths of a cell, where
    OpenCV's 1/32-cell sampling is exact (k divides 32), and bilinear interpolation between them
    reproduces the coarse bilinear field. Sampling that places points to 1/32 of a fine cell
    (~0.1 px on a 1350-px face) instead of a coarse one (~0.5 px)."""
    fine = Grid(grid.x0, grid.y0, grid.step / k, (grid.nx - 1) * k + 1, (grid.ny - 1) * k + 1)
    m = np.array([[1.0 / k, 0.0, 0.0], [0.0, 1.0 / k, 0.0]])
    out = cv2.warpAffine(np.ascontiguousarray(node_field, np.float32), m, (fine.nx, fine.ny),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return fine, out.reshape(out.shape[:2] + node_field.shape[2:])


def _moving_bands(grid: Grid, node_field: np.ndarray, roi) -> list[tuple[int, int, int, int]]:
    """Boxes covering every pixel of ``roi`` that ``node_field`` moves by 1/64 px or more: per
    row of grid cells, the columns of cells with such a corner node. Every other pixel moves by
    less, and remap's fixed-point coordinates (1/32 px) round that to the pixel itself."""
    moving = np.abs(node_field).max(-1) >= 1.0 / 64
    cells = moving[:-1, :-1] | moving[1:, :-1] | moving[:-1, 1:] | moving[1:, 1:]
    rows = np.flatnonzero(cells.any(1))
    if len(rows) == 0:
        return []
    first = cells[rows].argmax(1)  # first and last moving cell of each such row
    last = cells.shape[1] - 1 - cells[rows, ::-1].argmax(1)
    edge = lambda o, k: np.ceil(o + grid.step * k - 1e-9).astype(np.int64)  # noqa: E731 (first pixel at or past node line k)
    boxes = np.stack([np.maximum(edge(grid.x0, first), roi[0]), np.maximum(edge(grid.y0, rows), roi[1]),
                      np.minimum(edge(grid.x0, last + 1), roi[2]), np.minimum(edge(grid.y0, rows + 1), roi[3])], 1)
    boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    return [tuple(b) for b in boxes.tolist()]


def _clip_box(box, limit) -> tuple[int, int, int, int]:
    """``box`` (x0, y0, x1, y1) cut to ``limit`` (possibly empty: x1 <= x0 or y1 <= y0)."""
    return (max(box[0], limit[0]), max(box[1], limit[1]), min(box[2], limit[2]), min(box[3], limit[3]))


def _box_around(pts: np.ndarray, margin: float, shape) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    lo = np.floor(pts.min(0) - margin).astype(int)
    hi = np.ceil(pts.max(0) + margin).astype(int) + 1
    return (int(np.clip(lo[0], 0, w)), int(np.clip(lo[1], 0, h)),
            int(np.clip(hi[0], lo[0], w)), int(np.clip(hi[1], lo[1], h)))


def _remap(src: np.ndarray, field_px: np.ndarray, box, interp=cv2.INTER_CUBIC,
           border=cv2.BORDER_REFLECT, origin=(0, 0), window=(0, 0)) -> np.ndarray:
    """``src`` sampled at the pixels of ``box`` (photo coordinates) moved by ``field_px``
    ((h, w, 2) displacements); ``origin`` is ``src``'s top-left corner in the photo.
    ``window``: the same for a window of the photo whose samples must be the whole photo's:
    the positions are made in photo coordinates and then shifted by a whole number of pixels
    (exact in float32), so every sample is the one the whole photo gives."""
    x0, y0, x1, y1 = box
    mx = np.arange(x0 - origin[0], x1 - origin[0], dtype=np.float32)[None, :] + field_px[..., 0]
    my = np.arange(y0 - origin[1], y1 - origin[1], dtype=np.float32)[:, None] + field_px[..., 1]
    if window != (0, 0):
        mx -= np.float32(window[0])
        my -= np.float32(window[1])
    if max(src.shape[:2]) < 32000 and interp != cv2.INTER_LINEAR:
        # fixed-point maps (1/32 px): the same pixels as float maps in about half the time
        mx, my = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    out = cv2.remap(src, mx, my, interp, borderMode=border)
    return out.reshape(out.shape[:2] + src.shape[2:])


def _to_dtype(x: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.rint(x), info.min, info.max).astype(dtype)


def cut_warp(pixels: np.ndarray, src_lm: np.ndarray, dst_lm: np.ndarray, *,
             eyelids: bool = False, lips: tuple[np.ndarray, np.ndarray] | None = None,
             close_mouth: float = 0.0, mouth_interior: bool = True, teeth_rise: float = 0.0,
             carry_lower: np.ndarray | None = None, hide_lower: np.ndarray | None = None,
             found_corners: bool = False, photo_scale: float = 1.0, min_jacobian: float = MIN_JACOBIAN,
             tuning: WarpTuning | None = None, brows: np.ndarray | None = None) -> CutWarpResult:
    """Warp the face in ``pixels`` ((H, W, 3) or (H, W), uint8 or uint16, any size) from
    landmarks ``src_lm`` to ``dst_lm`` ((68, 2) photo coordinates) with the inner-lip contour
    (and with ``eyelids`` the eyelids) as cuts: see the module notes and :class:`CutWarpResult`.
    ``lips``: the source's inner-lip curves (upper, lower), corner to corner, to cut along in
    place of the curves through landmarks 60-67, e.g. a face mesh's inner-lip loop
    (``Face.dense[MESH_INNER_UPPER]`` / ``[MESH_INNER_LOWER]`` of :mod:`faceedit.stage.lips`),
    which on smiles follows the teeth's edge much more closely than the 68 points; they move
    with the 68-point curves' move. Curves that turn sharper than
    :data:`~faceedit.stage.cut_curves.MAX_LIP_TURN` away from their corners (a loop folded into
    a V across the teeth) give way to the 68-point curves. Where ``close_mouth`` is 0, the stretch
    of their upper curve from each corner with no upper lip above it (a smile's cut reaches the
    outer corners under skin and crease, :func:`~faceedit.stage.lip_start.upper_lip_from`) goes
    to the new curve's tip, so the new corners take the lip (unless that folds the move where the
    curve's own samples do not; less on a small mouth, :func:`~faceedit.stage.teeth_look.small_weight`
    at ``photo_scale``, none on one under its first width). ``close_mouth`` (0..1): how far the lips are brought
    together along those curves (:func:`cut_fields`). ``mouth_interior`` False: the source
    mouth is closed (nothing between the lips to carry: a crease the loop happens to enclose
    would be stretched into a line of lip colour across the new opening); all of the opening is
    then hole. ``teeth_rise``: how far the teeth carried in the opening rise under the upper
    lip, in units of the source opening's middle height (:func:`cut_fields`). ``carry_lower``:
    (N, 2) a curve corner to corner inside the source opening (with ``lips``, between its upper
    and lower curves): only the interior above it is carried (the upper teeth, which move with
    the upper lip); below it the opening is hole (what goes with the jaw). With it (a laugh's
    teeth kept in an opening the move reshapes), ``lips`` follow the plan as far as the mouth
    narrows (:func:`~faceedit.stage.cut_fields.cut_fields`' ``follow_plan``): the drawn opening
    is the planned one, the carried teeth narrowed with it
    (:func:`~faceedit.stage.cut_curves.narrowed_teeth`); a thin opening's lips meet toward its
    corners (:func:`~faceedit.stage.cut_curves.pointed_ends`); and the dark corners beyond the
    teeth (:func:`~faceedit.stage.cut_curves.corner_wedges`), which the lips then cover, are
    filled from the lips. ``hide_lower``: with ``carry_lower``, a curve corner to corner below
    ``lips``' lower one (past the lower teeth the photo shows there,
    :func:`~faceedit.stage.lips.below_lower_teeth`): what lies between them is filled from the
    lower lip, its grain included (:func:`~faceedit.stage.membrane.mirrored_grain`; the lower teeth are not carried:
    kept, the lower lip carried their fragments along its inner edge).
    ``found_corners``: ``lips`` are an opening found from colour (a smile's teeth) that
    ``close_mouth`` closes: on a small mouth (:func:`~faceedit.stage.teeth_look.small_weight` of
    their corners' distance at ``photo_scale``, the photo's own pixels per pixel of ``pixels``)
    the dark of its corners beyond them (the corner wedges, ``closing_wedge``, and the dark
    beside them) is filled from the lips too: carried, it stood at the closed mouth's ends as
    dark dots (insightface's group_five, London smiles cut to 96-128 px); a larger mouth keeps
    it as its closed corners' crease (filled, they were smudged at 1350 px).
    ``min_jacobian``: the fold threshold (the move is scaled down below it). ``tuning``: the
    region moved and how the mouth's curves follow and round
    (:class:`~faceedit.stage.tuning_face.WarpTuning`, default its defaults). ``brows``: (2,) how far
    under its points each brow's hairs reach (:func:`~faceedit.stage.brow_band.brow_depths`), the band
    a raised brow carries whole (:func:`~faceedit.stage.warp.carried_points`); None: ``tuning``'s.

    The hole is the caller's to paint, e.g. with the mouth filler of
    :mod:`faceedit.stage.mouth_bank` (its inputs are this result's fields)::

        r = cut_warp(photo, lm, moved)
        photo, _ = MouthBank.load().fill(r.pixels, r.roi, r.opening, r.upper, r.lower,
                                         face_lm=r.landmarks)
    """
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3):
        raise ValueError(f"expected (H,W[,C]) uint8/uint16 pixels, got {pixels.dtype} {pixels.shape}")
    src_lm = np.asarray(src_lm, np.float64)
    dst_lm = np.asarray(dst_lm, np.float64)
    cuts = [MOUTH] + ([LEFT_EYE, RIGHT_EYE] if eyelids else [])
    tn = tuning if tuning is not None else WarpTuning()
    if lips is not None and max(map(sharpest_turn, given_curves(*lips, *lip_curves(src_lm)))) > MAX_LIP_TURN:
        lips = lip_curves(src_lm)  # a found loop folded into a V is not the lips' edge: the 68 points' are
    grid = slid_grid(src_lm, dst_lm, tn)  # (the face's, reaching as far below as the jaw drops)
    roi = grid.roi(pixels.shape)
    face_roi = face_grid(src_lm, tn.region_outer).roi(pixels.shape)  # (the mouth's window, without the reach)
    x0, y0, x1, y1 = roi
    rh, rw = y1 - y0, x1 - x0
    zeros = lambda: np.zeros((rh, rw), np.float32)  # noqa: E731
    if np.array_equal(src_lm, dst_lm) or rh <= 0 or rw <= 0:
        up, low = lip_curves(dst_lm) if lips is None else given_curves(*lips, *lip_curves(dst_lm))
        return CutWarpResult(pixels.copy(), roi, zeros(), zeros(), up, low, 1.0, dst_lm.copy(), zeros(),
                             face_roi=face_roi)

    if lips is not None and close_mouth > 0:  # a wide-open mouth's lower lip reaches past its fitted points
        src_lm = found_lower_lip(pixels, src_lm, tn.lip_edge_reach, tn.lip_edge_dark, tn.lip_edge_most,
                                 tn.lip_edge_opening, tn.lip_edge_fall)
        found = found_upper_lip(pixels, src_lm, tn.lip_top_most, tn.lip_top_contrast)
        dst_lm = dst_lm + tn.lip_top_goal * (found - src_lm)  # (the plan's outer upper lip follows a share)
        src_lm = found
    # (given curves that open: the new corners take the upper lip that begins past the cut's own;
    # not a small mouth's, a few px a stretch)
    starts = (0.0, 0.0)
    if lips is not None and close_mouth == 0:
        given_up = given_curves(*lips, *lip_curves(src_lm))[0]
        large = 1.0 - small_weight(float(np.linalg.norm(given_up[-1] - given_up[0])), photo_scale)
        if large > 0:
            first, last = upper_lip_from(pixels, given_up, src_lm, tn)
            starts = (large * first, large * last)

    def fields(upper_from: tuple[float, float]):
        return cut_fields(src_lm, dst_lm, grid, cuts, min_jacobian, None if lips is None else {"mouth": lips},
                          close_mouth, mouth_interior, teeth_rise, tn, follow_plan=carry_lower is not None,
                          upper_from=upper_from, brows=brows)

    f = fields(starts)
    if f.scale < 1 and max(starts) > 0:  # (a stretch that folds the move gives way to the curve's own samples)
        plain = fields((0.0, 0.0))
        if plain.scale > f.scale:
            f, starts = plain, (0.0, 0.0)
    chans = pixels.shape[2:]
    ch = (1,) * len(chans)

    # The source the side fields sample: each cut's own source opening replaced by a membrane of
    # what surrounds it, so no lip shows any of the interior (not even within the bicubic
    # kernel's reach of the lip line).
    # The side fields sample the photo within their largest displacement (plus the bicubic
    # kernel's reach) of the ROI: the source is that window (``origin``), cut at the photo's
    # edges where it reaches them, so the border is the photo's own and every sample the same
    # as from the whole photo; only the window is copied where the openings are filled.
    reach = int(np.ceil(max(float(np.abs(f.up).max()), float(np.abs(f.low).max())))) + 4
    wx0, wy0 = max(x0 - reach, 0), max(y0 - reach, 0)
    window = pixels[wy0:min(y1 + reach, pixels.shape[0]), wx0:min(x1 + reach, pixels.shape[1])]
    origin = (wx0, wy0)
    src = window
    src_cov, carry_cov = {}, {}
    for geo in f.cuts:
        poly = opening_polygon(geo.src_upper, geo.src_lower)
        carried_teeth = geo.cut.name == MOUTH.name and carry_lower is not None and lips is not None
        reshaped = carried_teeth and f.follows_plan > 0  # a laugh's teeth in a narrower opening
        # (a mouth closed from a found cut: the dark of its corners beyond the cut is not the lips')
        closes = found_corners and geo.cut.name == MOUTH.name and lips is not None and close_mouth > 0 \
            and not carried_teeth and small_weight(float(np.linalg.norm(geo.src_upper[-1] - geo.src_upper[0])),
                                                   photo_scale) > 0
        # (the dark of a laugh's corners, which the lips cover where they meet, is not theirs)
        wedge_reach = tn.plan_wedge if reshaped else tn.closing_wedge if closes else tn.kept_wedge
        wedges = corner_wedges(geo.src_upper, geo.src_lower, src_lm, wedge_reach, tn.wedge_rim) \
            if carried_teeth or closes else []
        if carried_teeth and hide_lower is not None and lips is not None:  # (the lower teeth below the cut go too)
            wedges.append(np.vstack([np.asarray(lips[1], np.float64), np.asarray(hide_lower, np.float64)[::-1]]))
        # (an opening's corners move: the dark beside the old ones is not theirs)
        width = float(np.linalg.norm(geo.src_upper[-1] - geo.src_upper[0])) \
            if reshaped or ((carried_teeth or closes) and tn.kept_corners) else 0.0
        dark = (tn.wedge_dark[0] * width, tn.wedge_dark[1] * width, tn.wedge_dark[2])
        box = _box_around(np.vstack([poly, *wedges]), 4.0 + (tn.wedge_feather + tn.wedge_dark[0]) * width,
                          pixels.shape)
        cov = polygon_coverage(poly, box)
        src_cov[geo.cut.name] = (box, cov)
        carry_cov[geo.cut.name] = cov
        hidden = cov
        if carried_teeth:
            assert carry_lower is not None and lips is not None
            up, below = np.asarray(lips[0], np.float64), np.asarray(carry_lower, np.float64)
            if reshaped:
                narrowing = float(np.linalg.norm(geo.dst_upper[-1] - geo.dst_upper[0])) / \
                    max(float(np.linalg.norm(geo.src_upper[-1] - geo.src_upper[0])), 1e-6)
                up, below = narrowed_teeth(up, below, narrowing, tn.plan_teeth)
            carried = opening_polygon(up, below)
            carry_cov[geo.cut.name] = np.minimum(cov, polygon_coverage(carried, box))
        for wedge in wedges:  # the dark of the corners beyond the cut goes too (and a laugh's lower teeth)
            hidden = np.maximum(hidden, polygon_coverage(wedge, box))
        if hidden.max() > 0:
            bx0, by0, bx1, by1 = box
            near = pixels[by0:by1, bx0:bx1].astype(np.float32)
            grown, shade, beside = hidden, np.zeros_like(hidden), np.zeros(hidden.shape, bool)
            if width > 0:  # (the dark beside a corner goes too, and the photo fades in)
                grown, shade, beside = hidden_corners(near, hidden, cov, wedges[:2], box, tn.wedge_feather * width, dark)
            filled = membrane_fill(near, (grown == 0).astype(np.float32))
            inside = grown > 0
            if carried_teeth and hide_lower is not None:
                # the lower teeth's strip: the lower lip's colour (from the lower side alone: the
                # upper lip across the opening is darker) and its grain, read straight across it
                assert lips is not None
                strip = (polygon_coverage(wedges[-1], box) > 0) & (hidden > 0) & (cov <= 0)
                for corner in wedges[:-1]:  # (the corners keep the membrane of both lips)
                    strip &= polygon_coverage(corner, box) <= 0
                lip, hide = np.asarray(lips[1], np.float64), np.asarray(hide_lower, np.float64)
                below = np.vstack([(bx0 - 1.0, lip[0, 1]), lip, (bx1 + 1.0, lip[-1, 1]),
                                   (bx1 + 1.0, by1 + 1.0), (bx0 - 1.0, by1 + 1.0)])
                lower_side = polygon_coverage(below, box) >= 1.0
                # (nor beside the upper side's own pixels, where a corner's end of it meets them)
                upper_side = ((hidden == 0) & ~lower_side).astype(np.uint8)
                strip &= cv2.dilate(upper_side, np.ones((5, 5), np.uint8)) == 0
                filled[strip] = membrane_fill(near, ((hidden == 0) & lower_side).astype(np.float32))[strip]
                chord = geo.src_lower[-1] - geo.src_lower[0]
                down = np.array([-chord[1], chord[0]]) / max(float(np.linalg.norm(chord)), 1e-6)
                grain_px = tn.grain_reach * float(src_lm[57, 1] - hide[len(hide) // 2, 1])
                filled += mirrored_grain(near, hidden, strip, grain_px, tn.grain_blur * grain_px, down)
            if width > 0:  # (the corners' fill has the grain of the photo beside it)
                deep = 2.0 * tn.wedge_feather * width
                beside &= (grown > 0) & (cov <= 0)
                if hide_lower is not None:
                    beside &= ~strip
                filled += mirrored_grain(near, grown, beside, deep, tn.grain_blur * deep)
            if src is window:
                src = window.copy()
            w = shade[inside].reshape(-1, *ch)
            filled[inside] = w * near[inside] + (1.0 - w) * filled[inside]
            src[by0 - wy0:by1 - wy0, bx0 - wx0:bx1 - wx0][inside] = _to_dtype(filled[inside], pixels.dtype)

    out = pixels.copy()
    fine, up_px = _refined(grid, f.up)
    low_px = _refined(grid, f.low)[1]
    bands = _moving_bands(grid, f.up, roi)
    if len(bands) > 1 and not is_exact():
        # the fast render: one box round them all (its pixels that do not move are their own)
        b = np.array(bands)
        bands = [(int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 2].max()), int(b[:, 3].max()))]
    for band in bands:
        bx0, by0, bx1, by1 = band
        out[by0:by1, bx0:bx1] = _remap(src, _sample(fine, up_px, band), band, window=origin)
    opening, interior, eye_opening = zeros(), zeros(), zeros()
    for geo in f.cuts:
        hole_poly = opening_polygon(geo.dst_upper, geo.dst_lower)
        # the pixels where the side matters (the two side fields differ): those nodes, one grid
        # step around them, and the destination opening
        active = np.argwhere(geo.active)
        pts = [hole_poly]
        if len(active):
            pts.append(np.stack([grid.x0 + grid.step * active[:, 1], grid.y0 + grid.step * active[:, 0]], 1))
        box = _clip_box(_box_around(np.vstack(pts), 1.5 * grid.step, pixels.shape), roi)
        bx0, by0, bx1, by1 = box
        if bx1 <= bx0 or by1 <= by0:
            continue
        # Lower-side pixels: outside the opening's box a plain label from the upper-side polygon
        # (its edges there are the rays out of the corners, where both sides' fields agree);
        # inside it (the cut and the opening), exact coverage, composited in float.
        obox = _clip_box(_box_around(hole_poly, 2.0, pixels.shape), box)
        ox0, oy0, ox1, oy1 = obox
        lower = np.ones((by1 - by0, bx1 - bx0), np.uint8)
        cv2.fillPoly(lower, [np.round((geo.side_poly - (bx0, by0)) * 16).astype(np.int32)], 0,
                     cv2.LINE_8, shift=4)
        has_obox = ox1 > ox0 and oy1 > oy0
        if has_obox:
            lower[oy0 - by0:oy1 - by0, ox0 - bx0:ox1 - bx0] = 1  # sampled in full, blended below
        ys, xs = np.nonzero(lower)
        if len(ys) == 0:
            continue
        lx0, ly0, lx1, ly1 = lbox = (bx0 + xs.min(), by0 + ys.min(), bx0 + xs.max() + 1, by0 + ys.max() + 1)
        w_low = _remap(src, _sample(fine, low_px, lbox), lbox, window=origin)
        where = lower[ly0 - by0:ly1 - by0, lx0 - bx0:lx1 - bx0].astype(bool)
        np.copyto(out[ly0:ly1, lx0:lx1], w_low, where=where.reshape(where.shape + ch))
        w_up = _remap(src, _sample(fine, up_px, obox), obox, window=origin) if has_obox else None
        if geo.half is not None:
            # round the corners, the side weight read at each pixel (read on the nodes and interpolated
            # it is not 0 on the rays within a cell of a corner: the two sides' pixels would lie apart
            # there, a step in the skin where the label changes)
            half_px = _refined(grid, geo.half)[1]
            for corner in (geo.dst_upper[0], geo.dst_upper[-1]):
                cbox = _clip_box(_box_around(corner[None], CORNER_CELLS * grid.step, pixels.shape), box)
                cx0, cy0, cx1, cy1 = cbox
                if cx1 <= cx0 or cy1 <= cy0:
                    continue
                f_up, f_low = side_fields(fine, up_px, low_px, half_px, geo, cbox, tn, corner, grid.step)
                c_up, c_low = _remap(src, f_up, cbox, window=origin), _remap(src, f_low, cbox, window=origin)
                label = lower[cy0 - by0:cy1 - by0, cx0 - bx0:cx1 - bx0].astype(bool)
                out[cy0:cy1, cx0:cx1] = np.where(label.reshape(label.shape + ch), c_low, c_up)
                for arr, abox, part in ((w_low, lbox, c_low), (w_up, obox, c_up)):
                    if arr is None:
                        continue
                    ix0, iy0, ix1, iy1 = max(cx0, abox[0]), max(cy0, abox[1]), min(cx1, abox[2]), min(cy1, abox[3])
                    if ix1 > ix0 and iy1 > iy0:
                        arr[iy0 - abox[1]:iy1 - abox[1], ix0 - abox[0]:ix1 - abox[0]] = \
                            part[iy0 - cy0:iy1 - cy0, ix0 - cx0:ix1 - cx0]
        if not has_obox:
            continue
        # inside the opening's box: upper side, lower side, the source interior, the hole
        sl = np.s_[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0]
        assert w_up is not None
        w_up = w_up.astype(np.float32)
        w_low = w_low[oy0 - ly0:oy1 - ly0, ox0 - lx0:ox1 - lx0].astype(np.float32)
        c_open = polygon_coverage(hole_poly, obox)
        c_up = np.minimum(polygon_coverage(geo.side_poly, obox), 1.0 - c_open)  # shares sum to 1
        c_low = np.clip(1.0 - c_up - c_open, 0.0, 1.0)
        acc = w_up * c_up.reshape(c_up.shape + ch) + w_low * c_low.reshape(c_low.shape + ch)
        if c_open.max() > 0:
            hole = c_open
            if f.interior[geo.cut.name] is not None:
                d_in = _sample(*_refined(grid, f.interior[geo.cut.name]), obox)
                sbox = src_cov[geo.cut.name][0]
                in_src = _remap(carry_cov[geo.cut.name], d_in, obox, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT,
                                origin=sbox[:2])
                shown = c_open * in_src
                if geo.cut.name == MOUTH.name and carry_lower is not None:  # (lips over the row's ends)
                    shown = covered_row_ends(shown, in_src, obox, geo.dst_upper, tn.plan_covered)
                hole = c_open - shown
                acc += _remap(pixels, d_in, obox).astype(np.float32) * shown.reshape(shown.shape + ch)
                if geo.cut.name == "mouth":
                    interior[sl] += shown
            if hole.max() > 0:
                known = 1.0 - hole
                fill = membrane_fill(acc / np.maximum(known, 1e-6).reshape(known.shape + ch),
                                     (known > 0.999).astype(np.float32))
                acc += fill * hole.reshape(hole.shape + ch)
            (opening if geo.cut.name == "mouth" else eye_opening)[sl] += hole
        out[oy0:oy1, ox0:ox1] = _to_dtype(acc, pixels.dtype)
    upper, lower = f.cuts[0].dst_upper, f.cuts[0].dst_lower
    if max(starts) > 0 and tn.lip_rim[0] > 0:  # (the lip's pale edge stretched to the corners)
        rim_muted(out, upper, starts, 1.0 + tn.lip_from_shape[1], tn.lip_rim[0], f.landmarks, tn.lip_rim[1])
    return CutWarpResult(out, roi, opening, interior, upper, lower, f.scale, f.landmarks, eye_opening,
                         (fine, up_px), face_roi)

