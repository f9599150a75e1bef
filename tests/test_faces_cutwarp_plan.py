"""A laugh's teeth reshaped by the cut warp (faceedit/stage/cut_curves.py follow_curves'
``plan``, corner_wedges, unsqueezed, pointed_ends; cut_fields' ``follow_plan``; cutwarp's
``carry_lower``): the drawn opening is the planned one, not the found curves kept at their pixel
offsets, and a thin one's lips meet toward its corners."""

from __future__ import annotations

import numpy as np
from test_faces_cutwarp import part_lips, synthetic_lm, synthetic_photo

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.cut_curves import (
    corner_rays,
    corner_wedges,
    follow_curves,
    lip_curves,
    narrowed_teeth,
    opening_polygon,
    pointed_ends,
    polygon_coverage,
    resample_by_length,
    unsqueezed,
)
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.tuning_face import WarpTuning


def test_follow_curves_with_the_plan_come_onto_the_moved_reference():
    """Found curves reaching 6 px past the reference corners and lying 3 px inside the reference
    lips, the mouth narrowed and opened (a laugh made surprised): kept at their pixel offsets
    (no plan) the corners stay 6 px out; with the plan and nothing kept, the curves are the
    moved reference curves; keeping all in the middle, only the corners come in."""
    x = np.linspace(0.0, 60.0, 33)
    hump = np.sin(np.pi * x / 60.0)
    ref_up, ref_low = np.c_[x, 100.0 - 5 * hump], np.c_[x, 100.0 + 5 * hump]
    wide = np.linspace(-6.0, 66.0, 33)
    up, low = np.c_[wide, 100.0 - 2 * hump], np.c_[wide, 100.0 + 2 * hump]
    moved_up, moved_low = np.c_[10 + 40 * x / 60, 100.0 - 15 * hump], np.c_[10 + 40 * x / 60, 100.0 + 15 * hump]
    old_u, _ = follow_curves(up, low, ref_up, ref_low, moved_up, moved_low)
    np.testing.assert_allclose(old_u[[0, -1], 0], [4.0, 56.0], atol=1e-9)
    u, lo = follow_curves(up, low, ref_up, ref_low, moved_up, moved_low, plan=(0.0, 0.3, 1.0))
    np.testing.assert_allclose(u, moved_up, atol=1e-9)
    np.testing.assert_allclose(lo, moved_low, atol=1e-9)
    u, lo = follow_curves(up, low, ref_up, ref_low, moved_up, moved_low, plan=(1.0, 0.3, 1.0))
    np.testing.assert_allclose(u[[0, -1]], moved_up[[0, -1]], atol=1e-9)
    np.testing.assert_allclose(lo[[0, -1]], moved_low[[0, -1]], atol=1e-9)
    np.testing.assert_allclose(u[16], old_u[16], atol=1e-9)  # the middle as without the plan
    u, lo = follow_curves(up, low, ref_up, ref_low, moved_up, moved_low, plan=(0.0, 0.3, 0.5))
    np.testing.assert_allclose(u, (old_u + moved_up) / 2, atol=1e-9)  # half way
    u, _ = follow_curves(up, low, ref_up, ref_low, moved_up, moved_low, plan=(0.0, 0.3, 0.0))
    np.testing.assert_array_equal(u, old_u)


