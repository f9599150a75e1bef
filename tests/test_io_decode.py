"""Decoding photos (faceedit.io.decode): formats, EXIF orientation, alpha, grey, 16 bits, CMYK,
and every way a file can fail to decode."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from _imgs import (
    RED,
    astronaut,
    cmyk_icc_profile,
    gradient,
    marker,
    marker_corner,
    write_png_header_only,
    write_solid_png,
)
from _io_files import ORIENTATION, exif_with
from PIL import Image, ImageOps

from faceedit.errors import ImageError
from faceedit.io.decode import LoadedImage, read_image
from faceedit.io.encode import write_image
from faceedit.pixels import to_uint8


def test_rgb8_rounds_16_bit_values():
    values = np.array([0, 128, 129, 257, 32896, 65407, 65535], np.uint16)
    pixels = np.repeat(values[None, :, None], 3, axis=2)
    image = LoadedImage("x", pixels, None, "PNG", False, None, None, False)
    eight = image.rgb8()
    assert eight.dtype == np.uint8 and eight[0, :, 0].tolist() == [
        round(v / 257) for v in values.tolist()
    ]
    assert to_uint8(eight) is eight


def test_camera_mpo_jpeg_reads_as_jpeg(tmp_path):
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (8, 6), RED).save(
        path, format="MPO", save_all=True, append_images=[Image.new("RGB", (8, 6))]
    )
    assert Image.open(path).format == "MPO"
    loaded = read_image(path)
    assert loaded.format == "JPEG" and np.abs(loaded.pixels[0, 0].astype(int) - RED).max() <= 3


def test_multi_frame_file_gives_first_frame(tmp_path):
    path = tmp_path / "pages.tif"
    first, second = Image.new("RGB", (8, 6), RED), Image.new("RGB", (8, 6), (0, 0, 255))
    first.save(path, save_all=True, append_images=[second])
    assert Image.open(path).n_frames == 2
    assert read_image(path).pixels[0, 0].tolist() == list(RED)


ORIENTED = {
    1: ("tl", False),
    2: ("tr", False),
    3: ("br", False),
    4: ("bl", False),
    5: ("tl", True),
    6: ("tr", True),
    7: ("br", True),
    8: ("bl", True),
}


@pytest.mark.parametrize("orientation", sorted(ORIENTED))
def test_exif_orientation_is_applied(tmp_path, orientation):
    path = tmp_path / "photo.jpg"
    Image.fromarray(marker(40, 60)).save(path, quality=95, exif=exif_with(orientation, make="Cam"))
    loaded = read_image(path)
    corner, transposed = ORIENTED[orientation]
    assert loaded.pixels.shape[:2] == ((60, 40) if transposed else (40, 60))
    assert marker_corner(loaded.pixels) == corner
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[ORIENTATION] == 1 and exif[0x010F] == "Cam"


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_matches_pillow_exactly(tmp_path, orientation):
    path = tmp_path / "photo.png"
    Image.fromarray(gradient(5, 7)).save(path, exif=exif_with(orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    assert np.array_equal(read_image(path).pixels, expected)


def test_orientation_applies_to_16_bit_and_alpha(tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint16)
    pixels[:12, :12, 0] = 65535
    alpha = np.full((40, 60), 1000, np.uint16)
    alpha[:12, :12] = 65535
    # A LoadedImage whose EXIF still says "rotate": write_image stores it as it is.
    rotated = LoadedImage("x", pixels, alpha, "PNG", False, None, exif_with(6).tobytes(), False)
    path = tmp_path / "deep.png"
    write_image(path, pixels, alpha, like=rotated)
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16 and loaded.pixels.shape == (60, 40, 3)
    assert marker_corner(loaded.rgb8()) == "tr"
    assert loaded.alpha[0, -1] == 65535 and loaded.alpha[-1, 0] == 1000


def test_palette_transparency_and_la_give_alpha(tmp_path):
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.save(tmp_path / "p.png", transparency=1)
    loaded = read_image(tmp_path / "p.png")
    assert (
        loaded.pixels[0, 0].tolist() == list(RED) and loaded.alpha[0, 0] == 0 and not loaded.is_grey
    )

    Image.fromarray(
        np.dstack([np.full((4, 4), 90, np.uint8), np.full((4, 4), 200, np.uint8)])
    ).save(tmp_path / "la.png")
    loaded = read_image(tmp_path / "la.png")
    assert loaded.is_grey and loaded.pixels[0, 0].tolist() == [90] * 3 and loaded.alpha[0, 0] == 200


@pytest.mark.parametrize("ext", [".jpg", ".tif"])
def test_cmyk_decodes_to_rgb(tmp_path, ext):
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[:8, :, 1:3] = 255  # magenta + yellow = red
    cmyk[8:, :, 0] = 255  # cyan
    path = tmp_path / f"cmyk{ext}"
    Image.fromarray(cmyk, "CMYK").save(path, **({"quality": 100} if ext == ".jpg" else {}))
    if ext == ".jpg":
        assert Image.open(path).info.get("adobe")  # Pillow writes Adobe (inverted) CMYK
    loaded = read_image(path)
    assert loaded.was_cmyk and loaded.icc_profile is None and loaded.pixels.dtype == np.uint8
    assert np.abs(loaded.pixels[3, 3].astype(int) - RED).max() <= 3
    assert np.abs(loaded.pixels[12, 3].astype(int) - (0, 255, 255)).max() <= 3


def test_cmyk_uses_embedded_icc_profile(tmp_path):
    path = tmp_path / "cmyk.jpg"
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[..., 1:3] = 255  # red without a profile...
    Image.fromarray(cmyk, "CMYK").save(path, quality=100, icc_profile=cmyk_icc_profile())
    pixel = read_image(path).pixels[4, 4].astype(int)
    assert pixel[1] > 200 and pixel[0] < 60 and pixel[2] < 60  # ...green through this profile


def test_cmyk_with_broken_profile_falls_back(tmp_path):
    path = tmp_path / "cmyk.tif"
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[..., 1:3] = 255
    Image.fromarray(cmyk, "CMYK").save(path, icc_profile=b"not an icc profile" * 10)
    assert read_image(path).pixels[0, 0].tolist() == list(RED)


def test_tiff_structure_tags_are_not_copied_as_exif(tmp_path):
    source = tmp_path / "in.tif"
    Image.fromarray(gradient()).save(source, exif=exif_with(make="Scanner"))
    loaded = read_image(source)
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert dict(exif) == {0x010F: "Scanner"}


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nope.jpg")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty file \(0 bytes\)") as info:
        read_image(tmp_path / "empty.jpg")
    assert info.value.path == str(tmp_path / "empty.jpg")


def test_text_file_named_jpg(tmp_path):
    (tmp_path / "notes.jpg").write_text("hello, not a photo\n")
    with pytest.raises(ImageError, match="not a recognised image format"):
        read_image(tmp_path / "notes.jpg")


def test_unsupported_format_is_not_recognised(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    with pytest.raises(ImageError, match="not a recognised image format"):
        read_image(tmp_path / "anim.gif")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_file(tmp_path, ext):
    whole = tmp_path / f"whole{ext}"
    write_image(whole, np.ascontiguousarray(astronaut()[::2, ::2]))
    data = whole.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt") as info:
        read_image(cut)
    assert info.value.path == str(cut)


def test_truncated_16_bit_png(tmp_path):
    png = cv2.imencode(".png", gradient(256, 256, np.uint16))[1]
    (tmp_path / "cut.png").write_bytes(png.tobytes()[: len(png) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt") as info:
        read_image(tmp_path / "cut.png")
    assert info.value.path == str(tmp_path / "cut.png")


def test_float_tiff_is_unsupported(tmp_path):
    Image.fromarray(np.ones((3, 3), np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ImageError, match="unsupported pixel format"):
        read_image(tmp_path / "f.tif")


def test_truncation_is_not_tolerated_globally():
    from PIL import ImageFile

    assert not ImageFile.LOAD_TRUNCATED_IMAGES


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    write_image(path, gradient())
    path.chmod(0)
    with pytest.raises(ImageError, match="permission denied"):
        read_image(path)


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    write_png_header_only(path, 30_000, 20_000)  # no pixel data: decoding it would fail differently
    with pytest.raises(
        ImageError,
        match=r"image is 30000 x 20000 = 600 megapixels, "
        r"above the limit of 100 megapixels \(`max_pixels`\)",
    ):
        read_image(path)
    small = tmp_path / "small.png"
    write_png_header_only(small, 300, 200)
    with pytest.raises(
        ImageError, match=r"300 x 200 = 0.06 megapixels, above the limit of 0.05 megapixels"
    ):
        read_image(small, max_pixels=50_000)
    with pytest.raises(ImageError, match="truncated or corrupt"):  # no limit: it does try to decode
        read_image(small, max_pixels=None)


def test_50_megapixel_photo_decodes_and_limit_can_be_lowered(tmp_path):
    path = tmp_path / "big.png"
    write_solid_png(path, 8000, 7000, (10, 200, 30))
    loaded = read_image(path)
    assert loaded.pixels.shape == (7000, 8000, 3) and loaded.pixels[6999, 7999].tolist() == [
        10,
        200,
        30,
    ]
    del loaded
    with pytest.raises(
        ImageError, match=r"8000 x 7000 = 56 megapixels, above the limit of 50 megapixels"
    ):
        read_image(path, max_pixels=50_000_000)
