"""The upper lid's edge where the photo shows white above the iris: the 68 points' lids put on it.

The Face Mesh (with the iris model's lids) under-reads a wide-open eye: on the stage's own
surprised edits of London's neutral faces at 1350 px the upper lids' points lie a few pixels
below the lid's edge, inside the white above the iris (London 001: the edit drew the lids 0.198
eye distances apart, the mesh reads 0.182). The state then reads less of a raised lid than the
eye shows, and an edit that lowers the lids moves the points, not the edge above them, to the
lids' goal: a surprised face made neutral keeps a wider eye than the person's own.

:func:`lid_edge_rise` reads the edge from the pixels around the iris (the iris model's,
:func:`faceedit.faces.iris.iris_points`), in columns across the eye in the face's upright frame
(0.5 px apart, up to ``lid_edge_span`` iris radii from its centre): samples are dark (the iris,
the lashes: under ``lid_dark_share`` of the way from the iris's luma to the white's) or white
(light and no warmer, red over blue per luma, than the white beside the iris by
``lid_white_warmth``: the lid's skin is), and only the white joined to the white beside the iris
counts (the lid's skin above a dark margin is not). A column's white run starts where the iris
ends (``lid_white_start`` of the iris's top in that column; beside the iris near the centre's
height), with nothing but dark (and a pixel of their blend) below it, and ends in the lashes'
dark; its top is the lid's edge there. An eye whose iris's middle half shows no such run above
the iris's top (a relaxed lid over it: the iris meets the lashes) reads nothing, nor one without
a white beside the iris (no warmer than ``lid_white_warmest``). Each upper lid point that lies
in the white (at most a tenth of a radius below the run's start) rises to the edge read on the
columns within ``lid_edge_near`` radii of its own (their median, where at least half and 3 show
the run), at most ``lid_edge_most`` eye distances; one over the lashes stays, one whose columns
show no run rises as far as the other. :func:`lids_on_edge` moves the 68 points so; the stage
does it before it reads the state (:func:`faceedit.stage.steps.planned`): a neutral photo's
lids, over the irises' tops, are left as they are.
The ``lid_*`` values are fields of :class:`~faceedit.stage.tuning.EyesTuning`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_centres, eye_distance
from faceedit.pixels import luma, pixel_max
from faceedit.stage.columns import white_runs
from faceedit.stage.tuning import EyesTuning

#: Each eye's upper lid (corner, two lid points, corner) of the 68 points, the image's left eye first.
UPPER = ((36, 37, 38, 39), (42, 43, 44, 45))


def _at(rgb: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``rgb`` (uint8 / uint16, or unit float) as unit float32, bilinearly at ``pts`` (..., 2),
    the photo's edges replicated; only the box round the points is converted (the whole photo's
    conversion cost more than the rest of the reading)."""
    m = np.asarray(pts, np.float32)
    h, w = rgb.shape[:2]
    x0 = min(max(int(np.floor(m[..., 0].min())) - 1, 0), w - 1)
    y0 = min(max(int(np.floor(m[..., 1].min())) - 1, 0), h - 1)
    x1 = max(min(int(np.ceil(m[..., 0].max())) + 2, w), x0 + 1)
    y1 = max(min(int(np.ceil(m[..., 1].max())) + 2, h), y0 + 1)
    box = rgb[y0:y1, x0:x1].astype(np.float32)
    if rgb.dtype.kind in "ui":
        box /= pixel_max(rgb.dtype)
    return cv2.remap(box, np.ascontiguousarray(m[..., 0] - x0), np.ascontiguousarray(m[..., 1] - y0), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _warmth(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] - rgb[..., 2]) / np.maximum(luma(rgb), 1e-3)


def _shown(runs: np.ndarray) -> np.ndarray | None:
    """The median (start, top) of some columns' runs ((N, 2)) where at least half of them (and 3) show one."""
    shown = runs[np.isfinite(runs[:, 1])]
    return np.median(shown, 0) if len(shown) >= 3 and 2 * len(shown) >= len(runs) else None


