"""A turned face planned as a frontal one (faceedit.stage.turned): the astronaut's Face Mesh
turned about the head's vertical axis in 3-D, the far mouth corner's move against the near
one's, and a fill kept off what lies past the far side's outline; the mesh tipped about the
horizontal axis, its move down the face foreshortened."""

import numpy as np
import pytest

from faceedit.faces.mesh68 import mesh_to_68
from faceedit.stage.records import StageRequest
from faceedit.stage.turned import _axes, head_frame, hidden_parts, plan_sides


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


def _tipped(p: np.ndarray, degrees: float) -> np.ndarray:
    """The mesh turned about the horizontal axis through its middle (x right, y down, z away;
    above 0 the chin goes back: the pitch ``head_frame`` reads falls)."""
    c = p.mean(0)
    a = np.radians(degrees)
    r = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    return (p - c) @ r.T + c


def _similarity_residual(a: np.ndarray, b: np.ndarray) -> float:
    """The largest distance between ``b`` and ``a`` laid onto it by the best similarity, over
    ``b``'s eye distance."""
    ca, cb = a - a.mean(0), b - b.mean(0)
    za, zb = ca[:, 0] + 1j * ca[:, 1], cb[:, 0] + 1j * cb[:, 1]
    s = (np.conj(za) @ zb) / (np.conj(za) @ za)
    fit = s * za
    eye = np.linalg.norm(b[36:42].mean(0) - b[42:48].mean(0))
    return float(np.abs(fit - zb).max() / eye)


def test_frontal_face_is_planned_as_it_is(mesh):
    p, _ = mesh
    assert head_frame(p[:, :2], p[:, 2]) is None
    assert head_frame(None, None) is None


@pytest.mark.parametrize("degrees", (-30.0, 30.0))
def test_turned_face_read_frontal_and_far_corner_moves_less(mesh, degrees):
    p, _ = mesh
    q = _turned(p, degrees)
    turn = head_frame(q[:, :2], q[:, 2])
    assert turn is not None and turn.ramp == 1.0 and abs(abs(turn.yaw) - 30) < 8
    lm = mesh_to_68(q[:, :2])
    front = turn.frontal(lm)
    x, y, _ = _axes(p)
    own = mesh_to_68((p - p.mean(0)) @ np.stack([x, y]).T)  # the unturned face in its head's own frame
    # the turned points read as the unturned face's shape (up to a similarity), the photo's do not
    assert _similarity_residual(front, own) < 0.02 < 0.5 * _similarity_residual(lm, own)
    assert np.array_equal(turn.photo_goal(lm, front, front), lm)  # no move, no change
    # a frontal smile: both corners 3 px out across the face and 1 up
    move = np.zeros((68, 2))
    move[48], move[54] = [-3.0, -1.0], [3.0, -1.0]
    goal = turn.photo_goal(lm, front, front + move)
    depth68 = mesh_to_68(np.column_stack([q[:, 2], q[:, 2]]))[:, 0]
    far, near = (48, 54) if depth68[48] > depth68[54] else (54, 48)  # the deeper corner is the far one
    shown = np.linalg.norm(goal - lm, axis=1)
    assert shown[far] < 0.8 * shown[near]
    assert abs((goal - lm)[near] @ turn.line) <= 3.0 + 1e-9  # the near side no further across than frontal
    assert np.allclose(np.delete(goal, [48, 54], 0), np.delete(lm, [48, 54], 0))


@pytest.mark.parametrize("degrees", (-30.0, 22.0))
def test_tipped_face_read_frontal_and_its_moves_down_foreshortened(mesh, degrees):
    """The astronaut (pitch -8) tipped back to +22 or bowed to -30, past the frontal range: its
    points turned to the front read as the untipped face's shape, the photo's do not; a move
    down the face shows shortened by the tip; nothing is looked for past an outline (the face
    is not turned aside: both show)."""
    p, _ = mesh
    q = _tipped(p, degrees)
    turn = head_frame(q[:, :2], q[:, 2])
    assert turn is not None and turn.ramp == 1.0 and turn.aside == 0.0 and abs(turn.yaw) < 8
    lm = mesh_to_68(q[:, :2])
    front = turn.frontal(lm)
    x, y, _ = _axes(p)
    own = mesh_to_68((p - p.mean(0)) @ np.stack([x, y]).T)
    assert _similarity_residual(front, own) < 0.02 < 0.5 * _similarity_residual(lm, own)
    move = np.zeros((68, 2))
    move[57] = [0.0, 3.0]  # the lower lip 3 px down the frontal face
    shown = turn.photo_goal(lm, front, front + move) - lm
    tip = np.cos(np.radians(turn.pitch))
    assert abs(np.linalg.norm(shown[57]) - 3.0 * tip) < 0.05 and np.linalg.norm(shown[57]) < 0.95 * 3.0
    assert np.allclose(np.delete(shown, 57, 0), 0.0)
    assert hidden_parts(turn, q[:, :2], lm, np.zeros((512, 512, 3), np.uint8)) is None


