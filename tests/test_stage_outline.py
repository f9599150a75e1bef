"""A new mouth opening's outline (faceedit.stage.outline): smooth, its ends round at the
corners, its samples moved across the chord only, thin openings left as they are."""

import numpy as np

from faceedit.stage.cut_curves import catmull_rom
from faceedit.stage.outline import smooth_outline, smoothed_profile


def _turns(curve: np.ndarray) -> np.ndarray:
    d = np.diff(curve, axis=0)
    a = np.arctan2(d[:, 1], d[:, 0])
    return np.degrees(np.abs((np.diff(a) + np.pi) % (2 * np.pi) - np.pi))


def _hexagon(h: float) -> tuple[np.ndarray, np.ndarray]:
    """A face mesh's loop moved open: straight runs meeting at kinks, a wedge at each corner."""
    up = np.array([[0, 0], [15, -h], [35, -h], [50, -h], [65, -h], [85, -h], [100, 0]], float)
    low = np.array([[0, 0], [15, h], [35, h], [50, h], [65, h], [85, h], [100, 0]], float)

    def dense(p: np.ndarray) -> np.ndarray:  # 33 samples along the polyline, its kinks kept
        t = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))]
        s = np.linspace(0.0, t[-1], 33)
        return np.stack([np.interp(s, t, p[:, 0]), np.interp(s, t, p[:, 1])], 1)
    return dense(up), dense(low)


def test_a_polygon_opening_becomes_smooth_with_round_ends_at_its_corners():
    up, low = _hexagon(25.0)
    su, sl = smooth_outline(up, low)
    # the kinks go (the largest turn inside the curve, away from the corner's own sample)
    assert _turns(su)[2:-2].max() < 0.5 * _turns(up)[2:-2].max()
    assert _turns(sl)[2:-2].max() < 0.5 * _turns(low)[2:-2].max()
    np.testing.assert_allclose(su[[0, -1]], up[[0, -1]])
    np.testing.assert_allclose(sl[[0, -1]], low[[0, -1]])
    # each end is rounder than the wedge: the curves leave each corner more steeply
    def parting(u: np.ndarray, lo: np.ndarray, i: int, j: int) -> float:
        a, b = u[j] - u[i], lo[j] - lo[i]
        return float(np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))))
    assert parting(su, sl, 0, 1) > parting(up, low, 0, 1) + 20
    assert parting(su, sl, -1, -2) > parting(up, low, -1, -2) + 20
    # samples move across the chord only, nothing reaches past the corners, the middle keeps
    # its height
    np.testing.assert_allclose(su[:, 0], up[:, 0])
    np.testing.assert_allclose(sl[:, 0], low[:, 0])
    assert abs((sl - su)[16, 1] - (low - up)[16, 1]) < 0.05 * (low - up)[16, 1]
    assert np.all((sl - su)[:, 1] >= 0)


def test_a_thin_crescent_and_closed_lips_are_left_as_they_are():
    up = catmull_rom(np.array([[0, 0], [25, -3], [50, -4], [75, -3], [100, 0]], float))
    low = catmull_rom(np.array([[0, 0], [25, 4], [50, 6], [75, 4], [100, 0]], float))
    cu, cl = smooth_outline(up, low)
    np.testing.assert_array_equal(cu, up)
    np.testing.assert_array_equal(cl, low)
    closed = np.stack([np.linspace(0, 100, 33), np.zeros(33)], 1)
    _, c2 = smooth_outline(closed, closed.copy())
    np.testing.assert_array_equal(c2, closed)


def test_smoothing_a_profile_keeps_its_ends_and_a_straight_line():
    line = np.linspace(0.0, 10.0, 50)
    np.testing.assert_allclose(smoothed_profile(line, 4.0), line, atol=1e-9)
    bump = np.r_[np.zeros(20), np.ones(20), np.zeros(20)]
    s = smoothed_profile(bump, 3.0)
    assert s[0] == 0 and s[-1] == 0 and np.abs(np.diff(s)).max() < 0.5


def test_an_opening_no_taller_than_the_photos_own_keeps_its_outline():
    """Given the source curves, the outline is smoothed by as much as the opening grew: the
    photo's own open mouth moved as it is keeps its polygon; one opened further is smoothed."""
    up, low = _hexagon(25.0)
    same_u, same_l = smooth_outline(up, low, None, up, low)
    np.testing.assert_array_equal(same_u, up)
    np.testing.assert_array_equal(same_l, low)
    small_u, small_l = _hexagon(5.0)  # a nearly closed source: the opening is new
    new_u, _ = smooth_outline(up, low, None, small_u, small_l)
    np.testing.assert_allclose(new_u, smooth_outline(up, low)[0])
    half_u, _ = smooth_outline(up, low, None, *_hexagon(20.0))  # grew by 0.1 of the width: wholly
    np.testing.assert_allclose(half_u, new_u)
    part_u, _ = smooth_outline(up, low, None, *_hexagon(22.5))  # grew by 0.05: half the change
    np.testing.assert_allclose(part_u - up, 0.5 * (new_u - up), atol=1e-9)


def test_a_flat_parted_opening_is_smoothed_and_its_ends_taper_into_the_corners():
    """Below the rounding's start (a fear's or a vowel's flat opening, both lips parted) the
    kinks go and each end thins into its corner instead of a straight-sided wedge; the middle
    keeps its height and the samples move across the chord only."""
    up, low = _hexagon(9.5)  # height over width 0.19, the upper lip 0.095 of the width off the chord
    su, sl = smooth_outline(up, low)
    assert _turns(su)[2:-2].max() < 0.75 * _turns(up)[2:-2].max()
    np.testing.assert_allclose(su[:, 0], up[:, 0])
    np.testing.assert_allclose(su[[0, -1]], up[[0, -1]])
    gap, gap0 = (sl - su)[:, 1], (low - up)[:, 1]
    assert np.all(gap >= 0)
    assert abs(gap[16] - gap0[16]) < 0.05 * gap0[16]
    # near each corner the opening is thinner than the wedge: its sides meet at a finer point
    for i, share in ((1, 0.7), (2, 0.8), (-2, 0.7), (-3, 0.8)):
        assert gap[i] < share * gap0[i]
    # the photo's own flat opening moved as it is (a driven photo's talking mouth) keeps its ends
    same_u, same_l = smooth_outline(up, low, None, up, low)
    np.testing.assert_array_equal(same_u, up)
    np.testing.assert_array_equal(same_l, low)


def test_a_flat_smile_whose_upper_lip_stays_near_the_chord_is_left_as_it_is():
    """A happy smile's opening (its upper lip near the corner-to-corner line, its lower one
    sagging) keeps its points and its teeth's place."""
    up, low = _hexagon(3.0)
    low = low.copy()
    low[:, 1] *= 5.0  # the lower lip 0.15 of the width below the chord
    su, sl = smooth_outline(up, low)
    np.testing.assert_array_equal(su, up)
    np.testing.assert_array_equal(sl, low)
