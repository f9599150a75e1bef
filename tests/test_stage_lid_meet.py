"""The closed eye's 68 points where its drawn lids meet (faceedit.stage.lid_meet): the points the
stage reports for a closed eye lie on the lash line :func:`faceedit.stage.lids.close_lids` draws,
not where the 68 points' own lids would meet."""

from __future__ import annotations

import cv2
import numpy as np
from _imgs import astronaut, astronaut_face

from faceedit.models.request import EditRequest
from faceedit.stage.lid_meet import close_on_line, meeting_points
from faceedit.stage.lids import close_lids, eye_margins
from faceedit.stage.moves import LID_PAIRS, close_eye
from faceedit.stage.tuning_lids import LidsTuning

MEETS = (LidsTuning.meet, LidsTuning.meet)


def _big_astronaut() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut at 3x (her eyes about 57 px wide, as a 1350-px portrait's) and her 68 points."""
    img = cv2.resize(np.array(astronaut()), None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    return img, np.asarray(astronaut_face().landmarks, np.float64) * 3 + 1.0


def test_the_meeting_points_lie_on_the_drawn_lash_line():
    """Blink 1: down each closed eye's column at a lid pair's meeting point, the drawn eye is
    darkest (its lash line) within a pixel or two of it."""
    img, lm = _big_astronaut()
    pts = meeting_points(img, lm, None, (1.0, 1.0), MEETS)
    out = cv2.cvtColor(close_lids(img, lm, None, (1.0, 1.0)), cv2.COLOR_RGB2GRAY).astype(np.float32)
    for k in (0, 1):
        eye = eye_margins(img, lm, None, k)
        for j in (0, 1):
            x, y = eye.to_frame(pts[k, j])
            ys = y + np.arange(-0.6, 0.6, 0.02) * eye.tall
            q = eye.to_photo(np.full_like(ys, x), ys).astype(np.float32)
            col = cv2.remap(out, q[:, 0][None], q[:, 1][None], cv2.INTER_LINEAR)[0]
            darkest = ys[int(np.argmin(col))]
            assert abs(darkest - y) < max(2.0, 0.12 * eye.tall), (k, j, darkest, y)


def test_closed_points_go_to_the_meeting_points_carried_by_the_warp():
    """At 1 both points of each lid pair land on the pair's meeting point plus the warp's move of
    them; at 0.5 halfway; an eye not closed keeps the warp's points."""
    img, lm = _big_astronaut()
    pts = meeting_points(img, lm, None, (1.0, 0.0), MEETS)
    assert np.isnan(pts[1]).all() and not np.isnan(pts[0]).any()
    shift = np.array([3.0, -2.0])
    moved = lm + shift
    closed = close_on_line(moved, lm, (1.0, 0.0), pts, MEETS)
    half = close_on_line(moved, lm, (0.5, 0.0), pts, MEETS)
    for j, pair in enumerate(LID_PAIRS[0]):
        for i in pair:
            assert np.allclose(closed[i], pts[0, j] + shift)
            assert np.allclose(half[i], (moved[i] + pts[0, j] + shift) / 2)
    assert np.allclose(closed[42:48], moved[42:48]) and np.allclose(closed[:36], moved[:36])


def test_without_meeting_points_the_68_points_lids_meet():
    img, lm = _big_astronaut()
    want = lm.copy()
    close_eye(want, 1, 1.0, MEETS[1])
    assert np.allclose(close_on_line(lm, lm, (0.0, 1.0), None, MEETS), want)


def test_the_stage_reports_a_blink_s_points_where_it_drew_the_lids_meet():
    """The stage's blink=1 (no Face Mesh: the 68 points' contours): both points of each lid pair
    it reports lie where its drawn lids meet (the warp of ``keep`` moves no eye), and both eyes
    read closed."""
    from test_models_stage import synthetic_stage

    st = synthetic_stage()
    img, lm = np.array(astronaut()), np.asarray(astronaut_face().landmarks, np.float64)
    _, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls={"blink": 1.0}))
    got = np.asarray(done[0].landmarks, np.float64)
    pts = meeting_points(img, lm, None, (1.0, 1.0), MEETS, st.tuning.lids)
    for k in (0, 1):
        for j, pair in enumerate(LID_PAIRS[k]):
            for i in pair:
                assert np.linalg.norm(got[i] - pts[k, j]) < 0.5, (k, i, got[i], pts[k, j])
