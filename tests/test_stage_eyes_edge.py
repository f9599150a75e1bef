"""An opened eye's kept iris has the photo's own edge (faceedit.stage.eyes): as soft as the
photo's focus shows the iris's edge, the white drawn over the source's dark limbal ring, the
white shaded along the eye as the photo's own white is."""

from __future__ import annotations

import cv2
import numpy as np
from test_models_eyes import IRIS, _eye_face

from faceedit.pixels import luma
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.eyes import LM_EYES, _white_along, _white_fill, eye_polygon, find_iris, keep_irises
from faceedit.stage.iris_rings import iris_edge
from faceedit.stage.tuning import EyesTuning


def _profile(img: np.ndarray, c: np.ndarray, r: float, angle: float, rs: np.ndarray) -> np.ndarray:
    """Luma of ``img`` (uint8 RGB) at radii ``rs`` (radii of ``r``) from ``c`` along ``angle`` (deg)."""
    d = np.array([np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))])
    pts = (c + (rs * r)[:, None] * d).astype(np.float32)
    return cv2.remap(luma(img.astype(np.float32) / 255), pts[:, 0], pts[:, 1], cv2.INTER_LINEAR)[:, 0]


def _rise(prof: np.ndarray, rs: np.ndarray) -> float:
    """The 10-90 % rise's width (radii) of a profile from its first value to its largest."""
    lo, hi = float(prof[0]), float(prof.max())
    f = (prof - lo) / max(hi - lo, 1e-6)
    i10 = int(np.argmax(f >= 0.1))
    return float(rs[i10 + int(np.argmax(f[i10:] >= 0.9))] - rs[i10])


def _kept(img: np.ndarray, lm: np.ndarray, moved: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """The photo warped to ``moved`` with its opened eyes' irises kept."""
    r = cut_warp(img, lm, moved)
    return keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)


def _irises(img: np.ndarray, lm: np.ndarray, moved: np.ndarray, mesh: np.ndarray) -> list:
    """Per eye, the iris found on the photo (centre, radius) and its centre moved with the eye's corners."""
    t = EyesTuning()
    out = []
    for k, e in enumerate(LM_EYES):
        found = find_iris(img.astype(np.float32) / 255, eye_polygon(mesh, k, t.lower_lid_raise), t)
        assert found is not None
        corners = [e[0], e[3]]
        out.append((found[0], found[1], found[0] + (moved[corners] - lm[corners]).mean(0)))
    return out


def test_the_kept_iris_edge_is_as_soft_as_the_photos():
    """A photo out of focus (blurred by 2 px): its iris edge rises over about 0.4 radii; the
    kept iris's edge where the lids' travel stretched it (up and out) rises over most of that
    (measured 0.94-1.0 of it), not over a pixel or two (a cut-out disc over the warp's stretched
    edge: 0.4-0.67 of it)."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    kept = _kept(img, lm, moved, mesh)
    rs = np.linspace(0.6, 1.25, 27)
    for c, rad, cd in _irises(img, lm, moved, mesh):
        source = _rise(_profile(img, c, rad, 0.0, rs), rs)  # across the eye: no lid, no stretch
        assert source > 0.3
        for angle in (-50.0, -130.0):
            width = _rise(_profile(kept, cd, rad, angle, rs), rs)
            assert width > 0.8 * source, (angle, width, source)


def test_the_kept_iris_carries_the_photos_limbal_ring_where_the_photo_shows_it():
    """An iris with a dark limbal ring (its outer 0.18 radii) in a photo a little out of focus (1.2
    px): across the eye, where the photo shows the iris's edge, the kept iris's edge is the photo's
    own, the dark ring and its rise into the white (luma within 0.05 on average from 0.8 to 1.2
    radii; measured 0.012). A disc edged at the limbus's circle with the edge's blur whitened the
    ring from inside, a pale ring round a smaller iris: 0.15."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)
    iris = np.array((70, 90, 110))
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
    for e in LM_EYES:
        pts = lm[list(e)]
        centre = (pts[1] + pts[2] + pts[4] + pts[5]) / 4
        d = np.hypot(xx - centre[0], yy - centre[1])
        ring = (d > 0.82 * IRIS * np.linalg.norm(pts[3] - pts[0])) & (np.abs(img.astype(int) - iris).sum(-1) == 0)
        img[ring] = (40, 50, 62)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    kept = _kept(img, lm, moved, mesh)
    rs = np.linspace(0.8, 1.2, 17)
    across = (-15.0, 0.0, 15.0, 165.0, 180.0, 195.0)
    for c, rad, cd in _irises(img, lm, moved, mesh):
        photo = np.mean([_profile(img, c, rad, a, rs) for a in across], 0)
        edit = np.mean([_profile(kept, cd, rad, a, rs) for a in across], 0)
        assert float(np.abs(edit - photo).mean()) < 0.05, (edit.round(2), photo.round(2))


