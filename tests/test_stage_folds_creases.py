"""The glabellar lines drawn as creases in the photo's light (faceedit.stage.creases): laid out from
the moved brows' inner ends, uneven by the face's own code, lit on the light's side, never
sharper than the photo's blur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.stage import creases
from faceedit.stage.folds import fold_ratio, shipped_stats
from faceedit.stage.model import Stage
from faceedit.stage.moves import face_frame

SHAPE = (1100, 1100, 3)
ABOVE = np.array([0.0, -1.0])


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px)."""
    return Stage.from_pretrained("stage")._a("mean_shape").astype(np.float64) * 4.0


def _ratio(face, code, light=ABOVE, blur=1.0, lm=None):
    lm = face if lm is None else lm
    (x0, y0, x1, y1), lr = creases.crease_log_ratio(SHAPE, lm, 1.0, np.asarray(code, float), light, blur)
    full = np.zeros(SHAPE[:2])
    full[y0:y1, x0:x1] = lr
    return full


def _sides(face, full):
    """Per side (image left, right) of the brows' inner ends' middle: the darkest log ratio."""
    mid = int(round((face[21, 0] + face[22, 0]) / 2))
    return full[:, :mid].min(), full[:, mid:].min()


def test_even_code_draws_mirror_lines_and_a_face_code_uneven_ones(face):
    left, right = _sides(face, _ratio(face, np.zeros(creases.CODE_SIZE)))
    assert left < -0.05 and abs(left - right) < 0.1 * abs(left)
    code = np.zeros(creases.CODE_SIZE)
    code[0] = 0.8  # the right line deeper (and longer)
    left, right = _sides(face, _ratio(face, code))
    assert right < 1.3 * left, (left, right)
    lines, _, _ = creases.crease_lines(face, code)
    assert lines[1].bottom - lines[1].top > 1.1 * (lines[0].bottom - lines[0].top)


def test_face_code_is_fixed_per_identity_and_continuous():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(40)
    np.testing.assert_array_equal(creases.face_code(a), creases.face_code(a.copy()))
    assert np.all(np.abs(creases.face_code(a)) < 1.0)
    assert np.abs(creases.face_code(a) - creases.face_code(a + 1e-3 * rng.standard_normal(40))).max() < 0.01
    assert np.abs(creases.face_code(a) - creases.face_code(rng.standard_normal(40))).max() > 0.1
    np.testing.assert_array_equal(creases.face_code(None), np.zeros(creases.CODE_SIZE))


def test_creases_follow_the_brows_inner_ends(face):
    ed = face_frame(face)[2]
    moved = face.copy()
    moved[[21, 22]] += np.array([0.0, 0.1 * ed])  # the inner ends drawn down
    code = np.zeros(creases.CODE_SIZE)
    rows = [np.nonzero((_ratio(face, code, lm=lm) < -0.02).any(1))[0] for lm in (face, moved)]
    assert rows[1].mean() - rows[0].mean() > 0.05 * ed
    # a sad face's (AU1+4) are shorter
    full, short = (creases.crease_lines(face, code, sad)[0][0] for sad in (0.0, 1.0))
    assert short.bottom - short.top < 0.9 * (full.bottom - full.top) and short.bottom < full.bottom


def test_lines_bend_out_at_their_lower_ends(face):
    """Not two straight strokes: each line's groove lies further from the middle at its lower end
    than a straight line from its top through its middle would put it."""
    code = np.zeros(creases.CODE_SIZE)
    lines, origin, axes = creases.crease_lines(face, code)
    ed = face_frame(face)[2]
    a = np.linspace(-0.3, 0.3, 6001)
    for ln in lines:
        def centre(t):
            b = ln.top + t * (ln.bottom - ln.top)
            grooves, _ = creases.crease_field(a, np.full_like(a, b), [ln])
            return a[np.argmax(grooves)]
        top, middle, bottom = centre(0.3), centre(0.6), centre(0.95)
        straight = middle + (middle - top) * (0.95 - 0.6) / 0.3
        assert (bottom - straight) * np.sign(ln.a) > 0.002, (top, middle, bottom)
    assert ed > 0


def test_the_bulge_is_lit_on_the_lights_side(face):
    """The bunched skin between the lines: lit from the image's left, its left slope is brighter
    than its right one; lit from above, its top brighter than its foot."""
    code = np.zeros(creases.CODE_SIZE)
    lines, origin, axes = creases.crease_lines(face, code)
    ed = face_frame(face)[2]
    mid_b = np.mean([0.5 * (ln.top + ln.bottom) for ln in lines])
    at = lambda full, da, db: full[tuple(np.round(origin + (da * axes[0] + (mid_b + db) * axes[1]) * ed)[::-1].astype(int))]  # noqa: E731
    full = _ratio(face, code, light=np.array([-1.0, 0.0]))
    assert at(full, -0.02, 0.0) > at(full, 0.02, 0.0) + 0.003
    full = _ratio(face, code, light=ABOVE)
    assert at(full, 0.0, -0.08) > at(full, 0.0, 0.08) + 0.003


