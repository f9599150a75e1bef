"""The ``mediapipe`` backend: BlazeFace + Face Mesh converted from MediaPipe's .tflite files.

Reference outputs of the TFLite interpreter (tests/fixtures/mediapipe_*.npz) were saved by
``python -m faceedit.faces.convert_mediapipe --fixtures tests/fixtures`` on inputs that
``convert_mediapipe.test_inputs`` rebuilds here from skimage's astronaut with numpy alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faceedit.faces import blazeface as bf
from faceedit.faces.detectors import auto_order, available_detectors, clear_detector_cache, get_detector
from faceedit.faces.mesh68 import MESH68, mesh_to_68
from faceedit.faces.types import Face

skdata = pytest.importorskip("skimage.data")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "data"
ASTRONAUT_EYES = np.array([[203.0, 101.5], [246.5, 103.5]])

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skdata.astronaut())


@pytest.fixture(scope="module")
def det():
    return get_detector("mediapipe")


# --------------------------------------------------------------------------------------------
# the converted networks against the TFLite interpreter


def _net(key):
    from faceedit.faces.convert_mediapipe import MODELS
    from faceedit.faces.mediapipe_faces import load_net

    cls = MODELS[key][1]
    return cls, load_net(cls, ROOT / "weights" / f"{key}.safetensors", "cpu")


@pytest.mark.parametrize("key", ["blazeface_short", "blazeface_full"])
def test_blazeface_reproduces_tflite(key):
    from faceedit.faces.convert_mediapipe import test_inputs, torch_outputs

    cls, net = _net(key)
    ref = np.load(FIXTURES / f"mediapipe_{key}.npz")
    reg, logits = torch_outputs(net, test_inputs(cls.size, "detector"))
    idx = ref["anchors"]
    got_reg = np.take_along_axis(reg, idx[..., None], 1)
    got_logits = np.take_along_axis(logits, idx, 1)
    # fixtures: the 8 best anchors of each input and 8 random ones; measured max diff 1.5e-4 px
    np.testing.assert_allclose(got_reg, ref["regressors"], atol=2e-3)
    np.testing.assert_allclose(got_logits, ref["logits"], atol=2e-3)
    assert (ref["logits"][:2, 0] > 0).all()  # the two astronaut inputs hold a face


def test_facemesh_reproduces_tflite():
    from faceedit.faces.convert_mediapipe import test_inputs, torch_outputs

    cls, net = _net("facemesh")
    ref = np.load(FIXTURES / "mediapipe_facemesh.npz")
    pts, flag = torch_outputs(net, test_inputs(cls.size, "mesh"))
    # fp16 weights of a fp32 model: measured max 0.067 px in the 192-px crop, mean 0.016
    np.testing.assert_allclose(pts[:, ::4], ref["points"], atol=0.2)
    assert np.abs(pts[:, ::4] - ref["points"]).mean() < 0.05
    np.testing.assert_allclose(flag, ref["flag"], rtol=2e-3, atol=1e-2)  # logits (up to ~40)


def test_anchor_counts_match_the_networks():
    for variant, n in (("short", 896), ("full", 2304)):
        net = bf.VARIANTS[variant]()
        reg, logits = net(torch.zeros(2, 3, net.size, net.size))
        assert reg.shape == (2, n, 16) and logits.shape == (2, n)
        assert bf.anchors(variant).shape == (n, 2)


def test_weighted_nms_merges_overlaps():
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    kps = boxes[:, None, :2].repeat(1, 6, 1)
    scores = torch.tensor([0.9, 0.6, 0.8])
    b, k, s = bf.weighted_nms(boxes, kps, scores, 0.3)
    assert len(b) == 2 and s.tolist() == pytest.approx([0.9, 0.8])
    np.testing.assert_allclose(b[0], [0.4, 0.4, 10.4, 10.4], atol=1e-5)  # (0.9*0 + 0.6*1) / 1.5
    np.testing.assert_allclose(b[1], [50, 50, 60, 60])
    assert bf.weighted_nms(boxes[:0], kps[:0], scores[:0])[0].shape == (0, 4)


# --------------------------------------------------------------------------------------------
# the backend


def test_astronaut(det, astronaut):
    faces = det.detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert f.detector == "mediapipe" and 0.5 <= f.score <= 1
    assert f.landmarks.shape == (68, 2) and f.dense.shape == (468, 3)
    assert np.abs(f.five[:2] - ASTRONAUT_EYES).max() < 3.0, f.five[:2]
    x0, y0, x1, y1 = f.box
    assert x0 < 203 < x1 and y0 < 103 < y1
    lm = f.landmarks  # iBUG order: jaw starts on the image left, eye 36-41 left of eye 42-47
    assert lm[0, 0] < lm[16, 0] and lm[36:42, 0].mean() < lm[42:48, 0].mean()
    assert lm[8, 1] > lm[30, 1] > lm[27, 1]  # chin below the nose tip below the nose bridge
    assert len(f.to_json()["landmarks"]) == 68


def _rotate(img, angle, centre=(225.0, 130.0)):
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    out = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT)
    return out, ASTRONAUT_EYES @ m[:, :2].T + m[:, 2]


@pytest.mark.parametrize("angle", [-45, -30, 30, 45])
def test_rotated_astronaut(det, astronaut, angle):
    img, eyes = _rotate(astronaut, angle)
    faces = det.detect(img)
    assert len(faces) >= 1
    assert np.abs(faces[0].five[:2] - eyes).max() < 5.0, (faces[0].five[:2], eyes)


@pytest.mark.parametrize("scale,canvas", [(0.45, 512), (0.3, 512), (2.0, 1100), (0.45, 1024)])
def test_scaled_astronaut(det, astronaut, scale, canvas):
    """Face widths: about 40 and 27 px (dlib box ~90 px at scale 1) on 512 px, 180 px on 1100,
    40 px on a 1024 px canvas (found through the tiles)."""
    head = astronaut[0:300, 80:380]
    h = cv2.resize(head, None, fx=scale, fy=scale,
                   interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    img = np.full((canvas, canvas, 3), 120, np.uint8)
    oy, ox = canvas // 3, canvas // 4
    img[oy:oy + h.shape[0], ox:ox + h.shape[1]] = h
    eyes = (ASTRONAUT_EYES - [80, 0] + 0.5) * scale - 0.5 + [ox, oy]
    faces = det.detect(img)
    if scale < 0.4:  # below the documented limit (~35 px): may be missed, must not be wrong
        assert all(np.abs(f.five[:2] - eyes).max() < 4 for f in faces[:1])
        return
    assert len(faces) == 1
    assert np.abs(faces[0].five[:2] - eyes).max() < max(3.0, 3.0 * scale), faces[0].five[:2]


def test_batch_equals_one_by_one(det, astronaut):
    imgs = [astronaut, _rotate(astronaut, 20)[0], np.full((300, 200, 3), 128, np.uint8),
            np.ascontiguousarray(astronaut[:, :, 0])]
    batch = det.detect_batch(imgs)
    assert [len(f) for f in batch] == [1, 1, 0, 1]
    for faces, img in zip(batch, imgs):
        single = det.detect(img)
        assert len(single) == len(faces)
        for a, b in zip(single, faces):  # a face's points do not depend on its batch
            if det.device == "cpu":  # (on CUDA, kernels may round batches differently)
                np.testing.assert_array_equal(a.landmarks, b.landmarks)
                np.testing.assert_array_equal(a.dense, b.dense)
            np.testing.assert_allclose(a.landmarks, b.landmarks, atol=0.02)


def test_no_face_in_blank_or_noise(det):
    rng = np.random.default_rng(0)
    assert det.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert det.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []
    assert det.detect(np.zeros((20, 10, 3), np.uint8)) == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(astronaut):
    cpu = get_detector("mediapipe").detect(astronaut)
    gpu = get_detector("mediapipe", device="cuda").detect(astronaut)
    assert len(gpu) == len(cpu) == 1
    np.testing.assert_allclose(gpu[0].landmarks, cpu[0].landmarks, atol=0.05)


# --------------------------------------------------------------------------------------------
# registry, types, mapping, start-up


def test_auto_prefers_mediapipe_after_fan(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no FAN weights
    clear_detector_cache()
    try:
        assert available_detectors()["mediapipe"] is None
        assert auto_order().index("mediapipe") < auto_order().index("dlib")
        assert get_detector("auto").name == "mediapipe"
    finally:
        clear_detector_cache()


def test_missing_weights_say_how_to_make_them(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path))
    reason = available_detectors()["mediapipe"]
    assert reason and "convert_mediapipe" in reason


def test_face_dense_defaults_to_none():
    f = Face(np.zeros(4), np.zeros((5, 2)), 1.0)
    assert f.dense is None


def test_mesh68_table():
    assert len(MESH68) == 68
    for row in MESH68:
        assert 1 <= len(row) <= 2 and all(0 <= v < 468 for v, _ in row)
        assert sum(w for _, w in row) == pytest.approx(1.0)
    pts = np.random.default_rng(0).normal(size=(3, 468, 3))
    np.testing.assert_allclose(mesh_to_68(pts)[1], mesh_to_68(pts[1]))


def test_start_up_is_lazy():
    """Importing the detectors and asking whether mediapipe can run imports no torch; creating
    the backend imports torch but no TensorFlow / TFLite / mediapipe package."""
    code = (
        "import sys\n"
        "from faceedit.faces import detectors\n"
        "assert detectors.available_detectors()['mediapipe'] is None\n"
        "assert 'torch' not in sys.modules\n"
        "detectors.get_detector('mediapipe')\n"
        "banned = ('tensorflow', 'tflite_runtime', 'ai_edge_litert', 'mediapipe')\n"
        "bad = [m for m in banned if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


# --------------------------------------------------------------------------------------------
# London Set (../shared/data)


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared face data not found at {SHARED}")
def test_london_mesh68_vs_dlib_and_pupils(det):
    from PIL import Image

    paths = sorted((SHARED / "london" / "neutral").glob("*.jpg"))
    assert len(paths) >= 80
    dl = get_detector("dlib")
    pt_err, eye_err = [], []
    for p in paths:
        img = np.asarray(Image.open(p).convert("RGB"))
        faces = det.detect(img)
        assert len(faces) == 1, p.name
        lm = faces[0].landmarks
        ref = dl.detect(img)[0].landmarks
        ipd = np.linalg.norm(ref[42:48].mean(0) - ref[36:42].mean(0))
        pt_err.append(np.linalg.norm(lm - ref, axis=1).mean() / ipd)
        lines = (SHARED / "london" / "landmarks" / f"{p.stem}.txt").read_text().split("\n")
        pu = np.array([[float(v) for v in lines[k].split()[:2]] for k in (1, 2)])
        eye_err.append(np.linalg.norm(faces[0].five[:2] - pu, axis=1).mean() / np.linalg.norm(pu[1] - pu[0]))
    print(f"London: mesh->68 vs dlib mean {np.mean(pt_err):.4f} IPD; eye-centre error mean "
          f"{np.mean(eye_err):.4f} max {np.max(eye_err):.4f}")
    # measured: 0.049 vs dlib; eye error mean 0.030 (dlib's own: 0.036), max 0.06
    assert np.mean(pt_err) < 0.07
    assert np.mean(eye_err) < 0.045 and np.max(eye_err) < 0.1
