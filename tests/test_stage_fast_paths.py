"""The stage's shortcuts give what the plain computations they stand for give, bit for bit: the
column runs of an opening measured on its bounding box only, the grey test on integer levels
from a sparse sample first; the cut warp's splines in one product with the kernel, to float32
rounding; the glabella's furrow read from its square's pixels alone."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.models.request import EditRequest
from faceedit.stage.lip_rims import column_gaps
from faceedit.stage.paint import looks_grey
from faceedit.stage.records import StageFace
from faceedit.stage.smile import smile_map


def _gaps_everywhere(opening: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """column_gaps' runs summed down every row of the whole array."""
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    on = op > 0
    down = np.zeros(op.shape, np.float32)
    up = np.zeros(op.shape, np.float32)
    for y in range(op.shape[0]):
        down[y] = on[y] * ((down[y - 1] if y > 0 else 0.0) + op[y])
    for y in range(op.shape[0] - 1, -1, -1):
        up[y] = on[y] * ((up[y + 1] if y < op.shape[0] - 1 else 0.0) + op[y])
    return (np.where(on, down + up - op, 0.0).astype(np.float32),
            np.where(on, down - op, 0.0).astype(np.float32))


def test_column_gaps_on_the_box_match_every_row():
    rng = np.random.default_rng(0)
    op = np.zeros((120, 90), np.float32)
    op[40:70, 20:75] = rng.uniform(-0.3, 1.2, (30, 55))  # runs broken by zeros, clipped ends
    op[52, :] = 0.0
    for got, want in zip(column_gaps(op), _gaps_everywhere(op), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    assert column_gaps(op)[0].max() > 5
    empty = column_gaps(np.zeros((10, 8), np.float32))
    assert all(not g.any() and g.shape == (10, 8) for g in empty)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_looks_grey_is_the_unit_float_test(dtype):
    rng = np.random.default_rng(1)
    top = np.iinfo(dtype).max
    grey = np.repeat(rng.integers(0, top, (60, 50, 1), dtype=dtype), 3, -1)
    unit = float(top)

    def on_floats(x):
        f = x.astype(np.float32) / unit
        return bool(np.abs(f - f[..., :1]).max() < 1.5 / 255)

    limit = int(np.ceil(1.5 * top / 255))  # the smallest difference that is not grey
    for dy, dx, d in ((0, 0, 0), (13, 8, limit - 1), (13, 8, limit), (59, 49, limit), (3, 3, -limit)):
        x = grey.astype(np.int64)
        x[dy, dx, 2] = np.clip(x[dy, dx, 2] + d, 0, top) if d >= 0 else x[dy, dx, 2]
        x[dy, dx, 1] = np.clip(x[dy, dx, 0] - limit, 0, top) if d < 0 else x[dy, dx, 1]
        x = x.astype(dtype)
        assert looks_grey(x) == on_floats(x)
    assert looks_grey(grey)
    assert not looks_grey(rng.integers(0, top, (20, 20, 3), dtype=dtype))


def test_in_place_steps_draw_what_copies_draw_and_leave_the_photo():
    """The stage draws its later steps over its own copy of the photo (``in_place``): the same
    pixels as drawing each into a new array, and the caller's photo is never written."""
    from skimage.data import astronaut

    from faceedit.faces.detectors import get_detector
    from faceedit.stage.model import Stage
    from faceedit.stage.paint import paint_maps

    stage = Stage.from_pretrained("stage")
    img = astronaut()
    face = max(get_detector("auto").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    before = img.copy()
    for target in ("happy", "surprised"):
        out, _ = stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of(target, 1.0))
        assert not np.array_equal(out, img)
    np.testing.assert_array_equal(img, before)
    frame, gb = stage.array("mean_shape"), smile_map(stage, True)
    copied = paint_maps(img, lm, frame, gb, 1.0)
    own = img.copy()
    drawn = paint_maps(own, lm, frame, gb, 1.0, in_place=True)
    assert drawn is own and not np.array_equal(copied, img)
    np.testing.assert_array_equal(drawn, copied)
    np.testing.assert_array_equal(img, before)


def _keep_out_whole_roi(roi, lm, drawn):
    """mouth_keep_out with the lips' blur taken over the whole ROI."""
    import cv2

    from faceedit.faces.landmarks import eye_distance

    x0, y0, x1, y1 = roi
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    lips = np.asarray(lm, np.float64)[48:60] - (x0, y0)
    cv2.fillPoly(mask, [np.round(lips * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(0.1 * eye_distance(lm), 0.5))
    return np.maximum(np.minimum(2.0 * soft, 1.0), cv2.dilate(np.clip(drawn, 0, 1).astype(np.float32),
                                                              np.ones((3, 3), np.uint8))).astype(np.float32)


@pytest.mark.parametrize("shift", [(0.0, 0.0), (-95.0, 0.0), (0.0, 80.0), (-140.0, -120.0), (60.0, 300.0)])
def test_mouth_keep_out_blurs_only_near_the_lips(shift):
    """The keep-out's blur over the lips' box equals the blur over the whole ROI, also where
    the lips lie at (or past) the ROI's edge."""
    from faceedit.stage.model import Stage
    from faceedit.stage.paint import mouth_keep_out

    mean = Stage.from_pretrained("stage")._a("mean_shape").astype(np.float64)
    rng = np.random.default_rng(int(abs(shift[0]) + abs(shift[1])))
    for k in range(8):  # sizes and places around the given shift
        lm = mean * rng.uniform(0.6, 2.0) + shift + rng.uniform(-30, 30, 2)
        w, h = int(rng.integers(200, 420)), int(rng.integers(200, 420))
        roi = (10, 20, 10 + w, 20 + h)
        drawn = np.zeros((h, w), np.float32)
        drawn[150:162, 100:140] = 0.7
        np.testing.assert_array_equal(mouth_keep_out(roi, lm, drawn), _keep_out_whole_roi(roi, lm, drawn),
                                      err_msg=f"case {k}")


def test_in_polygon_is_opencvs_point_test():
    """The iris search's centres inside the eye: OpenCV's pointPolygonTest, point by point, on
    round and self-crossing polygons, at their vertices, edge midpoints and whole pixels."""
    import cv2

    from faceedit.stage.eyes import in_polygon

    rng = np.random.default_rng(0)
    for k in range(60):
        n = int(rng.integers(3, 18))
        ang, r = np.sort(rng.uniform(0, 2 * np.pi, n)), rng.uniform(5, 30, n)
        poly = np.c_[50 + r * np.cos(ang), 40 + r * np.sin(ang)]
        poly = np.round(poly) if k % 3 == 0 else rng.uniform(0, 80, (n, 2)) if k % 7 == 0 else poly
        pts = np.r_[rng.uniform(10, 90, (200, 2)), poly, (poly + np.roll(poly, 1, 0)) / 2,
                    np.mgrid[10:90:2.0, 10:90:2.0].reshape(2, -1).T]
        cont = poly.astype(np.float32).reshape(-1, 1, 2)
        want = [cv2.pointPolygonTest(cont, (float(x), float(y)), False) >= 0 for x, y in pts]
        np.testing.assert_array_equal(in_polygon(poly, pts), want, err_msg=f"polygon {k}")


def test_spline_bank_fields_in_one_product_match_one_by_one():
    """The cut warp's splines (F0, each cut's upper and lower side) applied to the kernel in one
    matrix product give each field as made alone (to float32 rounding: BLAS may sum a wider
    product in another order)."""
    from faceedit.stage.cut_fields import _SplineBank
    from faceedit.stage.warp import Grid

    rng = np.random.default_rng(3)
    centres = rng.uniform(20, 180, (60, 2))
    nodes = Grid(0.0, 0.0, 4.0, 51, 47).points()
    where = np.hypot(nodes[..., 0] - 100, nodes[..., 1] - 90) < 85
    bank = _SplineBank(centres, nodes, where)
    splines = [(np.arange(40), centres[:40] + rng.normal(0, 3, (40, 2))),
               (np.r_[0:20, 40:50], centres[np.r_[0:20, 40:50]] + 2.0),
               (np.r_[0:30, 50:60], centres[np.r_[0:30, 50:60]] - rng.normal(0, 1, (40, 2)))]
    together = bank.fields(splines)
    for (idx, values), f in zip(splines, together):
        alone = bank.field(idx, values)
        assert f.shape == nodes.shape and np.abs(f).max() > 1.0
        np.testing.assert_allclose(f, alone, rtol=0, atol=1e-3)  # the float32 kernel's own error
        assert np.all(f[~where] == 0)


def test_grid_pixel_coords_are_the_whole_grids_positions():
    """Grid.pixel_coords spreads a float32 row and column: the same values as every ROI pixel's
    float64 position made float32, C-contiguous, for ROIs inside, across and off the grid."""
    from faceedit.stage.warp import Grid

    rng = np.random.default_rng(8)
    for _ in range(200):
        grid = Grid(float(rng.uniform(-50, 300)), float(rng.uniform(-50, 300)), float(rng.uniform(0.3, 30)),
                    int(rng.integers(2, 70)), int(rng.integers(2, 70)))
        x0, y0 = (int(v) for v in rng.integers(-100, 400, 2))
        roi = (x0, y0, x0 + int(rng.integers(0, 300)), y0 + int(rng.integers(0, 300)))
        want = np.meshgrid((np.arange(roi[0], roi[2], dtype=np.float64) - grid.x0) / grid.step,
                           (np.arange(roi[1], roi[3], dtype=np.float64) - grid.y0) / grid.step)
        for got, w in zip(grid.pixel_coords(roi), want, strict=True):
            assert got.dtype == np.float32 and got.flags.c_contiguous
            assert np.array_equal(got, w.astype(np.float32))


@pytest.mark.parametrize("at", [(700, 900), (0, 0), (1488, 1488), (-150, 400)])
def test_furrow_shown_from_the_square_alone_matches_the_whole_photo(at):
    """furrow_shown's fast read (the photo's pixels under its 200-px square only) gives the
    whole photo's reading, the face anywhere on a 2000-px photo, part of it off the edge
    included (the border there is the photo's own)."""
    from _imgs import astronaut, astronaut_face

    from faceedit.stage.precision import exact_render
    from faceedit.stage.relief import furrow_shown
    from faceedit.stage.tuning_face import BrowsTuning

    raw = BrowsTuning(furrow_from=0.0, furrow_full=1e6)  # (the ratio itself, unclipped)
    rng = np.random.default_rng(3)
    canvas = rng.integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    x, y = at
    face = np.asarray(astronaut())
    sx0, sy0 = max(-x, 0), max(-y, 0)
    canvas[y + sy0:y + 512, x + sx0:x + 512] = face[sy0:, sx0:]
    lm = np.asarray(astronaut_face().landmarks, np.float64) + (x, y)
    for shrink in (1.0, 0.35, 3.0):  # the eye distance 100 px in the square: enlarged, kept, shrunk
        pts = (lm - lm.mean(0)) * shrink + lm.mean(0)
        rotated = pts @ np.array([[0.96, 0.28], [-0.28, 0.96]]).T
        for p in (pts, rotated + pts.mean(0) - rotated.mean(0)):
            with exact_render():
                want = furrow_shown(canvas, p, raw)
            assert 0 < want < 1 and furrow_shown(canvas, p, raw) == want


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_rim_muted_samples_from_the_points_box_are_the_whole_photos(dtype):
    """lip_start.sampled_rgb reads only the box round its points (lip_start.points_box): the same
    samples as the whole photo gives, for points inside it, on its edges and past them (the border
    replicated); one channel at a time too."""
    from faceedit.stage.lip_start import points_box, sampled_rgb
    from faceedit.stage.lips import sample_points

    rng = np.random.default_rng(5)
    photo = rng.integers(0, np.iinfo(dtype).max, (700, 900, 3), dtype=dtype)
    whole = photo.astype(np.float32)
    for centre, spread in (((450.3, 350.7), 30.0), ((2.0, 690.0), 12.0), ((897.5, 1.2), 6.0),
                           ((-40.0, 300.0), 5.0), ((1000.0, 800.0), 3.0), ((450.0, 350.0), 500.0)):
        pts = np.asarray(centre) + rng.uniform(-spread, spread, (300, 2))
        want = sample_points(whole, pts[:, 0], pts[:, 1])
        np.testing.assert_array_equal(sampled_rgb(photo, pts), want)
        # one channel at a time from the same box (lower_margin's reading): each channel's own samples
        xy = pts.astype(np.float32)
        (x0, y0), (x1, y1) = points_box(xy, photo.shape)
        for c in range(3):
            one = sample_points(photo[y0:y1, x0:x1, c].astype(np.float32), xy[:, 0] - np.float32(x0),
                                xy[:, 1] - np.float32(y0))
            np.testing.assert_array_equal(one, sample_points(np.ascontiguousarray(whole[..., c]), pts[:, 0], pts[:, 1]))


def test_cheek_masks_dilated_in_the_mouths_box_match_the_whole_masks(monkeypatch):
    """smile._near_mouth and _cheek_mask's fold dilate only the box round the mouth's hull (grown
    by the dilation's reach): the same masks as dilating the whole array (the cheeks' feathered
    within 1e-9), the face inside the photo and cut by its edges."""
    import cv2
    from _imgs import astronaut_face

    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage import smile

    lm0 = np.asarray(astronaut_face().landmarks, np.float64)
    shape = (700, 640, 3)
    whole = smile._near_mouth_boxed

    def unboxed(shape, lm, ed, grow):  # the whole array dilated, its box the whole array
        hull = np.zeros(shape[:2], np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(np.round(np.vstack([lm[48:60], lm[31:36]])).astype(np.int32)), 1)
        g = max(int(round(grow * ed)), 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1, 2 * g + 1))
        return cv2.dilate(hull, kernel).astype(np.float32), (0, 0, shape[1], shape[0])

    for shift in ((60.0, 80.0), (-lm0[:, 0].min() - 20, 0.0), (0.0, shape[0] - lm0[:, 1].max() + 15)):
        lm = lm0 + shift
        ed = eye_distance(lm)
        for grow in (0.25, 0.6):
            got = smile._near_mouth(shape, lm, ed, grow)
            assert got.any()
            np.testing.assert_array_equal(got, unboxed(shape, lm, ed, grow)[0])
        boxed = smile._cheek_mask(shape, lm, 0.05 * ed, 0.1)
        monkeypatch.setattr(smile, "_near_mouth_boxed", unboxed)
        want = smile._cheek_mask(shape, lm, 0.05 * ed, 0.1)
        monkeypatch.setattr(smile, "_near_mouth_boxed", whole)
        assert not np.array_equal(want, smile._cheek_mask(shape, lm, 0.05 * ed, 0.0))  # (the fold reads)
        # (the mask feathered over its box, a larger one here: OpenCV's Gaussian rounds a few of
        # its far tails apart at another size)
        np.testing.assert_allclose(boxed, want, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(boxed == 0, want == 0)


def test_upper_lip_from_reads_the_redness_of_its_points_box_alone(monkeypatch):
    """lip_start.upper_lip_from converts to Lab only the box round the points it samples: the
    same shares as from the whole photo's redness, the face inside it and cut by its edge."""
    from _imgs import astronaut, astronaut_face

    from faceedit.stage import lip_start
    from faceedit.stage.cut_curves import lip_curves
    from faceedit.stage.lips import redness
    from faceedit.stage.tuning_face import WarpTuning

    photo = np.asarray(astronaut())
    lm0 = np.asarray(astronaut_face().landmarks, np.float64)
    boxed, sample = lip_start.points_box, lip_start.sample_points
    tn = WarpTuning(lip_from_contrast=0.0)  # (shares read whatever the lips' contrast)
    read, samples = [], []
    monkeypatch.setattr(lip_start, "sample_points", lambda *a: samples.append((a[0], sample(*a))) or samples[-1][1])
    whole = redness(photo)
    for shift in ((0.0, 0.0), (-lm0[48, 0] + 2.0, 0.0), (0.0, 512.0 - lm0[57, 1] - 1.0)):
        lm = lm0 + shift
        upper = lip_curves(lm)[0]
        got = lip_start.upper_lip_from(photo, upper, lm, tn)
        monkeypatch.setattr(lip_start, "points_box", lambda xy, shape: (np.zeros(2, int), np.array([shape[1], shape[0]])))
        want = lip_start.upper_lip_from(photo, upper, lm, tn)
        monkeypatch.setattr(lip_start, "points_box", boxed)
        assert got == want
        np.testing.assert_array_equal(samples[-1][0], whole)  # (the reference: the whole photo's redness)
        np.testing.assert_array_equal(samples[-2][1], samples[-1][1])  # (the redness at every point read)
        read.append(got)
    assert any(max(r) > 0 for r in read)


def test_corner_steps_read_the_mouths_rows_alone_as_the_whole_photo(monkeypatch):
    """corner_teeth and corner_flecks convert only the rows round the mouth
    (corner_flecks.corner_rows_float): on a tall photo with the closed mouth at its top edge
    and in its middle, the same tooth light, the same painted speck and fleck as from the
    whole photo's float and luma."""
    from _imgs import closed_mouth

    from faceedit.stage import corner_flecks, corner_teeth

    def whole(pixels, moved, span, reach, scale=None):
        full = pixels.astype(np.float32) if scale is None else pixels[..., :3].astype(np.float32) * scale
        return full, (full if full.ndim == 2 else full @ corner_flecks._LUMA)

    img, lm = closed_mouth()
    img[139:141, 71:80] = (110, 70, 70)
    img[137:139, 74:77] = (225, 225, 220)  # a tooth-white speck by the left corner
    img[135:138, 121:124] = (90, 60, 60)  # a dark fleck by the right corner
    rng = np.random.default_rng(2)
    for top in (-60, 300, 561):  # the patch's first row in a 761-row photo (-60: cut by its top edge)
        photo = rng.integers(120, 220, (761, 200, 3), dtype=np.uint8)
        photo[max(top, 0):top + 200] = img[max(-top, 0):]
        moved = lm + (0.0, float(top))
        got = [corner_teeth.tooth_light(photo, moved), corner_teeth.lift_corner_teeth(photo, moved),
               corner_flecks.lift_corner_flecks(photo, moved)]
        monkeypatch.setattr(corner_flecks, "corner_rows_float", whole)
        monkeypatch.setattr(corner_teeth, "corner_rows_float", whole)
        want = [corner_teeth.tooth_light(photo, moved), corner_teeth.lift_corner_teeth(photo, moved),
                corner_flecks.lift_corner_flecks(photo, moved)]
        monkeypatch.undo()
        assert want[0].any() and not np.array_equal(want[1], photo) and not np.array_equal(want[2], photo)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_the_seams_distance_to_its_line_is_the_all_at_once_ones():
    """mouth._distance_to_polyline, one segment at a time, gives the same distances, bit for
    bit, as every pixel against every segment in one array (its form before)."""
    from faceedit.stage.mouth import _distance_to_polyline

    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[40:95, 100:260].astype(np.float64)
    line = np.stack([np.linspace(105, 255, 37), 66 + 6 * np.sin(np.linspace(0, 3, 37))], 1) + rng.normal(0, 0.4, (37, 2))
    line[5] = line[4]  # a segment of no length
    p = np.stack([xx.ravel(), yy.ravel()], 1)[:, None, :]
    a, b = line[:-1][None], line[1:][None]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(2) / np.maximum((ab * ab).sum(2), 1e-12), 0.0, 1.0)
    want = np.linalg.norm(p - (a + t[..., None] * ab), axis=2).min(1).reshape(xx.shape)
    np.testing.assert_array_equal(_distance_to_polyline(xx, yy, line), want)


def test_the_warps_source_points_are_each_pixels_place_plus_the_field_bit_for_bit():
    """cutwarp.CutWarpResult.source_points adds each pixel's own place to the sampled field in
    place: the same float32 bits as the place grid plus the field (its form before), and a box
    read with no field is the place grid itself."""
    import dataclasses

    from faceedit.stage.cutwarp import CutWarpResult, _sample
    from faceedit.stage.warp import Grid

    rng = np.random.default_rng(4)
    grid = Grid(37.0, 52.0, 16.0, 30, 25)
    field = (rng.standard_normal((25, 30, 2)) * 9).astype(np.float32)
    empty = np.zeros((1, 2))
    r = CutWarpResult(np.zeros((4, 4, 3), np.uint8), (0, 0, 4, 4), empty, empty, empty, empty, 1.0,
                      np.zeros((68, 2)), empty, (grid, field))
    for box in ((60, 70, 301, 250), (0, 0, 90, 40), (400, 300, 517, 431)):
        x0, y0, x1, y1 = box
        base = np.stack(np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)), -1)
        got = r.source_points(box)
        assert got.dtype == np.float32 and got.shape == (y1 - y0, x1 - x0, 2)
        np.testing.assert_array_equal(got, base + _sample(grid, field, box))
        np.testing.assert_array_equal(dataclasses.replace(r, face_field=None).source_points(box), base)
