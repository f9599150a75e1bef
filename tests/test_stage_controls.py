"""The stage's named controls (faceedit.edits.controls): their ranges, each one left at 0 changes
no pixel, and each moves what its name says, measured on the stage's moved landmarks and on the
landmarks detected again on the edited astronaut (with the shipped statistics)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from _imgs import astronaut, astronaut_face
from test_models_stage import synthetic_stage

from faceedit.edits.controls import CONTROLS, control_range, controls_to_aus, parse_controls
from faceedit.errors import UsageError
from faceedit.faces.landmarks import eye_distance
from faceedit.models.request import EditRequest
from faceedit.stage.eyes import eye_apertures
from faceedit.stage.records import StageFace
from faceedit.stage.warp import face_grid

NEW = ("gaze_x", "gaze_y", "blink", "wink_left", "wink_right", "pout", "purse", "grin", "aaa", "eee", "woo",
       "head_yaw", "head_pitch", "head_roll")


def test_every_control_is_declared_with_its_range():
    assert set(NEW) <= set(CONTROLS)
    for name in ("blink", "wink_left", "wink_right", "aaa"):
        assert control_range(name) == (0.0, 1.0)
    assert control_range("gaze_x") == (-1.0, 1.0)
    assert parse_controls("blink=1,gaze_x=-0.5") == {"blink": 1.0, "gaze_x": -0.5}
    for bad in ("blink=-0.5", "wink_left=2", "head_yaw=1.5", "frown=1"):
        with pytest.raises(UsageError):
            parse_controls(bad)


def test_the_request_lists_every_control_with_its_own_range():
    from faceedit.models.request import FIELD, control_ranges

    assert set(FIELD["controls"].allowed) == set(CONTROLS)
    assert control_ranges()["blink"] == (0.0, 1.0) and control_ranges()["head_roll"] == (-1.0, 1.0)


def test_a_control_at_zero_sets_no_au():
    assert controls_to_aus({"smile": 0.0, "grin": 0.0, "aaa": 0.0}) == {}
    assert controls_to_aus({"grin": 1.0})[20] == pytest.approx(4.0)


def test_every_control_at_zero_leaves_the_photo_bit_exact():
    st = synthetic_stage()
    img = astronaut()
    lm = np.asarray(astronaut_face().landmarks, np.float64)
    out, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls={k: 0.0 for k in CONTROLS}))
    assert np.array_equal(out, img)
    np.testing.assert_array_equal(done[0].landmarks, lm)


def _moved(controls: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    st = synthetic_stage()
    img = astronaut()
    lm = np.asarray(astronaut_face().landmarks, np.float64)
    out, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls=controls))
    return img, out, lm, done[0].landmarks


def _outside_unchanged(img: np.ndarray, out: np.ndarray, lm: np.ndarray) -> bool:
    x0, y0, x1, y1 = face_grid(lm).roi(img.shape)
    inside = np.zeros(img.shape[:2], bool)
    inside[y0:y1, x0:x1] = True
    return bool(np.array_equal(out[~inside], img[~inside]))


def test_blink_closes_both_eyes_and_nothing_beyond_the_face():
    img, out, lm, moved = _moved({"blink": 1.0})
    ratio = eye_apertures(moved) / eye_apertures(lm)
    assert (ratio < 0.1).all(), ratio
    assert _outside_unchanged(img, out, lm)
    np.testing.assert_allclose(moved[48:], lm[48:])  # the mouth stays


@pytest.mark.parametrize(("name", "eye"), [("wink_left", 1), ("wink_right", 0)])
def test_a_wink_closes_one_eye_and_lifts_that_cheek(name, eye):
    """``wink_left`` is the person's left eye: on the image's right (68-point 42-47)."""
    img, out, lm, moved = _moved({name: 1.0})
    ratio = eye_apertures(moved) / eye_apertures(lm)
    assert ratio[eye] < 0.1 and ratio[1 - eye] == pytest.approx(1.0), ratio
    corner, other = (54, 48) if eye == 1 else (48, 54)
    assert moved[corner, 1] < lm[corner, 1] - 0.02 * eye_distance(lm)  # that side's mouth corner up
    assert moved[other, 1] == pytest.approx(lm[other, 1])
    assert _outside_unchanged(img, out, lm)


@pytest.mark.parametrize("name", ["pout", "purse", "woo"])
def test_lip_shapes_narrow_the_mouth(name):
    img, out, lm, moved = _moved({name: 1.0})
    width = lambda p: float(np.linalg.norm(p[54] - p[48]))  # noqa: E731
    assert width(moved) < 0.9 * width(lm)
    assert not np.array_equal(out, img) and _outside_unchanged(img, out, lm)


def test_pout_makes_the_lips_fuller_and_aaa_drops_the_jaw():
    _, _, lm, moved = _moved({"pout": 1.0})
    assert moved[57, 1] - moved[51, 1] > lm[57, 1] - lm[51, 1] + 0.05 * eye_distance(lm)
    _, _, lm, moved = _moved({"aaa": 1.0})
    assert moved[8, 1] > lm[8, 1] + 0.1 * eye_distance(lm) and moved[66, 1] > lm[66, 1] + 0.1 * eye_distance(lm)


# -- with the shipped statistics, read again on the edited photo ---------------------------

@lru_cache(maxsize=1)
def _editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's statistics (weights/stage.safetensors) are not installed")
    return Editor.from_pretrained("stage", device="cpu")


def _redetect(controls: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the astronaut's own landmarks, those dlib reads on the edit, the edited photo); the edit
    itself runs on the editor's detector (MediaPipe's, with the Face Mesh)."""
    from faceedit.faces.detectors import get_detector

    ed = _editor()
    img = np.array(astronaut())
    out = ed.edit(img, "keep", face="largest", controls=controls)
    after = max(get_detector("dlib").detect(out), key=lambda f: f.area)
    return np.asarray(astronaut_face().landmarks, np.float64), np.asarray(after.landmarks, np.float64), out


