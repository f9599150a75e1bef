"""A small shut eye opened by the warp (faceedit.stage.eye_open): its lash line carried at its own
thickness with the upper lid, an eyeball below it, not the line stretched into a smear."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.eye_open import eye_weight, open_shut_eye, opening, shut
from faceedit.stage.tuning import EyesTuning

SKIN = np.array([0.85, 0.68, 0.55])
LASH = np.array([0.25, 0.17, 0.12])


def _eye(top: float, bottom: float, x0: float = 20.0, width: float = 20.0, y: float = 30.0) -> np.ndarray:
    """6 68-point contour points: outer corner, upper two, inner corner, lower two."""
    return np.array([[x0, y], [x0 + width / 3, y - top], [x0 + 2 * width / 3, y - top], [x0 + width, y],
                     [x0 + 2 * width / 3, y + bottom], [x0 + width / 3, y + bottom]], np.float64)


def _shut_photo() -> np.ndarray:
    """Skin with a lash line 3 px thick (rows 29-31) from x 20 to 40: a shut eye at row 30."""
    img = np.tile(SKIN, (60, 60, 1)).astype(np.float32)
    img[29:32, 20:41] = LASH
    return img


def test_an_open_eye_or_a_large_one_is_not_redrawn():
    assert shut(_eye(0.5, 0.5)) and not shut(_eye(3.0, 3.0))  # 0.05 and 0.3 of the width
    aperture = EyesTuning().shut_aperture
    assert shut(_eye(0.9 * aperture * 10, 0.9 * aperture * 10))
    # the record reaches them: a lower aperture takes the same eye for open, a smaller size range for large
    assert not shut(_eye(0.5, 0.5), EyesTuning(shut_aperture=0.04))
    assert eye_weight(20.0, EyesTuning(shut_small_px=(10.0, 15.0))) == 0.0
    assert eye_weight(20.0) == 1.0 and eye_weight(110.0) == 0.0  # a group photo's eye; a 1350-px portrait's
    big = np.tile(SKIN, (300, 300, 1)).astype(np.float32)
    assert open_shut_eye(big, big, _eye(0.5, 0.5, 50, 110, 150), _eye(20, 8, 50, 110, 150)) is None
    # a preview scaled down from a large photo: the eye's size read at the photo's own pixels
    assert eye_weight(20.0, photo_scale=5.5) == 0.0
    src = _shut_photo()
    assert open_shut_eye(src, src, _eye(0.5, 0.5), _eye(6.5, 1.0), photo_scale=5.5) is None
    assert open_shut_eye(src, src, _eye(0.5, 0.5), _eye(6.5, 1.0)) is not None


def test_the_lash_line_moves_as_a_line_over_an_eyeball():
    src = _shut_photo()
    # the warp raised the upper lid 6 px and stretched the line into a smear down to the lower lid
    moved = _eye(6.5, 1.0)
    warped = src.copy()
    cv2.fillPoly(warped, [np.round(moved).astype(np.int32)], LASH.tolist())
    got = open_shut_eye(src, warped, _eye(0.5, 0.5), moved)
    assert got is not None
    (x0, y0, x1, y1), px = got
    y = luma(px)
    s = float(luma(SKIN))
    cols = slice(24 - x0, 26 - x0)  # left of the iris (its radius 4 px about x 30)
    column = y[:, cols].mean(1)
    rows = np.arange(y0, y1)
    dark = rows[column < 0.6 * s]
    # the line's 3 px carried up with the lid (measured: rows 25-26 in these columns, near the
    # corner), not the smear the warp drew there (rows 27-31)
    assert 2 <= len(dark) <= 4, (dark, np.round(column / s, 2))
    assert dark.min() >= 22 and dark.max() <= 26, dark
    # below it the eyeball's white, lighter than the line by far
    assert (column[(rows >= 27) & (rows <= 29)] > 0.6 * s).all(), np.round(column / s, 2)
    # an iris in the middle, darker than the white beside it
    assert y[28 - y0, 30 - x0] < 0.6 * s
    # the record's white: darker drawn at a lower share of the skin's luma
    darker = open_shut_eye(src, warped, _eye(0.5, 0.5), moved, tuning=EyesTuning(shut_white_over_skin=0.6))
    assert darker is not None and luma(darker[1])[27 - y0:30 - y0, cols].mean() < column[(rows >= 27) & (rows <= 29)].mean()


def _textured(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(img * 0.6 + 90, 0, 255).astype(np.uint8)


def test_the_photos_own_pixels_read_on_the_eyes_box_give_the_whole_photos_result():
    # a shut eye on a large textured photo, and one at the photo's edge (the border reflected):
    # read from the uint8 photo where sampled, the same bytes as on unit-float copies of it
    redrawn = 0
    for h, w, x0, y in ((700, 900, 613.3, 401.7), (200, 260, 1.2, 14.0), (200, 260, 238.6, 186.0)):
        src = _textured(h, w, 3)
        width = 20.0
        pts_s = _eye(0.5, 0.5, x0, width, y)
        xs, ys = int(round(x0)), int(round(y))
        src[max(ys - 1, 0):ys + 2, max(xs, 0):xs + int(width) + 1] = (LASH * 255).astype(np.uint8)
        moved = _eye(6.5, 1.0, x0, width, y)
        warped = src.copy()
        cv2.fillPoly(warped, [np.round(moved).astype(np.int32)], (LASH * 255).tolist())
        whole = open_shut_eye(src.astype(np.float32) / 255.0, warped.astype(np.float32) / 255.0, pts_s, moved, seed=1)
        boxed = open_shut_eye(src, warped, pts_s, moved, seed=1, unit=255.0)
        assert (whole is None) == (boxed is None)
        if whole is not None and boxed is not None:
            assert whole[0] == boxed[0]
            assert whole[1].dtype == boxed[1].dtype and np.array_equal(whole[1], boxed[1])
            redrawn += 1
    assert redrawn == 3


def test_sampling_the_points_box_gives_the_whole_photos_samples():
    from faceedit.stage.eye_open import _sample

    img = _textured(1500, 2600, 5)
    rng = np.random.default_rng(7)
    for lo, hi in (((2400.0, 1300.0), (2599.0, 1499.0)), ((0.0, 0.0), (40.0, 30.0)), ((1000.0, 700.0), (1090.3, 750.9))):
        pts = rng.uniform(lo, hi, (9, 31, 2))
        pts[0, 0] = hi  # a point on the box's (here the photo's) last pixel
        whole = _sample(img[..., :3].astype(np.float32) / 255.0, pts)
        assert np.array_equal(whole, _sample(img, pts, 255.0))
    # points past the photo's edge: the whole photo read (its border reflected)
    pts = rng.uniform((-3.0, 10.0), (30.0, 40.0), (5, 7, 2))
    assert np.array_equal(_sample(img.astype(np.float32) / 255.0, pts), _sample(img, pts, 255.0))


def test_held_shut_reads_shut_eyes_too_large_to_draw():
    from faceedit.stage.eye_open import held_shut

    lm = np.zeros((68, 2))
    lm[36:42], lm[42:48] = _eye(0.5, 0.5, 20, 30), _eye(0.5, 0.5, 80, 30)  # two shut eyes 30 px wide
    assert held_shut(lm) == (1.0, 1.0)
    assert held_shut(lm, photo_scale=0.5) == (0.0, 0.0)  # 15 px at the photo's own pixels: drawn open
    lm[42:48] = _eye(6.0, 6.0, 80, 30)  # one eye open: a squint or a wink, neither held
    assert held_shut(lm) == (0.0, 0.0)
    lm[42:48] = _eye(0.5, 0.5, 80, 30)
    assert held_shut(lm, EyesTuning(shut_hold_px=40.0)) == (0.0, 0.0)


def test_a_photos_shut_eyes_made_surprised_stay_shut(monkeypatch):
    """Eyes the photo shows shut (the astronaut at twice her size, her eyes 35 px wide, closed by the stage's blink)
    made surprised keep their lids where they were: under them lies what the photo never showed (opened, the
    drawn eyeball read as a ghost's grey ring, a sleeping newborn's made surprised); the brows and mouth move."""
    from skimage.data import astronaut

    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")

    def largest(rgb):
        return max(ed.detector.detect(rgb), key=lambda f: f.area)

    def apertures(rgb):
        lm = np.asarray(largest(rgb).landmarks, np.float64)
        return [opening(lm[a:a + 6]) for a in (36, 42)]

    big = cv2.resize(astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    shut_photo = edit_faces(ed, big, [largest(big)], EditRequest.of("keep", 1.0, controls={"blink": 1.0}))
    face = largest(shut_photo)
    assert max(apertures(shut_photo)) < EyesTuning().shut_aperture
    held = edit_faces(ed, shut_photo, [face], EditRequest.of("surprised", 1.0))
    assert max(apertures(held)) < EyesTuning().shut_aperture
    lm = np.asarray(face.landmarks, np.float64)
    eyes = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    raised = float((lm[[19, 24]] - np.asarray(largest(held).landmarks)[[19, 24]])[:, 1].mean())
    assert raised > 0.03 * eyes  # the brows go up
    monkeypatch.setattr(steps, "held_shut", lambda *a, **k: (0.0, 0.0))
    opened = edit_faces(ed, shut_photo, [face], EditRequest.of("surprised", 1.0))
    assert min(apertures(opened)) > 1.5 * max(apertures(held))