def test_photo_blur_reads_a_known_blur():
    rng = np.random.default_rng(0)
    sharp = np.kron(rng.uniform(60, 200, (40, 40)), np.ones((8, 8)))  # steps every 8 px
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(40, 280, 68)
    lm[:, 1] = 160
    lm[36:42] = [100, 160]
    lm[42:48] = [220, 160]
    for sigma in (1.0, 2.0):
        img = np.repeat(cv2.GaussianBlur(sharp, (0, 0), sigma)[..., None], 3, 2).astype(np.uint8)
        assert abs(creases.photo_blur(img, lm) - sigma) < 0.35 * sigma, (sigma, creases.photo_blur(img, lm))


def test_creases_are_no_sharper_than_the_photo(face):
    """Drawn on a blurrier photo the lines' steepest edge is gentler (a line is never sharper than
    the skin's detail round it)."""
    code = np.zeros(creases.CODE_SIZE)
    steep = [np.abs(np.diff(_ratio(face, code, blur=b), axis=1)).max() for b in (0.5, 4.0)]
    assert steep[1] < 0.85 * steep[0], steep


def test_fold_ratio_draws_the_glabella_as_creases(face):
    """The stage's folds draw the glabellar lines through the crease module: its ratio is the
    creases' where no other kind is asked for."""
    stats = shipped_stats()
    assert stats is not None
    code = np.full(creases.CODE_SIZE, 0.3)
    (x0, y0, x1, y1), ratio = fold_ratio(SHAPE, face, {"glabella": 1.0}, stats.params, ABOVE, code=code, blur_px=1.2)
    (c0, r0, c1, r1), lr = creases.crease_log_ratio(SHAPE, face, 1.0, code, ABOVE, 1.2)
    np.testing.assert_allclose(np.log(ratio[r0 - y0:r1 - y0, c0 - x0:c1 - x0]), lr, atol=1e-9)


def _paler_strip(face, lift):
    """A flat grey photo with the skin between the creases ``lift`` (a log ratio) lighter, softly
    edged, and the brows drawn dark."""
    img = np.full(SHAPE, 150.0)
    lines, origin, axes = creases.crease_lines(face, np.zeros(creases.CODE_SIZE))
    ed = face_frame(face)[2]
    gy, gx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype(np.float64)
    a = ((gx - origin[0]) * axes[0, 0] + (gy - origin[1]) * axes[0, 1]) / ed
    b = ((gx - origin[0]) * axes[1, 0] + (gy - origin[1]) * axes[1, 1]) / ed
    strip = np.exp(-0.5 * (a / 0.04) ** 2) * (b > -0.25) * (b < 0.1)
    img *= np.exp(lift * strip)[..., None]
    for i in range(17, 26):
        if i != 21:
            cv2.line(img, tuple(int(v) for v in face[i]), tuple(int(v) for v in face[i + 1]), (60, 60, 60), 12)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_pale_strip_between_the_creases_is_brought_to_the_forehead(face):
    """The photo's skin between the lines 8 % lighter than the forehead beside the brows' heads
    reads so in strip_excess; drawn over, the strip is no lighter than the forehead (within 2 % at
    its soft top, none over the strip), and a photo without one keeps about its forehead's luma
    between the lines (no pale strip, no dark one: within 3 % under it, the grooves' tails)."""
    from faceedit.stage.folds import paint_folds

    stats = shipped_stats()
    pale, flat = _paler_strip(face, 0.08), _paler_strip(face, 0.0)
    before = creases.strip_excess(pale, face)
    assert before.shape == (creases.STRIP_ROWS,)
    assert before.max() > 0.05, before
    assert np.abs(creases.strip_excess(flat, face)).max() < 0.01
    drawn = paint_folds(pale, face, {"glabella": 1.0}, stats.params, code=np.zeros(creases.CODE_SIZE))
    after = creases.strip_excess(drawn, face)
    assert after.max() < 0.02 and after.mean() < 0.005, after  # two levels of 150 at its soft top
    plain = creases.strip_excess(paint_folds(flat, face, {"glabella": 1.0}, stats.params,
                                             code=np.zeros(creases.CODE_SIZE)), face)
    assert plain.max() < 0.01 and plain.min() > -0.03, plain  # the grooves' tails: at most 3 levels darker