def test_shipped_blink_closes_both_eyes_read_again():
    """dlib reads a closed eye's lids a little apart (about a quarter of the open eye's)."""
    lm, got, _ = _redetect({"blink": 1.0})
    ratio = eye_apertures(got) / eye_apertures(lm)
    assert (ratio < 0.5).all(), ratio


@pytest.mark.parametrize(("name", "eye"), [("wink_left", 1), ("wink_right", 0)])
def test_shipped_wink_closes_one_eye_read_again(name, eye):
    """Read whole, dlib's two eyes move together (its 68 points are one shape): the winking eye
    reads narrower than the other, not closed, and the open one narrower than it is (the
    astronaut's wink_left 0.62 against 0.71: the closed lid's lashes and lower lid one dark line,
    ``LidsTuning.wink_lower_rim``); each eye read by itself is in tests/test_stage_lids.py."""
    lm, got, _ = _redetect({name: 1.0})
    ratio = eye_apertures(got) / eye_apertures(lm)
    assert ratio[eye] < 0.75 and ratio[eye] < ratio[1 - eye] - 0.08, ratio


def test_shipped_controls_at_zero_are_bit_exact():
    ed = _editor()
    img = np.array(astronaut())
    out = ed.edit(img, "keep", face="largest", controls={k: 0.0 for k in CONTROLS})
    assert np.array_equal(out, img)


# -- gaze ---------------------------------------------------------------------------------

