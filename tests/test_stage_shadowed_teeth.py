"""Teeth in shadow (faceedit.stage.lips._shows_teeth with ``shadowed``): a warm-lit smile's teeth,
darker than its lips over most of the opening, are found where an edit closes the lips over them,
and closed lips' inner sheen is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceedit.stage.lips import _shows_teeth
from faceedit.stage.tuning_lips import LipsTuning

LONDON_HD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"


def _mouth(inside_light: np.ndarray, inside_red: float, lip_light: float = 156.0, lip_red: float = 151.0):
    """A Lab window (OpenCV's 8-bit scale): an interior of the given lightnesses and redness in a
    ring of lips."""
    n = inside_light.size
    lab = np.zeros((2, max(n, 400), 3), np.float32)
    lab[0, :n, 0], lab[0, :n, 1] = inside_light, inside_red
    lab[1, :, 0], lab[1, :, 1] = lip_light, lip_red
    inside = np.zeros(lab.shape[:2], bool)
    inside[0, :n] = True
    lips = np.zeros(lab.shape[:2], bool)
    lips[1] = True
    return lab, inside, lips


def test_teeth_in_shadow_are_found_only_where_asked():
    # web img41's opening: a dark inside with a row of teeth, lighter than the lips over its top tenth
    light = np.r_[np.full(150, 60.0), np.full(60, 140.0), np.full(40, 180.0)]
    lab, inside, lips = _mouth(light, 140.0)
    tn = LipsTuning()
    assert np.percentile(light, tn.teeth_percentile) < 156.0  # the plain test does not find them
    assert not _shows_teeth(lab, inside, lips, tn)
    assert _shows_teeth(lab, inside, lips, tn, shadowed=True)
    # as red as the lips: a lip's sheen, not teeth
    lab, inside, lips = _mouth(light, 148.0)
    assert not _shows_teeth(lab, inside, lips, tn, shadowed=True)
    # closed lips' inner sheen: hardly lighter than the lips at the top tenth
    sheen = np.r_[np.full(200, 130.0), np.full(50, 166.0)]
    lab, inside, lips = _mouth(sheen, 140.0)
    assert not _shows_teeth(lab, inside, lips, tn, shadowed=True)


def test_lit_teeth_need_no_shadow_reading():
    lab, inside, lips = _mouth(np.full(250, 200.0), 130.0)
    assert _shows_teeth(lab, inside, lips, LipsTuning())


@pytest.mark.skipif(not (LONDON_HD / "smiling" / "038.jpg").is_file(), reason="../shared/data/london_hd absent")
def test_a_smile_with_teeth_in_shadow_made_neutral_closes_its_lips():
    """London 038's smile (its teeth under the upper lip's shade, darker than its lips over most of
    the opening) made neutral: dlib reads the lips closed (their inner lines 0.011 eye distances
    apart; 0.047 with a row of teeth kept between them, without the shadowed reading); made happy
    the edit is the same with or without it."""
    from dataclasses import replace

    from _bench import load_bench

    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    dlib68 = load_bench("bench_laugh_neutral").Dlib68()
    ed = Editor.from_pretrained("stage", device="cpu")
    rgb = world.read_rgb(LONDON_HD / "smiling" / "038.jpg")
    face = max(ed.detector.detect(rgb), key=lambda f: f.area)

    def gap(img: np.ndarray) -> float:
        lm = dlib68(img)
        assert lm is not None
        eye = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
        return float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))]) / eye)

    assert gap(edit_faces(ed, rgb, [face], EditRequest.of("neutral", 1.0))) < 0.025
    happy = edit_faces(ed, rgb, [face], EditRequest.of("happy", 1.0))
    tuning = ed.stage.tuning
    try:
        ed.stage.tuning = replace(tuning, lips=replace(tuning.lips, shadowed_teeth=(100.0, 1e9, 1e9)))
        np.testing.assert_array_equal(happy, edit_faces(ed, rgb, [face], EditRequest.of("happy", 1.0)))
    finally:
        ed.stage.tuning = tuning
