"""The expression classifier's geometric transfer (faceedit.train.analysis.moves): a person's
landmark move carried onto another face moves that face's features, it does not draw them twice."""

import numpy as np
import pytest

from faceedit.train.analysis import moves

S = 64


def _layout(cx: float = 32.0, cy: float = 34.0, scale: float = 1.0, mouth: float = 0.0) -> np.ndarray:
    """A face's 68 points (dlib order) on an S-px crop: jaw arc, brows, nose, eyes, lips; the
    lips ``mouth`` px lower than their rest place (the jaw's lower half with them)."""
    p = np.zeros((68, 2))
    t = np.linspace(np.pi, 0, 17)
    p[:17] = np.stack([cx + 20 * np.cos(t), cy + 2 + 22 * np.sin(t)], 1)
    p[17:22] = np.stack([np.linspace(cx - 16, cx - 5, 5), np.full(5, cy - 10.0)], 1)
    p[22:27] = np.stack([np.linspace(cx + 5, cx + 16, 5), np.full(5, cy - 10.0)], 1)
    p[27:31] = np.stack([np.full(4, cx), np.linspace(cy - 6, cy + 4, 4)], 1)
    p[31:36] = np.stack([np.linspace(cx - 4, cx + 4, 5), np.full(5, cy + 6.0)], 1)
    for k, ex in ((36, cx - 10.0), (42, cx + 10.0)):
        a = np.linspace(np.pi, -np.pi, 7)[:6]
        p[k:k + 6] = np.stack([ex + 4 * np.cos(a), cy - 5 + 1.5 * np.sin(a)], 1)
    a = np.linspace(np.pi, -np.pi, 13)[:12]
    p[48:60] = np.stack([cx + 8 * np.cos(a), cy + 13 + 3 * np.sin(a)], 1)
    a = np.linspace(np.pi, -np.pi, 9)[:8]
    p[60:68] = np.stack([cx + 6 * np.cos(a), cy + 13 + 0.5 * np.sin(a)], 1)
    p = np.array([cx, cy]) + (p - np.array([cx, cy])) * scale
    p[48:68, 1] += mouth
    jaw_low = np.sin(t) > 0.5
    p[:17][jaw_low, 1] += mouth * (np.sin(t)[jaw_low] - 0.5) * 2
    return p


def _face(lm: np.ndarray, bg: float = -0.6) -> np.ndarray:
    """A grey face: a lit oval around the layout, dark eyes, and a dark bar where its lips are."""
    ys, xs = np.mgrid[0:S, 0:S].astype(np.float64)
    c = lm[:17].mean(0)
    img = np.where(((xs - c[0]) / 22) ** 2 + ((ys - c[1] + 4) / 28) ** 2 < 1, 0.5, bg)
    for e in (lm[36:42].mean(0), lm[42:48].mean(0)):
        img = np.where(((xs - e[0]) / 3) ** 2 + ((ys - e[1]) / 1.5) ** 2 < 1, -0.7, img)
    m = lm[48:60].mean(0)
    img = np.where((np.abs(xs - m[0]) < 7) & (np.abs(ys - m[1]) < 1.5), -0.8, img)
    return img.astype(np.float32)


def _column(img: np.ndarray, x: float) -> np.ndarray:
    return img[:, int(round(x)) - 2 : int(round(x)) + 3].mean(1)


def test_similarity_recovers_a_rotation_scale_and_shift():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 50, (13, 2))
    ang, sc = 0.2, 1.3
    a = sc * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = src @ a.T + np.array([3.0, -2.0])
    rot, t = moves.similarity(src, dst)
    assert np.allclose(rot, a, atol=1e-9) and np.allclose(t, [3.0, -2.0], atol=1e-9)


def test_expression_move_leaves_out_framing_and_scales_to_the_other_face():
    neutral, open_ = _layout(), _layout(mouth=4.0)
    other = _layout(cx=30.0, cy=36.0, scale=0.8)
    # the expressive photo framed differently (shifted, a little larger): the same move comes out
    reframed = (open_ - 32) * 1.05 + 32 + np.array([1.5, -1.0])
    for crop in (open_, reframed):
        goal = moves.expression_move(crop, neutral, other)
        d = goal - other
        assert np.allclose(d[moves.STABLE_POINTS], 0, atol=0.05)
        assert np.allclose(d[48:68, 1], 4.0 * 0.8, atol=0.1) and np.allclose(d[48:68, 0], 0, atol=0.1)
        assert np.allclose(d[17:48], 0, atol=0.05)
        assert abs(d[0, 1]) < 0.05 and abs(d[16, 1]) < 0.05  # the jaw's ends stay; the chin follows
        assert d[8, 1] == pytest.approx(3.2, abs=0.1)


