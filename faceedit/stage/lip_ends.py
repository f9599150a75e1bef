"""A laugh's lips closed to their corners: the red of each lip stretched along itself onto the
corners the closed mouth's outline reaches (:func:`closed_lip_ends`).

A laugh stretches its lips thin toward the corners, where they end short of the mouth's outer
corners in the dark of the corner's fold. Closed by the warp (made neutral), each lip is carried
as it lay: its red ends before the new corners, and what fills the outline there is the fold's
dark and the cheek's skin, with the seam drawn through them. On strongly coloured lips (a red
lipstick) that reads as torn, ragged ends (web img50, img43). The lips' own red is pulled along
each lip onto its corner: a piecewise linear map along the lip's arc, over each end and a
stretch beyond it, the whole thickness of the lip (seam to outline) moved alike, so the lip keeps
its own texture, rim and shading and narrows to the corner with the outline.

Coordinates: x right, y down, pixel centres at integers (as :mod:`faceedit.stage.warp`).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.cut_curves import catmull_rom, resample_by_length
from faceedit.stage.lips import redness, sample_points
from faceedit.stage.tuning_face import WarpTuning

#: Samples along each curve (arc shares 0..1, corner to corner).
SAMPLES = 200


def _read(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``img`` (H, W) float32 sampled bilinearly at ``pts`` ((..., 2) in ``img``'s pixels)."""
    p = np.asarray(pts, np.float64)
    return sample_points(img, p[..., 0].ravel(), p[..., 1].ravel()).reshape(p.shape[:-1])


