"""Alignment, masks and full-resolution paste-back (offline: skimage's astronaut + synthetic)."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from faceedit.faces.align import align_face, apply_affine, similarity_transform
from faceedit.faces.paste import face_mask, paste_back
from faceedit.faces.types import CropTemplate, Face
from faceedit.pixels import luma

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skdata.astronaut())


@pytest.fixture(scope="module")
def face68(astronaut) -> Face:
    from faceedit.faces.detectors import get_detector

    faces = get_detector("dlib").detect(astronaut)
    assert len(faces) == 1
    return faces[0]


@pytest.fixture(scope="module")
def face5(face68) -> Face:
    return Face(box=face68.box.copy(), landmarks=face68.five, score=face68.score, detector="test")


def _scaled_face(face: Face, k: float, offset=(0.0, 0.0)) -> Face:
    """The same face in a copy of the image resized by k (pixel-centre convention) and shifted."""
    lm = (np.asarray(face.landmarks) + 0.5) * k - 0.5 + np.asarray(offset)
    box = np.asarray(face.box) * k + np.tile(offset, 2)
    return Face(box=box, landmarks=lm, score=face.score, detector=face.detector)


def _ycbcr(rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
    return rgb.astype(np.float64) @ m.T


def _lap_var(img: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(g, cv2.CV_64F).var())


# ---------------------------------------------------------------------------------------------


def test_similarity_transform_recovers_known_similarity():
    rng = np.random.default_rng(0)
    for _ in range(20):
        th, s = rng.uniform(-np.pi, np.pi), rng.uniform(0.1, 5.0)
        t = rng.uniform(-300, 300, 2)
        r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        m = np.hstack([s * r, t[:, None]])
        src = rng.uniform(0, 500, (5, 2))
        dst = apply_affine(m, src)
        est = similarity_transform(src, dst)
        np.testing.assert_allclose(est, m, atol=1e-8, rtol=1e-8)
        # least squares with noise: still close, never a reflection
        est2 = similarity_transform(src, dst + rng.normal(0, 0.5, dst.shape))
        assert np.linalg.det(est2[:, :2]) > 0
        np.testing.assert_allclose(est2[:, :2], m[:, :2], atol=0.05 * s + 0.01)


def test_similarity_transform_no_reflection_and_degenerate():
    src = np.array([[0.0, 0], [3, 0], [0, 1], [1, 2], [4, 5]])
    mirrored = src * [-1, 1]
    m = similarity_transform(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0
    with pytest.raises(ValueError):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))


def test_align_puts_landmarks_on_template(astronaut, face68):
    t = CropTemplate(size=128)
    al = align_face(astronaut, face68, t)
    assert al.crop.shape == (128, 128, 3) and al.crop.dtype == np.uint8
    assert al.landmarks.shape == (68, 2)
    five = apply_affine(al.matrix, face68.five)
    # eyes land near the template eyes (the fit balances all 5 points; this face smiles widely)
    assert np.abs(five[:2] - t.points()[:2]).max() < 5.0
    assert np.abs(five - t.points()).max() < 8.0
    # size override
    al2 = align_face(astronaut, face68, t, size=64)
    assert al2.crop.shape == (64, 64, 3)


def test_paste_identity_leaves_photo_unchanged(astronaut, face68, face5):
    for face in (face68, face5):
        for size in (64, 128, 256):
            for cm in (True, False):
                img = astronaut.copy()
                al = align_face(img, face, CropTemplate(size=size))
                paste_back(img, al, al.crop.astype(np.float32), color_match=cm)
                assert np.abs(img.astype(int) - astronaut.astype(int)).max() <= 1


def test_mask_follows_the_mesh_face_oval(astronaut):
    """With a face mesh the mask is the mesh's face oval (forehead and temples as they are):
    about 1 well inside it, 0 just outside, and not the 68-point mask."""
    import dataclasses

    from faceedit.faces.detectors import get_detector
    from faceedit.faces.mesh68 import face_oval

    face = max(get_detector("mediapipe").detect(astronaut), key=lambda f: f.area)
    al = align_face(astronaut, face, CropTemplate(size=256))
    m = face_mask(al)
    oval = apply_affine(al.matrix, face_oval(face.dense))
    c = oval.mean(0)
    for k, test in ((0.7, lambda v: v > 0.9), (1.06, lambda v: v < 0.01)):
        for x, y in np.clip(np.rint(c + k * (oval - c)), 0, 255).astype(int):
            assert test(m[y, x]), (k, x, y, m[y, x])
    flat = align_face(astronaut, dataclasses.replace(face, dense=None), CropTemplate(size=256))
    assert np.abs(face_mask(flat) - m).max() > 0.5


def test_strength_zero_is_unchanged(astronaut, face68):
    img = astronaut.copy()
    al = align_face(img, face68, CropTemplate())
    edited = 255.0 - al.crop.astype(np.float32)
    paste_back(img, al, edited, strength=0.0)
    assert np.array_equal(img, astronaut)
    paste_back(img, al, edited, strength=0.5)
    assert not np.array_equal(img, astronaut)


def test_mask_zero_at_border_one_at_centre(astronaut, face68, face5):
    for face in (face68, face5):
        for size in (32, 64, 128, 256, 512):
            al = align_face(astronaut, face, CropTemplate(size=size))
            m = face_mask(al)
            assert m.shape == (size, size) and m.dtype == np.float32
            assert m.min() >= 0 and m.max() <= 1
            for edge in (m[0], m[-1], m[:, 0], m[:, -1]):
                assert np.all(edge == 0)
            nose = apply_affine(al.matrix, face.five[2:3])[0]
            cx, cy = int(round(nose[0])), int(round(nose[1]))
            assert m[cy, cx] > 0.99
            assert m[cy - size // 16, cx] > 0.99  # between the eyes and the nose tip
            assert 0.15 < m.mean() < 0.7


def test_brightness_edit_and_color_match(astronaut, face68):
    """color_match=False keeps a global brightness change (lighting models); True removes it."""
    t = CropTemplate(size=128)
    al = align_face(astronaut, face68, t)
    edited = al.crop.astype(np.float32) * 0.8  # darken
    nose = face68.landmarks[30]
    ys, xs = int(nose[1]), int(nose[0])
    sl = (slice(ys - 5, ys + 5), slice(xs - 5, xs + 5))
    kept = astronaut.copy()
    paste_back(kept, al, edited, color_match=False)
    d_kept = kept[sl].astype(float).mean() - astronaut[sl].astype(float).mean()
    matched = astronaut.copy()
    paste_back(matched, al, edited, color_match=True)
    d_matched = matched[sl].astype(float).mean() - astronaut[sl].astype(float).mean()
    ref = -0.2 * astronaut[sl].astype(float).mean()
    assert abs(d_kept - ref) < 0.15 * abs(ref)
    assert abs(d_matched) < 2.0
    # outside the mask nothing changes
    assert np.array_equal(kept[:40], astronaut[:40])
    assert np.array_equal(kept[:, 330:], astronaut[:, 330:])


def test_luminance_only_keeps_chroma(astronaut, face68):
    t = CropTemplate(size=128)
    al = align_face(astronaut, face68, t)
    crop = al.crop.astype(np.float32)
    for edited in (luma(crop) * 0.75 + 10.0, crop[:, :, ::-1] * 0.75 + 10.0):
        img = astronaut.copy()
        paste_back(img, al, edited, luminance_only=True, color_match=False)
        before, after = _ycbcr(astronaut), _ycbcr(img)
        changed = np.abs(after[..., 0] - before[..., 0]) > 3
        unclipped = (img > 0).all(-1) & (img < 255).all(-1)
        sel = changed & unclipped
        assert sel.sum() > 3000  # the edit did something
        assert np.abs(after[..., 1:][sel] - before[..., 1:][sel]).max() <= 0.51


def test_a_grey_photo_stays_grey(astronaut, face68):
    """A network that edits in colour (here: the crop tinted red and brightened) adds no tint to
    a black-and-white photo: its change is pasted as luma; a colour photo takes the tint."""
    grey = np.repeat(luma(astronaut.astype(np.float32)).round().astype(np.uint8)[..., None], 3, 2)
    for photo, tinted in ((grey, False), (astronaut, True)):
        al = align_face(photo, face68, CropTemplate(size=128))
        edited = al.crop.astype(np.float32) * 0.8 + np.array([60.0, 10.0, 10.0], np.float32)
        img = photo.copy()
        paste_back(img, al, edited, color_match=False)
        assert np.abs(img.astype(int) - photo).max() > 20  # the edit did something
        red = (img[..., 0].astype(int) - img[..., 1]) - (photo[..., 0].astype(int) - photo[..., 1])
        assert (np.abs(red).max() > 20) == tinted, np.abs(red).max()
        if not tinted:
            assert np.abs(img.astype(int) - img[..., :1]).max() <= 1


def test_uint16_round_trip(astronaut, face68):
    rng = np.random.default_rng(1)
    noise = rng.integers(-100, 100, astronaut.shape)
    img16 = np.clip(astronaut.astype(np.int64) * 257 + noise, 0, 65535).astype(np.uint16)
    orig16 = img16.copy()
    t = CropTemplate(size=128)
    al16 = align_face(img16, face68, t)
    al8 = align_face(astronaut, face68, t)
    assert al16.crop.dtype == np.uint8
    assert np.abs(al16.crop.astype(int) - al8.crop.astype(int)).max() <= 1
    paste_back(img16, al16, al16.crop.astype(np.float32))
    assert np.array_equal(img16, orig16)
    # an edit changes the uint16 photo by 257x the uint8 change
    ed = al16.crop.astype(np.float32) + 20.0
    paste_back(img16, al16, ed, color_match=False)
    img8 = astronaut.copy()
    paste_back(img8, al8, al8.crop.astype(np.float32) + 20.0, color_match=False)
    d16 = (img16.astype(float) - orig16) / 257.0
    d8 = img8.astype(float) - astronaut
    assert d16.max() > 15
    assert np.abs(d16 - d8).max() <= 1.6


def test_large_photo_keeps_high_frequency_detail(astronaut, face68):
    """A 128-px edit pasted onto a 2000-px photo: the photo keeps its own fine detail."""
    k = 2000 / 512
    rng = np.random.default_rng(2)
    big = cv2.resize(astronaut, (2000, 2000), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    big += rng.normal(0, 6.0, big.shape).astype(np.float32)  # fine texture / grain
    big = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    face = _scaled_face(face68, k)
    t = CropTemplate(size=128)
    al = align_face(big, face, t)
    assert al.extra["scale"] < 0.5
    edited = cv2.GaussianBlur(al.crop.astype(np.float32), (0, 0), 1.5) + 12.0  # blurry + brighter

    ours = big.copy()
    paste_back(ours, al, edited, color_match=False)

    # naive: warp the (blurred) 128-px output itself up to the photo and blend it with the mask
    mask = face_mask(al)
    h, w = big.shape[:2]
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    up = cv2.warpAffine(edited, al.matrix, (w, h), flags=flags)
    m_up = cv2.warpAffine(mask, al.matrix, (w, h), flags=flags)[:, :, None]
    naive = np.clip(np.rint(big * (1 - m_up) + up * m_up), 0, 255).astype(np.uint8)

    # inner face region (mask ~1)
    cx, cy = face.landmarks[30]
    r = int(0.25 * (face.box[2] - face.box[0]))
    sl = (slice(int(cy) - r, int(cy) + r), slice(int(cx) - r, int(cx) + r))
    v_orig, v_ours, v_naive = _lap_var(big[sl]), _lap_var(ours[sl]), _lap_var(naive[sl])
    print(f"Laplacian variance in face: photo {v_orig:.1f} ours {v_ours:.1f} naive {v_naive:.1f}")
    assert v_ours > 0.8 * v_orig
    assert v_naive < 0.2 * v_orig
    # the low-frequency change is transferred
    d = ours[sl].astype(float).mean() - big[sl].astype(float).mean()
    assert 9.0 < d < 14.0


def test_large_face_crop_is_antialiased(astronaut, face68):
    """Aligning a 4x larger copy gives (nearly) the same crop as aligning the original."""
    k = 4.0
    big = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    t = CropTemplate(size=128)
    a_small = align_face(astronaut, face68, t)
    a_big = align_face(big, _scaled_face(face68, k), t)
    np.testing.assert_allclose(a_big.matrix[:, :2] * k, a_small.matrix[:, :2], rtol=1e-6)
    diff = np.abs(a_big.crop.astype(float) - a_small.crop.astype(float))
    assert diff.mean() < 2.0
    # and a striped (aliasing-prone) photo gives a smooth, mid-grey crop
    yy, xx = np.mgrid[0:2048, 0:2048]
    stripes = np.where((xx + yy) % 4 < 2, 255, 0).astype(np.uint8)
    stripes = np.repeat(stripes[:, :, None], 3, axis=2)
    face = _scaled_face(face68, 2048 / 512)
    crop = align_face(stripes, face, t).crop.astype(float)
    assert abs(crop.mean() - 127.5) < 4 and crop[8:-8, 8:-8].std() < 6


def test_face_near_image_border(astronaut, face68):
    """A face cut by the image edge: reflect-padded crop, paste stays inside the image."""
    img = np.ascontiguousarray(astronaut[90:, 185:])  # face partly outside on the top and left
    face = _scaled_face(face68, 1.0, offset=(-185.0, -90.0))
    al = align_face(img, face, CropTemplate(size=128))
    assert al.crop.shape == (128, 128, 3)
    out = img.copy()
    paste_back(out, al, al.crop.astype(np.float32))
    assert np.abs(out.astype(int) - img).max() <= 1
    paste_back(out, al, al.crop.astype(np.float32) * 0.5, color_match=False)
    assert not np.array_equal(out, img)


def test_replicate_border_only_repeats_the_edge(astronaut, face68):
    """Training crops (faceedit prepare) of a face cut by the frame repeat the edge pixels instead
    of mirroring the photo, so no second copy of the face appears outside the frame."""
    img = np.ascontiguousarray(astronaut[90:, 185:])
    face = _scaled_face(face68, 1.0, offset=(-185.0, -90.0))
    t = CropTemplate(size=128)
    rep = align_face(img, face, t, border="replicate")
    ref = align_face(img, face, t)
    inside = cv2.warpAffine(np.ones(img.shape[:2], np.uint8), rep.matrix, (128, 128), flags=cv2.INTER_NEAREST)
    outside = cv2.erode(1 - inside, np.ones((5, 5), np.uint8)).astype(bool)  # 2 px clear of the edge
    assert outside.mean() > 0.05
    # each pixel outside the frame should hold the photo's pixel at the clamped position
    ys, xs = np.nonzero(outside)
    inv = np.linalg.inv(np.vstack([rep.matrix, [0, 0, 1]]))[:2]
    px = apply_affine(inv, np.stack([xs, ys], 1).astype(np.float64))
    cx = np.clip(np.rint(px[:, 0]), 0, img.shape[1] - 1).astype(int)
    cy = np.clip(np.rint(px[:, 1]), 0, img.shape[0] - 1).astype(int)
    edge = img[cy, cx].astype(float)

    def off_edge(crop):
        return float(np.abs(crop[ys, xs].astype(float) - edge).mean())

    assert off_edge(rep.crop) < 4.0
    assert off_edge(ref.crop) > 3 * off_edge(rep.crop)  # the mirror brings in the photo's inside
    same = inside.astype(bool) & ~cv2.dilate(1 - inside, np.ones((5, 5), np.uint8)).astype(bool)
    assert np.abs(rep.crop[same].astype(int) - ref.crop[same]).max() <= 1


def test_huge_photo_works_on_roi_only(astronaut, face68):
    """A 50-megapixel photo: align + paste allocate memory for the face's region only."""
    h, w = 6000, 8400  # 50.4 MP, 151 MB; np.zeros pages are not touched unless read/written
    photo = np.zeros((h, w, 3), dtype=np.uint8)
    k = 1.5
    face_img = cv2.resize(astronaut, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    oy, ox = 3000, 5000
    photo[oy:oy + face_img.shape[0], ox:ox + face_img.shape[1]] = face_img
    face = _scaled_face(face68, k, offset=(ox, oy))
    t = CropTemplate(size=256)
    tracemalloc.start()
    try:
        al = align_face(photo, face, t)
        paste_back(photo, al, al.crop.astype(np.float32) + 10.0, color_match=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * photo.nbytes, peak
    nx, ny = face.landmarks[30]
    assert photo[int(ny), int(nx)].astype(int).sum() > 0
    assert not photo[:oy - 200].any()  # nothing written far away


def test_smooth_passes_the_edit_and_drops_pixel_noise(astronaut, face68):
    al = align_face(astronaut, face68, CropTemplate())
    rng = np.random.default_rng(0)
    base = al.crop.astype(np.float32) + 30.0  # the edit: a smooth brightening
    noisy = base + rng.normal(0, 25, base.shape).astype(np.float32)  # plus generator noise
    outs = {}
    for smooth in (0.0, 1.5):
        img = astronaut.copy()
        paste_back(img, al, noisy, color_match=False, smooth=smooth)
        outs[smooth] = img.astype(np.float32) - astronaut
    face = (slice(110, 160), slice(190, 250))
    for d in outs.values():  # the brightening arrives either way
        assert d[face].mean() > 20
    hf = {k: np.abs(cv2.Laplacian(v[face].mean(2), cv2.CV_32F)).mean() for k, v in outs.items()}
    assert hf[1.5] < 0.3 * hf[0.0]


def test_every_crop_is_cut_without_aliasing():
    """warp_crop (the one path every crop takes: editing, training sources and their registered
    targets) shrinks a fine pattern to its mean grey; a bare cv2.warpAffine with INTER_AREA, as
    training targets were once cut, is bilinear and aliases it into stripes."""
    import cv2

    from faceedit.faces.align import warp_crop

    yy, xx = np.mgrid[0:512, 0:512]
    pattern = np.where((xx // 2 + yy // 2) % 2 == 0, 255, 0).astype(np.uint8)
    img = np.dstack([pattern] * 3)
    m = np.array([[0.23, 0.0, 3.0], [0.0, 0.23, 5.0]])  # image -> 100-px crop, about 1/4
    crop, scale, _ = warp_crop(img, m, 100, "replicate")
    assert abs(scale - 0.23) < 1e-6
    inner = crop[5:-5, 5:-5].astype(float)
    assert abs(inner.mean() - 127.5) < 8 and inner.std() < 12
    aliased = cv2.warpAffine(img, m, (100, 100), flags=cv2.INTER_AREA)[5:-5, 5:-5].astype(float)
    assert aliased.std() > 3 * inner.std()