def test_iris_edge_reads_the_focus_and_the_limbal_ring():
    """A sharp iris reads the least blur and reach; the same blurred reads about its blur (px),
    and its reach (where its edge is most of the way to the white) beyond its radius; the edge's
    half-way point between the radius and the reach."""
    img, _, mesh, _ = _eye_face()
    t = EyesTuning()
    poly = eye_polygon(mesh, 0, t.lower_lid_raise)
    sharp = img.astype(np.float32) / 255
    c, r = find_iris(sharp, poly, t)
    blur, reach, mid = iris_edge(luma(sharp), c, r, t)
    assert blur < 1.0 and reach < 1.1 and 1.0 <= mid <= reach
    soft = cv2.GaussianBlur(sharp, (0, 0), 1.5)
    c, r = find_iris(soft, poly, t)
    blur, reach, mid = iris_edge(luma(soft), c, r, t)
    assert 1.0 < blur < 2.2 and reach > 1.1 and 1.0 <= mid < reach


def test_the_white_is_shaded_along_the_eye_as_the_photo_shows_it():
    """Whites darker toward one corner read darker there, a corner all in a shadow no darker
    than the least share, and a colour kept (the white's own)."""
    white = np.array([0.8, 0.75, 0.7], np.float32)
    t = np.linspace(0, 1, 600)
    shade = np.where(t < 0.2, 0.5, np.where(t > 0.8, 0.9, 1.0))
    px = (white * shade[:, None]).astype(np.float32)
    at = _white_along(px, t, white, 6, 0.8)
    out = at(np.array([0.05, 0.5, 0.95]))
    assert np.allclose(out[1], white, atol=0.01)
    assert np.allclose(out[0], 0.8 * white, atol=0.01)  # the shadowed corner: the least
    assert np.allclose(out[2], 0.9 * white, atol=0.01)
    assert np.allclose(out / out[:, :1], white / white[0], atol=1e-4)  # one colour


def test_the_white_drawn_round_a_kept_iris_is_the_white_beside_it_not_the_limbal_tail():
    """The white drawn where the warp stretched the iris takes the light of the white around
    it, read past the stretched limbal ring's soft grey tail (read just beside it, the tail and
    a lash row's end drew a grey ring round the kept iris)."""
    h, w = 60, 120
    yy, xx = np.mgrid[:h, :w]
    dist = np.hypot(xx - 60, yy - 30)
    cur = np.full((h, w, 3), 0.8, np.float32)
    cur[(dist >= 14) & (dist < 17)] = 0.65  # the tail: 0.81 of the white, above white_least
    cur[:6] = 0.1  # the lashes along the top
    zone = dist < 14
    expect = np.full((h, w, 3), 0.8, np.float32)
    t = EyesTuning()
    fill = _white_fill(cur, zone, np.ones((h, w), bool), expect, t.white_least, 3, 80.0)
    assert float(np.median(luma(fill)[zone])) > 0.97 * 0.8
    beside = _white_fill(cur, zone, np.ones((h, w), bool), expect, t.white_least, 0, 80.0)
    assert float(np.median(luma(beside)[zone])) < float(np.median(luma(fill)[zone]))


def test_a_stretch_behind_the_iris_takes_the_lighter_white_beside_it():
    """Stretches of the eye with no white seen (the iris's) between a shadowed outer corner and a
    light inner side take the lighter side's shading (the nearest alone, a tie going to the
    corner, shaded the white round the iris's outer side as the corner: a grey ring)."""
    white = np.array([0.7, 0.68, 0.66], np.float32)
    t = np.r_[np.linspace(0.0, 0.16, 40), np.linspace(0.67, 1.0, 80)]
    shade = np.where(t < 0.17, 0.8, 1.0)
    px = (white * shade[:, None]).astype(np.float32)
    at = _white_along(px, t, white, 6, 0.8)
    out = luma(at(np.array([0.08, 0.42, 0.5, 0.9])))
    assert abs(out[0] - 0.8 * luma(white)) < 0.01  # the seen corner keeps its shade
    assert np.all(out[1:] > 0.97 * luma(white))  # behind the iris: the light side's


