"""A very small face's smile: a few front teeth lit, its corners in the lips' dark."""

import numpy as np

from faceedit.stage.teeth_few import FEW_CORNER_LUMA, FEW_CORNER_SPAN, few_teeth, few_weight


def test_only_the_smallest_faces_get_it():
    # group_t1 #0 (29 px between the eyes) whole; the astronaut (43 px) none; a preview at half
    # scale reads as its full-size photo
    assert few_weight(29.3) == 1.0 and few_weight(43.5) == 0.0
    assert few_weight(21.75, photo_scale=2.0) == few_weight(43.5) == 0.0
    assert 0.0 < few_weight(38.0) < 1.0


def test_corners_go_to_the_lips_dark_and_the_front_teeth_stay():
    u = np.linspace(0.0, 1.0, 101)
    teeth = np.full((101, 3), 0.9, np.float32)
    teeth[:3] = teeth[-3:] = 0.02  # the exemplar's own black corner gaps
    lip = np.array([0.6, 0.35, 0.3])
    out = few_teeth(teeth, u, lip, 1.0)
    assert out.dtype == teeth.dtype
    np.testing.assert_allclose(out[[0, -1]], [FEW_CORNER_LUMA * lip] * 2, atol=1e-6)
    front = np.abs(u - 0.5) <= 0.5 - FEW_CORNER_SPAN
    np.testing.assert_array_equal(out[front], teeth[front])
    # the lit band falls toward the corners; the black gaps there lifted near the lips' dark
    luma = np.array([0.299, 0.587, 0.114])
    y, dark = out @ luma, FEW_CORNER_LUMA * float(lip @ luma)
    assert (np.diff(y[3:51]) >= -1e-6).all() and (y[:3] > 0.9 * dark).all() and (y[-3:] > 0.9 * dark).all()
    np.testing.assert_array_equal(few_teeth(teeth, u, lip, 0.0), teeth)
