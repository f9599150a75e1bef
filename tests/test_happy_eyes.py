"""happy's own eye, brow and mouth moves (faceedit.stage.moves.TARGET_MOVES["happy"]): a real
smile's upper lids come down, its lower lids rise (the eye narrowed from below), its brows'
outer ends stay and its lower lip and chin stay near where they were; the moves are added by an
edit heading for happy only and the state's happy line does not read them."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.models.request import EditRequest
from faceedit.stage import moves
from faceedit.stage.model import Stage
from faceedit.stage.moves import MOVES_OFF_LINE, TARGET_MOVES, face_frame, target_moves


@pytest.fixture(scope="module")
def stage() -> Stage:
    return Stage.from_pretrained("stage")


@pytest.fixture(scope="module")
def face(stage) -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px)."""
    return stage._a("mean_shape").astype(np.float64) * 4.0


def _up(face: np.ndarray, moved: np.ndarray, points) -> float:
    """The points' mean rise from ``face`` to ``moved``, eye distances (up the face: above 0)."""
    _, n, e = face_frame(face)
    return -float(((moved[list(points)] - face[list(points)]) @ n).mean()) / e


def test_happy_lowers_the_lids_and_levels_the_brows(face):
    out = target_moves(face, face, "happy", 1.0)
    assert _up(face, out, (37, 38, 43, 44)) < -0.004  # the upper lids come down
    assert _up(face, out, (40, 41, 46, 47)) > 0.015  # the lower lids rise: the eye narrowed from below
    assert _up(face, out, (17, 26)) > 0.02 > -0.01 > _up(face, out, (21, 22))  # outer ends up, inner down
    # mirrored: each left point's move is its right twin's
    for a, b in ((37, 44), (41, 46), (17, 26), (21, 22)):
        assert _up(face, out, (a,)) == pytest.approx(_up(face, out, (b,)), abs=1e-9)


def test_happy_lifts_the_lower_lip_and_corners_not_the_upper_lip(face):
    """A real smile barely moves the lower lip and the chin (the state's happy drops them):
    happy's own moves lift them back, and the corners, and leave the upper lip's middle."""
    out = target_moves(face, face, "happy", 1.0)
    assert _up(face, out, (66, 57)) > 0.02 and _up(face, out, (8,)) > 0.01  # lower lip, chin
    assert _up(face, out, (48, 54, 60, 64)) > 0.01  # the corners rise
    assert _up(face, out, (62, 51)) == pytest.approx(0.0, abs=1e-12)  # the upper lip's middle stays
    for a, b in ((48, 54), (67, 65), (58, 56), (7, 9)):
        assert _up(face, out, (a,)) == pytest.approx(_up(face, out, (b,)), abs=1e-9)


def test_happy_moves_only_added(face):
    assert "happy" in MOVES_OFF_LINE
    assert target_moves(face, face, "happy", 1.0, on_line=True) is face
    assert target_moves(face, face, "happy", -0.5) is face
    assert not np.array_equal(target_moves(face, face, "happy", 0.5), face)


def test_happy_line_does_not_read_them(stage, monkeypatch):
    with_moves = stage._line_moves()
    monkeypatch.delitem(TARGET_MOVES, "happy")
    monkeypatch.setattr(stage, "_np", {})  # the lines' moves made again, not the kept ones
    again = stage._line_moves()
    assert again is not with_moves
    np.testing.assert_array_equal(again, with_moves)


def _plan(stage, lm, target):
    img = np.full((1100, 1100, 3), 150, np.uint8)
    return np.asarray(stage.edit_photo(img, [lm], EditRequest.of(target, 1.0))[1][0].landmarks, np.float64)


def test_edit_to_happy_lowers_upper_lids_and_neutral_keeps(stage, face, monkeypatch):
    happy = _plan(stage, face, "happy")
    neutral_of_smile = _plan(stage, happy, "neutral")
    monkeypatch.delitem(moves.TARGET_MOVES, "happy")
    plain = _plan(stage, face, "happy")
    # the edit heading for happy: upper lids lower, outer brows higher than the state alone plans
    assert _up(face, happy, (37, 38, 43, 44)) < _up(face, plain, (37, 38, 43, 44)) - 0.003
    assert _up(face, happy, (17, 26)) > _up(face, plain, (17, 26)) + 0.01
    # a smile made neutral is planned alike with or without them (they are never taken away)
    np.testing.assert_allclose(_plan(stage, happy, "neutral"), neutral_of_smile, atol=1e-9)


def test_other_targets_planned_alike_without_them(stage, face, monkeypatch):
    """An edit to another target and back to neutral is planned alike with or without happy's
    moves (the state read afresh): they are not read on a line, and only an edit to happy adds
    them."""
    wide = _plan(stage, face, "surprised")
    back = _plan(stage, wide, "neutral")
    monkeypatch.delitem(moves.TARGET_MOVES, "happy")
    monkeypatch.setattr(stage, "_np", {})  # the solvers built again from the lines' moves
    np.testing.assert_allclose(_plan(stage, face, "surprised"), wide, atol=1e-9)
    np.testing.assert_allclose(_plan(stage, wide, "neutral"), back, atol=1e-9)
