"""happy's own eye, brow and mouth moves (faceedit.stage.moves.TARGET_MOVES["happy"]): a real
smile's upper lids come down, its lower lids rise (the eye narrowed from below), its brows'
outer ends stay and its lower lip and chin stay near where they were; the moves are added by an
edit heading for happy only and the state's happy line does not read them."""

from __future__ import annotations

import numpy as np
import pytest
from _plans import assert_lines_alike_without, mean_face, plan, up

from faceedit.stage import moves
from faceedit.stage.model import Stage
from faceedit.stage.moves import MOVES_OFF_LINE, TARGET_MOVES, target_moves


@pytest.fixture(scope="module")
def stage() -> Stage:
    return Stage.from_pretrained("stage")


@pytest.fixture(scope="module")
def face(stage) -> np.ndarray:
    return mean_face(stage)


def test_happy_lowers_the_lids_and_levels_the_brows(face):
    out = target_moves(face, face, "happy", 1.0)
    assert up(face, out, (37, 38, 43, 44)) < -0.004  # the upper lids come down
    assert up(face, out, (40, 41, 46, 47)) > 0.015  # the lower lids rise: the eye narrowed from below
    assert up(face, out, (17, 26)) > 0.02 > -0.01 > up(face, out, (21, 22))  # outer ends up, inner down
    # mirrored: each left point's move is its right twin's
    for a, b in ((37, 44), (41, 46), (17, 26), (21, 22)):
        assert up(face, out, (a,)) == pytest.approx(up(face, out, (b,)), abs=1e-9)


def test_happy_lifts_the_lower_lip_and_corners_not_the_upper_lip(face):
    """A real smile barely moves the lower lip and the chin (the state's happy drops them):
    happy's own moves lift them back, and the corners, and leave the upper lip's middle."""
    out = target_moves(face, face, "happy", 1.0)
    assert up(face, out, (66, 57)) > 0.02 and up(face, out, (8,)) > 0.01  # lower lip, chin
    assert up(face, out, (48, 54, 60, 64)) > 0.01  # the corners rise
    assert up(face, out, (62, 51)) == pytest.approx(0.0, abs=1e-12)  # the upper lip's middle stays
    for a, b in ((48, 54), (67, 65), (58, 56), (7, 9)):
        assert up(face, out, (a,)) == pytest.approx(up(face, out, (b,)), abs=1e-9)


def test_happy_moves_only_added(face):
    assert "happy" in MOVES_OFF_LINE
    assert target_moves(face, face, "happy", 1.0, on_line=True) is face
    assert target_moves(face, face, "happy", -0.5) is face
    assert not np.array_equal(target_moves(face, face, "happy", 0.5), face)


def test_happy_line_does_not_read_them(stage, monkeypatch):
    assert_lines_alike_without(stage, monkeypatch, TARGET_MOVES, "happy")


def test_edit_to_happy_lowers_upper_lids_and_neutral_keeps(stage, face, monkeypatch):
    happy = plan(stage, face, "happy")
    neutral_of_smile = plan(stage, happy, "neutral")
    monkeypatch.delitem(moves.TARGET_MOVES, "happy")
    plain = plan(stage, face, "happy")
    # the edit heading for happy: upper lids lower, outer brows higher than the state alone plans
    assert up(face, happy, (37, 38, 43, 44)) < up(face, plain, (37, 38, 43, 44)) - 0.003
    assert up(face, happy, (17, 26)) > up(face, plain, (17, 26)) + 0.01
    # a smile made neutral is planned alike with or without them (they are never taken away)
    np.testing.assert_allclose(plan(stage, happy, "neutral"), neutral_of_smile, atol=1e-9)


def test_other_targets_planned_alike_without_them(stage, face, monkeypatch):
    """An edit to another target and back to neutral is planned alike with or without happy's
    moves (the state read afresh): they are not read on a line, and only an edit to happy adds
    them."""
    wide = plan(stage, face, "surprised")
    back = plan(stage, wide, "neutral")
    monkeypatch.delitem(moves.TARGET_MOVES, "happy")
    monkeypatch.setattr(stage, "_np", {})  # the solvers built again from the lines' moves
    np.testing.assert_allclose(plan(stage, face, "surprised"), wide, atol=1e-9)
    np.testing.assert_allclose(plan(stage, wide, "neutral"), back, atol=1e-9)
