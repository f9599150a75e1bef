"""teeth_look's and blur_reading's fast helpers give numpy's own values; small_edge changes only the opening; a smile's
teeth are taken no bluer than the eye whites."""

from __future__ import annotations

import numpy as np

from faceedit.stage import teeth_look
from faceedit.stage.blur_reading import _hypot, _percentile, edge_blur, luma_of
from faceedit.stage.teeth_look import small_edge


def test_percentile_is_numpys():
    rng = np.random.default_rng(3)
    for i in range(400):
        n = int(rng.integers(2, 2000))
        v = rng.random(n).astype(np.float32) if i % 2 else rng.integers(0, 4, n).astype(np.float32)
        for q in (10.0, 50.0, 90.0, 99.5):
            a, b = np.percentile(v, q), _percentile(v, q)
            assert a == b and np.asarray(a).dtype == np.asarray(b).dtype


def test_hypot_and_luma_are_numpys():
    rng = np.random.default_rng(4)
    x, y = (rng.standard_normal((2, 200_000)) * [[300.0], [0.01]]).astype(np.float32)
    assert np.array_equal(_hypot(x, y), np.hypot(x, y))
    w = rng.integers(0, 256, (120, 90, 3)).astype(np.uint8)
    assert np.array_equal(luma_of(w), w.astype(np.float32) @ np.asarray((0.299, 0.587, 0.114)))


def test_edge_blur_reads_a_blurred_step():
    g = np.zeros((40, 40), np.float32)
    g[:, 20:] = 1.0
    import cv2

    sharp = edge_blur(g, np.ones(g.shape, bool))
    soft = edge_blur(cv2.GaussianBlur(g, (0, 0), 2.0), np.ones(g.shape, bool))
    assert soft > sharp + 1.0


def test_edge_blur_is_the_whole_windows_reading():
    """edge_blur reads the reblurred gradient at the strongest edges alone: the same sigma as
    from its magnitude at every pixel of ``where``."""
    import cv2

    from faceedit.stage import blur_reading

    def whole(g, where):  # both magnitudes at every pixel of ``where``, then the strongest taken
        def grad(x):
            gx, gy = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
            return np.hypot(gx[where], gy[where])
        v0, v1 = grad(g), grad(cv2.GaussianBlur(g, (0, 0), blur_reading.REBLUR_SIGMA))
        strong = v0 >= max(float(np.percentile(v0, blur_reading.EDGE_PERCENTILE)), 1e-4)
        r = v0[strong] / np.maximum(v1[strong], 1e-6)
        r = r[r > 1.0 + 1e-3]
        return 0.0 if r.size < 4 else float(np.clip(blur_reading.REBLUR_SIGMA / np.sqrt(np.median(r) ** 2 - 1.0), 0, 4))

    rng = np.random.default_rng(6)
    for i in range(60):
        h, w = (int(v) for v in rng.integers(8, 120, 2))
        g = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.3, 3.0)))
        where = rng.random((h, w)) > (0.9 if i % 3 == 0 else 0.2)
        assert edge_blur(g, where) == whole(g, where)


def test_edge_blur_of_a_flat_window_is_zero():
    """A window with no gradient anywhere (a flat patch round a small opening) reads no blur,
    not an error: none of its pixels is a strong edge."""
    flat = np.full((24, 24), 0.4, np.float32)
    assert edge_blur(flat, np.ones(flat.shape, bool)) == 0.0


def test_small_edge_changes_only_the_opening():
    rng = np.random.default_rng(5)
    img = rng.integers(60, 200, (200, 220, 3)).astype(np.uint8)
    opening = np.zeros((120, 140), np.float32)
    yy, xx = np.mgrid[:120, :140]
    opening[((xx - 70) / 20.0) ** 2 + ((yy - 60) / 6.0) ** 2 < 1] = 1.0
    opening[((xx - 70) / 21.0) ** 2 + ((yy - 60) / 7.0) ** 2 < 1] += 0.3
    opening = np.clip(opening, 0, 1)
    out = img.copy()
    small_edge(out, (40, 30, 180, 150), opening, 40.0)
    changed = np.any(out != img, -1)
    assert changed.any()
    covered = np.zeros(img.shape[:2], bool)
    covered[30:150, 40:180] = opening > 0
    assert not (changed & ~covered).any()


def _teeth_over_dark(teeth, dark, seed):
    """A fill's pixels (400, 3): 300 of teeth of colour ``teeth`` and 100 of a dark interior, with grain."""
    rng = np.random.default_rng(seed)
    pixels = np.vstack([np.asarray(teeth) + rng.normal(0, 0.01, (300, 3)), np.asarray(dark) + rng.normal(0, 0.01, (100, 3))])
    return np.clip(pixels, 0, 1).astype(np.float32)


