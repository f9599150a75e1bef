"""A closing cut keeps each outer lip beyond its curve (faceedit.stage.cut_curves.keep_lips_whole):
at least ``keep`` of its own thickness, the lower lip at most ``most`` (a closed mouth's goal as
tall as the 68 points' lips stretched a posed surprise's lower lip into a pout)."""

import numpy as np

from faceedit.stage.cut_curves import MOUTH, keep_lips_whole


def _face() -> np.ndarray:
    """68 points of an upright face: eyes at y 100, chin at 300, the outer lips 10 px beyond a
    mouth opening from y 225 to 245, x 100 to 140."""
    lm = np.zeros((68, 2))
    lm[36:42] = [80.0, 100.0]
    lm[42:48] = [160.0, 100.0]
    lm[8] = [120.0, 300.0]
    lm[[49, 50, 51, 52, 53], 0] = [100, 110, 120, 130, 140]
    lm[[49, 50, 51, 52, 53], 1] = 215.0
    lm[[55, 56, 57, 58, 59], 0] = [140, 130, 120, 110, 100]
    lm[[55, 56, 57, 58, 59], 1] = 255.0
    return lm


def test_a_closing_cut_stretches_the_lower_lip_to_at_most_most_of_its_own():
    lm = _face()
    x = np.linspace(90.0, 150.0, 13)
    src = (np.column_stack([x, np.full_like(x, 225.0)]), np.column_stack([x, np.full_like(x, 245.0)]))
    shut = np.column_stack([x, np.full_like(x, 235.0)])
    moved = lm.copy()
    moved[[49, 50, 51, 52, 53], 1] = 200.0  # both lips 35 px beyond the closed line: 3.5 times their own
    moved[[55, 56, 57, 58, 59], 1] = 270.0
    free = keep_lips_whole(lm, moved, MOUTH, src, (shut, shut), 0.5, 0.0)
    kept = keep_lips_whole(lm, moved, MOUTH, src, (shut, shut), 0.5, 0.0, most=1.3)
    assert np.allclose(free, moved)  # no bound: as moved
    assert np.allclose(kept[[55, 56, 57, 58, 59], 1], 235.0 + 1.3 * 10.0)  # the lower lip at 1.3 of its 10 px
    assert np.allclose(kept[[49, 50, 51, 52, 53]], moved[[49, 50, 51, 52, 53]])  # the upper as moved
    thin = moved.copy()
    thin[[55, 56, 57, 58, 59], 1] = 237.0  # a lower lip squeezed to 0.2 of its own keeps 0.5
    assert np.allclose(keep_lips_whole(lm, thin, MOUTH, src, (shut, shut), 0.5, 0.0, most=1.3)[[55, 57, 59], 1],
                       240.0)


def test_a_thin_upper_lip_keeps_its_planned_place_as_the_cut_closes_down_past_it():
    """A laugh's cut taken up into a thin upper lip (its outer points half a pixel above the cut):
    the closing curve goes 20 px down, the plan lowers the lip 7 px; the upper lip stays planned (it
    followed the curve down and stretched the philtrum), a lower lip that thin still follows its curve."""
    lm = _face()
    lm[[49, 50, 51, 52, 53], 1] = 215.0
    lm[[55, 56, 57, 58, 59], 1] = 255.0
    x = np.linspace(90.0, 150.0, 13)
    src = (np.column_stack([x, np.full_like(x, 215.5)]), np.column_stack([x, np.full_like(x, 254.5)]))
    shut = np.column_stack([x, np.full_like(x, 235.0)])
    moved = lm.copy()
    moved[[49, 50, 51, 52, 53], 1] = 222.0
    moved[[55, 56, 57, 58, 59], 1] = 245.0
    out = keep_lips_whole(lm, moved, MOUTH, src, (shut, shut), 0.5, 1.0, most=1.3)
    assert np.allclose(out[[49, 50, 51, 52, 53]], moved[[49, 50, 51, 52, 53]])
    assert np.allclose(out[[55, 56, 57, 58, 59], 1], 255.0 + (235.0 - 254.5))  # as its curve moves
    # held at most ``rest`` px above the closed line (a resting lip's height): 5 px, not the planned 13
    assert np.allclose(keep_lips_whole(lm, moved, MOUTH, src, (shut, shut), 0.5, 1.0, rest=5.0)[[49, 51, 53], 1],
                       230.0)
    # planned onto the closed line, the thin upper lip keeps half its own thickness above it
    onto = moved.copy()
    onto[[49, 50, 51, 52, 53], 1] = 236.0
    assert np.allclose(keep_lips_whole(lm, onto, MOUTH, src, (shut, shut), 0.5, 1.0)[[49, 51, 53], 1], 234.75)