def test_corner_wedges_reach_out_of_the_corners_along_the_cut():
    """Each wedge reaches its share of the corner-to-corner width, or of the distance to the
    outer corner where that is longer, out of its corner along the cut's ray, as tall as its
    share of the largest gap there; with a rim, it takes in a band above the upper curve,
    deepest by the corner and none at the rim's inner end."""
    lm = synthetic_lm()
    up, low = lip_curves(part_lips(lm, 0.15))
    width = float(np.linalg.norm(up[-1] - up[0]))
    left, right = corner_wedges(up, low, lm, (0.3, 0.0, 0.05))
    ray_a, ray_b = corner_rays(up, low)
    np.testing.assert_allclose(left[-3], up[0] + 0.05 * width * ray_a)
    np.testing.assert_allclose(right[-3], up[-1] + 0.05 * width * ray_b)
    tall = float(np.linalg.norm(left[-4] - left[-2]))
    assert abs(tall - 0.3 * float(np.linalg.norm(up - low, axis=1).max())) < 1e-9
    np.testing.assert_allclose((left[-4] + left[-2]) / 2, up[0])
    far = corner_wedges(up, low, lm, (0.3, 0.9, 0.01))[0]  # out the longer of the two reaches
    np.testing.assert_allclose(far[-3], up[0] + 0.9 * float(np.linalg.norm(lm[48] - up[0])) * ray_a)
    rimmed = corner_wedges(up, low, lm, (0.3, 0.0, 0.05), (0.05, 0.3))[0]
    box = (int(up[:, 0].min()) - 20, int(up[:, 1].min()) - 20, int(up[:, 0].max()) + 20, int(low[:, 1].max()) + 20)
    cover, plain = polygon_coverage(rimmed, box), polygon_coverage(left, box)
    x0, y0 = box[:2]
    k = 3  # a sample near the corner: 1 px above it lies in the rim, not in the plain wedge
    px, py = int(round(up[k, 0])) - x0, int(round(up[k, 1] - 1.5)) - y0
    assert cover[py, px] > 0.5 and plain[py, px] == 0
    depth = float(np.linalg.norm(rimmed[-5] - up[1]))
    assert 0 < depth <= 0.05 * width + 1e-9
    assert float(np.linalg.norm(rimmed[1] - rimmed[0])) < 0.01 * depth + 0.05  # about none at its inner end


def test_narrowed_teeth_keep_the_middle_of_the_row():
    """A row of teeth 10 px tall across a 100 px opening, the mouth narrowed to 0.6 of its
    width: as tall as found within 0.5 of the new half width (15 px) of the middle, none beyond
    0.9 of it (27 px); not narrowed, the whole row up to 0.45 of the arc from the middle."""
    x = np.linspace(0.0, 100.0, 101)
    up, carry = np.c_[x, np.full(101, 50.0)], np.c_[x, np.full(101, 60.0)]
    _, low = narrowed_teeth(up, carry, 0.6, (0.5, 0.9))
    tall = low[:, 1] - up[:, 1]
    np.testing.assert_allclose(tall[35:66], 10.0)
    assert (tall[:23] == 0).all() and (tall[78:] == 0).all()
    _, same = narrowed_teeth(up, carry, 1.0, (0.5, 0.9))
    np.testing.assert_allclose(same[25:76], carry[25:76])


def test_pointed_ends_close_a_thin_opening_s_blunt_ends():
    """A thin opening 100 px wide whose gap is 16 px out to 4 px from each corner (a laugh's
    blunt ends): the lips meet over ``meet`` (0.08) of the arc from each corner, between them
    the gap is at most ``taper`` (1.5) times the parabola's through those points (of height 1,
    up to 1) squared (``power`` 2: at 1 the lips part at an angle) times 16 px, the middle
    keeps its 16 px and the corners stay; a tall opening (aspect 0.5) is left as it is."""
    x = np.linspace(0.0, 100.0, 101)
    half = 8.0 * np.clip(np.minimum(x, 100.0 - x) / 4.0, 0.0, 1.0)
    up, low = np.c_[x, 50.0 - half], np.c_[x, 50.0 + half]
    u, lo = pointed_ends(up, low, (0.25, 0.45), 0.08, 1.5)
    gap = lo[:, 1] - u[:, 1]
    np.testing.assert_allclose(gap[:9], 0.0, atol=1e-9)
    np.testing.assert_allclose(gap[-9:], 0.0, atol=1e-9)
    v = np.clip((x / 100.0 - 0.08) / 0.84, 0.0, 1.0)
    assert (gap <= 16.0 * np.minimum(1.0, 6.0 * v * (1 - v)) + 1e-9).all()
    assert gap[13] < 8.0  # 5 px past where they meet: 16 px before
    np.testing.assert_allclose(gap[40:61], 16.0)
    np.testing.assert_allclose((u + lo) / 2, (up + low) / 2, atol=1e-9)  # they meet on the midline
    # the lips part along each other (power 2), not at an angle (power 1: a blunt wedge)
    np.testing.assert_allclose(gap[9:20], 16.0 * np.minimum(1.0, 6.0 * v * (1 - v))[9:20] ** 2, atol=1e-9)
    u1, lo1 = pointed_ends(up, low, (0.25, 0.45), 0.08, 1.5, 1.0)
    gap1 = lo1[:, 1] - u1[:, 1]
    assert gap[10] < 0.25 * gap1[10] and gap1[10] > 2.0, (gap[10], gap1[10])
    np.testing.assert_allclose(gap1[40:61], 16.0)
    tall_up, tall_low = np.c_[x, 50.0 - 3.125 * half], np.c_[x, 50.0 + 3.125 * half]
    same = pointed_ends(tall_up, tall_low, (0.25, 0.45), 0.08, 1.5)
    np.testing.assert_array_equal(same[0], tall_up)


