"""The cut warp (faceedit/stage/cutwarp.py, cut_curves.py, cut_fields.py): lips that part and close along the inner-lip
contour, fold-free, at full resolution; on the astronaut (dlib landmarks) and on a synthetic
face whose lips carry a texture the tests can measure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import astronaut, astronaut_face

from faceedit.faces.landmarks import CHIN, eye_centres, eye_distance
from faceedit.stage.chin_slide import slid_grid
from faceedit.stage.cut_curves import (
    corner_rays,
    follow_curves,
    given_curves,
    lip_curves,
    opening_polygon,
    polygon_coverage,
    resample_by_length,
    round_opening,
    side_weight,
    upper_side_polygon,
    zone_weight,
)
from faceedit.stage.cut_fields import cut_fields
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.outline import smooth_outline
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import (
    MIN_JACOBIAN,
    backward_field,
    face_grid,
    jacobian_det,
    region_outline,
    warp_photo,
)


def astronaut_lm() -> np.ndarray:
    return np.asarray(astronaut_face().landmarks, np.float64)


# A frontal face in eye-distance units: eyes at (-0.5, 0) and (0.5, 0), mouth closed at y = 0.95.
_HALF = {  # the left half and the midline; the right half mirrors it
    **{k: (-0.95 * np.cos(np.pi * k / 16), 0.1 + 1.15 * np.sin(np.pi * k / 16)) for k in range(9)},
    17: (-0.75, -0.3), 18: (-0.6, -0.38), 19: (-0.45, -0.4), 20: (-0.3, -0.38), 21: (-0.15, -0.33),
    27: (0, 0.05), 28: (0, 0.2), 29: (0, 0.35), 30: (0, 0.5), 31: (-0.18, 0.6), 32: (-0.09, 0.62),
    33: (0, 0.63), 36: (-0.68, 0), 37: (-0.56, -0.07), 38: (-0.44, -0.07), 39: (-0.32, 0),
    40: (-0.44, 0.06), 41: (-0.56, 0.06), 48: (-0.4, 0.95), 49: (-0.26, 0.87), 50: (-0.1, 0.84),
    51: (0, 0.86), 57: (0, 1.12), 58: (-0.12, 1.1), 59: (-0.26, 1.06), 60: (-0.33, 0.95),
    61: (-0.12, 0.95), 62: (0, 0.955), 66: (0, 0.955), 67: (-0.12, 0.95),
}
_MIRROR = {16 - k: k for k in range(8)} | {26 - k: 17 + k for k in range(5)} | {
    34: 32, 35: 31, 45: 36, 44: 37, 43: 38, 42: 39, 47: 40, 46: 41, 54: 48, 53: 49, 52: 50,
    55: 59, 56: 58, 64: 60, 63: 61, 65: 67}


def synthetic_lm(iod: float = 120.0, centre=(256.0, 190.0)) -> np.ndarray:
    """(68, 2) landmarks of a frontal face with a closed mouth, in photo pixels."""
    unit = np.zeros((68, 2))
    for k, v in _HALF.items():
        unit[k] = v
    for k, m in _MIRROR.items():
        unit[k] = (-unit[m][0], unit[m][1])
    return unit * iod + np.asarray(centre)


def synthetic_photo(lm: np.ndarray, size: int = 512, dtype=np.uint8, teeth=False) -> np.ndarray:
    """A textured photo for ``lm``: skin with a fine random texture, the upper lip in vertical
    stripes, the lower lip in horizontal ones; with ``teeth`` the inner-lip polygon white."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    img = np.dstack([180 + 20 * np.sin(x / 40.0), 140 + 15 * np.cos(y / 50.0), 120 + 0 * x]).astype(np.float64)
    img += rng.normal(0, 6, img.shape)
    up_poly = np.vstack([lm[48:55], lm[[64, 63, 62, 61, 60]]])
    low_poly = np.vstack([lm[[54, 55, 56, 57, 58, 59, 48]], lm[[60, 67, 66, 65, 64]]])
    m_up = np.zeros((size, size), np.uint8)
    m_low = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m_up, [np.round(up_poly * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    cv2.fillPoly(m_low, [np.round(low_poly * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    stripes_up = np.dstack([190 + 50 * np.sin(x / 2.3), 60 + 0 * x, 80 + 30 * np.sin(x / 3.1)])
    stripes_low = np.dstack([150 + 60 * np.sin(y / 1.9), 50 + 0 * x, 120 + 40 * np.cos(y / 2.7)])
    img = np.where(m_up[..., None] > 0, stripes_up, img)
    img = np.where(m_low[..., None] > 0, stripes_low, img)
    if teeth:
        up, low = lip_curves(lm)
        cov = polygon_coverage(opening_polygon(up, low), (0, 0, size, size))
        img = np.where(cov[..., None] > 0, 245.0, img)
    img = np.clip(img, 0, 255)
    if dtype == np.uint16:
        return np.round(img * 257).astype(np.uint16)
    return np.round(img).astype(np.uint8)


def _down(lm):
    v = lm[CHIN] - eye_centres(lm).mean(0)
    return v / np.linalg.norm(v)


def jaw_drop(lm: np.ndarray, amount: float) -> np.ndarray:
    """The lower lips and the jaw moved down by ``amount`` eye distances (the jaw tapered)."""
    lm = np.array(lm, np.float64)
    d = _down(lm) * amount * eye_distance(lm)
    lm[[55, 56, 57, 58, 59, 65, 66, 67]] += d
    for i, t in zip(range(3, 14), [.15, .35, .6, .85, 1, 1, 1, .85, .6, .35, .15]):
        lm[i] += t * d
    return lm


def part_lips(lm: np.ndarray, amount: float) -> np.ndarray:
    """Upper lips up and lower lips (with the jaw) down, ``amount`` eye distances apart."""
    lm = np.array(lm, np.float64)
    up = -_down(lm) * 0.15 * amount * eye_distance(lm)
    lm[[49, 50, 51, 52, 53, 61, 62, 63]] += up
    return jaw_drop(lm, 0.85 * amount)


def wide_smile(lm: np.ndarray, amount: float) -> np.ndarray:
    """Mouth corners out and up by ``amount`` eye distances, the lips parted a little."""
    lm = np.array(lm, np.float64)
    iod = eye_distance(lm)
    right = eye_centres(lm)[1] - eye_centres(lm)[0]
    right /= np.linalg.norm(right)
    up = -_down(lm)
    for i, s in [(48, -1), (60, -1), (49, -0.6), (59, -0.6), (54, 1), (64, 1), (53, 0.6), (55, 0.6)]:
        lm[i] += (s * right + abs(s) * 0.6 * up) * amount * iod
    lm[[65, 66, 67, 55, 56, 57, 58, 59]] += -up * 0.15 * amount * iod
    return lm


def close_mouth(lm: np.ndarray) -> np.ndarray:
    """The inner lips meet, a quarter of the gap down from the upper one (the jaw closes the
    rest); the outer lips and the jaw follow their inner lips."""
    lm = np.array(lm, np.float64)
    up, lo = [61, 62, 63], [67, 66, 65]
    gap = lm[lo] - lm[up]
    meet = lm[up] + 0.25 * gap
    lm[up], lm[lo] = meet, meet
    taper = np.array([0.5, 0.9, 1.0, 0.9, 0.5])[:, None]
    lm[[49, 50, 51, 52, 53]] += taper * 0.25 * gap[1]
    lm[[59, 58, 57, 56, 55]] -= taper * 0.75 * gap[1]
    for i, t in zip(range(3, 14), [.15, .35, .6, .85, 1, 1, 1, .85, .6, .35, .15]):
        lm[i] -= t * 0.75 * gap[1]
    return lm


def _region_mask(lm, shape, grow):
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(region_outline(lm, grow=grow)).astype(np.int32)], 1)
    return m.astype(bool)


def _poly_mask(poly, shape):
    return polygon_coverage(poly, (0, 0, shape[1], shape[0])) > 0.5


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rgb8", "rgb16", "grey8", "grey16"])
def test_zero_move_is_identity_bit_exact(kind):
    lm = synthetic_lm()
    img = synthetic_photo(lm, dtype=np.uint16 if kind.endswith("16") else np.uint8, teeth=True)
    if kind.startswith("grey"):
        img = np.ascontiguousarray(img[..., 1])
    r = cut_warp(img, lm, lm)
    assert r.pixels is not img and r.pixels.dtype == img.dtype and np.array_equal(r.pixels, img)
    assert r.scale == 1.0 and r.opening.max() == 0 and r.interior.max() == 0


def test_astronaut_zero_move_bit_exact_and_moves_change_only_the_face_region():
    img, lm = astronaut(), astronaut_lm()
    assert np.array_equal(cut_warp(img, lm, lm.copy()).pixels, img)
    for dst in (part_lips(lm, 0.25), close_mouth(part_lips(lm, 0.2)), wide_smile(lm, 0.15)):
        r = cut_warp(img, lm, dst)
        changed = np.abs(r.pixels.astype(int) - img).sum(-1) > 0
        assert changed.sum() > 1000
        # nothing changes beyond the face region (the move falls to exactly zero there)
        outside = ~_region_mask(lm, img.shape, WarpTuning.region_outer + 0.05)
        assert np.array_equal(r.pixels[outside], img[outside])
        x0, y0, x1, y1 = r.roi
        beyond = np.ones(img.shape[:2], bool)
        beyond[y0:y1, x0:x1] = False
        assert np.array_equal(r.pixels[beyond], img[beyond])


def test_face_cut_by_the_photo_border():
    """A face whose region runs off the photo: the warp stays inside the photo."""
    img, lm = astronaut(), astronaut_lm()
    x_cut = int(lm[:, 0].min()) + 10  # the photo starts inside the jaw line
    part = np.ascontiguousarray(img[:, x_cut:])
    shifted = lm - (x_cut, 0)
    r = cut_warp(part, shifted, part_lips(shifted, 0.25))
    assert r.pixels.shape == part.shape and r.roi[0] == 0 and r.opening.sum() > 100
    outside = ~_region_mask(shifted, part.shape, WarpTuning.region_outer + 0.05)
    assert np.array_equal(r.pixels[outside], part[outside])


def _check_fold_free(src, dst, min_scale):
    grid = slid_grid(src, dst)  # (cut_warp's: the face's, as far farther down as the jaw drops)
    f = cut_fields(src, dst, grid)
    assert f.scale >= min_scale
    geo = f.cuts[0]
    # each side's field where it is used: its own side, and wherever the two agree
    same = (np.abs(f.up - f.low) <= 0.01).all(-1)
    used_up = geo.up_nodes | same
    used_low = (~geo.up_nodes & ~geo.open_nodes) | same
    assert used_up.sum() > 0.8 * used_up.size and used_low.sum() > 0.8 * used_low.size
    assert jacobian_det(f.up, grid.step)[used_up].min() >= MIN_JACOBIAN
    assert jacobian_det(f.low, grid.step)[used_low].min() >= MIN_JACOBIAN
    if f.interior["mouth"] is not None and geo.open_nodes.any():
        assert jacobian_det(f.interior["mouth"], grid.step)[geo.open_nodes].min() >= MIN_JACOBIAN
    np.testing.assert_allclose(f.landmarks, src + f.scale * (dst - src))
    return f


@pytest.mark.parametrize("face", ["astronaut", "synthetic"])
@pytest.mark.parametrize("move", ["jaw_drop", "wide_smile", "close_wide_open"])
def test_fold_free_at_extreme_moves(face, move):
    lm = astronaut_lm() if face == "astronaut" else synthetic_lm()
    if move == "jaw_drop":
        src, dst = lm, jaw_drop(lm, 0.6)
    elif move == "wide_smile":
        src, dst = lm, wide_smile(lm, 0.25)
    else:
        src, dst = part_lips(lm, 0.6), lm
    # a reduced move is allowed but these are all reachable to a large part
    f = _check_fold_free(src, dst, 0.6)
    img = astronaut() if face == "astronaut" else synthetic_photo(lm)
    r = cut_warp(img, src, dst)
    assert r.scale == f.scale and np.isfinite(r.pixels).all()


def test_side_switches_only_where_both_sides_agree():
    """The upper/lower side label changes, away from the cut, only along the boundary of the
    upper-side polygon; there the cut's side weight times its zone must be exactly zero (the
    two fields equal), or the map would tear beyond the mouth corners."""
    for lm in (astronaut_lm(), synthetic_lm()):
        for dst in (lm, jaw_drop(lm, 0.6), wide_smile(lm, 0.25), part_lips(lm, 0.4)):
            up, low = lip_curves(dst)
            side = upper_side_polygon(up, low, -_down(dst))
            chord = np.linalg.norm(up[-1] - up[0])
            rest = np.vstack([side[len(up) - 1:], side[:1]])  # corner B, out, around, back to A
            t = np.linspace(0.0, 1.0, 400)[1:-1, None]
            for a, b in zip(rest[:-1], rest[1:]):
                pts = a + t * (b - a)
                pts = pts[np.linalg.norm(pts - up[0], axis=1) > 0.01 * chord]
                pts = pts[np.linalg.norm(pts - up[-1], axis=1) > 0.01 * chord]
                assert (side_weight(up, low, pts) * zone_weight(up, low, pts)).max() == 0
            # and the whole region above and below the lips is its own side's alone
            mid_up, mid_low = (up[16] - 0.3 * chord * _down(dst)), (low[16] + 0.3 * chord * _down(dst))
            assert side_weight(up, low, np.stack([mid_up, mid_low])).min() == 1.0


def test_opening_covers_the_destination_gap_and_is_zero_when_closed():
    lm = synthetic_lm()
    img = synthetic_photo(lm)
    dst = part_lips(lm, 0.25)
    r = cut_warp(img, lm, dst)
    assert r.scale == 1.0
    up, low = smooth_outline(*round_opening(*lip_curves(dst)))  # the destination's curves, corners rounded
    np.testing.assert_allclose(r.upper, up)
    np.testing.assert_allclose(r.lower, low)
    x0, y0, x1, y1 = r.roi
    gap = polygon_coverage(opening_polygon(up, low), r.roi)
    assert gap.sum() > 1000
    # a closed source has no interior: the whole gap is a hole, with a soft (<= 2 px) edge
    assert r.interior.max() == 0
    np.testing.assert_allclose(r.opening.sum(), gap.sum(), rtol=1e-3)
    assert (r.opening[gap == 1] == 1).all() and (r.opening[gap == 0] == 0).all()
    # the curves the result reports are the destination's, corner to corner
    np.testing.assert_allclose(r.upper[[0, -1]], dst[[60, 64]])
    np.testing.assert_allclose(r.lower[[0, -1]], dst[[60, 64]])
    assert len(r.upper) == len(r.lower) >= 30
    # the hole is painted with a smooth fill of the lip colours, not a stretched strip of lip
    # (the lips' stripes change by tens of levels from row to row)
    roi_px = r.pixels[y0:y1, x0:x1].astype(float)
    both = (r.opening[1:] == 1) & (r.opening[:-1] == 1)
    assert both.sum() > 500
    assert np.abs(roi_px[1:] - roi_px[:-1])[both].mean() < 5.0
    # a closed destination opens nothing
    moved = lm.copy()
    moved[48:68, 1] += 4
    r2 = cut_warp(img, lm, moved)
    assert r2.opening.max() == 0 and r2.interior.max() == 0


def test_lips_keep_their_own_texture_when_parted():
    """The upper lip moves with the upper inner lip, the lower with the lower: each lip is its
    source texture, moved; neither is stretched over the gap."""
    lm = synthetic_lm()
    img = synthetic_photo(lm)
    dst = lm.copy()
    shift = 0.12 * eye_distance(lm)
    dst[[55, 56, 57, 58, 59, 65, 66, 67], 1] += shift  # the lower lip moves down as a whole
    r = cut_warp(img, lm, dst)
    assert r.scale == 1.0
    low_poly = np.vstack([lm[[55, 56, 57, 58, 59]], lm[[67, 66, 65]]])
    src_low = cv2.erode(_poly_mask(low_poly, img.shape).astype(np.uint8), np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(src_low)
    keep = np.abs(xs - lm[57, 0]) < 0.25 * (lm[55, 0] - lm[59, 0])  # the middle, moved as a whole
    ys, xs = ys[keep], xs[keep]
    # a vertical shift of a horizontally striped texture: compare against the shifted source,
    # and against the one-field warp (no cut), which stretches the lower lip over the gap
    err = np.abs(r.pixels[np.round(ys + shift).astype(int), xs].astype(float) - img[ys, xs]).mean()
    grid = face_grid(lm)
    plain = warp_photo(img, grid, backward_field(lm, dst, grid)[0])
    err_plain = np.abs(plain[np.round(ys + shift).astype(int), xs].astype(float) - img[ys, xs]).mean()
    assert err < 20 and err < 0.5 * err_plain, (err, err_plain)
    up_poly = np.vstack([lm[49:54], lm[[63, 62, 61]]])
    src_up = _poly_mask(up_poly, img.shape)
    assert np.abs(r.pixels[src_up].astype(float) - img[src_up]).mean() < 3


@pytest.mark.parametrize("face", ["astronaut", "synthetic"])
def test_open_then_close_returns_the_lips(face):
    lm = astronaut_lm() if face == "astronaut" else synthetic_lm()
    img = astronaut() if face == "astronaut" else synthetic_photo(lm)
    opened = part_lips(lm, 0.25)
    r1 = cut_warp(img, lm, opened)
    r2 = cut_warp(r1.pixels, r1.landmarks, lm)
    assert r1.scale == 1.0 and r2.scale == 1.0
    up_poly = np.vstack([lm[48:55], lm[[64, 63, 62, 61, 60]]])
    up = _poly_mask(up_poly, img.shape)
    up &= ~cv2.dilate(_lip_line(lm, img.shape), np.ones((5, 5), np.uint8)).astype(bool)
    back = np.abs(r2.pixels[up].astype(float) - img[up]).mean()
    there = np.abs(r1.pixels[up].astype(float) - img[up]).mean()
    # back to (close to) the original, far closer than the open mouth was
    assert back < 0.35 * there, (back, there)
    assert back < (6 if face == "astronaut" else 12)


def _lip_line(lm, shape):
    m = np.zeros(shape[:2], np.uint8)
    up, _ = lip_curves(lm)
    cv2.polylines(m, [np.round(up).astype(np.int32)], False, 1, 1)
    return m


@pytest.mark.parametrize("face", ["astronaut", "synthetic"])
def test_closing_samples_no_source_interior(face):
    lm = astronaut_lm() if face == "astronaut" else synthetic_lm()
    src = part_lips(lm, 0.3)
    img = (astronaut() if face == "astronaut" else synthetic_photo(lm)).copy()
    # the open source: warp the photo open, then plant a colour in its whole mouth polygon
    img = cut_warp(img, lm, src).pixels
    up, low = lip_curves(src)
    cov = polygon_coverage(opening_polygon(up, low), (0, 0, img.shape[1], img.shape[0]))
    assert (cov > 0).sum() > 300
    img[cov > 0] = (0, 255, 0)
    for dst in (close_mouth(src), close_mouth(jaw_drop(src, -0.1))):
        r = cut_warp(img, src, dst)
        assert r.opening.max() == 0 and r.interior.max() == 0
        g = r.pixels.astype(int)
        greenish = (g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 60
        assert greenish.sum() == 0
    # half-closed: the planted interior is what shows in the remaining gap, carried along
    half = src.copy()
    half[[65, 66, 67, 55, 56, 57, 58, 59]] -= 0.5 * (src - lm)[[65, 66, 67, 55, 56, 57, 58, 59]]
    r = cut_warp(img, src, half)
    assert r.interior.sum() > 200
    x0, y0, x1, y1 = r.roi
    shown = r.pixels[y0:y1, x0:x1][r.interior > 0.99].astype(int)
    assert (shown[:, 1] > 200).mean() > 0.9


def _parted_with_teeth() -> tuple[np.ndarray, np.ndarray]:
    """(landmarks, photo) of a mouth parted 0.15 eye distances with white teeth between the lips."""
    lm = part_lips(synthetic_lm(), 0.15)
    img = cut_warp(synthetic_photo(synthetic_lm()), synthetic_lm(), lm).pixels
    cov = polygon_coverage(opening_polygon(*lip_curves(lm)), (0, 0, 512, 512))
    img[cov > 0] = 245
    return lm, img


def test_source_interior_moves_with_the_upper_lip():
    """A mouth showing teeth, opened further by a jaw drop: the teeth stay under the upper lip
    (interior at the top of the new opening) and the rest of the opening is a hole."""
    lm, img = _parted_with_teeth()
    dst = jaw_drop(lm, 0.25)
    r = cut_warp(img, lm, dst)
    assert r.scale == 1.0
    x0, y0, x1, y1 = r.roi
    d_up, d_low = smooth_outline(*round_opening(*lip_curves(dst), *lip_curves(lm)))
    col = int(round(d_up[16, 0])) - x0
    top, bottom = int(np.ceil(d_up[16, 1])) - y0, int(np.floor(d_low[16, 1])) - y0
    column_int, column_open = r.interior[top:bottom, col], r.opening[top:bottom, col]
    # teeth first (as tall as in the source, carried with the upper lip), then the hole
    src_gap = np.linalg.norm(lm[66] - lm[62])
    n_int = (column_int > 0.5).sum()
    assert abs(n_int - src_gap) <= 3, (n_int, src_gap)
    assert column_int[1:n_int - 1].min() > 0.5 and column_open[n_int + 2:].min() > 0.5
    teeth = r.pixels[y0:y1, x0:x1][r.interior > 0.99]
    assert len(teeth) > 300 and (teeth >= 230).mean() > 0.95
    np.testing.assert_allclose(r.interior + r.opening,
                               polygon_coverage(opening_polygon(d_up, d_low), r.roi), atol=1e-5)


def test_teeth_rise_under_the_upper_lip():
    """``teeth_rise``: the carried teeth are shown that share of the source opening's height
    higher (their top under the upper lip), so fewer rows of them show in the new opening and
    the rest of it is hole; at 0 it is the rigid carry."""
    lm, img = _parted_with_teeth()
    dst = jaw_drop(lm, 0.25)
    src_gap = np.linalg.norm(lm[66] - lm[62])
    shown = []
    for rise in (0.0, 0.5):
        r = cut_warp(img, lm, dst, teeth_rise=rise)
        x0, _, _, _ = r.roi
        d_up, _ = smooth_outline(*round_opening(*lip_curves(dst), *lip_curves(lm)))
        shown.append((r.interior[:, int(round(d_up[16, 0])) - x0] > 0.5).sum())
        np.testing.assert_allclose(r.interior + r.opening,
                                   polygon_coverage(opening_polygon(*smooth_outline(*round_opening(*lip_curves(dst), *lip_curves(lm)))),
                                                    r.roi), atol=1e-5)
    assert abs(shown[0] - src_gap) <= 3
    assert abs(shown[1] - 0.5 * src_gap) <= 3, (shown, src_gap)


def test_only_the_interior_above_carry_lower_is_carried():
    """``carry_lower`` (the upper teeth's lower edge in the source opening): what lies below it
    (lower teeth, lower lip) is not carried with the upper lip but left as hole."""
    lm, img = _parted_with_teeth()
    dst = jaw_drop(lm, 0.25)
    up, low = lip_curves(lm)
    src_gap = np.linalg.norm(lm[66] - lm[62])
    shown = []
    for carry in (None, up + 0.5 * (low - up)):
        r = cut_warp(img, lm, dst, lips=(up, low), carry_lower=carry)
        x0, _, _, _ = r.roi
        d_up, _ = smooth_outline(*round_opening(*lip_curves(dst), *lip_curves(lm)))
        shown.append((r.interior[:, int(round(d_up[16, 0])) - x0] > 0.5).sum())
    assert abs(shown[0] - src_gap) <= 3
    assert abs(shown[1] - 0.5 * src_gap) <= 3, (shown, src_gap)


def test_follow_curves_move_with_their_own_lip_as_the_gap_grows_and_meet_as_it_closes():
    """Given curves 2 px beyond the reference lips (a smile's lip edges outside the 68 points on
    its teeth). As the gap grows 3x each keeps its 2 px from its own lip, and so does a sample
    between the lips (a dip of a found upper lip edge: it stays a dip, not a notch the size of
    the opening). Across a thin gap (1.5 px, a closed smile's) a loop 3 px away stays 3 px
    away as the mouth opens (scaled with the opening it was thrown 40 px: fangs). Where the gap
    closes, the curves meet, a sample beyond a lip included."""
    x = np.linspace(0.0, 60.0, 7)
    ref_up, ref_low = np.stack([x, np.full(7, 100.0)], 1), np.stack([x, np.full(7, 110.0)], 1)
    up, low = ref_up - [0.0, 2.0], ref_low + [0.0, 2.0]
    wide_up, wide_low = ref_up - [0.0, 10.0], ref_low + [0.0, 10.0]  # gap 10 -> 30
    u, lo = follow_curves(up, low, ref_up, ref_low, wide_up, wide_low)
    np.testing.assert_allclose(lo[:, 1] - wide_low[:, 1], 2.0, atol=1e-9)
    np.testing.assert_allclose(wide_up[:, 1] - u[:, 1], 2.0, atol=1e-9)
    dip = ref_up + [0.0, 4.0]  # the upper curve 4 px into the gap
    d, _ = follow_curves(dip, low, ref_up, ref_low, wide_up, wide_low)
    np.testing.assert_allclose(d[:, 1] - wide_up[:, 1], 4.0, atol=1e-9)
    thin_low = ref_up + [0.0, 1.5]
    wide = thin_low + [0.0, 40.0]
    u, lo = follow_curves(ref_up - [0.0, 3.0], thin_low + [0.0, 3.0], ref_up, thin_low, ref_up, wide)
    np.testing.assert_allclose(lo[:, 1] - wide[:, 1], 3.0, atol=1e-9)
    np.testing.assert_allclose(u[:, 1], ref_up[:, 1] - 3.0, atol=1e-9)
    shut = (ref_up + ref_low) / 2
    u, lo = follow_curves(up, low, ref_up, ref_low, shut, shut)
    np.testing.assert_allclose(u, lo, atol=1e-9)
    m, _ = follow_curves((ref_up + ref_low) / 2, low, ref_up, ref_low, shut, shut)
    np.testing.assert_allclose(m, shut, atol=1e-9)


def test_curves_leaving_a_corner_outwards_keep_the_upper_side_off_the_opening():
    """Inner-lip curves found from colour can leave a corner outwards (both bending away from
    the other corner). The ray out of that corner still points out of the mouth, so the upper
    side's polygon ends at the upper curve and does not also cover the opening (its bisector
    pointed in, and the opening's top, counted twice, came out up to twice as bright)."""
    lm, img = _parted_with_teeth()
    up, low = (c.copy() for c in lip_curves(jaw_drop(lm, 0.25)))
    a, b = up[0].copy(), up[-1].copy()
    w = float(np.linalg.norm(b - a))
    for c, sign in ((up, -1), (low, 1)):  # the first samples out past the left corner
        c[1] = a + np.array([-0.03 * w, sign * 0.04 * w])
        c[2] = a + np.array([-0.01 * w, sign * 0.08 * w])
    assert corner_rays(up, low)[0] @ (a - b) > 0
    box = (0, 0, 512, 512)
    side = polygon_coverage(upper_side_polygon(up, low, np.array([0.0, -1.0])), box)
    hole = polygon_coverage(opening_polygon(up, low), box)
    assert hole.sum() > 1000 and (side + hole).max() <= 1.0 + 1e-5
    r = cut_warp(img, lm, jaw_drop(lm, 0.25), lips=lip_curves(lm))
    assert r.scale == 1.0  # (the warp itself: the other tests)


@pytest.mark.parametrize("kind", ["rgb16", "grey8"])
def test_uint16_and_grey_match_rgb8(kind):
    lm = synthetic_lm()
    img8 = synthetic_photo(lm)
    dst = part_lips(lm, 0.2)
    ref = cut_warp(img8, lm, dst).pixels
    if kind == "rgb16":
        img = synthetic_photo(lm, dtype=np.uint16)
        out = cut_warp(img, lm, dst)
        assert out.pixels.dtype == np.uint16 and out.pixels.shape == img.shape
        assert np.abs(out.pixels / 257.0 - ref).max() <= 2.0
    else:
        img = np.ascontiguousarray(img8[..., 1])
        out = cut_warp(img, lm, dst)
        assert out.pixels.dtype == np.uint8 and out.pixels.shape == img.shape
        assert np.abs(out.pixels.astype(int) - ref[..., 1]).max() <= 1


def test_rejects_other_pixel_types():
    lm = synthetic_lm()
    with pytest.raises(ValueError):
        cut_warp(np.zeros((64, 64, 3), np.float32), lm, lm)


def _blink(lm: np.ndarray, t: float = 1.0) -> np.ndarray:
    """The upper lids come down to meet the lower ones three quarters of the way (t = 1)."""
    lm = np.array(lm, np.float64)
    for up, lo in (([37, 38], [41, 40]), ([43, 44], [47, 46])):
        meet = lm[up] + 0.75 * (lm[lo] - lm[up])
        lm[up], lm[lo] = lm[up] + t * (meet - lm[up]), lm[lo] + t * (meet - lm[lo])
    return lm


def test_eyelids_as_cuts_close_the_eyes_without_the_eye_interior():
    from faceedit.stage.cut_curves import LEFT_EYE, RIGHT_EYE, cut_curves

    lm = synthetic_lm()
    img = synthetic_photo(lm)
    for cut in (LEFT_EYE, RIGHT_EYE):
        up, low = cut_curves(lm, cut)
        cov = polygon_coverage(opening_polygon(up, low), (0, 0, 512, 512))
        img[cov > 0] = (0, 255, 0)
    dst = _blink(lm)
    r = cut_warp(img, lm, dst, eyelids=True)
    assert r.scale == 1.0 and r.eye_opening.max() == 0
    g = r.pixels.astype(int)
    assert ((g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 60).sum() == 0
    # without the lids as cuts the meeting lids cannot be reached: the eyes stay partly open
    plain = cut_warp(img, lm, dst).pixels.astype(int)
    assert ((plain[..., 1] - np.maximum(plain[..., 0], plain[..., 2])) > 60).sum() > 100
    # half a blink: the eye shows, carried with the face, and (but for anti-aliased edge
    # pixels) nothing is a hole
    half_lm = _blink(lm, 0.5)
    half = cut_warp(img, lm, half_lm, eyelids=True)
    area = sum(polygon_coverage(opening_polygon(*cut_curves(half_lm, c)), half.roi).sum()
               for c in (LEFT_EYE, RIGHT_EYE))
    assert half.eye_opening.max() < 0.5 and half.eye_opening.sum() < 0.05 * area
    g = half.pixels.astype(int)
    assert ((g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 60).sum() > 100
    # the mouth alone: the eyes' cuts change nothing there
    mouth = part_lips(lm, 0.2)
    a, b = cut_warp(img, lm, mouth, eyelids=True), cut_warp(img, lm, mouth)
    np.testing.assert_array_equal(a.opening, b.opening)
    assert _check_fold_free(lm, jaw_drop(lm, 0.3), 1.0) is not None


def test_given_lip_curves():
    """Cutting along caller-given source curves (a face mesh's inner-lip loop): the 68-point
    curves themselves give the same warp; wider curves are followed (lips that meet in the move
    meet along them, and nothing inside them shows)."""
    lm = synthetic_lm()
    src = part_lips(lm, 0.3)
    img = cut_warp(synthetic_photo(lm), lm, src).pixels
    up, low = lip_curves(src)
    dst = close_mouth(src)
    same = cut_warp(img, src, dst, lips=(up, low))
    assert np.abs(same.pixels.astype(int) - cut_warp(img, src, dst).pixels).max() <= 1
    # wider curves: 3 px further into each lip, given right corner first with 11 points each
    c = (up + low) / 2
    wide_up = resample_by_length(up + 3.0 * _unit_rows(up - c), 11)[::-1]
    wide_low = resample_by_length(low + 3.0 * _unit_rows(low - c), 11)[::-1]
    wide_up[[0, -1]], wide_low[[0, -1]] = up[[-1, 0]], up[[-1, 0]]
    # (the polygon the warp cuts along: the given curves at the 68-point curves' samples)
    cov = polygon_coverage(opening_polygon(*given_curves(wide_up, wide_low, up, low)), (0, 0, 512, 512))
    planted = img.copy()
    planted[cov > 0] = (0, 255, 0)
    r = cut_warp(planted, src, dst, lips=(wide_up, wide_low))
    assert r.opening.sum() < 1.0 and r.interior.sum() < 1.0
    np.testing.assert_allclose(r.upper[[0, -1]], dst[[60, 64]], atol=1e-6)
    g = r.pixels.astype(int)
    assert ((g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 60).sum() == 0
    # and opening a closed mouth along given curves opens the gap between them
    opened = cut_warp(synthetic_photo(lm), lm, part_lips(lm, 0.25), lips=lip_curves(lm))
    assert opened.opening.sum() > 1000


def _unit_rows(v):
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return np.where(n > 1e-9, v / np.maximum(n, 1e-9), 0.0)


def test_closed_mouth_carries_no_crease_into_the_opening():
    """A closed mouth's inner-lip loop (a face mesh's) encloses only the crease between the
    lips. Opening it must not stretch that crease across the new opening as a line of lip
    colour: with ``mouth_interior=False`` none of it is carried and all of the opening is hole;
    by default (a mouth that shows its interior) it is carried with the upper lip."""
    lm = synthetic_lm()
    up, low = lip_curves(lm)
    c = (up + low) / 2
    loop_up = up + 2.0 * _unit_rows(up - c) + np.array([0.0, -1.5])  # a thin loop around the crease
    loop_low = low + 2.0 * _unit_rows(low - c) + np.array([0.0, 1.5])
    loop_up[[0, -1]] = loop_low[[0, -1]] = up[[0, -1]]
    cov = polygon_coverage(opening_polygon(*given_curves(loop_up, loop_low, up, low)), (0, 0, 512, 512))
    planted = synthetic_photo(lm)
    planted[cov > 0.5] = (0, 255, 0)
    opened = part_lips(lm, 0.3)

    def green(px):
        g = px.astype(int)
        return int(((g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 60).sum())

    carried = cut_warp(planted, lm, opened, lips=(loop_up, loop_low))
    assert carried.interior.sum() > 20 and green(carried.pixels) > 20
    closed = cut_warp(planted, lm, opened, lips=(loop_up, loop_low), mouth_interior=False)
    assert closed.interior.sum() == 0
    assert closed.opening.sum() > carried.opening.sum()
    assert green(closed.pixels) == 0


def test_a_tall_opening_gets_round_corners_a_smile_keeps_its_crescent():
    """Curves through a handful of landmarks meet at the corners in straight-sided wedges: a
    tall new opening (surprise) is rounded towards an ellipse through the same corners and the
    same largest gap; a smile's thin crescent keeps its pointed corners; corners never move."""
    u = np.linspace(0.0, 1.0, 33)
    tent = 1.0 - np.abs(2 * u - 1)  # a wedge at both corners
    x = 100 + 200 * u
    for height, rounded in ((90.0, True), (20.0, False)):  # aspect 0.45 and 0.1
        up, low = np.c_[x, 200 - height / 2 * tent], np.c_[x, 200 + height / 2 * tent]
        ru, rl = round_opening(up, low)
        np.testing.assert_allclose(ru[[0, -1]], up[[0, -1]])
        np.testing.assert_allclose(rl[[0, -1]], low[[0, -1]])
        gap, new_gap = low[:, 1] - up[:, 1], rl[:, 1] - ru[:, 1]
        assert (new_gap >= gap - 1e-9).all() and new_gap.max() == pytest.approx(gap.max())
        if rounded:  # near a corner as wide as an ellipse there
            assert new_gap[2] == pytest.approx(height * np.sqrt(1 - (2 * u[2] - 1) ** 2))
        else:
            np.testing.assert_allclose(new_gap, gap)
        # a mouth the photo already shows open (a person talking) keeps its own shape
        same = round_opening(up, low, up, low)
        np.testing.assert_allclose(same[0], up)
        np.testing.assert_allclose(same[1], low)
