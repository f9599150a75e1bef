"""Found inner-lip curves the cut warp does not trust (faceedit/stage/cut_curves.py
sharpest_turn, MAX_LIP_TURN; cutwarp's ``lips``): a face mesh's loop folded into a V across the
teeth (London HD smiling 114) gives way to the curves through the 68 points."""

from __future__ import annotations

import numpy as np
from test_faces_cutwarp import part_lips, synthetic_lm, synthetic_photo
from test_faces_cutwarp_plan import _laugh, _surprised

from faceedit.stage.cut_curves import MAX_LIP_TURN, lip_curves, sharpest_turn
from faceedit.stage.cutwarp import cut_warp


def _folded(up: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``up`` and ``low`` with a V in their middle sixth: the upper curve dips 0.7 of the gap
    down, the lower 0.5 of it down (the loop of smiling 114 across the teeth's gap)."""
    n = len(up)
    d = np.abs(np.arange(n) - (n - 1) / 2) / (n / 6)
    tent = np.clip(1.0 - d, 0.0, 1.0)[:, None]
    gap = low - up
    return up + 0.7 * tent * gap, low + 0.5 * tent * gap


def test_sharpest_turn_reads_a_v_and_not_a_lip():
    lm = part_lips(synthetic_lm(), 0.15)
    up, low = lip_curves(lm)
    assert sharpest_turn(up) < 20 and sharpest_turn(low) < 20
    vu, vl = _folded(up, low)
    assert sharpest_turn(vu) > MAX_LIP_TURN and sharpest_turn(vl) > MAX_LIP_TURN
    # a bend at a corner is left out
    bent = up.copy()
    bent[1] += (0.0, 6.0)
    assert sharpest_turn(bent) == sharpest_turn(up)


def test_a_found_loop_folded_into_a_v_is_cut_along_the_68_points():
    """A smile's found curves folded into a V, the mouth made surprised with its upper teeth
    carried: the warp is the one along the 68 points' curves, to the byte (the V would be drawn
    into the lips and the opening otherwise); found curves that are smooth are still cut along."""
    lm, img, found, carry = _laugh()
    dst = _surprised(lm)
    ref = lip_curves(lm)
    v = _folded(*ref)
    r_v = cut_warp(img, lm, dst, lips=v, carry_lower=carry)
    r_ref = cut_warp(img, lm, dst, lips=ref, carry_lower=carry)
    np.testing.assert_array_equal(r_v.pixels, r_ref.pixels)
    np.testing.assert_array_equal(r_v.upper, r_ref.upper)
    r_found = cut_warp(img, lm, dst, lips=found, carry_lower=carry)
    assert np.abs(r_found.upper - r_ref.upper).max() > 1.0


def test_a_v_without_carried_teeth_is_cut_along_the_68_points():
    lm = part_lips(synthetic_lm(), 0.1)
    img = synthetic_photo(lm, teeth=True)
    dst = part_lips(lm, 0.2)
    ref = lip_curves(lm)
    r_v = cut_warp(img, lm, dst, lips=_folded(*ref))
    r_ref = cut_warp(img, lm, dst, lips=ref)
    np.testing.assert_array_equal(r_v.pixels, r_ref.pixels)
