"""A carried row's lit teeth end in tips, not a straight cut (:mod:`faceedit.stage.tooth_tips`):
the edge rises into the row's own gaps, read at its lowest rows or over its whole height, else
placed a tooth's width apart from its middle."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tooth_tips import TOOTH_SHARE, row_gaps, tip_lift
from faceedit.stage.tuning import MouthTuning


def row(gaps_at: tuple[int, ...] = (), *, rows: slice = slice(5, 17)) -> tuple[np.ndarray, np.ndarray]:
    """(luma, lit) of a lit row 120 columns wide over ``rows``, dark gaps 2 columns wide at
    ``gaps_at`` down those rows."""
    lit = np.zeros((30, 160), bool)
    lit[5:17, 20:140] = True
    luma = np.where(lit, 0.8, 0.05)
    for g in gaps_at:
        luma[rows, g:g + 2] = 0.5
    return luma, lit


def test_a_straight_row_without_gaps_gets_tips_a_tooth_apart():
    """No gap shows: the edge is no longer straight, it rises at the middle and a tooth's width
    either side, as deep as carried_tip_depth of the width, rounded (smooth, no single-column spike)."""
    luma, lit = row()
    lift = tip_lift(luma, lit, 160.0, MouthTuning())
    assert np.ptp(lift[20:140]) > 2.0  # no longer straight
    peaks = [x for x in range(21, 139) if lift[x] > 0 and lift[x] >= lift[x - 1] and lift[x] >= lift[x + 1]]
    step = TOOTH_SHARE * 120
    assert any(abs(p - 79.5) <= 1 for p in peaks)  # the front incisors' joint
    assert any(abs(p - (79.5 + step)) <= 1.5 for p in peaks) and any(abs(p - (79.5 - step)) <= 1.5 for p in peaks)
    assert lift.max() <= MouthTuning().carried_tip_depth * 160 + 1e-9
    assert np.count_nonzero(lift > 0.5 * lift.max()) >= 3 * len(peaks)  # rounded: wider than a spike
    assert np.all(lift[:20] == 0) and np.all(lift[140:] == 0)


def test_the_rows_own_gaps_are_where_its_tips_part():
    """Gaps over the whole height (the tips hidden, the lowest rows lit) are read where they
    are, not placed: the edge rises there and not half a tooth away."""
    luma, lit = row((60, 100), rows=slice(5, 13))
    cols, gap = row_gaps(luma, lit, 160.0, MouthTuning())
    assert set(cols[gap]) <= {60, 61, 100, 101} and gap.any()
    lift = tip_lift(luma, lit, 160.0, MouthTuning())
    assert lift[60] > 2.0 and lift[100] > 2.0 and lift[80] == 0


def test_a_narrow_row_is_left_straight():
    luma, lit = row()
    assert not tip_lift(luma, lit, 400.0, MouthTuning()).any()  # under four gap reaches wide


def test_a_thin_rows_tips_take_a_share_of_its_height():
    """A row 4 px tall keeps three quarters of each column lit: at the gap's full depth a thin
    row was cut into a saw's teeth."""
    lit = np.zeros((30, 160), bool)
    lit[5:9, 20:140] = True
    luma = np.where(lit, 0.8, 0.05)
    lift = tip_lift(luma, lit, 160.0, MouthTuning())
    assert lift.max() > 0 and lift.max() <= MouthTuning().carried_tip_share * 4 + 1e-9
