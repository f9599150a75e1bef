"""Per-pixel maps drawn in the stage's canonical frame, laid onto a face in a photo.

The stage's appearance maps (a target's mouth and skin, the smile's skin, an attribute's) are
``gain * x + bias`` per pixel of a 256-px canonical frame. :func:`canonical_maps` samples such
maps at every pixel of a face's region, through the thin-plate spline that takes the face's
landmarks to the frame's; :func:`paint_maps` applies one to the photo's luma (a map fitted on
greyscale photos) or to its Y, Cb and Cr (one fitted in colour).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import RGB_TO_YCC, YCC_TO_RGB, luma, pixel_max
from faceedit.stage.precision import is_exact
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import ThinPlateSpline, face_grid, grid_region_weight, half_grid, upsample_nodes


def looks_grey(levels: np.ndarray) -> bool:
    """Whether RGB levels (..., 3) (uint8 / uint16) are grey: every pixel's G and B within 1.5/255
    of full scale of its R (on unit floats, the same test). A sparse sample answers first: a
    colour patch rarely needs more."""
    limit = 1.5 * pixel_max(levels.dtype) / 255
    for x in (levels[::7, ::7], levels):
        if np.abs(x[..., 1:].astype(np.int32) - x[..., :1]).max() >= limit:
            return False
    return True


def luma_change(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Change the luma of RGB pixels ``x`` (0..1, (..., 3)) by ``dy`` (...,): a darkening scales
    R, G and B together (a lip opened into a shadowed mouth turns dark brown, where subtracting
    the same amount from each channel would leave a saturated dark red), a brightening adds the
    same light to each (teeth are white whatever the lip colour). On a grey photo both are the
    same change."""
    y = luma(x)
    ratio = (y + dy) / np.maximum(y, 1e-3)
    out = x + dy[..., None]
    # the darkened pixels scaled, written over the brightened values computed for every pixel
    np.multiply(x, np.clip(ratio, 0.0, 1.0)[..., None], out=out, where=(dy < 0)[..., None])
    return out


def mouth_keep_out(roi, lm: np.ndarray, drawn: np.ndarray) -> np.ndarray:
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
    soft = np.zeros(mask.shape, np.float32)
    ys, xs = np.nonzero(mask)
    if ys.size:
        # blurred on the rows of the lips grown by more than the kernel's reach (OpenCV's float
        # kernel spans 4 sigma a side), cut at the ROI, from a column a multiple of 64 before
        # them to the ROI's right edge (OpenCV's vector and tail columns fall where they fall
        # over the whole ROI): the same sums, bit for bit, as over the whole ROI, which is 0
        # beyond that reach
        pad = int(np.ceil(4 * sigma)) + 2
        by0, by1 = max(ys.min() - pad, 0), min(ys.max() + 1 + pad, mask.shape[0])
        bx0, bx1 = max(xs.min() - pad, 0) // 64 * 64, mask.shape[1]
        soft[by0:by1, bx0:bx1] = cv2.GaussianBlur(mask[by0:by1, bx0:bx1].astype(np.float32), (0, 0), sigma)
    out = np.maximum(np.minimum(2.0 * soft, 1.0), cv2.dilate(np.clip(drawn, 0, 1).astype(np.float32),
                                                                np.ones((3, 3), np.uint8)))
    return out.astype(np.float32)