def _iris_centres(img: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """(2, 2) the iris centres find_iris reads in both eyes of ``img`` (image px)."""
    from faceedit.stage.eyes import eye_polygon, find_iris

    out = []
    for k in (0, 1):
        poly = eye_polygon(mesh, k, 0.1)
        x0, y0 = np.floor(poly.min(0)).astype(int) - 4
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
        found = find_iris(img[y0:y1, x0:x1].astype(np.float32) / 255, poly - [x0, y0])
        assert found is not None
        out.append(found[0] + [x0, y0])
    return np.array(out)


def _london(name: str) -> np.ndarray:
    """A held-out London neutral face at 1350 px (../shared/data; skipped where absent)."""
    import cv2
    from conftest import SHARED_DATA

    path = SHARED_DATA / "london_hd" / "neutral" / name
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize(("photo", "name", "value", "axis", "sign"),
                         [("astronaut", "gaze_x", 1.0, 0, 1), ("astronaut", "gaze_x", -1.0, 0, -1),
                          ("019.jpg", "gaze_x", 1.0, 0, 1), ("019.jpg", "gaze_y", 1.0, 1, -1),
                          ("019.jpg", "gaze_y", -1.0, 1, 1)])
def test_gaze_moves_both_irises_inside_the_eyes_only(photo, name, value, axis, sign):
    """Both irises, found again on the edit, move the way the control says (``gaze_x`` + to the
    image's right, ``gaze_y`` + up) by a good share of their travel; nothing changes beyond the
    face. (The astronaut's eyes are 19 px wide: her irises' 1.5 px of vertical travel is under
    what the iris search resolves; up and down are read on a 1350-px London face.)"""
    from faceedit.stage.gaze import GAZE_X_TRAVEL, GAZE_Y_TRAVEL

    ed = _editor()
    img = np.array(astronaut()) if photo == "astronaut" else _london(photo)
    face = max(ed.detector.detect(img), key=lambda f: f.area)
    mesh = np.asarray(face.dense, np.float64)[:, :2]
    out = ed.edit(img, "keep", face="largest", controls={name: value})
    move = _iris_centres(out, mesh) - _iris_centres(img, mesh)
    width = np.linalg.norm(mesh[133] - mesh[33])
    travel = (GAZE_X_TRAVEL if axis == 0 else GAZE_Y_TRAVEL) * width
    assert (sign * move[:, axis] > 0.5 * travel).all(), (move, travel)
    lm = np.asarray(face.landmarks, np.float64)
    assert _outside_unchanged(img, out, lm)


# -- head pose -----------------------------------------------------------------------------

def _eye_line_degrees(lm: np.ndarray) -> float:
    d = lm[42:48].mean(0) - lm[36:42].mean(0)
    return float(np.degrees(np.arctan2(d[1], d[0])))


def _turned(controls: dict):
    """(photo, edit, the stage's landmarks before and after, dlib's on the edit) of the astronaut."""
    from faceedit.faces.detectors import get_detector

    ed = _editor()
    img = np.array(astronaut())
    face = max(ed.detector.detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    out, done = ed.stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of("keep", 1.0, controls=controls))
    read = max(get_detector("dlib").detect(out), key=lambda f: f.area).landmarks
    return img, out, lm, done[0].landmarks, np.asarray(read, np.float64)


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_head_roll_tilts_the_eye_line(value):
    """``head_roll`` +1 turns the head 15 degrees clockwise in the image: the eye line, read
    again by dlib, tilts by about that much (the stage's own landmarks by as much)."""
    img, out, lm, moved, read = _turned({"head_roll": value})
    assert _eye_line_degrees(moved) - _eye_line_degrees(lm) == pytest.approx(15 * value, abs=2)
    ref = np.asarray(astronaut_face().landmarks, np.float64)
    assert _eye_line_degrees(read) - _eye_line_degrees(ref) == pytest.approx(15 * value, abs=5)


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_head_yaw_turns_the_nose_against_the_jaw(value):
    """``head_yaw`` +1 turns the face towards the image's right: the nose tip (30) moves that way
    further than the jaw's sides (0-3, 13-16), on the stage's landmarks and on dlib's."""
    img, out, lm, moved, read = _turned({"head_yaw": value})
    ref = np.asarray(astronaut_face().landmarks, np.float64)
    ed = eye_distance(lm)
    jaw = [0, 1, 2, 3, 13, 14, 15, 16]
    for before, after in ((lm, moved), (ref, read)):
        nose = after[30, 0] - before[30, 0]
        sides = float((after[jaw, 0] - before[jaw, 0]).mean())
        assert value * (nose - sides) > 0.08 * ed, (nose, sides)


@pytest.mark.parametrize("name", ["head_yaw", "head_pitch", "head_roll"])
def test_head_pose_leaves_the_background_beyond_the_head(name):
    """The turn fades out around the head: the photo's edges (the background, the flag, the
    suit's shoulders) keep every pixel; pitch moves the chin up and down."""
    from faceedit.stage.pose import HeadTurn

    img, out, lm, moved, _ = _turned({name: 1.0})
    assert not np.array_equal(out, img)
    face = max(_editor().detector.detect(img), key=lambda f: f.area)
    x0, y0, x1, y1 = HeadTurn(face.dense, img.shape[:2], 1.0, 0.0, 0.0).box
    keep = np.ones(img.shape[:2], bool)
    keep[y0:y1, x0:x1] = False
    assert keep.mean() > 0.5 and np.array_equal(out[keep], img[keep])
    if name == "head_pitch":  # the face tilted up: the chin rises
        assert moved[8, 1] < lm[8, 1] - 0.05 * eye_distance(lm)


@pytest.mark.parametrize("photo", ["019.jpg", "142.jpg"])
def test_controls_at_zero_are_bit_exact_on_held_out_faces(photo):
    """Held-out faces, one with lips that nearly meet (0.014 eye distances apart), come back bit
    for bit with every control at 0: an edit that keeps the face's own expression keeps its lips."""
    ed = _editor()
    img = _london(photo)
    out = ed.edit(img, "keep", face="largest", controls={k: 0.0 for k in CONTROLS})
    assert np.array_equal(out, img)


def test_gaze_and_head_pose_keep_a_16_bit_photo_s_depth_and_a_grey_photo_grey():
    ed = _editor()
    img = np.array(astronaut())
    face = max(ed.detector.detect(img), key=lambda f: f.area)
    controls = {"gaze_x": 1.0, "head_roll": 1.0, "blink": 0.5}
    img16 = img.astype(np.uint16) * 257
    out, _ = ed.stage.edit_photo(img16, [face], EditRequest.of("keep", 1.0, controls=controls))
    assert out.dtype == np.uint16 and not np.array_equal(out, img16)
    grey = np.ascontiguousarray(img[..., 1])
    out, _ = ed.stage.edit_photo(grey, [face], EditRequest.of("keep", 1.0, controls=controls))
    assert out.shape == grey.shape and not np.array_equal(out, grey)


def test_without_a_face_mesh_gaze_and_head_pose_leave_the_face_and_the_rest_applies():
    """dlib's detector gives no Face Mesh: the irises and the head stay (a warning is logged),
    a blink still closes the eyes."""
    st = synthetic_stage()
    img = astronaut()
    lm = np.asarray(astronaut_face().landmarks, np.float64)
    out, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls={"gaze_x": 1.0, "head_roll": 1.0}))
    assert np.array_equal(out, img)
    out, done = st.edit_photo(img, [lm], EditRequest.of("keep", 1.0, controls={"head_roll": 1.0, "blink": 1.0}))
    assert (eye_apertures(done[0].landmarks) < 0.1 * eye_apertures(lm)).all()
    np.testing.assert_allclose(done[0].landmarks[[36, 45]], lm[[36, 45]])  # the eye corners: no roll
