"""A small smiling mouth made neutral (issue 55): a line between the closed lips no darker than
their own dark, the upper lip drawn by the upper side's field alone (no stripe of the lower
side's over it), no tooth left at a corner, the closed lips meeting where the upper lip keeps
its thickness."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.eval import world
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import upper_side_polygon
from faceedit.stage.mouth import lips_dark, paint_seam
from faceedit.stage.steps import interior_cut
from faceedit.stage.tuning import EditTuning, MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


def _closed_curve() -> np.ndarray:
    """A closed mouth's line (the 128-px astronaut made neutral): its left corner bent down, 3 px
    over its first 4, the corner itself 0.4 px straight below the next point (its ray then
    points straight down)."""
    x = np.linspace(50.0, 79.0, 33)
    y = 96.0 + 0.05 * (x - 54.0)
    y[x < 54.0] += 0.8 * (54.0 - x[x < 54.0])
    x[0], y[0] = x[1], y[1] + 0.4
    return np.stack([x, y], 1)


@pytest.mark.parametrize("up", ((0.0, -1.0), (0.062, -0.998)))
def test_the_upper_side_covers_the_upper_lip_when_a_corner_ray_points_down(up):
    """The upper side of a cut is all that lies above its upper curve near the mouth: with a
    corner bent down its ray points down, and a polygon joined one reach along up crossed the
    upper lip at the middle (those pixels took the lower lip's field: a pale stripe), joined
    from the ray's end straight up its side did where the face leans (a vertical step)."""
    line = _closed_curve()
    poly = upper_side_polygon(line, line, np.asarray(up) / np.linalg.norm(up)).astype(np.float32)
    for x in np.arange(52.0, 78.0, 1.0):
        y = float(np.interp(x, line[:, 0], line[:, 1]))
        for above in (1.0, 4.0, 8.0):
            assert cv2.pointPolygonTest(poly, (float(x), y - above), False) > 0, (x, above)
        assert cv2.pointPolygonTest(poly, (float(x), y + 2.0), False) < 0


def test_a_narrow_interior_of_a_closing_mouth_is_not_the_cut():
    """A closing mouth whose colour interior spans under ``narrow_interior`` of the inner corners
    is cut along the Face Mesh loop (None): cut along the narrow interior, the teeth beyond its
    ends stayed at the corner (insightface's group_t1, face 3, made neutral); a wide one is
    widened."""
    lm = np.zeros((68, 2))
    lm[60], lm[64] = (0.0, 0.0), (40.0, 0.0)
    lm[48], lm[54] = (-1.0, 0.0), (41.0, 0.0)
    x = np.linspace(10.0, 30.0, 33)  # 0.5 of the inner corners
    shown = (np.stack([x, np.full_like(x, -2.0)], 1), np.stack([x, np.full_like(x, 2.0)], 1))
    tn = EditTuning()
    assert interior_cut(shown, lm, 1.0, tn) is None
    assert interior_cut(shown, lm, 0.0, tn) is None
    x = np.linspace(1.0, 39.0, 33)
    wide = (np.stack([x, np.full_like(x, -2.0)], 1), np.stack([x, np.full_like(x, 2.0)], 1))
    up, lo = interior_cut(wide, lm, 1.0, tn)
    assert up[16, 1] < -2.0 and lo[16, 1] > 2.0


def _small_mouth() -> tuple[np.ndarray, np.ndarray]:
    """(A small mouth, corners 40 px apart, on skin: light lips with a darker rim; its outer
    lip polygon)."""
    img = np.empty((120, 160, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (80, 60), (22, 6), 0, 0, 360, (215, 140, 130), -1)
    cv2.ellipse(img, (80, 60), (22, 6), 0, 0, 360, (190, 115, 105), 1)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), np.stack([80 + 22 * np.cos(t), 60 + 6 * np.sin(t)], 1)


def test_a_small_mouth_s_seam_is_no_darker_than_its_lips_own_dark():
    """Given the lips' polygon, a small mouth's seam goes no darker than their darkest tenth
    (it still darkens the lips' light middle); without it, at ``seam_dark`` of the lips, it is
    darker than any pixel of them."""
    img, lips = _small_mouth()
    x = np.linspace(60.0, 100.0, 11)
    line = np.stack([x, np.full_like(x, 60.0)], 1)
    dark = lips_dark(img, lips)
    seam = (paint_seam(img, line, line, 40.0, 1.0, lips=lips).astype(np.float64) @ LUMA)[60, 66:95]
    assert seam.min() >= dark - 1.0
    assert seam.max() < (img.astype(np.float64) @ LUMA)[60, 80] - 5  # a line is drawn
    plain = (paint_seam(img, line, line, 40.0, 1.0).astype(np.float64) @ LUMA)[60, 66:95]
    assert plain.min() < dark - 10.0


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


@pytest.mark.parametrize("side", (96, 128))
def test_the_astronaut_made_neutral_small_keeps_a_line_no_darker_than_her_lips_dark(editor, astronaut, side):
    """Her smile cut to 96 and 128 px and made neutral: the mouth's line no darker than the
    darkest tenth of her own lips (a line at seam_dark of the lips read drawn: 135 against
    136 at 96 px, 116 against 121 at 128)."""
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    lm = np.asarray(editor.detector.detect(astronaut)[0].landmarks)
    small = world.small_face(astronaut, [lm[36:42].mean(0), lm[42:48].mean(0)], side)
    face = editor.detector.detect(small)[0]
    lm = np.asarray(face.landmarks)
    out = edit_faces(editor, small, [face], EditRequest.of("neutral", 1.0))
    assert world.mouth_line(out, lm) >= world.lips_grey(small, lm)


def _mouth(upper_out: float, lower_out: float) -> np.ndarray:
    """68 points of a face whose mouth runs 60..100 px across at y 100, its outer lips
    ``upper_out`` above and ``lower_out`` below there in the middle (a parabola to the corners);
    the eyes at y 40, the chin at y 130."""
    lm = np.zeros((68, 2))
    lm[36:42] = [62.0, 40.0]
    lm[42:48] = [98.0, 40.0]
    lm[8] = [80.0, 130.0]
    x = np.linspace(60.0, 100.0, 7)
    bump = 1.0 - ((x - 80.0) / 20.0) ** 2
    lm[48:55] = np.stack([x, 100.0 - upper_out * bump], 1)
    lm[[48, 59, 58, 57, 56, 55, 54]] = np.stack([x, 100.0 + lower_out * bump], 1)
    return lm


def _curve(height: float) -> np.ndarray:
    """A mouth curve from corner to corner, ``height`` px below the corners' line in the middle."""
    x = np.linspace(60.0, 100.0, 33)
    return np.stack([x, 100.0 + height * (1.0 - ((x - 80.0) / 20.0) ** 2)], 1)


@pytest.mark.parametrize("lower_out, kept", ((8.0, 6.0), (4.0, 7.0 * 6.0 / 9.0)))
def test_a_closing_mouth_meets_where_its_upper_lip_keeps_its_thickness(lower_out, kept):
    """A smile's upper lip 6 px thick over a 5 px opening, its lower lip 3 px, closed by a move
    that brings the outer upper lip 3 px down, the curves' midline 4 px below it: the closed
    lips meet where the upper lip keeps its 6 px or, where the closed mouth (outer lip to outer
    lip, 7 px) is shorter than both lips' own 9, its share of it (6/9 of 7). Closed lips (no gap
    between the source curves) meet where they did."""
    from faceedit.stage.cut_curves import meeting_drop
    from faceedit.stage.tuning_face import WarpTuning

    src, moved, mid = _mouth(6.0, 8.0), _mouth(3.0, lower_out), _curve(1.0)
    opening = WarpTuning().lips_opening
    drop = meeting_drop(src, moved, (_curve(0.0), _curve(5.0)), mid, opening)
    assert abs(4.0 + drop - kept) < 0.25, drop  # the upper lip: outer lip to the lowered line
    assert meeting_drop(src, moved, (_curve(2.5), _curve(2.5)), mid, opening) == 0.0


def test_a_closing_mouth_s_upper_lip_keeps_more_than_a_smile_s():
    """With ``grow`` 1.5 the same closing keeps the upper lip 1.5 times its source's 6 px where
    the closed mouth is tall enough for it, else its share of the two (9 of 12 px, of 11: 8.25)."""
    from faceedit.stage.cut_curves import meeting_drop
    from faceedit.stage.tuning_face import WarpTuning

    src, mid = _mouth(6.0, 8.0), _curve(1.0)
    opening = WarpTuning().lips_opening
    for lower_out, kept in ((20.0, 9.0), (8.0, 11.0 * 9.0 / 12.0)):
        drop = meeting_drop(src, _mouth(3.0, lower_out), (_curve(0.0), _curve(5.0)), mid, opening, grow=1.5)
        assert abs(4.0 + drop - kept) < 0.25, (lower_out, drop)


def test_a_small_mouth_s_seam_is_even_along_its_line():
    """A small mouth's closed line carried as a row of dark and light specks (the teeth, their
    gaps and the dark between lip and teeth that a smile's lip edges met in turn): the seam
    evens them along the line (``seam_even``), its pixels' spread along the row a third of the
    input's or less, on the whole as dark as the specks' mean; without it
    (``seam_even`` 0) the specks stay."""
    img, lips = _small_mouth()
    img[60, 60:101:2] = (70, 40, 40)  # dark specks every other pixel on the line's row
    x = np.linspace(60.0, 100.0, 11)
    line = np.stack([x, np.full_like(x, 60.0)], 1)
    row = slice(68, 93)  # the line's middle (inside the corners' taper)

    def painted(even: float) -> np.ndarray:
        tn = MouthTuning(seam_even=even)
        return (paint_seam(img, line, line, 40.0, 1.0, tn, lips=lips).astype(np.float64) @ LUMA)[60, row]

    before = (img.astype(np.float64) @ LUMA)[60, row]
    assert painted(MouthTuning().seam_even).std() < before.std() / 3
    assert painted(MouthTuning().seam_even).mean() <= before.mean() + 3.0  # (MEASURED: 105.1 for 102.9)
    assert painted(0.0).std() > before.std() / 2