def _cb_over_luma(c):
    c = np.asarray(c, np.float64)
    return float(c @ teeth_look._CB) / float(c @ teeth_look._LUMA)


def test_warm_to_sclera_takes_blue_teeth_toward_warm_eye_whites():
    # a bank's neutral-to-blue white teeth over a dark interior, beside a dark face's yellow eye whites
    fill = _teeth_over_dark([0.68, 0.66, 0.68], [0.2, 0.1, 0.1], seed=0)
    sclera = np.array([0.55, 0.50, 0.45])
    out = teeth_look.warm_to_sclera(fill, sclera)
    before, after = teeth_look._teeth_colour(fill), teeth_look._teeth_colour(out)
    gap = _cb_over_luma(before) - _cb_over_luma(sclera)
    assert gap > 0.05
    assert _cb_over_luma(after) - _cb_over_luma(sclera) <= teeth_look.TEETH_CB_OVER_SCLERA + 2e-3
    assert abs(float(after @ teeth_look._LUMA) - float(before @ teeth_look._LUMA)) < 2e-3  # the teeth's luma kept
    assert after[0] / after[2] > before[0] / before[2]  # warmer: more red over blue
    # teeth already as warm as the eye whites allow are left as they are
    assert np.array_equal(teeth_look.warm_to_sclera(out, sclera * [0.9, 1.0, 1.2]), out)
    # a skin-coloured eye-white reading moves them no yellower than real teeth are
    far = teeth_look.warm_to_sclera(fill, np.array([0.6, 0.4, 0.25]))
    assert _cb_over_luma(teeth_look._teeth_colour(far)) >= teeth_look.TEETH_CB_MIN - 2e-3


def test_teeth_under_skin_cast_take_an_amber_cast_the_eye_whites_missed():
    """A varnished painting or a tungsten-lit photo: amber skin round the mouth, the bank's teeth left near white by
    the eye whites' limited balance read lilac beside it (the Mona Lisa: 0.28 bluer than the skin in Cb over luma;
    real smiles at most 0.133) or grey-green (less red than the skin by more than real teeth are). Taken toward the
    skin's colour to those bounds, luma kept; teeth beside ordinary skin untouched."""
    amber = np.array([0.675, 0.388, 0.118])
    for teeth in ([0.75, 0.46, 0.41], [0.70, 0.70, 0.68]):  # pinkish, grey
        fill = _teeth_over_dark(teeth, [0.2, 0.1, 0.08], seed=2)
        before = teeth_look._teeth_colour(fill)
        assert _cb_over_luma(before) - _cb_over_luma(amber) > 0.2
        after = teeth_look._teeth_colour(teeth_look.under_skin_cast(fill, amber))
        assert _cb_over_luma(after) - _cb_over_luma(amber) <= teeth_look.TEETH_CB_OVER_SKIN + 3e-3
        assert _cr_over_luma(amber) - _cr_over_luma(after) <= teeth_look.TEETH_CR_UNDER_SKIN + 3e-3
        assert _cr_over_luma(after) >= _cr_over_luma(before) - 1e-3  # yellower, not green
        assert abs(float(after @ teeth_look._LUMA) - float(before @ teeth_look._LUMA)) < 3e-3
    # the bank's white teeth beside a London face's skin: as they were
    white = _teeth_over_dark([0.83, 0.82, 0.79], [0.2, 0.1, 0.1], seed=3)
    assert np.array_equal(teeth_look.under_skin_cast(white, np.array([0.66, 0.51, 0.43])), white)


def _cr_over_luma(c):
    c = np.asarray(c, np.float64)
    return float(c @ teeth_look._CR) / float(c @ teeth_look._LUMA)


def test_warm_to_sclera_reddens_green_teeth_to_open_eyes_whites_only():
    # a bank's teeth gone yellow-green beside a warm photo's eye whites (group_t1's turned face)
    fill = _teeth_over_dark([0.82, 0.70, 0.52], [0.25, 0.12, 0.1], seed=1)
    sclera = np.array([0.78, 0.58, 0.44])
    before = teeth_look._teeth_colour(fill)
    assert _cr_over_luma(sclera) - _cr_over_luma(before) > teeth_look.TEETH_CR_UNDER_SCLERA + 0.02
    after = teeth_look._teeth_colour(teeth_look.warm_to_sclera(fill, sclera))
    assert _cr_over_luma(sclera) - _cr_over_luma(after) <= teeth_look.TEETH_CR_UNDER_SCLERA + 2e-3
    assert abs(_cb_over_luma(after) - _cb_over_luma(before)) < 3e-3  # as yellow as they were
    assert abs(float(after @ teeth_look._LUMA) - float(before @ teeth_look._LUMA)) < 3e-3
    # eyes too narrow to show their whites (a skin reading): left as they are
    assert np.array_equal(teeth_look.warm_to_sclera(fill, sclera, red=False), fill)
    # a skin-coloured reading lifts them no redder than real teeth read
    far = teeth_look._teeth_colour(teeth_look.warm_to_sclera(fill, np.array([0.8, 0.45, 0.3])))
    assert _cr_over_luma(far) <= teeth_look.TEETH_CR_MAX + 3e-3


