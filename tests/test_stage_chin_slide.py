"""A dropped jaw's chin slides over the neck (faceedit/stage/chin_slide.py): the cut warp carries
the chin and the skin under it whole, draws the neck together under its new edge, and moves
nothing below; a jaw that does not drop leaves the warp as it was."""

from __future__ import annotations

import numpy as np
from _imgs import astronaut, astronaut_face

from faceedit.faces.landmarks import eye_distance
from faceedit.stage.chin_slide import face_window, jaw_drop, lifted_nodes, slid_anchors, slid_region_weight
from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.moves import JAW_SHARE, face_frame
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import face_grid, grid_region_weight, warp_anchors


def _lm() -> np.ndarray:
    return np.asarray(astronaut_face().landmarks, np.float64)


def _dropped(lm: np.ndarray, drop: float) -> np.ndarray:
    """The jaw dropped by ``drop`` eye distances at the chin (each jaw point its share), the
    lower lips with it."""
    _, n, iod = face_frame(lm)
    out = lm.copy()
    for i, share in JAW_SHARE.items():
        out[i] += share * drop * iod * n
    out[[55, 56, 57, 58, 59, 65, 66, 67]] += 0.6 * drop * iod * n
    return out


def test_a_jaw_that_does_not_drop_leaves_the_region_and_ring():
    lm = _lm()
    tn = WarpTuning()
    grid = face_grid(lm, tn.region_outer)
    raised = _dropped(lm, -0.1)  # a chin that rises: the neck stretches as before
    for dst in (lm, raised):
        assert jaw_drop(lm, dst) is None
        assert np.array_equal(slid_region_weight(lm, dst, grid, tn),
                              grid_region_weight(lm, grid, tn.region_inner, tn.region_outer))
        anchors = warp_anchors(lm, dst, tn)
        assert np.array_equal(slid_anchors(lm, dst, anchors), anchors)


def test_only_what_lies_below_the_jaw_is_lifted():
    lm = _lm()
    dst = _dropped(lm, 0.3)
    _, n, iod = face_frame(lm)
    pts = np.array([lm[27], lm[30], lm[0], lm[16], lm[8] + 0.3 * iod * n])
    lifted = lifted_nodes(lm, dst, pts)
    assert np.allclose(lifted[:4], pts[:4])  # the nose, the face's sides beside the jaw's angles
    assert float((pts[4] - lifted[4]) @ n) > 0.25 * iod  # under the chin: read the drop higher
    anchors = warp_anchors(lm, dst)
    slid = slid_anchors(lm, dst, anchors)
    below = (anchors - lm[8]) @ n > 0.3 * iod
    assert below.any() and np.all((slid - anchors)[below] @ n >= 0)
    assert float(((slid - anchors) @ n).max()) > 0.25 * iod  # the ring under the chin gives way
    above = (anchors - lm[30]) @ n < 0  # the forehead's rows and the ring above the nose stay
    assert np.array_equal(slid[above], anchors[above])


def test_the_chin_is_carried_whole_and_the_neck_below_stays():
    """Her chin dropped by 0.3 eye distances: down the chin's column the point under the chin's
    new place samples the chin, the skin 0.1 eye distances under it is carried as far, every
    pixel samples below the one above it (no fold), and nothing moves from a little past the plain
    region's end on (``region_outer`` + 0.1 eye distances below the chin: the grid's cubic fill). Without the slide the chin lands short
    (the ring 0.6 eye distances under it holds the neck) and the skin under it is squeezed."""
    img, lm = astronaut(), _lm()
    iod = eye_distance(lm)
    _, n, _ = face_frame(lm)
    dst = _dropped(lm, 0.3)
    r = cut_warp(img, lm, dst)
    assert r.scale == 1.0
    x = int(round(lm[8, 0]))
    y0, y1 = int(lm[8, 1]), int(lm[8, 1] + 1.0 * iod)
    col = r.source_points((x, y0, x + 1, y1))[:, 0, 1]
    drop = float((dst[8] - lm[8]) @ n)
    chin_at = int(round(lm[8, 1] + drop)) - y0
    assert abs(col[chin_at] - (y0 + chin_at - drop)) < 0.1 * drop
    under = int(round(lm[8, 1] + drop + 0.1 * iod)) - y0
    assert abs(col[under] - (y0 + under - drop)) < 0.15 * drop
    assert np.all(np.diff(col) > 0)
    still = int(np.ceil(lm[8, 1] + (WarpTuning().region_outer + 0.1) * iod)) - y0
    assert np.allclose(col[still:], np.arange(y0 + still, y1), atol=0.05)


def test_a_deep_drop_stays_inside_the_face_region():
    """A drop deeper than the shortest fade leaves room for (0.55 eye distances): the field still
    ends inside the face's grid (the warp's last rows sample their own places), unfolded."""
    img, lm = astronaut(), _lm()
    r = cut_warp(img, lm, _dropped(lm, 0.55))
    assert r.scale == 1.0
    x0, y0, x1, y1 = r.roi
    bottom = r.source_points((x0, y1 - 2, x1, y1))
    own = np.stack(np.meshgrid(np.arange(x0, x1), np.arange(y1 - 2, y1)), -1)
    assert np.allclose(bottom, own, atol=0.05)
    x = int(round(lm[8, 0]))
    col = r.source_points((x, int(lm[8, 1]), x + 1, y1))[:, 0, 1]
    assert np.all(np.diff(col) > 0)


def test_the_mouth_is_painted_in_the_faces_own_roi():
    """The grid reaches below a dropped jaw, the mouth's window does not: the bank's fill reads the
    photo round the opening and seeds its texture by the ROI it is given (a ROI grown by the slide
    drew another cavity texture: a small face's opening read 0.136 -> 0.155 of the cheeks)."""
    lm, img = _lm(), astronaut()
    tn = WarpTuning()
    r = cut_warp(img, lm, _dropped(lm, 0.3), tuning=tn)
    plain = face_grid(lm, tn.region_outer).roi(img.shape)
    assert r.face_roi == plain and r.roi[3] > plain[3]
    roi, op = face_window(r.roi, r.face_roi, r.opening)
    assert roi == plain and op.shape == (plain[3] - plain[1], plain[2] - plain[0])
    # the whole opening inside (summed in float64: a float32 sum of a view and of the whole array
    # can differ in the last bit with the CPU's vector width)
    inside, whole = float(op.sum(dtype=np.float64)), float(r.opening.sum(dtype=np.float64))
    assert inside > 0 and np.isclose(inside, whole, rtol=1e-9, atol=0.0)
    x0, y0 = plain[0] - r.roi[0], plain[1] - r.roi[1]
    assert np.array_equal(op, r.opening[y0:y0 + op.shape[0], x0:x0 + op.shape[1]])
    still = cut_warp(img, lm, lm, tuning=tn)  # nothing moves: the face's ROI is the warp's
    assert still.face_roi == still.roi and face_window(still.roi, still.face_roi, still.opening)[1] is still.opening
