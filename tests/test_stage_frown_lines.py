"""An edit to a target without a frown takes away the lines of a frown the photo shows
(:func:`faceedit.stage.appearance.paint_move_folds`, ``FoldsTuning.release_full``): a posed
anger's furrows between the brows and the wrinkles across the nose's root, which the state reads
as the person's own face, do not stay under a smile."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import astronaut

from faceedit.api import Editor
from faceedit.stage.moves import face_frame
from faceedit.stage.relief import furrow_shown


@pytest.fixture(scope="module")
def editor():
    return Editor.from_pretrained("stage")


def _drawn(ed: Editor, furrows: bool):
    """The astronaut at twice her size (86 px between the eyes) with lines drawn in, 2 px wide,
    45 levels darker than her skin: ``furrows``, a frown's (two furrows up the glabella and a
    wrinkle across the nose's root), else two lines across the glabella (a raised forehead's).
    The photo without and with them, the lines' box (x, y, w, h) and her landmarks."""
    img = cv2.resize(astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    faces = [f for f in ed.detector.detect(img) if np.shape(f.landmarks) == (68, 2)]
    lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    u, n, eye = face_frame(lm)
    mid = (lm[21] + lm[22]) / 2
    if furrows:
        ends = [(mid + k * eye * u + 0.03 * eye * n, mid + k * eye * u - 0.22 * eye * n) for k in (-0.06, 0.06)]
        root = lm[27] + 0.05 * eye * n
        ends.append((root - 0.09 * eye * u, root + 0.09 * eye * u))
    else:
        ends = [(mid - 0.09 * eye * u + k * eye * n, mid + 0.09 * eye * u + k * eye * n) for k in (-0.08, -0.18)]
    lines = np.zeros(img.shape[:2], np.float32)
    for a, b in ends:
        cv2.line(lines, tuple(int(v) for v in a), tuple(int(v) for v in b), 1.0, 2, cv2.LINE_AA)
    drawn = np.clip(img.astype(np.float32) - 45.0 * lines[..., None], 0, 255).astype(np.uint8)
    box = cv2.boundingRect((cv2.dilate(lines, np.ones((9, 9), np.uint8)) > 0).astype(np.uint8))
    return img, drawn, box, lm


def _lines(rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The dark lines over ``box`` (x, y, w, h): the mean of what the luma falls under its blur
    of 4 px from its blur of 1 px (thin dark lines; broad shading and the skin's light stay out)."""
    x, y, w, h = box
    luma = rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    dark = np.maximum(cv2.GaussianBlur(luma, (0, 0), 4.0) - cv2.GaussianBlur(luma, (0, 0), 1.0), 0.0)
    return float(dark[y:y + h, x:x + w].mean())


def _kept(ed: Editor, img: np.ndarray, drawn: np.ndarray, box: tuple[int, int, int, int], target: str) -> float:
    """How much of the drawn lines an edit to ``target`` keeps: the dark lines over their box in
    the edit of the photo with them less those in its edit without them, over the same difference
    between the photos themselves (the edit moves the lines with the skin; the box holds them)."""
    return (_lines(np.asarray(ed.edit(drawn, target)), box) - _lines(np.asarray(ed.edit(img, target)), box)) \
        / (_lines(drawn, box) - _lines(img, box))


@pytest.mark.parametrize("target", ["happy", "surprised", "neutral"])
def test_a_frown_the_photo_shows_is_taken_away_by_a_target_without_one(editor, target):
    img, drawn, box, lm = _drawn(editor, furrows=True)
    assert furrow_shown(img, lm) == 0.0 and furrow_shown(drawn, lm) > 0.5  # the lines read as a frown's
    # the state reads her brows at rest, so the move releases no frown of its own: the lines go
    # by what the photo shows (kept whole, 0.96-1.0, before it)
    assert _kept(editor, img, drawn, box, target) < 0.4


def test_lines_that_read_as_no_frown_are_kept(editor):
    img, drawn, box, lm = _drawn(editor, furrows=False)
    assert furrow_shown(drawn, lm) == 0.0
    assert _kept(editor, img, drawn, box, "happy") > 0.8