def test_whites_shown_reads_narrowed_eyes_as_lids():
    from faceedit.stage.mouth import SCLERA_OPEN, whites_shown

    lm = np.zeros((68, 2))
    for a, x in ((36, 0.0), (42, 40.0)):  # two eyes 30 px wide, lids 10 px apart
        lm[a:a + 6] = [[x, 0], [x + 10, -5], [x + 20, -5], [x + 30, 0], [x + 20, 5], [x + 10, 5]]
    assert whites_shown(lm)
    lm[[43, 44], 1] = lm[[47, 46], 1] - 0.9 * SCLERA_OPEN * 30  # one eye narrowed under the bar
    assert not whites_shown(lm)


def test_photo_blur_fast_reads_the_exact_sigma():
    """The fast render's photo_blur (float32 luma and magnitudes) reads the exact one's sigma
    within 1e-4 px, on sharp and blurred windows of random edges."""
    import cv2

    from faceedit.stage.blur_reading import photo_blur
    from faceedit.stage.precision import exact_render

    rng = np.random.default_rng(9)
    read = []
    for i in range(20):
        h, w = (int(v) for v in rng.integers(40, 160, 2))
        img = (rng.random((h // 4 + 1, w // 4 + 1, 3)) * 255).astype(np.uint8)
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 3.0)))
        poly = np.array([[w * 0.3, h * 0.4], [w * 0.7, h * 0.4], [w * 0.7, h * 0.6], [w * 0.3, h * 0.6]])
        with exact_render():
            exact = photo_blur(img, poly)
        fast = photo_blur(img, poly)
        assert abs(fast - exact) < 1e-4, (i, fast, exact)
        read.append(exact)
    assert max(read) > 0.5 and min(read) < max(read) / 2  # the windows read a range of blurs


def test_small_detail_adds_the_high_pass_by_weight_and_keeps_the_dtype():
    from faceedit.stage.teeth_look import small_detail

    img = np.full((12, 24, 3), 200, np.uint8)
    img[:, ::4] = 150  # the gaps between teeth
    np.testing.assert_array_equal(small_detail(img, 0.0, 1.5), img)
    out = small_detail(img, 1.0, 1.5)
    assert out.dtype == np.uint8

    def gap(a):  # a gap's luma less a tooth's middle's
        return float(a[:, 4::4].mean()) - float(a[:, 6::4].mean())

    assert gap(out) < gap(img) - 10  # the gaps darker against the teeth
    half = small_detail(img, 0.5, 1.5)
    assert gap(out) < gap(half) < gap(img)


def test_small_detail_sharpens_less_as_the_photo_is_softer():
    """A soft photo's own small teeth show no sharpened gaps (insightface's group_t1): over
    ``SMALL_DETAIL_BLUR``'s second the exemplar is left as it is, between its two a part."""
    from faceedit.stage.teeth_look import SMALL_DETAIL_BLUR, small_detail

    img = np.full((12, 24, 3), 200, np.uint8)
    img[:, ::4] = 150

    def gap(a):
        return float(a[:, 4::4].mean()) - float(a[:, 6::4].mean())

    lo, hi = SMALL_DETAIL_BLUR
    np.testing.assert_array_equal(small_detail(img, 1.0, 2.5, blur=hi), img)
    np.testing.assert_array_equal(small_detail(img, 1.0, 2.5, blur=lo), small_detail(img, 1.0, 2.5))
    part = gap(small_detail(img, 1.0, 2.5, blur=(lo + hi) / 2))
    assert gap(small_detail(img, 1.0, 2.5)) < part - 5 and part < gap(img) - 5


def test_small_detail_keeps_each_pixel_s_colour():
    """Only the luma is sharpened: a warm gap between white teeth grows no cyan or green fringe."""
    from faceedit.stage.teeth_look import small_detail

    img = np.full((12, 24, 3), (225, 215, 200), np.uint8)
    img[:, ::4] = (150, 80, 70)  # warm gaps
    out = small_detail(img, 1.0, 2.5).astype(np.float64) + 1e-9
    src = img.astype(np.float64)
    chroma = out / out.sum(-1, keepdims=True) - src / src.sum(-1, keepdims=True)
    lit = out.sum(-1) > 30  # the gaps may fall to black, where no colour is left to read
    assert lit.mean() > 0.5 and np.abs(chroma[lit]).max() < 0.01
    assert not np.array_equal(out.round(), src)
