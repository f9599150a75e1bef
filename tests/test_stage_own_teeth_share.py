"""A smile added over the face's own teeth: where the row the warp carries up with the upper lip fills under
half of the new opening (faceedit.stage.mouth_steps.own_teeth_share, OWN_TEETH_LEAST), the whole opening is
painted from the mouth bank; a thin own row over a black band as tall was a gaping mouth, not a smile."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from faceedit.stage.mouth_steps import OWN_TEETH_LEAST, own_teeth_share

LONDON_HD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"


def _opening(carried_rows: int, rows: int = 20, cols: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """An opening ``rows`` px tall over ``cols`` columns whose top ``carried_rows`` rows are the carried teeth,
    its two end columns on each side 2 px tall (a corner's short columns, all painted)."""
    interior = np.zeros((rows, cols))
    opening = np.zeros((rows, cols))
    interior[:carried_rows, 2:-2] = 1.0
    opening[carried_rows:, 2:-2] = 1.0
    opening[:2, :2] = opening[:2, -2:] = 1.0
    return interior, opening


def test_the_share_is_the_carried_rows_over_the_opening_height_in_the_middle_columns():
    assert own_teeth_share(*_opening(6)) == pytest.approx(0.3)
    assert own_teeth_share(*_opening(15)) == pytest.approx(0.75)
    # soft edges count by their coverage; the corners' short columns are left out
    interior, opening = _opening(6)
    interior[6, 2:-2], opening[6, 2:-2] = 0.5, 0.5
    assert own_teeth_share(interior, opening) == pytest.approx(6.5 / 20)
    # the middle half alone: a row that thins to nothing toward the ends reads by its middle
    interior, opening = _opening(10)
    interior[:, 2:12] = 0.0
    opening[:, 2:12] = 1.0
    assert own_teeth_share(interior, opening) == pytest.approx(0.5)
    # nothing to read: the own row is taken as it is
    assert own_teeth_share(np.zeros((5, 5)), np.zeros((5, 5))) == 1.0
    assert 0.3 < OWN_TEETH_LEAST < 0.75


def _dark_inside(ed, rgb: np.ndarray) -> float:
    """The share of the mouth's inside (dlib's 68-point inner lips on the photo, 60-67) darker than 0.3 of the
    lips' median luma (the outer lips' ring round it)."""
    face = max(ed.detector.detect(rgb), key=lambda f: f.area)
    lm = np.asarray(face.landmarks)
    luma = rgb.astype(np.float64) @ [0.299, 0.587, 0.114]
    inner = np.zeros(luma.shape, np.uint8)
    outer = np.zeros(luma.shape, np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68]).astype(np.int32)], 1)
    cv2.fillPoly(outer, [np.round(lm[48:60]).astype(np.int32)], 1)
    lips = float(np.median(luma[(outer > 0) & (inner == 0)]))
    return float((luma[inner > 0] < 0.3 * lips).mean())


@pytest.mark.skipif(not (LONDON_HD / "smiling" / "066.jpg").is_file(), reason="../shared/data/london_hd absent")
def test_london_066s_smile_made_happy_is_teeth_not_a_black_band():
    """London HD 066 smiling (1350 px; a row of own teeth that fills 0.23 of the happy opening) made happy: the
    inside darker than 0.3 of the lips is 0.004 of it painted whole from the bank (0.62 with the own row carried up
    over the dark; her own smile 0), and the opening is wider than her own smile's."""
    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    rgb = world.read_rgb(LONDON_HD / "smiling" / "066.jpg")
    out = ed.edit(rgb, "happy", force=True)
    assert _dark_inside(ed, out) < 0.1
    gaps = []
    for photo in (rgb, out):
        lm = np.asarray(max(ed.detector.detect(photo), key=lambda f: f.area).landmarks)
        gaps.append(float(np.linalg.norm(lm[66] - lm[62])))
    assert gaps[1] > gaps[0]
