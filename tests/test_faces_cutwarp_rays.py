"""The cut warp's two sides meet without a step on the rays out of the mouth's corners
(faceedit.stage.cutwarp.side_fields): the side weight read at each pixel, not on the grid's nodes."""

from __future__ import annotations

import numpy as np
from test_faces_cutwarp import jaw_drop, part_lips, synthetic_lm

from faceedit.stage.chin_slide import slid_grid
from faceedit.stage.cut_curves import MOUTH, corner_rays
from faceedit.stage.cut_fields import cut_fields
from faceedit.stage.cutwarp import CORNER_CELLS, _refined, _sample, cut_warp, side_fields
from faceedit.stage.tuning_face import WarpTuning

# a 1350-px portrait's face: the grid's cells 17 px, the corners' rays within a cell of nodes off them
LM = synthetic_lm(300.0, (640.0, 400.0))
MOVES = (part_lips(LM, 0.4), jaw_drop(LM, 0.6))


def test_the_two_sides_fields_are_the_same_on_the_rays():
    tn = WarpTuning()
    for dst in MOVES:
        grid = slid_grid(LM, dst, tn)
        f = cut_fields(LM, dst, grid, [MOUTH])
        geo = f.cuts[0]
        fine, up = _refined(grid, f.up)
        low = _refined(grid, f.low)[1]
        half = _refined(grid, geo.half)[1]
        nodes_apart, apart = 0.0, 0.0
        for corner, ray in zip((geo.dst_upper[0], geo.dst_upper[-1]), corner_rays(geo.dst_upper, geo.dst_lower)):
            for t in np.arange(1.0, 0.75 * CORNER_CELLS * grid.step, 1.0):  # (the nodes' own fade in beyond)
                x, y = np.round(corner + t * ray).astype(int)
                box = (int(x), int(y), int(x) + 1, int(y) + 1)
                nodes_apart = max(nodes_apart, float(np.abs(_sample(fine, up, box) - _sample(fine, low, box)).max()))
                a, b = side_fields(fine, up, low, half, geo, box, tn, corner, grid.step)
                apart = max(apart, float(np.abs(a - b).max()))
        assert nodes_apart > 1.0  # the premise: read on the nodes, the sides were px apart there
        assert apart < 1e-3


def test_the_warped_photo_has_no_step_across_the_rays():
    """A photo whose pixels say where they are (x and y ramps) warped: across each ray, 2 px apart,
    the displacement changes by no more than the move's own stretch there (a step of over 2 px before)."""
    size, k = 1280, 40.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    ramps = np.dstack([xx * k, yy * k, np.full_like(xx, 1000.0)]).astype(np.uint16)
    for dst in MOVES:
        r = cut_warp(ramps, LM, dst)
        at = r.pixels.astype(np.float64)[..., :2] / k
        step = slid_grid(LM, dst, WarpTuning()).step
        for corner, ray in zip((r.upper[0], r.upper[-1]), corner_rays(r.upper, r.lower)):
            normal = np.array([-ray[1], ray[0]])
            for t in np.arange(3.0, 2 * step, 1.0):
                p = corner + t * ray
                qa, qb = np.round(p + normal).astype(int), np.round(p - normal).astype(int)
                jump = np.linalg.norm((at[qa[1], qa[0]] - qa) - (at[qb[1], qb[0]] - qb))
                assert jump < 1.9, (t, jump)
