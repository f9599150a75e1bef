"""A laugh's mouth read from colour (faceedit.stage.lips.find_interior): upper teeth over a
dark cavity that fills most of the opening are teeth shown, a dark slit is not; the dark
corners beside its teeth are not carried (upper_teeth_share)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lips import (
    MESH_INNER_LOWER,
    MESH_INNER_UPPER,
    MESH_OUTER_LOWER,
    MESH_OUTER_UPPER,
    find_interior,
)
from faceedit.stage.tuning_lips import LipsTuning


def _mouth(teeth: float) -> tuple[np.ndarray, np.ndarray]:
    """A photo of an open mouth 160 px wide (skin, red lips, a dark cavity with a row of upper
    teeth ``teeth`` of its height under the upper lip) and Face Mesh points whose lip loops
    follow it."""
    n = len(MESH_INNER_UPPER)
    u = np.linspace(0.0, 1.0, n)
    x = 120 + 160 * u
    bump = np.sin(np.pi * u)
    up, lo = np.c_[x, 200 - 14 * bump], np.c_[x, 200 + 18 * bump]
    oup, olo = np.c_[x, 198 - 30 * bump], np.c_[x, 202 + 36 * bump]
    img = np.zeros((400, 400, 3), np.uint8)
    img[:] = (200, 150, 130)
    cv2.fillPoly(img, [np.round(opening_polygon(oup, olo)).astype(np.int32)], (170, 70, 75))
    cv2.fillPoly(img, [np.round(opening_polygon(up, lo)).astype(np.int32)], (35, 18, 20))
    if teeth > 0:
        edge = up + teeth * (lo - up)
        cv2.fillPoly(img, [np.round(opening_polygon(up, edge)).astype(np.int32)], (238, 232, 222))
    img = np.asarray(cv2.GaussianBlur(img, (3, 3), 0), np.uint8)
    dense = np.zeros((468, 2))
    for idx, c in ((MESH_INNER_UPPER, up), (MESH_INNER_LOWER, lo), (MESH_OUTER_UPPER, oup),
                   (MESH_OUTER_LOWER, olo)):
        dense[idx] = c
    return img, dense


def test_a_laughs_upper_teeth_over_a_dark_cavity_are_found():
    """Upper teeth filling 40 % of the opening over a dark cavity: the interior's median is
    darker than the lips, its ``teeth_percentile`` is teeth; the interior is found and spans
    the teeth (its upper curve at the teeth's top, within 3 px, at the middle). Read at the
    median (``teeth_percentile`` 50) the same mouth shows no teeth."""
    img, dense = _mouth(0.4)
    found = find_interior(img, dense)
    assert found is not None
    mid = len(found[0]) // 2
    assert abs(found[0][mid, 1] - (200 - 14)) <= 3
    assert found[1][mid, 1] > 200 + 10
    assert find_interior(img, dense, LipsTuning(teeth_percentile=50.0)) is None


def test_a_dark_opening_without_teeth_is_not_teeth_shown():
    """The same opening all dark (no teeth) is no interior shown, nor is one whose teeth fill
    only a tenth of it."""
    for teeth in (0.0, 0.1):
        img, dense = _mouth(teeth)
        assert find_interior(img, dense) is None


def test_a_laughs_dark_corners_beside_its_teeth_are_not_carried():
    """Upper teeth in the middle of a laugh's opening, dark cavity in its corners: the share
    carried (upper_teeth_share) is the teeth's in the middle and nothing in the dark corner
    columns (carried, they stood as dark flanges beside a new opening); an opening with no
    teeth at all is carried whole."""
    from faceedit.stage.side_teeth import upper_teeth_share

    img, dense = _mouth(0.0)
    up, lo = dense[MESH_INNER_UPPER], dense[MESH_INNER_LOWER]
    x = np.linspace(120.0, 280.0, 33)
    up33 = np.c_[x, np.interp(x, up[:, 0], up[:, 1])]
    lo33 = np.c_[x, np.interp(x, lo[:, 0], lo[:, 1])]
    assert np.all(upper_teeth_share(img, up33, lo33) == 1.0)
    teeth = img.copy()
    mid = slice(9, 24)
    edge = up33 + 0.45 * (lo33 - up33)
    cv2.fillPoly(teeth, [np.round(np.vstack([up33[mid], edge[mid][::-1]])).astype(np.int32)], (238, 232, 222))
    share = upper_teeth_share(teeth, up33, lo33)
    assert np.all(np.abs(share[12:21] - 0.45) <= 0.12), share.round(2)
    assert np.all(share[2:6] == 0.0) and np.all(share[27:31] == 0.0), share.round(2)
