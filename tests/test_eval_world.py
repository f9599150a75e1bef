"""The world's test set (faceedit.eval.world): the wheels' photos fetched into a cache and checked,
the London photos made small, blurred and compressed."""

import numpy as np
import pytest

from faceedit.eval import world


@pytest.fixture(scope="module")
def fetched():
    """The wheels' photos in the user cache; the tests that need them skip offline."""
    try:
        return world.fetch()
    except world.WorldUnavailable as e:
        pytest.skip(f"the wheels' photos could not be fetched (offline?): {e}")


def test_fetch_gives_every_photo_decoded(fetched):
    assert set(fetched) == {p.name for p in world.PHOTOS}
    for photo in world.PHOTOS:
        rgb = world.read_rgb(fetched[photo.name])
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and min(rgb.shape[:2]) >= 100, photo.name
        assert "never committed" in photo.use


def test_a_changed_wheel_is_refused(tmp_path):
    """A wheel in the cache that is not the pinned upload is refused, not unpacked (no network:
    the file is there, so pip is not asked)."""
    _, filename, _ = world.WHEELS["insightface"]
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / filename).write_bytes(b"not the wheel")
    with pytest.raises(world.WorldUnavailable, match="SHA-256"):
        world.fetch(tmp_path)
    assert not (tmp_path / "images").exists()


def test_cache_is_outside_the_project(monkeypatch, tmp_path):
    monkeypatch.delenv("FACEEDIT_WORLD_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert world.cache_dir() == tmp_path / "faceedit" / "world"
    monkeypatch.setenv("FACEEDIT_WORLD_CACHE", str(tmp_path / "own"))
    assert world.cache_dir() == tmp_path / "own"


def test_world_set_without_wheels_or_london_is_the_astronaut():
    photos = world.world_set(wheels=False)
    assert [p.name for p in photos] == ["astronaut"]
    assert photos[0].rgb.shape == (512, 512, 3)


@pytest.mark.shared_data
def test_london_variants(shared_data):
    out = dict(world.london_variants(shared_data / "london_hd", ids=("008",), expressions=("smiling",)))
    assert sorted(out) == sorted(f"london_008_smiling_{v}" for v in ("small64", "small96", "small128", "blur",
                                                                        "jpeg30"))
    for side in world.SMALL_SIDES:
        assert out[f"london_008_smiling_small{side}"].shape == (side, side, 3)
    whole = world.read_rgb(shared_data / "london_hd" / "smiling" / "008.jpg")
    import cv2

    ref = cv2.resize(whole, (world.VARIANT_SIDE,) * 2, interpolation=cv2.INTER_AREA).astype(np.float64)
    lap = [cv2.Laplacian(cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
           for a in (ref, out["london_008_smiling_blur"])]
    assert lap[1] < 0.2 * lap[0]  # the blur takes most of the detail
    jpeg = out["london_008_smiling_jpeg30"].astype(np.float64)
    assert 0.5 < np.abs(jpeg - ref).mean() < 8  # compressed, still the same photo


@pytest.mark.shared_data
@pytest.mark.parametrize("expression", ("neutral", "smiling"))
def test_small_face_is_cut_from_the_forehead_to_below_the_chin(shared_data, expression):
    """The small crops hold the whole face, as a face cut from a photo on the web does: the 68
    points' chin (8) read on the crop lies at least a tenth of the side above its lower edge, the
    brows (19, 24) at least a twentieth below its top and the jaw's ends (0, 16) inside it (the square cut 2.6
    pupil distances wide and centred 0.35 below the pupils left the chin out: read 62-142 px down
    crops of 64-128 px)."""
    from faceedit.faces.detectors import get_detector

    detector = get_detector("mediapipe")
    photos = dict(world.london_variants(shared_data / "london_hd", ids=("008", "083"), expressions=(expression,)))
    for name, rgb in photos.items():
        if "small" not in name:
            continue
        side = rgb.shape[0]
        lm = np.asarray(detector.detect(rgb)[0].landmarks)
        assert lm[8, 1] <= 0.9 * side, name
        assert lm[[19, 24], 1].min() >= 0.05 * side, name
        assert lm[0, 0] >= 0 and lm[16, 0] <= side, name