def _band(seam: np.ndarray, outline: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Points ``v`` of the way from the seam to the outline ((len(v), SAMPLES, 2))."""
    return (1.0 - v)[:, None, None] * seam[None] + v[:, None, None] * outline[None]


def _red_from(lip: np.ndarray, run: int) -> float:
    """The arc share from the first corner to the first ``run`` columns in a row that read as
    lip (``lip``: (SAMPLES,) bool)."""
    k = np.convolve(lip.astype(np.int32), np.ones(run, np.int32), "valid")
    hit = np.flatnonzero(k >= run)
    return float(hit[0]) / (len(lip) - 1) if len(hit) else 1.0


def lip_ends(lipness: np.ndarray, most: float, run: int, fit: float = 0.8) -> tuple[float, float] | None:
    """The arc shares from each corner over which a lip does not read as lip, at most ``most``
    (``lipness``: (rows, SAMPLES) bool, rows across the lip from seam to outline; a column reads
    as lip where half its rows or more do); None where the lip's middle (its central 30 % of
    columns, their median) is lip through less than ``fit`` of its rows (the outline is not the
    lip's own)."""
    cols = lipness.mean(0)
    n = len(cols)
    if float(np.median(cols[int(0.35 * n):int(0.65 * n)])) < fit:
        return None
    lip = cols >= 0.5
    return min(_red_from(lip, run), most), min(_red_from(lip[::-1], run), most)


def _stretch(s: np.ndarray, ends: tuple[float, float], beyond: float) -> np.ndarray:
    """The arc share each share ``s`` samples: ``[0, r]`` from each corner onto ``[e, r]``
    (``e`` that end's share, ``r`` = ``beyond`` times ``e``, at most 0.45), linearly."""
    out = s.copy()
    for k, e in enumerate(ends):
        if e <= 0:
            continue
        r = min(beyond * e, 0.45)
        t = s if k == 0 else 1.0 - s
        near = t < r
        mapped = e + t[near] * (r - e) / r
        out[near] = mapped if k == 0 else 1.0 - mapped
    return out


def closed_lip_ends(pixels: np.ndarray, lm: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                    tuning: WarpTuning | None = None) -> bool:
    """Each lip of a mouth closed by the warp stretched along itself so its red reaches the
    outline's corners: ``pixels`` (H, W, 3) the warp's, written over in place; ``lm`` (68, 2)
    the landmarks the warp reached (its outer lips the outline, 48 and 54 the corners);
    ``upper``/``lower`` (N, 2) the closed inner-lip curves, corner to corner (their mean the
    seam). Each lip is the band from the seam to its outline (through 48-54 and 54-59-48).
    A column of a lip reads as lip where its pixels are ``lip_ends_level`` of the way from the
    cheeks' redness (CIE a*, beside the corners and the nose) to the lips' (the bands' middles);
    where up to
    ``lip_ends_stretch[0]`` of a lip's arc from a corner does not, the lip from there to
    ``lip_ends_stretch[1]`` times as far is pulled onto the corner's whole stretch (along the
    seam both lips by the mean of their two stretches, each lip's own at its outline). Only on lips
    redder than the cheeks by ``lip_ends_contrast`` (a lipstick's; natural lips read their own
    fold's shadow as lip and their ends as skin alike), whose seam reaches within
    ``lip_ends_fit[0]`` of the corner-to-corner width of each outer corner and whose middle is
    lip through ``lip_ends_fit[1]`` of each band (the outline is the lip's own). Whether any
    pixel changed."""
    tn = tuning if tuning is not None else WarpTuning()
    if pixels.ndim != 3 or pixels.shape[2] < 3 or tn.lip_ends_stretch[0] <= 0:
        return False
    lm = np.asarray(lm, np.float64)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    seam = resample_by_length((np.asarray(upper, np.float64) + np.asarray(lower, np.float64)) / 2, SAMPLES)
    if width < 8 or max(np.linalg.norm(seam[0] - lm[48]), np.linalg.norm(seam[-1] - lm[54])) > tn.lip_ends_fit[0] * width:
        return False
    outlines = (resample_by_length(catmull_rom(lm[48:55]), SAMPLES),
                resample_by_length(catmull_rom(lm[[48, 59, 58, 57, 56, 55, 54]]), SAMPLES))
    axis = (lm[54] - lm[48]) / width
    beside = np.array([lm[48] - 0.12 * width * axis, lm[54] + 0.12 * width * axis,
                       (lm[48] + lm[33]) / 2, (lm[54] + lm[33]) / 2])
    pts = np.vstack([seam, *outlines, beside])
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 4, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 5, (pixels.shape[1], pixels.shape[0]))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return False
    box = pixels[y0:y1, x0:x1, :3]
    at = np.array([x0, y0], np.float64)
    a = redness(box)
    middle = slice(int(0.35 * SAMPLES), int(0.65 * SAMPLES))
    mids = np.vstack([(0.5 * seam + 0.5 * o)[middle] for o in outlines]) - at
    lip_a = float(np.median(_read(a, mids)))
    cheek_a = float(np.median(_read(a, beside - at)))
    if lip_a - cheek_a < tn.lip_ends_contrast:
        return False
    rows = np.linspace(0.2, 0.8, 5)
    run = max(int(round(0.04 * SAMPLES)), 1)
    maps = []
    for outline in outlines:
        band = _band(seam, outline, rows) - at
        lipness = (_read(a, band) - cheek_a) / (lip_a - cheek_a) >= tn.lip_ends_level
        ends = lip_ends(lipness, tn.lip_ends_stretch[0], run, tn.lip_ends_fit[1])
        short = run / (SAMPLES - 1)  # (an end shorter than a run of lip is the lip's own taper)
        ends = None if ends is None else (ends[0] if ends[0] >= short else 0.0, ends[1] if ends[1] >= short else 0.0)
        maps.append(None if ends is None or max(ends) <= 0 else ends)
    if maps[0] is None and maps[1] is None:
        return False
    # each pixel's place on the bands: its arc share from where it lies along the axis, its share
    # of the way from the seam to the outline across it
    normal = np.array([-axis[1], axis[0]])
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    along = (xx - lm[48, 0]) * axis[0] + (yy - lm[48, 1]) * axis[1]
    across = (xx - lm[48, 0]) * normal[0] + (yy - lm[48, 1]) * normal[1]
    grid = np.linspace(0.0, 1.0, SAMPLES)
    seam_u, seam_w = (seam - lm[48]) @ axis, (seam - lm[48]) @ normal
    src = np.stack([xx, yy], -1)
    moved = np.zeros(xx.shape, bool)
    ends_of = [e if e is not None else (0.0, 0.0) for e in maps]
    # (along the seam both lips move alike, each side's mean: no step between them)
    at_seam = tuple((a + b) / 2 for a, b in zip(*ends_of))
    for outline, ends in zip(outlines, ends_of):
        out_u, out_w = (outline - lm[48]) @ axis, (outline - lm[48]) @ normal
        mid_u = (seam_u + out_u) / 2
        s = np.interp(along, mid_u, grid)
        w0, w1 = np.interp(s, grid, seam_w), np.interp(s, grid, out_w)
        span = w1 - w0
        v = (across - w0) / np.where(np.abs(span) < 1e-3, 1e-3, span)
        seam_f = _stretch(s, at_seam, tn.lip_ends_stretch[1])
        f = seam_f + np.clip(v, 0.0, 1.0) * (_stretch(s, ends, tn.lip_ends_stretch[1]) - seam_f)
        inside = (v >= -0.05) & (v <= 1.0) & (along >= mid_u[0]) & (along <= mid_u[-1]) & (f != s) & ~moved

        def place(share: np.ndarray) -> np.ndarray:
            curve = lambda c, k: np.interp(share, grid, c[:, k])  # noqa: E731
            return np.stack([(1 - v) * curve(seam, i) + v * curve(outline, i) for i in (0, 1)], -1)

        shift = place(f) - place(s)
        src[inside] += shift[inside]
        moved |= inside
    if not moved.any():
        return False
    pulled = cv2.remap(np.ascontiguousarray(pixels[y0:y1, x0:x1]), (src[..., 0] - x0).astype(np.float32),
                       (src[..., 1] - y0).astype(np.float32), cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.GaussianBlur(moved.astype(np.float32), (0, 0), 0.7)[..., None]
    out = pixels[y0:y1, x0:x1].astype(np.float32) * (1.0 - weight) + pulled.astype(np.float32) * weight
    pixels[y0:y1, x0:x1] = np.clip(np.round(out), 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return True
