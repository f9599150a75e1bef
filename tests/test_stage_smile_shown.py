"""The state reads no more of a smile than the mouth shows (:meth:`ExpressionStates.smile_shown`,
``RestTuning.smile_unshown``): a face whose lips fit as part of a smile without one is not made
narrow and pursed by a neutral edit taking that smile away."""

import dataclasses

import numpy as np
import pytest


@pytest.fixture(scope="module")
def stage():
    from faceedit.models.loading import load_model

    return load_model("stage").model


def _happy(stage) -> np.ndarray:
    return stage._line_moves()[stage.line_targets().index("happy")].reshape(68, 2)


def _photo(shape: np.ndarray) -> np.ndarray:
    """A canonical shape as a photo's points: twice as large, shifted."""
    return shape * 2.0 + 100.0


def _reads(stage, monkeypatch, face: np.ndarray, unshown: float) -> float:
    rest = dataclasses.replace(stage.tuning.rest, smile_unshown=unshown)
    monkeypatch.setattr(stage, "tuning", dataclasses.replace(stage.tuning, rest=rest))
    return stage.state(_photo(face)).lines.get("happy", 0.0)


def test_a_smile_shows_as_much_as_the_happy_line_moves(stage):
    mean = stage._a("mean_shape").reshape(68, 2).astype(np.float64)
    assert stage.smile_shown(mean) == pytest.approx(0.0, abs=1e-9)
    for s in (0.3, 1.0):
        assert stage.smile_shown(mean + s * _happy(stage)) == pytest.approx(s, abs=0.01)  # (the eyes move a little with it)


def test_a_smile_the_mouth_shows_is_read_whole(stage, monkeypatch):
    mean = stage._a("mean_shape").reshape(68, 2).astype(np.float64)
    for s in (0.3, 0.6, 1.0):
        face = mean + s * _happy(stage)
        assert _reads(stage, monkeypatch, face, 0.0) == pytest.approx(_reads(stage, monkeypatch, face, 10.0), abs=1e-9)


def test_a_mouth_showing_no_smile_reads_no_more_of_one_than_the_margin(stage, monkeypatch):
    mean = stage._a("mean_shape").reshape(68, 2).astype(np.float64)
    face = mean + 0.8 * _happy(stage)
    face[48:68] = mean[48:68] + (face[48:68] - mean[48:68]).mean(0)  # the mean face's mouth, moved with the rest
    shown = stage.smile_shown(face)
    assert shown < 0.05
    assert _reads(stage, monkeypatch, face, 10.0) > shown + 0.05  # the fit alone reads a smile from the rest
    for margin in (0.0, 0.05):
        assert _reads(stage, monkeypatch, face, margin) == pytest.approx(shown + margin, abs=1e-9)


def test_the_lines_moves_are_made_once_a_tuning_and_read_alike(stage, monkeypatch):
    """``_line_moves`` is kept (read-only) for the edit tuning it was made with: a second call
    gives the same array, the same values as made afresh; another edit tuning makes them again,
    and ``smile_shown``'s kept scale follows them."""
    kept = stage._line_moves()
    assert stage._line_moves() is kept
    assert not kept.flags.writeable
    mean = stage._a("mean_shape").reshape(68, 2).astype(np.float64)
    face = mean + 0.6 * _happy(stage)
    shown = stage.smile_shown(face)
    monkeypatch.setattr(stage, "_np", {})
    np.testing.assert_array_equal(stage._line_moves(), kept)
    assert stage.smile_shown(face) == shown
    # the uncached reading, as smile_shown's docstring gives it
    from faceedit.stage.moves import mouth_smile

    rest = mouth_smile(mean)
    line = mean + kept[stage.line_targets().index("happy")].reshape(68, 2)
    assert shown == max(float(((mouth_smile(face) - rest) / np.maximum(mouth_smile(line) - rest, 1e-6)).max()), 0.0)
    # another edit tuning: the moves made again with it (lips closed at any gap: a new array)
    before = stage._line_moves()
    shut = dataclasses.replace(stage.tuning.edit, lips_closed=np.inf)
    monkeypatch.setattr(stage, "tuning", dataclasses.replace(stage.tuning, edit=shut))
    moved = stage._line_moves()
    assert moved is not before and stage._line_moves() is moved
    assert not np.array_equal(moved, before)  # every line's lips closed now
    stage.smile_shown(face)
    assert stage._np["smile_scale"][0] is moved
