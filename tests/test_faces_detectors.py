"""Face detection backends (offline: skimage's astronaut + synthetic; shared data optional)."""

from __future__ import annotations

import enum
import logging
import sys
import time
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceedit.errors import UsageError
from faceedit.faces.detectors import available_detectors, clear_detector_cache, get_detector
from faceedit.faces.detectors.dlib import load_hog
from faceedit.faces.detectors.fan import FAN_CHECKPOINT_FALLBACK, fan_checkpoint_paths
from faceedit.faces.draw import draw_faces
from faceedit.faces.types import Face

skdata = pytest.importorskip("skimage.data")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"shared face data not found at {SHARED} (a fresh clone has none)"
)

# Eye centres of skimage's astronaut (checked on an overlay: on the pupils).
ASTRONAUT_EYES = np.array([[203.0, 101.5], [246.5, 103.5]])


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skdata.astronaut())


@pytest.fixture
def no_fan_weights(tmp_path, monkeypatch):
    """An empty torch hub cache, so FAN is unusable whatever this machine has cached."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    clear_detector_cache()
    yield tmp_path / "torch" / "hub" / "checkpoints"
    clear_detector_cache()


def _load(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# --------------------------------------------------------------------------------------------
# offline backends


@pytest.mark.parametrize("name,tol", [("dlib", 3.0), ("opencv", 4.0)])
def test_astronaut_one_face_eyes(astronaut, name, tol):
    faces = get_detector(name).detect(astronaut)
    assert len(faces) == 1, [f.box for f in faces]
    f = faces[0]
    assert f.detector == name
    assert f.landmarks.shape == ((68, 2) if name == "dlib" else (5, 2))
    assert np.abs(f.five[:2] - ASTRONAUT_EYES).max() < tol, f.five[:2]
    x0, y0, x1, y1 = f.box
    assert x0 < 203 < x1 and y0 < 103 < y1
    json = f.to_json()
    assert json["detector"] == name and len(json["landmarks"]) == len(f.landmarks)


def test_dlib_rejects_the_mission_patch(astronaut):
    """Plain HOG (upsampled once) also fires on the round badge at about (126,335)-(215,425)."""
    hog = load_hog().run(astronaut, 1, 0.0)
    assert any(r.left() < 170 < r.right() and r.top() < 380 < r.bottom() for r in hog[0])
    faces = get_detector("dlib").detect(astronaut)
    assert all(not (f.box[0] < 170 < f.box[2] and f.box[1] < 380 < f.box[3]) for f in faces)


def test_dlib_cnn_astronaut(astronaut):
    crop = np.ascontiguousarray(astronaut[0:260, 90:350])  # the CNN is slow: head and shoulders
    faces = get_detector("dlib-cnn").detect(crop)
    assert len(faces) == 1 and faces[0].detector == "dlib-cnn"
    assert np.abs(faces[0].five[:2] - (ASTRONAUT_EYES - [90, 0])).max() < 4.0


@pytest.mark.parametrize("name", ["dlib", "opencv"])
def test_no_face_in_blank_or_noise(name):
    rng = np.random.default_rng(0)
    det = get_detector(name)
    assert det.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert det.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 4)
    assert det.detect(cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX)) == []


def test_grid_of_20_small_faces(astronaut):
    """20 astronaut faces about 50 px wide tiled 5x4: all found, largest first."""
    tile = cv2.resize(astronaut[20:220, 120:320], (110, 110), interpolation=cv2.INTER_AREA)
    sizes = [110] * 19 + [130]  # one bigger face, to check the order
    rows, k = [], 0
    for _ in range(4):
        row = []
        for _ in range(5):
            t = cv2.resize(tile, (sizes[k], sizes[k]), interpolation=cv2.INTER_AREA)
            canvas = np.full((130, 130, 3), 200, np.uint8)
            canvas[: t.shape[0], : t.shape[1]] = t
            row.append(canvas)
            k += 1
        rows.append(np.concatenate(row, 1))
    grid = np.ascontiguousarray(np.concatenate(rows, 0))
    t0 = time.perf_counter()
    faces = get_detector("dlib").detect(grid)
    dt = time.perf_counter() - t0
    print(f"grid {grid.shape[1]}x{grid.shape[0]}: {len(faces)} faces in {dt:.2f}s")
    assert len(faces) == 20
    cells = {(int((f.box[1] + f.box[3]) / 2 // 130), int((f.box[0] + f.box[2]) / 2 // 130)) for f in faces}
    assert len(cells) == 20
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    assert (faces[0].box[1] + faces[0].box[3]) / 2 > 390 and (faces[0].box[0] + faces[0].box[2]) / 2 > 520


def test_large_photo_maps_back_to_full_resolution(astronaut):
    """A 12-MP photo is searched on a downscaled copy; landmarks come back in full-res pixels."""
    k = 6.0
    big = np.full((3072, 4096, 3), 90, np.uint8)
    face = cv2.resize(astronaut[40:240, 120:320], None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    oy, ox = 900, 1500
    big[oy:oy + face.shape[0], ox:ox + face.shape[1]] = face
    t0 = time.perf_counter()
    faces = get_detector("dlib").detect(big)
    print(f"12.6 MP photo: {time.perf_counter() - t0:.2f}s")
    assert len(faces) == 1
    expected = (ASTRONAUT_EYES - [120, 40] + 0.5) * k - 0.5 + [ox, oy]
    assert np.abs(faces[0].five[:2] - expected).max() < 3.0 * k


def test_draw_faces(astronaut):
    faces = get_detector("dlib").detect(astronaut)
    out = draw_faces(astronaut, faces)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert not np.array_equal(out, astronaut)
    assert np.array_equal(draw_faces(astronaut, []), astronaut)
    grey = draw_faces(astronaut[:, :, 0], [Face(np.array([10.0, 10, 50, 50]), np.zeros((5, 2)) + 30, 1.0)])
    assert grey.shape == astronaut.shape


# --------------------------------------------------------------------------------------------
# registry


def test_available_detectors_and_auto(no_fan_weights, caplog):
    avail = available_detectors()
    assert set(avail) == {"fan", "dlib", "dlib-cnn", "opencv", "mediapipe"}
    assert avail["dlib"] is None and avail["opencv"] is None and avail["dlib-cnn"] is None
    assert isinstance(avail["fan"], str) and avail["fan"]
    with caplog.at_level(logging.INFO, logger="faceedit"):
        det = get_detector("auto")
    assert det.name == "mediapipe"  # its weights ship in weights/
    assert get_detector("auto") is det  # created once, reused
    assert get_detector("mediapipe") is det
    assert any("face detector: mediapipe" in r.getMessage() for r in caplog.records)


def test_unknown_and_unusable_names(no_fan_weights):
    with pytest.raises(UsageError) as e:
        get_detector("mtcnn")
    for name in ("auto", "fan", "dlib", "dlib-cnn", "opencv"):
        assert name in str(e.value)
    with pytest.raises(UsageError) as e:
        get_detector("fan")
    assert "not available" in str(e.value) and "dlib" in str(e.value)


def test_dlib_then_opencv_fallback(no_fan_weights, monkeypatch, astronaut, tmp_path):
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path))  # no MediaPipe weights
    assert "missing" in available_detectors()["mediapipe"]
    assert get_detector("auto").name == "dlib"
    monkeypatch.setitem(sys.modules, "dlib", None)
    avail = available_detectors()
    assert "not installed" in avail["dlib"] and avail["opencv"] is None
    det = get_detector("auto")
    assert det.name == "opencv"
    with pytest.raises(UsageError):
        get_detector("dlib")
    assert len(det.detect(astronaut)) == 1


# --------------------------------------------------------------------------------------------
# FAN through a fake face_alignment module


class _FakeSFD:
    reference_scale = 195

    def __init__(self):
        self.calls = []

    def detect_from_image(self, image):
        h, w = image.shape[:2]
        self.calls.append(image.shape)
        return [
            np.array([0.1 * w, 0.1 * h, 0.3 * w, 0.3 * h, 0.91]),
            np.array([0.5 * w, 0.4 * h, 0.9 * w, 0.9 * h, 0.99]),
        ]


def _fake_landmarks(box):
    x0, y0, x1, y1 = box[:4]
    t = np.linspace(0, 1, 68)
    return np.stack([x0 + t * (x1 - x0), y0 + t * (y1 - y0)], 1).astype(np.float32)


class _FakeFaceAlignment:
    instances: list = []

    def __init__(self, landmarks_type, network_size=4, device="cuda", flip_input=True,
                 face_detector="sfd", face_detector_kwargs=None, verbose=False, compile=True):
        self.args = dict(landmarks_type=landmarks_type, device=device,
                         face_detector=face_detector, compile=compile)
        self.face_detector = _FakeSFD()
        self.calls = []
        _FakeFaceAlignment.instances.append(self)

    def get_landmarks_from_image(self, image, detected_faces=None, return_bboxes=False,
                                 return_landmark_score=False):
        self.calls.append(dict(shape=image.shape, detected_faces=detected_faces,
                               return_bboxes=return_bboxes, scores=return_landmark_score))
        if detected_faces is None:
            detected_faces = self.face_detector.detect_from_image(image)
        if len(detected_faces) == 0:
            return None, None, None
        lms = [_fake_landmarks(b) for b in detected_faces]
        scores = [np.full(68, 0.8, np.float32) for _ in detected_faces]
        return lms, scores, list(detected_faces)


@pytest.fixture
def fake_fan(tmp_path, monkeypatch):
    class LandmarksType(enum.IntEnum):
        TWO_D = 1
        TWO_HALF_D = 2
        THREE_D = 3

    fa = types.ModuleType("face_alignment")
    fa.FaceAlignment = _FakeFaceAlignment
    fa.LandmarksType = LandmarksType
    api = types.ModuleType("face_alignment.api")
    api.models_urls = {"2DFAN-4": "https://example.invalid/python-fan/2DFAN4-0123456789.pth.tar"}
    fa.api = api
    monkeypatch.setitem(sys.modules, "face_alignment", fa)
    monkeypatch.setitem(sys.modules, "face_alignment.api", api)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    _FakeFaceAlignment.instances.clear()
    clear_detector_cache()
    ckpt = tmp_path / "torch" / "hub" / "checkpoints"
    yield ckpt
    clear_detector_cache()


def test_fan_checkpoint_names(fake_fan):
    names = [p.name for p in fan_checkpoint_paths()]
    # from the package's URL when it has one, else the face-alignment 1.5 name
    assert names == ["2DFAN4-0123456789.pth.tar", FAN_CHECKPOINT_FALLBACK["s3fd"]]
    assert all(p.parent == fake_fan for p in fan_checkpoint_paths())


def test_fan_unavailable_without_weights(fake_fan):
    reason = available_detectors()["fan"]
    assert reason and "weights" in reason and "2DFAN4-0123456789.pth.tar" in reason
    assert get_detector("auto").name == "mediapipe"
    with pytest.raises(UsageError, match="weights"):
        get_detector("fan")
    # allowed to download: usable (the fake does not download anything)
    assert available_detectors(allow_download=True)["fan"] is None
    assert get_detector("fan", allow_download=True).name == "fan"


def test_fan_unavailable_without_package(monkeypatch, no_fan_weights):
    monkeypatch.setitem(sys.modules, "face_alignment", None)
    reason = available_detectors(allow_download=True)["fan"]
    assert reason and "not installed" in reason
    with pytest.raises(UsageError, match="not installed"):
        get_detector("fan", allow_download=True)


def _make_weights(ckpt: Path) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    for p in fan_checkpoint_paths():
        p.write_bytes(b"x")


def test_fan_outputs_are_mapped(fake_fan):
    _make_weights(fake_fan)
    assert available_detectors()["fan"] is None
    det = get_detector("auto", device="cpu")
    assert det.name == "fan"
    fake = _FakeFaceAlignment.instances[-1]
    assert fake.args["landmarks_type"] == 1 and fake.args["device"] == "cpu"
    assert fake.args["face_detector"] == "sfd" and fake.args["compile"] is False

    img = np.zeros((200, 300, 3), np.uint8)
    faces = det.detect(img)
    assert [f.detector for f in faces] == ["fan", "fan"]
    # largest first: the (0.5,0.4)-(0.9,0.9) box
    np.testing.assert_allclose(faces[0].box, [150, 80, 270, 180])
    np.testing.assert_allclose(faces[1].box, [30, 20, 90, 60])
    assert faces[0].score == pytest.approx(0.99) and faces[1].score == pytest.approx(0.91)
    assert faces[0].landmarks.shape == (68, 2) and faces[0].landmarks.dtype == np.float64
    np.testing.assert_allclose(faces[0].landmarks, _fake_landmarks([150, 80, 270, 180]), atol=1e-4)
    assert fake.calls[-1]["detected_faces"] is None and fake.calls[-1]["return_bboxes"]


def test_fan_large_image_detects_on_downscaled_copy(fake_fan):
    _make_weights(fake_fan)
    det = get_detector("fan")
    det.max_side = 100
    img = np.zeros((200, 300, 3), np.uint8)
    faces = det.detect(img)
    fake = _FakeFaceAlignment.instances[-1]
    assert fake.face_detector.calls[-1][:2] == (67, 100)  # S3FD saw the downscaled copy
    call = fake.calls[-1]
    assert call["shape"][:2] == (200, 300)  # landmarks on the full-resolution image
    np.testing.assert_allclose(np.asarray(call["detected_faces"])[:, 4], [0.91, 0.99])
    np.testing.assert_allclose(faces[0].box, [150, 80, 270, 180], atol=2.0)
    assert len(faces) == 2


def test_fan_no_face(fake_fan, monkeypatch):
    _make_weights(fake_fan)
    det = get_detector("fan")
    monkeypatch.setattr(_FakeSFD, "detect_from_image", lambda self, image: [])
    assert det.detect(np.zeros((50, 60, 3), np.uint8)) == []


# --------------------------------------------------------------------------------------------
# real faces (../shared/data)


def _pupils(i: str) -> np.ndarray:
    lines = (SHARED / "london" / "landmarks" / f"{i}.txt").read_text().split("\n")
    return np.array([[float(v) for v in lines[k].split()[:2]] for k in (1, 2)])


@pytest.mark.shared_data
@needs_shared
def test_london_eye_error(record_property):
    det = get_detector("dlib")
    paths = sorted((SHARED / "london" / "neutral").glob("*.jpg"))
    assert len(paths) >= 80
    errs, counts, t0 = [], [], time.perf_counter()
    for p in paths:
        faces = det.detect(_load(p))
        counts.append(len(faces))
        if faces:
            pu = _pupils(p.stem)
            ipd = np.linalg.norm(pu[1] - pu[0])
            errs.append(np.linalg.norm(faces[0].five[:2] - pu, axis=1).mean() / ipd)
    dt = (time.perf_counter() - t0) / len(paths)
    one = float(np.mean(np.array(counts) == 1))
    mean_err, max_err = float(np.mean(errs)), float(np.max(errs))
    print(f"London neutral: {len(paths)} images, exactly one face {one:.3f}, eye-centre error "
          f"/ IPD mean {mean_err:.4f} max {max_err:.4f}, {dt * 1000:.0f} ms/image")
    record_property("london_one_face_rate", one)
    record_property("london_eye_error_mean", mean_err)
    record_property("london_eye_error_max", max_err)
    assert one == 1.0
    assert mean_err < 0.06 and max_err < 0.12


@pytest.mark.shared_data
@needs_shared
@pytest.mark.parametrize("subset,pattern,step", [("jaffe", "*.png", 5), ("yale", "subject*", 3)])
def test_detection_rate(subset, pattern, step, record_property):
    det = get_detector("dlib")
    paths = sorted((SHARED / subset).glob(pattern))[::step]
    assert paths
    found = [len(det.detect(_load(p))) for p in paths]
    rate = float(np.mean([n >= 1 for n in found]))
    one = float(np.mean([n == 1 for n in found]))
    print(f"{subset}: {len(paths)} images, detection rate {rate:.3f}, exactly one {one:.3f}")
    record_property(f"{subset}_detection_rate", rate)
    assert rate >= 0.97 and one >= 0.97


def test_a_registered_backend_is_listed_built_once_and_cached_by_its_keys(monkeypatch):
    from faceedit.faces.detectors import Detector, auto_order, detector_names, registry

    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))  # this test's own registry
    clear_detector_cache()
    built = []

    class Fake(Detector):
        name = "fake"

        def detect(self, rgb):
            return []

    def build(device, allow_download):
        built.append(device)
        return Fake()

    status = {"reason": None}
    registry.register("fake", build, lambda allow_download: status["reason"], auto=False, keyed_by=("device",))
    try:
        assert detector_names()[-1] == "fake" and "fake" not in auto_order()
        assert available_detectors()["fake"] is None
        a, b = get_detector("Fake"), get_detector("fake")
        c = get_detector("fake", device="cuda")
        assert a is b and c is not a and built == ["cpu", "cuda"]
        status["reason"] = "its weights are missing"
        clear_detector_cache()
        with pytest.raises(UsageError, match="'fake' is not available: its weights are missing"):
            get_detector("fake")
        with pytest.raises(ValueError, match="already registered"):
            registry.register("fake", build, lambda allow_download: None)
        with pytest.raises(ValueError, match="lower-case name other than"):
            registry.register("auto", build, lambda allow_download: None)
    finally:
        clear_detector_cache()