def _laugh() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray]:
    """(landmarks, photo, found curves, carry_lower) of a parted mouth with white teeth whose
    found interior reaches 8 px past the 68 points' inner corners and lies 3 px inside their
    inner lips, a dark crease (3 px, then 1 px tall) along the lips' line from there 0.6 of
    the way to the outer corners."""
    lm = part_lips(synthetic_lm(), 0.15)
    lm[48, 0] -= 14.0  # (a laugh's outer corners well past its inner ones)
    lm[54, 0] += 14.0
    img = synthetic_photo(lm)
    up, low = lip_curves(lm)
    mid = (up + low) / 2
    along = np.linspace(-8.0, 8.0, len(up))[:, None] * np.array([1.0, 0.0])
    squeeze = (low - up) * (3.0 / np.maximum(np.linalg.norm(low - up, axis=1, keepdims=True), 1e-9))
    f_up, f_low = up + along + squeeze, low + along - squeeze
    f_up[[0, -1]] = f_low[[0, -1]] = mid[[0, -1]] + along[[0, -1]]
    cov = polygon_coverage(opening_polygon(f_up, f_low), (0, 0, 512, 512))
    img[cov > 0] = 245
    for corner, outer in ((f_up[0], lm[48]), (f_up[-1], lm[54])):  # narrowing, short of the outer corner
        for k, p in enumerate(resample_by_length(np.vstack([corner, corner + 0.6 * (outer - corner)]), 40)):
            x, y, h = int(round(p[0])), int(round(p[1])), 1 if k < 20 else 0
            img[y - h:y + h + 1, x] = 20
    carry = f_up + 0.6 * (f_low - f_up)
    return lm, img, (f_up, f_low), carry


def _surprised(lm: np.ndarray) -> np.ndarray:
    """The inner and outer corners 0.12 eye distances in each, the lips parted 0.15 more."""
    dst = part_lips(lm, 0.15)
    e = eye_distance(lm)
    for i, s in ((60, 1), (48, 1), (64, -1), (54, -1)):
        dst[i, 0] += s * 0.12 * e
    return dst


