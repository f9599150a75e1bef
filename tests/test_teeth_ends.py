"""Where an open mouth's row of upper teeth ends: the bank's row's last teeth dark at its own
ends, its front teeth lit, a short row's too (:mod:`faceedit.stage.teeth_ends`); a carried row's
lower edge rising into the gaps between its teeth (:func:`faceedit.stage.lip_rims.tooth_corners`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from faceedit.stage.lip_rims import tooth_corners
from faceedit.stage.teeth_ends import row_end_fade
from faceedit.stage.tuning import MouthTuning


def fade(lit: tuple[float, float], span: float = 0.6, shade: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(u, the fade) over a row whose teeth show between ``lit`` (u from corner to corner), the
    tooth tapering to nothing at those ends; pixels beyond them show a tooth at a quarter."""
    u = np.linspace(0.0, 1.0, 401)
    inside = (u >= lit[0]) & (u <= lit[1])
    visible = np.where(inside, np.minimum(u - lit[0], lit[1] - u) + 0.01, -1.0)
    alpha = np.where(inside, 1.0, 0.25)
    return u, row_end_fade(visible, alpha, u, span, shade)


def test_the_row_darkens_to_its_own_ends_and_its_middle_stays_lit():
    u, f = fade((0.2, 0.8))

    def at(x: float) -> float:
        return float(f[np.argmin(np.abs(u - x))])

    assert at(0.2) == 0.3 and at(0.8) == 0.3  # the outermost lit tooth
    assert at(0.1) == 0.3 and at(0.95) == 0.3  # beyond it (a tooth at a quarter does not move the end)
    assert at(0.5) == 1.0 and at(0.4) == 1.0  # from 0.6 of the way to the middle
    left = f[(u >= 0.2) & (u <= 0.38)]
    assert np.all(np.diff(left) >= 0) and 0.3 < at(0.29) < 1.0  # rising, smooth between


def test_a_short_rows_front_teeth_stay_lit():
    """A row lit only over the middle 0.3 is darkened over its own last teeth, not at a fixed
    share of the mouth's width (which left no front tooth lit)."""
    u, f = fade((0.35, 0.65))
    assert np.all(f[(u > 0.45) & (u < 0.55)] == 1.0)
    assert f[np.argmin(np.abs(u - 0.36))] < 0.5


def test_no_tooth_shown_leaves_the_luma():
    u = np.linspace(0.0, 1.0, 50)
    assert np.all(row_end_fade(np.full(50, -1.0), np.ones(50), u, 0.6, 0.3) == 1.0)


def carried_row(gap_at: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(luma, carried mask) of a carried row 120 columns wide and 12 rows tall, lit teeth with a
    dark gap 2 columns wide at ``gap_at`` (none with None)."""
    car = np.zeros((30, 160), np.float32)
    car[5:17, 20:140] = 1.0
    luma = np.where(car > 0, 0.8, 0.05)
    if gap_at is not None:
        luma[5:17, gap_at:gap_at + 2] = 0.3
    return luma, car


def test_the_carried_rows_lower_edge_rises_into_the_gap_between_its_teeth():
    """The row's lower edge, cut straight across by the carried interior's curve, rounds up into
    the gap between the teeth (a notch there, none a tooth's width away); drawn 0.04 of the width
    deep to see its shape, and at the default's 0.015 (2.4 px here) a notch still."""
    tn = replace(MouthTuning(), carried_corner=0.04)
    luma, car = carried_row(80)
    cut = tooth_corners(luma, car, 160.0, tn)
    notch = cut[5:17].sum(0)  # rows of each column below the teeth's edge
    assert notch[80] >= 3 and notch[80] >= notch[75] > notch[70] and notch[60] == 0 and notch[100] == 0
    shallow = tooth_corners(luma, car, 160.0, MouthTuning())[5:17].sum(0)
    assert 1 <= shallow[80] < notch[80] and shallow[78] > 0 and shallow[75] == 0
    assert np.all(cut[:5] == 0) and np.all(cut[17:] == 0) and np.all(cut[5:8] == 0)  # the teeth's tops kept
    luma, car = carried_row(None)
    assert not tooth_corners(luma, car, 160.0, tn).any()  # no gap: the edge as it is
    luma, car = carried_row(26)
    assert not tooth_corners(luma, car, 160.0, tn).any()  # in the row's side teeth: left to its shadow