def test_warp_moves_the_other_faces_mouth_and_does_not_double_it():
    """A person's mouth moving down by 4 px, carried onto another face whose lips sit elsewhere:
    that face's dark lip bar is moved down (by the move scaled to the face, 3.2 px), the old
    place is skin again (one bar, not two), and the photo beyond the face is untouched."""
    neutral, open_ = _layout(), _layout(mouth=4.0)
    other = _layout(cx=30.0, cy=36.0, scale=0.8)
    face = _face(other)
    goal = moves.expression_move(open_, neutral, other)
    out = moves.warp_face(face, other, goal)
    mouth_x, mouth_y = other[48:60].mean(0)
    before, after = _column(face, mouth_x), _column(out, mouth_x)
    rows = np.arange(S)
    dark_before = rows[before < -0.3]
    dark_after = rows[after < -0.3]
    dark_before = dark_before[(dark_before > mouth_y - 4) & (dark_before < mouth_y + 8)]
    dark_after = dark_after[(dark_after > mouth_y - 4) & (dark_after < mouth_y + 8)]
    shift = dark_after.mean() - dark_before.mean()
    assert shift == pytest.approx(3.2, abs=1.0)
    assert len(dark_after) <= len(dark_before) + 2  # one bar of about its own height
    assert after[int(round(mouth_y)) - 1] > 0.3  # where the lips were: skin
    assert np.array_equal(out[:4], face[:4]) and np.array_equal(out[:, :3], face[:, :3])
    # the eyes did not move
    eye = other[36:42].mean(0)
    assert np.abs(out[int(eye[1]) - 3 : int(eye[1]) + 4, int(eye[0]) - 5 : int(eye[0]) + 6]
                  - face[int(eye[1]) - 3 : int(eye[1]) + 4, int(eye[0]) - 5 : int(eye[0]) + 6]).max() < 0.05


def test_a_zero_move_is_the_face_itself_and_the_appearance_change_is_what_geometry_cannot_make():
    lm = _layout()
    face = _face(lm)
    assert np.array_equal(moves.warp_face(face, lm, moves.expression_move(lm, lm, lm)), face)
    # an expression that only darkens (teeth, a fold): its change is that darkening, in place
    darker = face.copy()
    darker[20:24, 28:36] -= 0.5
    change = moves.appearance_change(darker, lm, face, lm)
    assert np.allclose(change, darker - face, atol=1e-5)
    # carried onto another face's geometry: the change lands where its place on that face is
    other = _layout(cx=30.0, cy=36.0, scale=0.8)
    carried = moves.carry(change, lm, other)
    ys, xs = np.nonzero(carried < -0.25)
    c = np.array([32.0, 22.0])  # the darkened patch's centre on the first face, 12 px above its centre
    expected = np.array([30.0, 36.0]) + (c - np.array([32.0, 34.0])) * 0.8
    assert np.allclose([xs.mean(), ys.mean()], expected, atol=1.0)


def test_the_low_pass_keeps_an_opened_mouth_and_drops_a_scans_grain():
    rng = np.random.default_rng(0)
    grain = rng.normal(0.0, 0.1, (S, S)).astype(np.float32)
    mouth = np.zeros((S, S), np.float32)
    mouth[44:52, 24:40] = -0.5  # an opened mouth, 8 x 16 px
    out = moves.low_pass(mouth + grain, 1.5)
    assert np.std(out[:30] - mouth[:30]) < 0.35 * np.std(grain[:30])  # the grain mostly gone
    assert out[46:50, 28:36].mean() < -0.35  # the mouth still dark
    assert np.array_equal(moves.low_pass(grain, 0.0), grain)


def test_the_neutral_nearest_in_pose_is_the_one_turned_like_the_crop():
    crop = _layout(mouth=4.0)  # an opened mouth: not pose, so left out of the comparison
    turned = _layout()
    turned[:17, 0] += np.linspace(-3, 3, 17)  # the jaw contour shifted as a turned head's is
    turned[27:36, 0] += 2.0  # the nose with it
    same_pose = _layout(cx=28.0, cy=30.0, scale=1.2)  # framed differently, the same pose
    assert moves.nearest_pose(crop, np.stack([turned, same_pose])) == 1
    assert moves.nearest_pose(crop, np.stack([same_pose, turned])) == 0
