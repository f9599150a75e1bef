"""The upper lip's inner edge of an open mouth found from the photo's colour
(:mod:`faceedit.stage.lip_edge`), on drawn mouths whose edge is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage.lip_edge import grey_upper_cut, upper_lip_edge
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER, MESH_OUTER_UPPER

SKIN, LIP, CAVITY, TEETH = (200, 160, 140), (170, 70, 80), (40, 20, 25), (235, 230, 215)
EDGE = 56.0  # the upper lip spans rows 40..55, the cavity starts at row 56


def drawn_mouth(under=CAVITY, grey=False):
    img = np.zeros((120, 160, 3), np.uint8)
    img[:] = SKIN
    img[40:56, 20:140] = LIP
    img[56:80, 20:140] = under
    img[80:95, 20:140] = LIP
    img = cv2.GaussianBlur(img, (3, 3), 0.7)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if grey else img


def row(y, n=11):
    return np.stack([np.linspace(25, 135, n), np.full(n, float(y))], axis=1)


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("under", [CAVITY, TEETH])
@pytest.mark.parametrize("loop_y", [50.0, 62.0])
def test_the_cut_lies_on_the_upper_lip_s_inner_edge(grey, under, loop_y):
    """Whether the mesh's loop lies inside the upper lip or under it (in the cavity, on the
    teeth), the curve's middle points come to the lip's inner edge, within a pixel and a half."""
    img = drawn_mouth(under, grey)
    curve, found = upper_lip_edge(img, row(loop_y), row(40.0), row(80.0))
    mid = slice(3, 8)
    assert found[mid].all()
    assert np.abs(curve[mid, 1] - EDGE).max() < 1.5
    assert not found[[0, -1]].any() and curve[0, 1] == loop_y  # the corners stay


def test_a_lip_without_an_edge_keeps_the_loop():
    """A column that is lip all the way down (no cavity, no teeth under it) finds no edge and
    keeps the mesh's points."""
    img = np.zeros((120, 160, 3), np.uint8)
    img[:] = SKIN
    img[40:95, 20:140] = LIP
    curve, found = upper_lip_edge(img, row(60.0), row(40.0), row(80.0))
    assert not found.any()
    np.testing.assert_allclose(curve, row(60.0))


def test_a_grey_photo_s_cut_keeps_the_rim_where_the_edge_was_found():
    """On a grey photo the cut is the rim where the edge is found, the fixed widening where not."""
    mesh = np.zeros((468, 2))
    mesh[MESH_INNER_UPPER], mesh[MESH_OUTER_UPPER], mesh[MESH_INNER_LOWER] = row(58.0), row(40.0), row(80.0)
    rim, widened = row(55.0), row(44.0)
    cut = grey_upper_cut(drawn_mouth(grey=True), mesh, rim, widened)
    np.testing.assert_allclose(cut[3:8], rim[3:8])
    flat = np.full((120, 160), 120, np.uint8)
    np.testing.assert_allclose(grey_upper_cut(flat, mesh, rim, widened), widened)
