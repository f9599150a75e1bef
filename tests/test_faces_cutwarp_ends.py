"""A smile's found cut carried into a narrower opening ends at the planned inner corners
(faceedit/stage/cut_fields.py onto_corners, WarpTuning.plan_corners): its ends' pixel offsets
from the 68 points' corners set the narrowed opening off centre, a long closed stretch at one
side."""

from __future__ import annotations

import numpy as np
from test_faces_cutwarp_plan import _laugh, _surprised

from faceedit.stage.cut_fields import narrowed, onto_corners
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.tuning_face import WarpTuning


def test_onto_corners_brings_an_end_short_of_its_corner_out_and_keeps_one_past_it():
    x = np.linspace(10.0, 50.0, 33)
    hump = np.sin(np.pi * (x - 10.0) / 40.0)
    up, low = np.c_[x, 100.0 - 8 * hump], np.c_[x, 100.0 + 8 * hump]
    corners = (np.array([0.0, 101.0]), np.array([45.0, 99.0]))  # 10 px past the left end, 5 px inside the right
    u, lo = onto_corners(up, low, corners, 0.4, 1.0)
    np.testing.assert_allclose(u[0], corners[0], atol=1e-9)
    np.testing.assert_allclose(lo[0], corners[0], atol=1e-9)
    np.testing.assert_allclose(u[-1], up[-1], atol=1e-9)  # the right end, already past its corner, stays
    np.testing.assert_allclose(u[16:], up[16:], atol=1e-9)  # from the middle on, as they were
    np.testing.assert_allclose(lo[16:], low[16:], atol=1e-9)
    half, _ = onto_corners(up, low, corners, 0.4, 0.5)
    np.testing.assert_allclose(half[0], (up[0] + corners[0]) / 2, atol=1e-9)
    same, _ = onto_corners(up, low, corners, 0.4, 0.0)
    np.testing.assert_array_equal(same, up)


def test_narrowed_is_whole_below_its_first_share_and_none_from_its_second():
    up = np.c_[np.linspace(0.0, 100.0, 5), np.zeros(5)]
    assert narrowed(up, up * [0.85, 1.0], (0.9, 0.97)) == 1.0
    assert narrowed(up, up * [0.97, 1.0], (0.9, 0.97)) == 0.0
    assert 0.0 < narrowed(up, up * [0.93, 1.0], (0.9, 0.97)) < 1.0


def test_a_smile_s_found_cut_set_off_to_one_side_opens_between_the_planned_corners():
    """The found cut shifted 10 px to the right of the 68 points (its left end 2 px short of the
    left inner corner, its right one 18 px past the right), the plan not followed (its narrowing
    never reached): the narrowed opening's left end comes out to the planned left corner (without
    it, 2 px short of it); its right end keeps its reach past the right one."""
    lm, img, (f_up, f_low), carry = _laugh()
    shift = np.array([10.0, 0.0])
    found = (f_up + shift, f_low + shift)
    dst = _surprised(lm)
    tn = WarpTuning(plan_narrowing=(0.01, 0.02))
    off = WarpTuning(plan_narrowing=(0.01, 0.02), plan_corners=(0.01, 0.02, 0.4))
    r = cut_warp(img, lm, dst, lips=found, carry_lower=carry + shift, tuning=tn)
    old = cut_warp(img, lm, dst, lips=found, carry_lower=carry + shift, tuning=off)
    assert r.scale == 1.0 and old.scale == 1.0
    np.testing.assert_allclose(r.upper[0], dst[60], atol=1e-6)
    assert old.upper[0, 0] > dst[60, 0] + 1.5
    np.testing.assert_allclose(r.upper[-1], old.upper[-1], atol=1e-6)
    assert r.upper[-1, 0] > dst[64, 0] + 5
    x0 = r.roi[0]
    cols = np.flatnonzero((r.opening + r.interior).max(0) > 0.5) + x0
    old_cols = np.flatnonzero((old.opening + old.interior).max(0) > 0.5) + x0
    assert abs(cols.min() - dst[60, 0]) <= 1.5
    assert old_cols.min() > cols.min() + 1