def lid_edge_rise(rgb: np.ndarray, lm: np.ndarray, irises: np.ndarray | None,
                  tuning: EyesTuning | None = None) -> np.ndarray:
    """(2, 2) how far (eye distances, at least 0, at most ``lid_edge_most``) each eye's two upper
    lid points of ``lm`` (37, 38; 43, 44) lie below the lid's edge in their columns, where ``rgb``
    ((H, W, 3) uint8 / uint16 or unit float) shows white above the iris's top (see the module's
    text; ``irises`` (2, 5, 2) the iris model's centres and rim points); 0 without irises, for a
    greyscale photo and where no white shows."""
    tn = tuning if tuning is not None else EyesTuning()
    out = np.zeros((2, 2))
    if irises is None or rgb.ndim != 3:
        return out
    lm = np.asarray(lm, np.float64)
    irises = np.asarray(irises, np.float64)
    centres = eye_centres(lm)
    ed = eye_distance(lm)
    u = (centres[1] - centres[0]) / max(ed, 1e-9)
    up = np.array([u[1], -u[0]])  # up the face
    for k, lid in enumerate(UPPER):
        iris = irises[int(np.argmin(np.linalg.norm(irises[:, 0] - centres[k], axis=1)))]
        c = iris[0]
        r = float(np.linalg.norm(iris[1:] - iris[0], axis=1).mean())
        if r < 3:
            continue
        rel = lm[list(lid)] - c
        along, height = rel @ u, rel @ up
        hs = np.arange(-0.25 * r, max(float(height.max()), r) + tn.lid_edge_reach * ed, 0.5)
        cols = np.arange(-1.8 * r, 1.8 * r + 0.25, 0.5)
        samples = _at(rgb, c + cols[:, None, None] * u + hs[None, :, None] * up)  # (columns, heights, 3)
        side = (np.abs(cols) >= 1.1 * r)[:, None] & (np.abs(hs) <= 0.3 * r)[None, :]
        beside = samples[side]  # the white beside the iris: its lightest fifth (not a lash's or the lid's shadow)
        white = np.median(beside[luma(beside) >= np.percentile(luma(beside), 80)], 0)
        if float(_warmth(white)) > tn.lid_white_warmest:  # no white beside the iris (a narrow eye's lid skin)
            continue
        inner = (np.abs(cols) <= 0.5 * r)[:, None] & (hs >= 0)[None, :] & (hs < 0.7 * r)[None, :]
        iris_luma = float(np.median(luma(samples[inner])))
        dark = luma(samples) < iris_luma + tn.lid_dark_share * (float(luma(white)) - iris_luma)
        whites = ~dark & (_warmth(samples) < float(_warmth(white)) + tn.lid_white_warmth)
        # the white joined to the white beside the iris (not the lid's skin above a dark margin)
        _, labels = cv2.connectedComponents(whites.astype(np.uint8), connectivity=4)
        seeds = labels[side]
        joined = np.isin(labels, seeds[seeds > 0])
        runs = np.full((len(cols), 2), np.nan)
        near = np.nonzero(np.abs(cols) <= tn.lid_edge_span * r)[0]
        # the iris's top in each column (0 beside it): sqrt(max(r^2 - c^2, 0)), the square as
        # libm's pow (numpy's scalar ``** 2``; c * c differs in the last bit for some c)
        rest = r * r - np.array([math.pow(c, 2.0) for c in cols[near].tolist()])
        iris_top = np.sqrt(np.where(0.0 > rest, 0.0, rest))
        start = tn.lid_white_start[1] * iris_top
        # each column's run from the heights above half its iris's top, starting within
        # lid_white_start of it (and 0.3 radii up beside it), all columns at once
        above = np.count_nonzero(hs[None, :] < 0.5 * iris_top[:, None], 1)
        runs[near] = white_runs(dark[near], joined[near], hs, above, tn.lid_white_start[0] * iris_top,
                                np.where(0.3 * r > start, 0.3 * r, start))
        if _shown(runs[np.abs(cols) <= 0.5 * r]) is None:  # no white above the iris's top: a relaxed lid
            continue
        rise = np.full(2, np.nan)
        for j in (1, 2):  # each lid point in its own columns: raised where it lies in the white
            run = _shown(runs[np.abs(cols - along[j]) <= tn.lid_edge_near * r])
            if run is not None:
                inside = run[0] - 0.1 * r <= height[j] <= run[1]
                rise[j - 1] = np.clip((run[1] + 0.25 - height[j]) / ed, 0.0, tn.lid_edge_most) if inside else 0.0
        out[k] = np.nan_to_num(rise, nan=float(np.nan_to_num(np.nanmax(rise)) if np.isfinite(rise).any() else 0.0))
    return out


def lids_on_edge(rgb: np.ndarray, lm: np.ndarray, irises: np.ndarray | None,
                 tuning: EyesTuning | None = None) -> np.ndarray:
    """``lm`` (68, 2) with each eye's two upper lid points raised onto the lid's edge the pixels
    show above the iris (:func:`lid_edge_rise`, up the face); ``lm`` itself where none shows."""
    rise = lid_edge_rise(rgb, lm, irises, tuning)
    if not rise.any():
        return lm
    out = np.array(lm, np.float64)
    centres = eye_centres(out)
    ed = eye_distance(out)
    u = (centres[1] - centres[0]) / max(ed, 1e-9)
    for k, lid in enumerate(UPPER):
        out[list(lid[1:3])] += rise[k][:, None] * ed * np.array([u[1], -u[0]])
    return out
