"""A gasp's lower lip and jaw where the photo shows them (faceedit/faces/open_mouth.py): asked of
dlib only for a mouth open tall, taken where dlib reads it much further open, agrees on the
corners and the upper lip and the photo shows the skin under the chin, the Face Mesh's points
moved with them and the rest held."""

from __future__ import annotations

import numpy as np
import pytest
from _imgs import astronaut_face

import faceedit.faces.open_mouth as om
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.moves import face_frame

#: The photo the points lie on (dlib's reading is made up: only its size counts).
PHOTO = np.zeros((512, 512, 3), np.uint8)


def _gasp() -> np.ndarray:
    """The astronaut's 68 points with the mouth opened tall: the lower lip (inner and outer) 0.25
    eye distances down the face (the Face Mesh's under-read of a gasp)."""
    lm = np.asarray(astronaut_face().landmarks, np.float64).copy()
    _, n, iod = face_frame(lm)
    lm[[65, 66, 67]] = lm[[63, 62, 61]]
    lm[list(om.LOWER_LIP)] += 0.25 * iod * n
    return lm


def _seen(lm: np.ndarray, lip: float, jaw: float) -> np.ndarray:
    """What dlib is made to read: ``lm`` with the lower lip ``lip`` and the jaw (3-13) ``jaw`` eye
    distances further down the face."""
    _, n, iod = face_frame(lm)
    out = lm.copy()
    out[list(om.LOWER_LIP)] += lip * iod * n
    out[list(om.JAW)] += jaw * iod * n
    return out


def _mesh(lm: np.ndarray) -> np.ndarray:
    """Stand-in Face Mesh points: a grid over the face's box with a depth column."""
    lo, hi = lm.min(0), lm.max(0)
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 20), np.linspace(lo[1], hi[1], 24))
    return np.c_[xs.ravel(), ys.ravel(), np.arange(xs.size, dtype=np.float64)].astype(np.float32)


def test_only_a_mouth_open_tall_is_asked_about(monkeypatch):
    def asked(rgb, box):
        raise AssertionError("dlib asked about a closed mouth")

    monkeypatch.setattr(om, "dlib_68", asked)
    lm = np.asarray(astronaut_face().landmarks, np.float64).copy()
    lm[[65, 66, 67]] = lm[[63, 62, 61]]  # her lips closed
    assert not om.opens_tall(lm)
    assert om.opens_tall(_gasp())
    assert om.lower_lip_seen(PHOTO, lm, None) is None
    assert not om.opens_tall(_gasp()[:5])  # (five points: no mouth to read)


def test_the_lower_lip_and_jaw_go_where_dlib_reads_them(monkeypatch):
    lm = _gasp()
    seen = _seen(lm, 0.2, 0.25)
    monkeypatch.setattr(om, "dlib_68", lambda rgb, box: seen)
    mesh = _mesh(lm)
    out = om.lower_lip_seen(PHOTO, lm, mesh)
    assert out is not None
    moved, points = out
    idx = list(om.LOWER_LIP + om.JAW)
    assert np.allclose(moved[idx], seen[idx])
    assert np.array_equal(moved[list(om.HELD)], lm[list(om.HELD)])  # brows, eyes, nose, upper lip, corners
    assert points.dtype == mesh.dtype and np.array_equal(points[:, 2], mesh[:, 2])  # the depth kept
    _, n, iod = face_frame(lm)
    shift = (points[:, :2] - mesh[:, :2]) @ n / iod
    near_eyes = np.linalg.norm(mesh[:, :2] - lm[36:48].mean(0), axis=1) < 0.3 * iod
    near_chin = np.linalg.norm(mesh[:, :2] - (lm[57] + lm[8]) / 2, axis=1) < 0.15 * iod
    assert near_eyes.any() and near_chin.any()
    assert np.abs(shift[near_eyes]).max() < 0.01
    assert shift[near_chin].min() > 0.15  # the skin between the lip and the chin goes down with them


@pytest.mark.parametrize("misread", ["corners", "upper", "not_further", "chin_cut", "no_dlib"])
def test_nothing_is_taken_where_dlib_disagrees_or_cannot_run(monkeypatch, misread):
    lm = _gasp()
    seen = _seen(lm, 0.2, 0.25)
    iod = eye_distance(lm)
    if misread == "corners":
        seen[54, 0] += 1.5 * om.CORNERS_AGREE * iod
    elif misread == "upper":
        seen[51, 1] -= 1.5 * om.UPPER_AGREE * iod
    elif misread == "not_further":
        seen = _seen(lm, 0.0, 0.0)
    elif misread != "chin_cut":
        monkeypatch.setattr(om, "dlib_status", lambda: "dlib is not installed")
    monkeypatch.setattr(om, "dlib_68", lambda rgb, box: seen)
    opening = float(np.linalg.norm(seen[66] - seen[62]))
    photo = PHOTO[:int(seen[8, 1] + 0.5 * om.CHIN_SHOWN * opening)] if misread == "chin_cut" else PHOTO  # (near its edge)
    assert om.lower_lip_seen(photo, lm, _mesh(lm)) is None


def test_the_predictor_box_is_dlibs_round_the_points():
    """dlib's predictor on the astronaut's own box from its 68 points reads the points it was
    given back (within 0.05 eye distances on average): the box is the one its detector draws."""
    from _imgs import astronaut

    from faceedit.faces.detectors.dlib import dlib_68

    lm = np.asarray(astronaut_face().landmarks, np.float64)
    again = dlib_68(astronaut(), om.predictor_box(lm))
    assert float(np.linalg.norm(again - lm, axis=1).mean()) < 0.05 * eye_distance(lm)
