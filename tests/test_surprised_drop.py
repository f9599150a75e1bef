"""surprised's added moves (faceedit.stage.moves.ADDED_MOVES["surprised"]): a real surprise
drops the jaw and leaves the upper lip where it is, and raises its brows less than the state's
surprised with its own moves; the state's surprised alone opens the mouth upward. The edit's plan
keeps the upper lip lower, drops the chin and raises the brows less; the moves are added by an
edit heading for surprised only, and the state's lines do not read them. The way back (made neutral
again) is tests/test_stage_round_trip.py's."""

from __future__ import annotations

import numpy as np
import pytest
from _plans import assert_lines_alike_without, mean_face, plan, up

from faceedit.stage import moves
from faceedit.stage.model import Stage
from faceedit.stage.moves import ADDED_MOVES, SURPRISED_BROWS_DOWN, SURPRISED_MOUTH_DROP, target_moves
from faceedit.stage.state import lip_gap


@pytest.fixture(scope="module")
def stage() -> Stage:
    return Stage.from_pretrained("stage")


@pytest.fixture(scope="module")
def face(stage) -> np.ndarray:
    return mean_face(stage)


def test_the_move_lowers_the_mouth_and_jaw_whole_and_the_brows(face, monkeypatch):
    monkeypatch.setitem(moves.TARGET_MOVES, "surprised", {0: (0.0, 0.0)})  # the added move alone
    out = target_moves(face, face, "surprised", 1.0)
    for points in ((51, 62), (48, 54, 60, 64), (66, 57, 8), tuple(range(48, 68))):
        assert up(face, out, points) == pytest.approx(-SURPRISED_MOUTH_DROP, abs=1e-9)
    assert lip_gap(out) == pytest.approx(lip_gap(face), abs=1e-9)  # the opening's size is real_opening's
    for a, b in ((4, 12), (49, 53), (58, 56)):  # mirrored
        assert up(face, out, (a,)) == pytest.approx(up(face, out, (b,)), abs=1e-9)
    assert -SURPRISED_MOUTH_DROP < up(face, out, (5,)) < 0  # the jaw turns: its sides drop less
    assert up(face, out, (0, 1, 2, 3, *range(27, 48))) == pytest.approx(0.0, abs=1e-9)
    for i, down in SURPRISED_BROWS_DOWN.items():  # the brows come down to real surprises' rise
        assert up(face, out, (i,)) == up(face, out, (moves.MIRROR[i],)) == pytest.approx(-down, abs=1e-9)
    assert up(face, out, (17,)) == pytest.approx(0.0, abs=1e-9)  # their tails as the line raises them


def test_the_move_is_only_added(face):
    lifts = up(face, target_moves(face, face, "surprised", 1.0), (51, 8))
    assert up(face, target_moves(face, face, "surprised", 1.0, on_line=True), (51, 8)) == pytest.approx(
        lifts + SURPRISED_MOUTH_DROP, abs=1e-9)  # the line fit's move: without it
    taken = target_moves(face, face, "surprised", -0.5)  # taken away: surprise's own moves only
    assert up(face, taken, (51, 57, 8)) == pytest.approx(0.0, abs=1e-9)


def test_the_lines_do_not_read_it(stage, monkeypatch):
    assert_lines_alike_without(stage, monkeypatch, ADDED_MOVES, "surprised")


def test_plan_keeps_the_upper_lip_lower_and_drops_the_jaw(stage, face, monkeypatch):
    """The mean face made surprised: the upper lip's middle rises under 0.06 eye distances (0.10
    without the move), the lower lip and the chin come down 0.24 and 0.26 or more (0.20 and 0.23
    without; real surprises' chins 0.21-0.33, dlib on JAFFE and Yale), the corners with them."""
    wide = plan(stage, face, "surprised")
    assert up(face, wide, (51,)) < 0.06
    assert up(face, wide, (57,)) < -0.24 and up(face, wide, (8,)) < -0.26
    assert up(face, wide, (48, 54)) < -0.04
    monkeypatch.delitem(ADDED_MOVES, "surprised")
    plain = plan(stage, face, "surprised")
    assert up(face, plain, (51,)) > 0.08 and up(face, plain, (8,)) > -0.25