def lips_keep_out(roi, lm: np.ndarray, keep_out: tuple | None = None) -> tuple:
    """``keep_out`` ((roi, mask 0..1) or None) with the lips of ``lm`` (68 points) added over
    ``roi``, feathered as :func:`mouth_keep_out` feathers them: a map that stays off a mouth a
    warp moved far from the mean face's (its mean lip would fall beside the person's own as a
    second, blurred band)."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    mask = mouth_keep_out((x0, y0, x1, y1), lm, np.zeros((y1 - y0, x1 - x0), np.float32))
    if keep_out is not None:
        (k0, l0, k1, l1), keep = keep_out
        a0, b0, a1, b1 = max(x0, k0), max(y0, l0), min(x1, k1), min(y1, l1)
        if a1 > a0 and b1 > b0:
            np.maximum(mask[b0 - y0:b1 - y0, a0 - x0:a1 - x0], keep[b0 - l0:b1 - l0, a0 - k0:a1 - k0],
                       out=mask[b0 - y0:b1 - y0, a0 - x0:a1 - x0])
    return (x0, y0, x1, y1), mask


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


class _FaceRegion(NamedTuple):
    """What :func:`canonical_maps` lays out for one face before it samples any map: its grid's
    ROI, the region weight on the grid's nodes, the thin-plate kernel there (the fast render's:
    on every other node, ``fill`` the grid's (ny, nx) to fill in, :func:`upsample_nodes`),
    every ROI pixel's place on the grid (the exact render's) and the affine map that places them
    (the fast render's)."""

    roi: tuple[int, int, int, int]
    weight: np.ndarray
    kernel: tuple
    gx: np.ndarray
    gy: np.ndarray
    #: the ROI's pixels to node units as an affine map (x0, y0 of the ROI at its origin)
    affine: np.ndarray
    fill: tuple[int, int] | None = None


#: The last faces laid out (an edit paints the smile's skin, then the target's map, then an
#: attribute's, all on the same moved landmarks): key -> :class:`_FaceRegion`.
_REGIONS: OrderedDict[bytes, _FaceRegion] = OrderedDict()
_REGIONS_LOCK = threading.Lock()


def _face_region(shape: tuple[int, ...], moved: np.ndarray, region: tuple[float, float]) -> _FaceRegion:
    moved = np.ascontiguousarray(moved, np.float64)
    # (the exact render's own: its region weight is measured at every node)
    key = np.array([*shape[:2], *region, is_exact()], np.float64).tobytes() + moved.tobytes()
    with _REGIONS_LOCK:
        hit = _REGIONS.get(key)
        if hit is not None:
            _REGIONS.move_to_end(key)
            return hit
    inner, outer = region
    grid = face_grid(moved, outer=outer)
    roi = grid.roi(shape)
    weight = grid_region_weight(moved, grid, inner=inner, outer=outer)
    fill = None if is_exact() else (grid.ny, grid.nx)
    pts = grid.points() if fill is None else half_grid(grid).points()
    kernel = ThinPlateSpline(moved, np.zeros_like(moved), reg=1e-2).kernel(pts)
    affine = np.array([[1.0, 0.0, roi[0] - grid.x0], [0.0, 1.0, roi[1] - grid.y0]]) / grid.step
    face = _FaceRegion(roi, weight, kernel, *grid.pixel_coords(roi), affine, fill)
    with _REGIONS_LOCK:
        _REGIONS[key] = face
        while len(_REGIONS) > 8:  # a few faces (video workers edit frames side by side)
            _REGIONS.popitem(last=False)
    return face


def canonical_maps(shape: tuple[int, ...], moved: np.ndarray, frame_lm: np.ndarray,
                   maps: list[np.ndarray], region: tuple[float, float]):
    """Sample canonical-frame maps (frame landmarks ``frame_lm``) at every pixel of the face
    region of a face at ``moved`` in an image of ``shape``; returns (roi, [maps at the ROI],
    region weight at the ROI). ``region``: (inner, outer) of the region weight, e.g.
    :attr:`faceedit.stage.tuning_face.WarpTuning.paint_region`."""
    face = _face_region(shape, moved, region)
    tps = ThinPlateSpline(moved, frame_lm, reg=1e-2)  # as canonical_coords, on the kernel kept
    uv = tps.at(face.kernel) if face.fill is None else upsample_nodes(tps.at(face.kernel), *face.fill)
    nodes = np.concatenate([uv, face.weight[..., None]], -1)
    roi = face.roi
    # (h, w, 3): canonical u, v and the region weight (as Grid.sample, on the pixel grid kept;
    # the fast render: as one affine resampling of the nodes, no per-pixel positions read)
    nodes = np.ascontiguousarray(nodes, np.float32)
    if face.fill is None:
        at_roi = cv2.remap(nodes, face.gx, face.gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        at_roi = cv2.warpAffine(nodes, face.affine, (roi[2] - roi[0], roi[3] - roi[1]),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    # remap makes these fixed-point maps of float ones itself: the same samples, made once
    u, v = cv2.convertMaps(at_roi[..., 0], at_roi[..., 1], cv2.CV_16SC2)
    sampled = [cv2.remap(np.ascontiguousarray(m, np.float32), u, v, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE) for m in maps]
    return roi, sampled, at_roi[..., 2]


def paint_maps(pixels: np.ndarray, moved: np.ndarray, frame: np.ndarray,
               gain_bias: np.ndarray | tuple[np.ndarray, np.ndarray], strength: float,
               keep_out: tuple | None = None, *, in_place: bool = False,
               region: tuple[float, float] = WarpTuning.paint_region) -> np.ndarray:
    """``pixels`` with a per-pixel linear map ``gain * x + bias`` ((S, S, 2C): gain then bias,
    C = 1 luma or 3 Y, Cb, Cr; or the pair (gain, bias), each (S, S, C) float32, channels-last
    and contiguous: what a Y, Cb, Cr map is sampled fastest from) drawn in the canonical frame
    whose landmarks are ``frame`` applied ``strength`` of the way to the face at landmarks
    ``moved``. ``keep_out``: (roi, mask
    0..1 over it) where the map is not applied (a mouth interior drawn at the photo's
    resolution, :func:`mouth_keep_out`); ``region``: where the map is laid, (inner, outer) of
    the region weight (the stage's ``tuning.warp.paint_region``). A greyscale photo stays grey. A new array, or
    ``pixels`` itself written over with ``in_place`` (a buffer the caller owns: no copy)."""
    if isinstance(gain_bias, tuple):
        roi, (g, b), w = canonical_maps(pixels.shape, moved, frame, list(gain_bias), region)
    else:
        c = gain_bias.shape[-1] // 2
        parts = [gain_bias] if c == 1 else [np.ascontiguousarray(gain_bias[..., :c]),
                                            np.ascontiguousarray(gain_bias[..., c:])]
        roi, sampled, w = canonical_maps(pixels.shape, moved, frame, parts, region)
        g, b = cv2.split(sampled[0]) if c == 1 else sampled
    if keep_out is not None:
        w = _without(w, roi, *keep_out)
    x0, y0, x1, y1 = roi
    out = pixels if in_place else pixels.copy()
    region_px = out[y0:y1, x0:x1]
    if g.ndim == 3 and looks_grey(region_px):
        g, b = cv2.extractChannel(g, 0), cv2.extractChannel(b, 0)  # the luma part of a Y, Cb, Cr map
    ws = w * np.float32(strength)
    out[y0:y1, x0:x1] = (_luma_map if g.ndim == 2 else _ycc_map)(region_px, g, b, ws)
    return out


_RGB_TO_YCC32 = RGB_TO_YCC.astype(np.float32)
_YCC_TO_RGB32 = YCC_TO_RGB.astype(np.float32)
_LUMA_ROW = RGB_TO_YCC[:1].astype(np.float32)


def _to_levels(x: np.ndarray, dtype) -> np.ndarray:
    """float32 levels -> ``dtype``, rounded and clipped to its range (in place on ``x``)."""
    np.rint(x, out=x)
    np.clip(x, 0.0, pixel_max(dtype), out=x)
    return x.astype(dtype)


def _luma_map(levels: np.ndarray, g: np.ndarray, b: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """:func:`luma_change` of RGB ``levels`` by the luma map's gain ``g`` and bias ``b`` ((h, w)
    each, the bias in unit levels) times ``ws`` ((h, w)), in the levels' own units: ``x * a + c`` per pixel, with
    ``a`` the darkening's ratio (1 where it brightens) and ``c`` the brightening (0 where it
    darkens). (Whole arrays of one shape throughout, channels split and merged by OpenCV:
    numpy's broadcasting across a channel axis is several times slower.)"""
    unit = np.float32(pixel_max(levels.dtype))
    x = levels.astype(np.float32)
    y = cv2.transform(x, _LUMA_ROW).reshape(x.shape[:2])  # (OpenCV drops a single channel's axis)
    dy = g - np.float32(1.0)
    dy *= y
    dy += b * unit
    dy *= ws
    dark = dy < 0
    ratio = (y + dy) / np.maximum(y, np.float32(1e-3) * unit)
    a = np.where(dark, np.clip(ratio, 0.0, 1.0), np.float32(1.0))
    cc = np.where(dark, np.float32(0.0), dy)
    x *= cv2.merge([a, a, a])
    x += cv2.merge([cc, cc, cc])
    return _to_levels(x, levels.dtype)


def _ycc_map(levels: np.ndarray, g: np.ndarray, b: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """RGB ``levels`` with the Y, Cb, Cr map's gains ``g`` and biases ``b`` ((h, w, 3) each, the
    biases in unit levels) applied ``ws`` ((h, w)) of the way: ``ycc * (1 + (g - 1) ws) + b ws``, back to RGB (as
    :func:`_luma_map`, on whole arrays of one shape)."""
    unit = np.float32(pixel_max(levels.dtype))
    ycc: np.ndarray = cv2.transform(levels.astype(np.float32), _RGB_TO_YCC32)
    ws3 = cv2.merge([ws, ws, ws])
    k = g - np.float32(1.0)
    k *= ws3
    k += np.float32(1.0)
    ycc *= k
    bias: np.ndarray = b * ws3
    bias *= unit
    ycc += bias
    return _to_levels(cv2.transform(ycc, _YCC_TO_RGB32), levels.dtype)
