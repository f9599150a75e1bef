"""A turned face's far side is moved less across the face (faceedit.stage.turned): the Face
Mesh of the astronaut turned about the head's vertical axis in 3-D."""

import numpy as np
import pytest

from faceedit.stage.tuning_face import TurnedTuning
from faceedit.stage.turned import far_side_shares, moved_less


@pytest.fixture(scope="module")
def mesh(astronaut):
    from faceedit.faces.detectors import get_detector

    face = get_detector("mediapipe").detect(astronaut)[0]
    return np.asarray(face.dense, np.float64)[:468, :3], np.asarray(face.landmarks, np.float64)


def _turned(p: np.ndarray, degrees: float) -> np.ndarray:
    """The mesh turned about the vertical axis through its middle (x right, z away)."""
    c = p.mean(0)
    a = np.radians(degrees)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return (p - c) @ r.T + c


def test_frontal_face_moves_as_laid(mesh):
    p, lm = mesh
    shares, yaw, _ = far_side_shares(p[:, :2], p[:, 2])
    assert abs(yaw) < TurnedTuning().frontal_yaw
    assert np.allclose(shares[[48, 54, 36, 45]], 1.0, atol=0.15)
    goal = lm + [3.0, 1.0]
    assert moved_less(lm, goal, p[:, :2], p[:, 2]) is goal
    assert moved_less(lm, goal, None, None) is goal


@pytest.mark.parametrize("degrees", (-30.0, 30.0))
def test_turned_face_far_side_moves_less_across(mesh, degrees):
    p, _ = mesh
    q = _turned(p, degrees)
    shares, yaw, line = far_side_shares(q[:, :2], q[:, 2])
    assert abs(abs(yaw) - 30) < 8
    from faceedit.faces.mesh68 import mesh_to_68

    lm = mesh_to_68(q[:, :2])
    depth68 = mesh_to_68(np.column_stack([q[:, 2], q[:, 2]]))[:, 0]
    far, near = (48, 54) if depth68[48] > depth68[54] else (54, 48)  # the deeper mouth corner is the far one
    assert shares[far] < 0.85 < 1.15 < shares[near]
    move = np.zeros((68, 2))
    move[[far, near]] = 2.0 * line + [0.0, 1.0]  # across the face and down
    out = moved_less(lm, lm + move, q[:, :2], q[:, 2])
    got = out - lm
    assert np.allclose(got[near], move[near])  # the near side is not moved more
    assert TurnedTuning().min_share * 2.0 - 1e-9 <= got[far] @ line < 0.85 * 2.0
    assert got[far] @ np.array([-line[1], line[0]]) == pytest.approx(move[far] @ np.array([-line[1], line[0]]))
