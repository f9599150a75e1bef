"""Planned landmark moves on the stage's mean face: a target's own moves read as rises, and the
landmarks an edit plans (tests/test_happy_eyes.py, tests/test_surprised_drop.py)."""

from __future__ import annotations

import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.model import Stage
from faceedit.stage.moves import face_frame


def mean_face(stage: Stage) -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px)."""
    return stage._a("mean_shape").astype(np.float64) * 4.0


def up(face: np.ndarray, moved: np.ndarray, points) -> float:
    """The points' mean rise from ``face`` to ``moved``, eye distances (up the face: above 0)."""
    _, n, e = face_frame(face)
    return -float(((moved[list(points)] - face[list(points)]) @ n).mean()) / e


def plan(stage: Stage, lm: np.ndarray, target: str) -> np.ndarray:
    """The landmarks the stage plans for the face at ``lm`` made ``target`` (a grey photo round it)."""
    img = np.full((1100, 1100, 3), 150, np.uint8)
    return np.asarray(stage.edit_photo(img, [lm], EditRequest.of(target, 1.0))[1][0].landmarks, np.float64)


def assert_lines_alike_without(stage: Stage, monkeypatch, table: dict, key: str) -> None:
    """The state's line moves (:meth:`~faceedit.stage.state.ExpressionStates._line_moves`) made
    again without ``table[key]`` are the same: the lines do not read those moves."""
    with_moves = stage._line_moves()
    monkeypatch.delitem(table, key)
    monkeypatch.setattr(stage, "_np", {})  # the lines' moves made again, not the kept ones
    again = stage._line_moves()
    assert again is not with_moves
    np.testing.assert_array_equal(again, with_moves)
