"""The upper teeth a smile carries into an opening that stays open hang under its new upper lip
(faceedit.stage.teeth_hang): the rigid move where the lip keeps its shape, each column shifted
with the lip where it arches, the middle kept; and a smile's row carried on through its shaded
side teeth and over a column without teeth inside it (faceedit.stage.side_teeth), on drawn pixels."""

from __future__ import annotations

import numpy as np

from faceedit.stage.cut_fields import rigid_field
from faceedit.stage.side_teeth import upper_teeth_share, with_side_teeth
from faceedit.stage.teeth_hang import hang_amount, hung_field, lip_drop
from faceedit.stage.tuning_lips import LipsTuning

XS = np.linspace(100.0, 160.0, 31)


def flat(y: float) -> np.ndarray:
    return np.column_stack([XS, np.full_like(XS, y)])


def arch(y: float, sag: float) -> np.ndarray:
    """A curve through y at its middle whose ends lie ``sag`` px lower (an opening's arch)."""
    u = (XS - XS.mean()) / (XS[-1] - XS.mean())
    return np.column_stack([XS, y + sag * u**2])


def nodes() -> np.ndarray:
    ys, xs = np.mgrid[80:140:4, 90:172:4].astype(np.float64)
    return np.stack([xs, ys], -1)


def test_a_lip_moved_rigidly_drops_nowhere_and_the_field_is_the_rigid_one():
    src, dst = flat(120.0), flat(110.0) + (5.0, 0.0)
    assert np.allclose(lip_drop(dst, dst, src, XS), 0.0, atol=1e-9)
    n = nodes()
    assert np.allclose(hung_field(dst, dst, src, n, 1.0), rigid_field(dst, src, n))
    assert np.allclose(hung_field(dst, arch(110.0, 6.0), src, n, 0.0), rigid_field(dst, src, n))


def test_teeth_hang_lower_under_an_arched_lip_and_keep_the_middle():
    src, frame, dst = flat(120.0), flat(110.0), arch(110.0, 6.0)
    drop = lip_drop(frame, dst, src, XS)
    assert abs(drop[15]) < 1e-9 and drop[0] == np.max(drop) and abs(drop[0] - 6.0) < 1e-6
    n = nodes()
    rigid, hung = rigid_field(frame, src, n), hung_field(frame, dst, src, n, 1.0)
    mid = np.argmin(np.abs(n[0, :, 0] - 130.0))
    side = np.argmin(np.abs(n[0, :, 0] - 100.0))
    assert np.allclose(hung[:, mid], rigid[:, mid], atol=0.3)  # (the middle's own drop is ~0)
    # a side node samples the source ~6 px higher: the teeth there sit 6 px lower, as the lip does
    assert np.allclose(hung[:, side, 1] - rigid[:, side, 1], -6.0, atol=0.3)
    assert np.allclose(hung[..., 0], rigid[..., 0])  # (across, the teeth keep their place and size)
    half = hung_field(frame, dst, src, n, 0.5)
    assert np.allclose(half[:, side, 1] - rigid[:, side, 1], -3.0, atol=0.3)


def test_a_slit_keeps_the_rigid_row_and_a_tall_opening_hangs_it_whole():
    up = arch(110.0, 6.0)
    aspect = (0.25, 0.45)  # (WarpTuning.round_aspect)
    assert hang_amount(up, up + (0.0, 6.0), 1.0, aspect) == 0.0  # 6 px tall, 60 wide: a slit
    assert hang_amount(up, up + (0.0, 30.0), 1.0, aspect) == 1.0  # 30 px tall: an oval
    assert 0.0 < hang_amount(up, up + (0.0, 21.0), 1.0, aspect) < 1.0
    assert hang_amount(up, up + (0.0, 30.0), 0.0, aspect) == 0.0


LIP = (200, 120, 125)
FRONT = (245, 243, 238)
SHADED = (190, 175, 165)  # side teeth in the mouth's shade: lighter than the lip, under half-way
DARK = (25, 15, 15)


def smile(cols_front: tuple[int, int], cols_shaded: tuple[int, int]):
    """(rgb, upper, lower): a lip all round an interior between rows 40 and 56 over columns
    20-99, upper teeth down to row 50: front teeth over ``cols_front``, shaded side teeth
    over ``cols_shaded`` beyond them, the dark of the corners elsewhere."""
    rgb = np.empty((90, 120, 3), np.uint8)
    rgb[:] = LIP
    rgb[40:56, 20:100] = DARK
    rgb[40:50, cols_shaded[0]:cols_shaded[1]] = SHADED
    rgb[40:50, cols_front[0]:cols_front[1]] = FRONT
    xs = np.linspace(20.0, 99.0, 33)
    return rgb, np.column_stack([xs, np.full_like(xs, 40.0)]), np.column_stack([xs, np.full_like(xs, 56.0)])


def test_the_carried_row_goes_on_through_shaded_side_teeth_and_stops_at_the_dark():
    rgb, up, lo = smile((45, 75), (30, 90))
    share = upper_teeth_share(rgb, up, lo)
    row = np.flatnonzero(share > 0)
    xs = up[:, 0]
    assert xs[row[0]] > 40 and xs[row[-1]] < 80  # the half-way mark: the front teeth alone
    out = with_side_teeth(rgb, up, lo, share)
    wide = np.flatnonzero(out > 0)
    assert xs[wide[0]] < 35 and xs[wide[-1]] > 85  # on through the shaded teeth ...
    assert (out[xs < 28] == 0).all() and (out[xs > 92] == 0).all()  # ... not into the dark corners
    assert np.allclose(out[share > 0], share[share > 0])  # the front teeth's own shares kept
    assert (out[(share == 0) & (out > 0)] <= 0.7).all()  # (the teeth reach row 50: 10 of 16 rows)


def test_no_side_teeth_leave_the_row_as_found():
    rgb, up, lo = smile((45, 75), (45, 75))
    share = upper_teeth_share(rgb, up, lo)
    assert np.array_equal(with_side_teeth(rgb, up, lo, share), share)
    rgb, up, lo = smile((45, 75), (30, 90))
    share = upper_teeth_share(rgb, up, lo)
    off = LipsTuning(side_teeth_light=0.0)
    assert np.array_equal(with_side_teeth(rgb, up, lo, share, off), share)


def test_a_row_without_teeth_in_a_column_stays_one_row():
    from faceedit.stage.side_teeth import bridged

    share = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.6, 0.0, 0.0])
    assert bridged(share).tolist() == [0.0, 0.0, 1.0, 1.0, 0.6, 0.6, 0.0, 0.0]  # the gap at the lower side's
    assert bridged(np.array([0.0, 0.8, 0.0, 0.0, 0.9, 0.0])).tolist() == [0.0, 0.8, 0.8, 0.8, 0.9, 0.0]
    whole = np.array([0.0, 0.5, 0.7, 0.0])
    assert np.array_equal(bridged(whole), whole) and bridged(None) is None
