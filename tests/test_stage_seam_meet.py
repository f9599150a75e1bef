"""A small mouth's closed seam is drawn where the lips meet in the pixels
(:func:`faceedit.stage.seam_meet.meet_line`): onto a valley deep enough, not onto a faint dark."""

from __future__ import annotations

import numpy as np

from faceedit.stage.seam_meet import meet_line
from faceedit.stage.tuning_lips import LipsTuning


def _lips(valley_row: float, depth: float) -> np.ndarray:
    """A 40 x 60 grey mouth (lips at 180) with a Gaussian valley ``depth`` grey levels deep on
    ``valley_row``, one pixel's sigma."""
    rows = np.arange(40, dtype=np.float64)[:, None]
    grey = 180.0 - depth * np.exp(-0.5 * (rows - valley_row) ** 2) * np.ones((1, 60))
    return np.repeat(np.round(grey)[..., None], 3, 2).astype(np.uint8)


def _line(row: float) -> np.ndarray:
    return np.stack([np.linspace(10.0, 50.0, 21), np.full(21, row)], 1)


def test_the_line_moves_onto_a_deep_valley():
    moved = meet_line(_lips(19.4, 40.0), _line(20.0), 30.0)
    middle = moved[7:14, 1]
    assert np.all(np.abs(middle - 19.4) < 0.15), middle
    assert abs(moved[0, 1] - 20.0) < 1e-6 and abs(moved[-1, 1] - 20.0) < 1e-6  # the corners stay


def test_a_faint_dark_leaves_the_line_where_it_is():
    line = _line(20.0)
    faint = LipsTuning().seam_meet_depth * 255 * 0.6  # a lip's carried edge, under the depth
    assert np.allclose(meet_line(_lips(21.2, faint), line, 30.0), line)
    assert not np.allclose(meet_line(_lips(21.2, 3 * faint), line, 30.0), line)


def test_no_reach_leaves_the_line():
    line = _line(20.0)
    assert np.allclose(meet_line(_lips(19.0, 40.0), line, 30.0, LipsTuning(seam_meet_reach=0.0)), line)
