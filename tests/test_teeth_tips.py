"""A carried row's lit teeth end in tips, not a straight cut (:mod:`faceedit.stage.tooth_tips`):
the edge rises into the row's own gaps, read at its lowest rows or over its whole height, else
placed a tooth's width apart from its middle."""

from __future__ import annotations

import numpy as np

from faceedit.stage.tooth_tips import TIP_APART, TOOTH_SHARE, row_gaps, side_soft, tip_cut, tip_lift
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


def test_gaps_closer_than_a_tooth_keep_the_darker():
    """Two dips read 6 columns apart (a tooth is 0.22 of 120 = 26 px): one notch, at the darker."""
    luma, lit = row((60, 66, 100))
    luma[5:17, 66:68] = 0.4
    cols, gap = row_gaps(luma, lit, 160.0, MouthTuning())
    at = set(cols[gap])
    assert not at & {60, 61} and at & {66, 67} and at & {100, 101}
    assert np.diff(sorted(at)).min() >= TIP_APART * TOOTH_SHARE * 120


def test_a_placed_gap_moves_onto_the_photos_joint():
    """One gap read at the middle: the next is placed a tooth's width away, and moves onto a
    faint joint between teeth (too faint to be read) within TIP_SNAP of that width, not under
    the middle of a tooth."""
    luma, lit = row((79,))
    luma[5:17, 79:81] = 0.3
    step = TOOTH_SHARE * 120
    joint = int(round(20 + 79.5 - 20 + step)) + 3  # 3 px off the placed column
    luma[5:17, joint] = 0.77
    cols, gap = row_gaps(luma, lit, 160.0, MouthTuning())
    assert joint in set(cols[gap])


def test_the_photos_side_edges_set_the_softness():
    """Teeth whose sides rise over 3 px read softer than ones cut square; no gaps: the fallback."""
    lit = np.zeros((20, 100), bool)
    lit[2:14, 5:95] = True
    x = np.arange(100)
    sharp = np.where((x % 15) == 7, 0.3, 0.8)[None, :].repeat(20, 0)
    ramp = np.clip(np.abs((x % 15) - 7) / 3.0, 0.0, 1.0)
    soft = (0.3 + 0.5 * ramp)[None, :].repeat(20, 0)
    assert side_soft(sharp, lit, 9.0) == 1.0
    assert 2.5 <= side_soft(soft, lit, 9.0) <= 3.5
    assert side_soft(np.full((20, 100), 0.8), lit, 9.0) == 9.0


def test_the_cut_is_soft_and_square_to_a_sloped_edge():
    """A flat edge ramps over its whole width down the column; on a slope of 1 the same ramp,
    measured square to the edge, spans sqrt(2) times as many rows (no stair of one-pixel steps)."""
    above = np.arange(20, dtype=np.float64)[:, None].repeat(12, 1)
    inside = np.ones(above.shape, bool)
    flat = tip_cut(above, np.full(above.shape, 10.0), inside, 3.0, 3.0, np.zeros(above.shape))
    assert flat[8, 5] == 0.0 and 0.0 < flat[10, 5] < 1.0 and flat[12, 5] == 1.0
    sloped = tip_cut(above, 4.0 + np.arange(12.0)[None, :].repeat(20, 0), inside, 3.0, 3.0, np.zeros(above.shape))
    rows_flat = np.count_nonzero((flat[:, 5] > 0) & (flat[:, 5] < 1))
    rows_sloped = np.count_nonzero((sloped[:, 5] > 0) & (sloped[:, 5] < 1))
    assert rows_sloped > rows_flat


def test_a_soft_cut_spreads_no_light_below_a_sharp_ones_end():
    """Softened, the edge starts higher: every pixel is at least as far into the cavity as the
    1 px cut's, and the teeth above still fade into it over more rows."""
    above = np.arange(20, dtype=np.float64)[:, None].repeat(3, 1)
    end, inside = np.full(above.shape, 10.0), np.ones(above.shape, bool)
    none = np.zeros(above.shape)
    sharp, soft = tip_cut(above, end, inside, 1.0, 1.0, none), tip_cut(above, end, inside, 3.0, 1.0, none)
    assert np.all(soft >= sharp - 1e-12)
    assert np.count_nonzero((soft[:, 0] > 0) & (soft[:, 0] < 1)) > np.count_nonzero((sharp[:, 0] > 0) & (sharp[:, 0] < 1))


def test_the_soft_cut_leaves_the_band_under_the_lip_as_it_is():
    """Where the band kept under the lip lies close above the edge, the ramp starts no higher
    than it (sharper there), and never sharper than the least ramp."""
    above = np.arange(20, dtype=np.float64)[:, None].repeat(3, 1)
    end, inside = np.full(above.shape, 10.0), np.ones(above.shape, bool)
    cut = tip_cut(above, end, inside, 6.0, 1.0, np.full(above.shape, 8.5))
    assert np.all(cut[:9, 0] == 0) and cut[9, 0] > 0 and cut[11, 0] == 1
    tight = tip_cut(above, end, inside, 6.0, 1.0, np.full(above.shape, 10.0))
    assert np.array_equal(tight, tip_cut(above, end, inside, 1.0, 1.0, np.zeros(above.shape)))