def test_a_laugh_reshaped_draws_the_planned_opening():
    """With the upper teeth carried (``carry_lower``) and none of the found curves' offsets kept,
    the drawn opening runs corner to corner between the planned inner corners, as tall as
    planned (keeping half of them in the middle, as the defaults do, the corners as planned and
    the height between), and the dark crease
    beyond the teeth leaves no dark line out of its corners. Without it (the found curves kept
    at their pixel offsets) the corners stay 8 px out and the opening is 6 px shorter."""
    lm, img, found, carry = _laugh()
    dst = _surprised(lm)
    planned_up, planned_low = lip_curves(dst)
    r = cut_warp(img, lm, dst, lips=found, carry_lower=carry, tuning=WarpTuning(plan_follows=(0.0, 0.3)))
    half = cut_warp(img, lm, dst, lips=found, carry_lower=carry)  # the default keeps half in the middle
    old = cut_warp(img, lm, dst, lips=found)
    assert r.scale == 1.0 and old.scale == 1.0 and half.scale == 1.0
    np.testing.assert_allclose(half.upper[[0, -1]], dst[[60, 64]], atol=1e-6)
    np.testing.assert_allclose(r.upper[[0, -1]], dst[[60, 64]], atol=1e-6)
    assert np.linalg.norm(old.upper[0] - dst[60]) > 6 and np.linalg.norm(old.upper[-1] - dst[64]) > 6
    def height(up, low):
        return float(np.linalg.norm(low - up, axis=1).max())
    planned = height(planned_up, planned_low)
    assert abs(height(r.upper, r.lower) - planned) < 1.0
    assert height(old.upper, old.lower) < planned - 4.0
    assert height(old.upper, old.lower) + 2.0 < height(half.upper, half.lower) < planned - 1.0
    x0, y0, x1, y1 = r.roi
    drawn = r.opening + r.interior
    cols = np.flatnonzero(drawn.max(0) > 0.05) + x0
    assert cols.min() >= dst[60, 0] - 1.5 and cols.max() <= dst[64, 0] + 1.5
    # the lips' line beyond the corners (to the outer corners): no dark crease there
    def darkest_beyond(res):
        g = res.pixels.astype(int).sum(-1)
        worst = 255 * 3
        for a, b in ((dst[48], res.upper[0]), (res.upper[-1], dst[54])):
            for p in resample_by_length(np.vstack([a, b]), 30)[3:-3]:
                x, y = int(round(p[0])), int(round(p[1]))
                worst = min(worst, int(g[y - 2:y + 3, x].min()))
        return worst
    assert darkest_beyond(r) > 3 * 80
    assert darkest_beyond(old) < 3 * 60


def test_unsqueezed_keeps_the_middle_s_width_and_the_corners():
    """A 60-px lip narrowed to 40 px (corners 10 px in each side): spread evenly, its middle
    samples lie 2/3 as far apart as in the source; slid, they keep their source spacing there,
    stay on the destination curve, in order, and the corners take up the narrowing; half the
    amount lands half way; a chord that does not narrow leaves them as they are."""
    x = np.linspace(0.0, 60.0, 33)
    src = np.c_[x, 100.0 - 5 * np.sin(np.pi * x / 60.0)]
    xd = 10 + 40 * x / 60
    dst = np.c_[xd, 110.0 - 8 * np.sin(np.pi * (xd - 10) / 40.0)]
    chords = ((src[0], src[-1]), (dst[0], dst[-1]))
    out = unsqueezed(dst[1:-1], src[1:-1], dst, *chords, 1.0)
    mid = 15  # samples 16 and 17 of the whole curve, around its middle
    assert abs(np.diff(dst[16:18, 0])[0] / np.diff(src[16:18, 0])[0] - 40 / 60) < 1e-9
    assert abs(out[mid + 1, 0] - out[mid, 0] - (src[17, 0] - src[16, 0])) < 0.05
    assert np.all(np.diff(out[:, 0]) > 0)
    on_curve = np.interp(out[:, 0], dst[:, 0], dst[:, 1])
    np.testing.assert_allclose(out[:, 1], on_curve, atol=0.05)
    assert out[0, 0] - dst[0, 0] < dst[1, 0] - dst[0, 0]  # the first sample nearer its corner
    half = unsqueezed(dst[1:-1], src[1:-1], dst, *chords, 0.5)
    np.testing.assert_allclose(half[:, 0], (dst[1:-1, 0] + out[:, 0]) / 2, atol=1e-9)
    same = ((src[0], src[-1]), (src[0], src[-1]))
    np.testing.assert_array_equal(unsqueezed(src[1:-1], src[1:-1], src, *same, 1.0), src[1:-1])