@pytest.mark.parametrize("target", ("neutral", "happy", "surprised"))
def test_turned_face_and_its_mirror_image_are_planned_as_mirror_images(mesh, target):
    """A turned face is planned on its points turned to the front and on their mirror image
    (:func:`plan_sides`): the astronaut turned 30 degrees and its mirror image head for mirror
    images of one goal and take away the same smile; the plan on one side alone does not (the
    stage's state reads a face's two sides unequally)."""
    from faceedit.api import Editor
    from faceedit.faces.landmarks import FLIP

    stage = Editor.from_pretrained("stage", device="cpu").stage
    p, _ = mesh
    q = _turned(p, 30.0)
    turn = head_frame(q[:, :2], q[:, 2])
    assert turn is not None
    lm = turn.frontal(mesh_to_68(q[:, :2]))

    def mirror(points):
        out = np.asarray(points, np.float64)[list(FLIP)].copy()
        out[:, 0] = 1000.0 - out[:, 0]
        return out

    request = StageRequest(target, 1.0)
    goals, taken, alone = [], [], []
    for points in (lm, mirror(lm)):
        cur, new, sides = plan_sides(stage, turn, points, None, request, True)
        goals.append(sides.goal(stage, points, cur, new, 1.0))
        taken.append(sides.taken(stage, cur, new))
        alone.append(stage.goal_landmarks(points, cur, new, 1.0))
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    assert np.abs(goals[0] - mirror(goals[1])).max() < 1e-6 * eye
    assert abs(taken[0] - taken[1]) < 1e-9
    assert np.abs(alone[0] - mirror(alone[1])).max() > 0.02 * eye  # 0.050-0.071 measured
    frontal = plan_sides(stage, None, lm, None, request, True)[2]
    assert frontal.points is None  # a face planned as it is: one plan


def test_fill_is_kept_off_past_the_far_outline(mesh):
    p, _ = mesh
    q = _turned(p, 35.0)
    turn = head_frame(q[:, :2], q[:, 2])
    assert turn is not None
    lm = mesh_to_68(q[:, :2])
    photo = np.full((512, 512, 3), 40, np.uint8)
    hidden = hidden_parts(turn, q[:, :2], lm, photo)
    assert hidden is not None
    painted = np.full_like(photo, 250)  # a fill drawn over everything about the face
    out = hidden.keep(painted.copy(), nose=False)
    far = 1 if turn.yaw > 0 else -1  # the image's side the far side lies on
    line = turn.line
    mouth_row = int(round(lm[[48, 54], 1].mean()))
    xs = np.arange(512)
    outline = q[:, 0][np.abs(q[:, 1] - mouth_row) < 6]
    edge = outline.max() if far > 0 else outline.min()
    x0, _, x1, _ = hidden.roi
    beyond = xs[((xs - edge) * far > 6) & (xs >= x0) & (xs < x1)]  # well past the far outline, by the face
    assert beyond.size > 5
    near_beyond = xs[((xs - (outline.min() if far > 0 else outline.max())) * far < -6) & (xs >= x0) & (xs < x1)]
    assert near_beyond.size > 5
    assert abs(line[0]) > 0.5
    assert (out[mouth_row, beyond] == 40).all()  # the fill is kept off there
    assert (out[mouth_row, near_beyond] == 250).all()  # past the near side's outline it is not
    inside = int(round(lm[[48, 54], 0].mean()))
    assert (out[mouth_row, inside] == 250).all()  # on the face it stays
    nose = hidden.keep(painted.copy(), nose=True)
    tip = np.round(lm[27:36].mean(0)).astype(int)  # inside the nose
    assert (nose[tip[1], tip[0]] == 40).all() and (out[tip[1], tip[0]] == 250).all()


def test_stage_on_a_turned_face_moves_the_far_corner_less(astronaut):
    """The astronaut's head turned 60 degrees by the pose warp (read as about 24) made happy: the
    far mouth corner moves less than the near one (with the move laid by the similarity alone
    the far one moved 6.1 px, the near one 4.6)."""
    from faceedit.api import Editor
    from faceedit.faces.detectors import get_detector
    from faceedit.models.request import EditRequest
    from faceedit.stage.pose import HeadTurn
    from faceedit.stage.records import StageFace
    from faceedit.stage.steps import planned

    det = get_detector("mediapipe")
    f = det.detect(astronaut)[0]
    turned = HeadTurn(np.asarray(f.dense)[:468, :3], astronaut.shape[:2], 60 / 15, 0, 0).apply(astronaut)
    g = det.detect(turned)[0]
    d = np.asarray(g.dense, np.float64)
    turn = head_frame(d[:468, :2], d[:468, 2])
    assert turn is not None and turn.ramp > 0.5
    stage = Editor.from_pretrained("stage", device="cpu").stage
    face = planned(stage, StageFace(g.landmarks, g.dense), stage.request(EditRequest.of("happy", 1.0)), turned)
    assert face is not None and face.goal is not None
    far, near = (54, 48) if turn.yaw > 0 else (48, 54)
    move = np.linalg.norm(face.goal - face.landmarks, axis=1)
    assert move[far] < move[near]
