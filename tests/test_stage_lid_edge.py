"""The upper lid's edge read where the photo shows white above the iris (faceedit.stage.lid_edge),
on drawn eyes: a wide-open eye whose 68 points lie inside the white is put on its edge; a relaxed
lid over the iris's top, whose lid skin above a dark margin is as pale and cool as the white, is
left where it is."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lid_edge import lid_edge_rise, lids_on_edge

SKIN = (0.78, 0.6, 0.5)
WHITE = (0.88, 0.86, 0.85)
IRIS = (0.35, 0.25, 0.18)
LASH = (0.12, 0.1, 0.1)
CENTRES = ((140.0, 120.0), (340.0, 120.0))  # eye distance 200 px
HALF = 50.0  # half the eye's width
RADIUS = 20.0
UNDER = 6.0  # how far below the lid's edge the points lie


def _eyes(upper: float, lid_skin=SKIN, under: float = UNDER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo (240, 480, 3) uint8, 68 points, irises (2, 5, 2)): two eyes whose upper lid's edge
    rises ``upper`` px over the corners' line, the lid's skin above its lashes ``lid_skin``, the
    upper lid points ``under`` px below the edge."""
    img = np.empty((240, 480, 3), np.float64)
    img[:] = SKIN
    yy, xx = np.mgrid[0:240, 0:480].astype(np.float64)
    lm = np.zeros((68, 2))
    irises = np.zeros((2, 5, 2))
    for k, (cx, cy) in enumerate(CENTRES):
        t = np.clip(1 - ((xx - cx) / HALF) ** 2, 0, None)
        inside = np.abs(xx - cx) < HALF
        top, bottom = cy - upper * t, cy + 14 * t
        img[inside & (yy < top - 4) & (yy > top - 22)] = lid_skin
        img[inside & (yy >= top - 4) & (yy < top)] = LASH
        opening = inside & (yy >= top) & (yy <= bottom)
        img[opening] = WHITE
        img[opening & ((xx - cx) ** 2 + (yy - cy) ** 2 <= RADIUS ** 2)] = IRIS
        edge = lambda x: cy - upper * (1 - ((x - cx) / HALF) ** 2)  # noqa: E731
        lid = 36 + 6 * k
        lm[lid] = (cx - HALF, cy)
        lm[lid + 1] = (cx - 17, edge(cx - 17) + under)
        lm[lid + 2] = (cx + 17, edge(cx + 17) + under)
        lm[lid + 3] = (cx + HALF, cy)
        lm[lid + 4] = (cx + 17, cy + 14 * (1 - (17 / HALF) ** 2))
        lm[lid + 5] = (cx - 17, cy + 14 * (1 - (17 / HALF) ** 2))
        irises[k] = [(cx, cy), (cx + RADIUS, cy), (cx, cy - RADIUS), (cx - RADIUS, cy), (cx, cy + RADIUS)]
    return np.rint(img * 255).astype(np.uint8), lm, irises


def test_upper_lid_points_inside_the_white_go_onto_the_lids_edge():
    img, lm, irises = _eyes(30.0)
    out = lids_on_edge(img, lm, irises)
    moved = [37, 38, 43, 44]
    # each point on the edge (the last white row's middle, 0.5 px below the lashes): raised UNDER px
    assert np.allclose(lm[moved, 1] - out[moved, 1], UNDER, atol=1.0), lm[moved, 1] - out[moved, 1]
    assert np.allclose(out[moved, 0], lm[moved, 0])
    rest = np.setdiff1d(np.arange(68), moved)
    assert np.array_equal(out[rest], lm[rest])


def test_points_already_on_the_edge_stay():
    img, lm, irises = _eyes(30.0, under=0.0)
    assert np.abs(lid_edge_rise(img, lm, irises)).max() * 200 <= 1.0


def test_a_relaxed_lid_over_the_iris_is_left_where_it_is():
    # the edge 18 px over the corners' line: 2 px over the iris's top; the lid skin above the
    # lashes pale and cool (it reads as white by its colour, but the lashes part it from the white)
    img, lm, irises = _eyes(18.0, lid_skin=(0.86, 0.85, 0.84), under=0.0)
    assert not lid_edge_rise(img, lm, irises).any()
    assert lids_on_edge(img, lm, irises) is lm


def test_no_irises_or_no_colour_reads_nothing():
    img, lm, irises = _eyes(30.0)
    assert not lid_edge_rise(img, lm, None).any()
    assert not lid_edge_rise(img.mean(-1).astype(np.uint8), lm, irises).any()