def test_a_laugh_kept_in_a_thin_opening_closes_toward_its_corners():
    """The laugh's lips parted a little more, its width kept (made fearful): with the upper
    teeth carried, the drawn opening (carried and hole) ends over 0.05 of the cut's width inside
    each of its corners, where the lips meet (``plan_meet`` 0.08 of the arc); without them
    (the found curves as they are) it reaches within 1.5 px of the corners."""
    lm, img, found, carry = _laugh()
    dst = part_lips(lm, 0.05)
    for res, inside in ((cut_warp(img, lm, dst, lips=found, carry_lower=carry), True),
                        (cut_warp(img, lm, dst, lips=found), False)):
        assert res.scale == 1.0
        cols = np.flatnonzero((res.opening + res.interior).max(0) > 0.05) + res.roi[0]
        left, right = res.upper[0, 0], res.upper[-1, 0]
        ends = min(cols.min() - left, right - cols.max())
        if inside:
            assert ends > 0.05 * (right - left), (ends, right - left)
        else:
            assert ends < 1.5, ends


def test_a_laugh_kept_in_width_carries_no_dark_dots_out_of_its_corners():
    """The laugh kept in width (made fearful), its teeth carried: the crease's edges beside the
    corner wedges (the wedges narrow to a point, the crease does not) are taken into them
    (``kept_corners``), so nothing near the new corners outside the opening is as dark as the
    crease; with the wedges as bare polygons, the crease's edges are carried there as dark dots."""
    lm, img, found, carry = _laugh()
    dst = part_lips(lm, 0.05)

    def darkest_by_corners(kept: bool) -> int:
        r = cut_warp(img, lm, dst, lips=found, carry_lower=carry, tuning=WarpTuning(kept_corners=kept))
        g = r.pixels.astype(int).sum(-1) // 3
        shown = np.zeros(g.shape, bool)
        x0, y0, x1, y1 = r.roi
        shown[y0:y1, x0:x1] = (r.opening + r.interior) > 0.01
        worst = 255
        for corner, out in ((r.upper[0], -1), (r.upper[-1], 1)):
            x, y = int(round(corner[0])), int(round(corner[1]))
            cols = slice(min(x, x + 12 * out), max(x, x + 12 * out) + 1)
            worst = min(worst, int(g[y - 8:y + 5, cols][~shown[y - 8:y + 5, cols]].min()))
        return worst

    assert darkest_by_corners(True) > 60
    assert darkest_by_corners(False) < 40


def test_a_laugh_closed_from_its_found_cut_carries_no_dark_dots_into_its_corners():
    """The laugh closed (made neutral) along its found curves (``found_corners``, a small mouth):
    the crease beyond the teeth, outside the cut, is taken into the corner wedges
    (``closing_wedge``) and the dark beside them, so nothing by the closed corners is darker than
    the lips' stripes; with wedges of no size it is carried into them as dark dots (the dark ends
    of a small smile's closed line, group_five), as on a mouth twice as large in the photo's own
    pixels (``photo_scale`` 2, past :func:`~faceedit.stage.teeth_look.small_weight`'s reach: its
    closed corners keep their crease)."""
    from faceedit.stage.state import close_lips

    lm, img, found, _ = _laugh()
    dst = close_lips(synthetic_lm())

    def darkest_by_corners(wedge: tuple[float, float, float], photo_scale: float = 1.0) -> int:
        r = cut_warp(img, lm, dst, lips=found, close_mouth=1.0, found_corners=True, photo_scale=photo_scale,
                     tuning=WarpTuning(closing_wedge=wedge))
        assert r.scale == 1.0
        g = r.pixels.astype(int).sum(-1) // 3
        worst = 255
        for corner in (r.upper[0], r.upper[-1]):
            x, y = int(round(corner[0])), int(round(corner[1]))
            worst = min(worst, int(g[y - 8:y + 9, x - 25:x + 26].min()))
        return worst

    assert darkest_by_corners(WarpTuning().closing_wedge) > 72  # (MEASURED: 74, the lips' own stripes: 73 at darkest)
    assert darkest_by_corners((0.0, 0.0, 0.0)) < 70  # (62: the crease's dots)
    assert darkest_by_corners(WarpTuning().closing_wedge, photo_scale=2.0) < 70  # a large mouth keeps its crease