def test_the_white_s_grain_is_read_off_the_lashes_edges():
    """The grain of a white whose darker part holds steep edges (lashes, the iris's edge) is the
    grain of its light part, not the edges' steps."""
    from faceedit.stage.eyes import white_grain

    rng = np.random.default_rng(0)
    lum = np.r_[np.full(300, 0.7), np.full(200, 0.3)] + rng.normal(0, 0.005, 500)
    fine = np.r_[rng.normal(0, 0.01, 300), rng.choice([-0.1, 0.1], 200)]
    g = white_grain(fine, lum)
    assert 0.6 * 0.01 / 0.7 < g < 1.5 * 0.01 / 0.7


def test_no_dark_crescent_under_a_kept_iris_whose_bottom_the_lower_lid_hid():
    """An iris whose bottom lies under the lower lid's rim (the mesh's lower contour cuts it), the
    lids opened both ways: under the kept iris, down to the lower lid, the eye shows its white
    (the iris's bottom between the contour and the raised opening, stretched by the lids' travel,
    drew a dark crescent there: 0.68-0.71 at its darkest in these rows, 0.99 with the white)."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)  # iris radius 0.21 eye widths, lids 0.17 off its middle
    for e in LM_EYES:
        moved[[e[4], e[5]], 1] += 0.2 * float(np.linalg.norm(lm[e[3]] - lm[e[0]]))
    r = cut_warp(img, lm, moved)
    kept = keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)
    t = EyesTuning()
    lum = luma(kept.astype(np.float32) / 255)
    for k, e in enumerate(LM_EYES):
        found = find_iris(img.astype(np.float32) / 255, eye_polygon(mesh, k, t.lower_lid_raise), t)
        assert found is not None
        c, rad = found
        corners = [e[0], e[3]]
        cd = c + (moved[corners] - lm[corners]).mean(0)
        lid = float(np.mean(moved[[e[4], e[5]], 1]))
        x = int(round(cd[0]))
        col = lum[int(np.ceil(cd[1] + 1.15 * rad)):int(lid - 1.5), x - 3:x + 4]
        assert col.shape[0] >= 3
        assert float(col.min()) > 0.85, (k, float(col.min()))


def _eye_face_at(s: float, blank: int | None = None):
    """:func:`_eye_face` opened wide, cut to ``s`` of its size (at 0.5 its eyes are 26-27 px
    wide), eye ``blank``'s white painted over with the iris's colour (no iris to find there)."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)
    if blank is not None:
        e = list(LM_EYES[blank])
        x0, y0 = np.floor(lm[e].min(0)).astype(int) - 3
        x1, y1 = np.ceil(lm[e].max(0)).astype(int) + 4
        patch = img[y0:y1, x0:x1]
        patch[patch.astype(np.int32).sum(2) > 600] = (70, 90, 110)
    if s != 1.0:
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return img, lm * s, mesh * s, moved * s


def _dark_rows(img: np.ndarray, lm: np.ndarray, k: int) -> int:
    """Rows of the eye's middle column darker than the white and the skin (the iris's height)."""
    pts = lm[list(LM_EYES[k])]
    cx = int(round(pts[[1, 2, 4, 5], 0].mean()))
    y0, y1 = int(pts[:, 1].min() - 8), int(pts[:, 1].max() + 8)
    return int((img[y0:y1, cx].astype(np.float32).mean(1) < 130).sum())


def test_a_small_face_keeps_both_irises_or_neither():
    """Eyes 26 px wide opened wide: both irises are kept at their size (shorter than the warp's
    stretched ones); where one eye shows no iris to keep, the other is left as the warp drew it
    too (one kept iris beside a stretched one: two unlike eyes), in place or not alike. A face
    whose eyes are 90 px wide keeps the one iris it finds."""
    img, lm, mesh, moved = _eye_face_at(0.5)
    r = cut_warp(img, lm, moved)
    both = keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)
    assert all(_dark_rows(both, moved, k) < _dark_rows(r.pixels, moved, k) for k in (0, 1))
    img, lm, mesh, moved = _eye_face_at(0.5, blank=1)
    r = cut_warp(img, lm, moved)
    out = keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)
    assert _dark_rows(out, moved, 0) == _dark_rows(r.pixels, moved, 0)
    buf = r.pixels.copy()
    assert keep_irises(img, buf, lm, moved, mesh, r.source_points, in_place=True) is buf
    assert np.array_equal(buf, out)
    img, lm, mesh, moved = _eye_face_at(1.0, blank=1)
    r = cut_warp(img, lm, moved)
    out = keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)
    assert _dark_rows(out, moved, 0) < _dark_rows(r.pixels, moved, 0)
