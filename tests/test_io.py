"""Tests for faceedit.io: decoding, atomic encoding, input expansion, output naming."""

from __future__ import annotations

import errno
import io
import os
import types

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
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from faceedit import io as fio
from faceedit.errors import ImageError, OutputError, UsageError

ORIENTATION = 0x0112


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with(orientation: int | None = None, make: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if make is not None:
        exif[0x010F] = make
    return exif


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


# --------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("ext", fio.SUPPORTED_EXTS)
def test_round_trip_each_format(tmp_path, ext):
    pixels = np.ascontiguousarray(astronaut()[::4, ::4])
    path = tmp_path / f"out{ext}"
    fio.write_image(path, pixels)
    loaded = fio.read_image(path)
    assert loaded.format == fio.FORMAT_BY_EXT[ext]
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == pixels.shape
    assert loaded.alpha is None and not loaded.is_grey and not loaded.was_cmyk
    error = np.abs(loaded.pixels.astype(int) - pixels).mean()
    if ext in (".jpg", ".jpeg", ".webp"):
        assert error < 6
    else:
        assert error == 0


def test_rgb8_rounds_16_bit_values():
    values = np.array([0, 128, 129, 257, 32896, 65407, 65535], np.uint16)
    pixels = np.repeat(values[None, :, None], 3, axis=2)
    image = fio.LoadedImage("x", pixels, None, "PNG", False, None, None, False)
    eight = image.rgb8()
    assert eight.dtype == np.uint8 and eight[0, :, 0].tolist() == [
        round(v / 257) for v in values.tolist()
    ]
    assert fio.to_uint8(eight) is eight


def test_camera_mpo_jpeg_reads_as_jpeg(tmp_path):
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (8, 6), RED).save(
        path, format="MPO", save_all=True, append_images=[Image.new("RGB", (8, 6))]
    )
    assert Image.open(path).format == "MPO"
    loaded = fio.read_image(path)
    assert loaded.format == "JPEG" and np.abs(loaded.pixels[0, 0].astype(int) - RED).max() <= 3


def test_multi_frame_file_gives_first_frame(tmp_path):
    path = tmp_path / "pages.tif"
    first, second = Image.new("RGB", (8, 6), RED), Image.new("RGB", (8, 6), (0, 0, 255))
    first.save(path, save_all=True, append_images=[second])
    assert Image.open(path).n_frames == 2
    assert fio.read_image(path).pixels[0, 0].tolist() == list(RED)


# --------------------------------------------------------------------------------------------
# EXIF orientation

# Where the top-left marker of the stored pixels appears once displayed, and whether the
# displayed image is transposed (W x H).
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
    loaded = fio.read_image(path)
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
    assert np.array_equal(fio.read_image(path).pixels, expected)


def test_orientation_applies_to_16_bit_and_alpha(tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint16)
    pixels[:12, :12, 0] = 65535
    alpha = np.full((40, 60), 1000, np.uint16)
    alpha[:12, :12] = 65535
    # A LoadedImage whose EXIF still says "rotate": write_image stores it as it is.
    rotated = fio.LoadedImage("x", pixels, alpha, "PNG", False, None, exif_with(6).tobytes(), False)
    path = tmp_path / "deep.png"
    fio.write_image(path, pixels, alpha, like=rotated)
    loaded = fio.read_image(path)
    assert loaded.pixels.dtype == np.uint16 and loaded.pixels.shape == (60, 40, 3)
    assert marker_corner(loaded.rgb8()) == "tr"
    assert loaded.alpha[0, -1] == 65535 and loaded.alpha[-1, 0] == 1000


def test_written_exif_is_not_rotated_twice(tmp_path):
    source = tmp_path / "in.jpg"
    Image.fromarray(marker(40, 60)).save(source, quality=95, exif=exif_with(6))
    loaded = fio.read_image(source)
    out = tmp_path / "out.jpg"
    fio.write_image(out, loaded.pixels, like=loaded)
    again = fio.read_image(out)
    assert again.pixels.shape == (60, 40, 3) and marker_corner(again.pixels) == "tr"
    assert Image.open(out).getexif()[ORIENTATION] == 1


# --------------------------------------------------------------------------------------------
# Alpha, greyscale, 16 bits, CMYK


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_alpha_kept_where_the_format_has_it(tmp_path, ext):
    pixels = gradient()
    alpha = np.tile(np.linspace(0, 255, pixels.shape[1]).astype(np.uint8), (pixels.shape[0], 1))
    path = tmp_path / f"a{ext}"
    fio.write_image(path, pixels, alpha)
    loaded = fio.read_image(path)
    assert loaded.alpha is not None and loaded.alpha.dtype == np.uint8
    assert np.abs(loaded.alpha.astype(int) - alpha).max() <= (2 if ext == ".webp" else 0)


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_dropped_for_jpeg_and_bmp(tmp_path, ext):
    path = tmp_path / f"a{ext}"
    fio.write_image(path, gradient(), np.full((48, 64), 128, np.uint8))
    assert Image.open(path).mode == "RGB"
    assert fio.read_image(path).alpha is None


def test_palette_transparency_and_la_give_alpha(tmp_path):
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.save(tmp_path / "p.png", transparency=1)
    loaded = fio.read_image(tmp_path / "p.png")
    assert (
        loaded.pixels[0, 0].tolist() == list(RED) and loaded.alpha[0, 0] == 0 and not loaded.is_grey
    )

    Image.fromarray(
        np.dstack([np.full((4, 4), 90, np.uint8), np.full((4, 4), 200, np.uint8)])
    ).save(tmp_path / "la.png")
    loaded = fio.read_image(tmp_path / "la.png")
    assert loaded.is_grey and loaded.pixels[0, 0].tolist() == [90] * 3 and loaded.alpha[0, 0] == 200


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".bmp"])
def test_grey_in_grey_out(tmp_path, ext):
    grey = gradient()[..., 0]
    source = tmp_path / f"in{ext}"
    Image.fromarray(grey).save(source)
    loaded = fio.read_image(source)
    assert loaded.is_grey and loaded.pixels.shape == (48, 64, 3)
    assert np.array_equal(loaded.pixels[..., 0], loaded.pixels[..., 2])
    out = tmp_path / f"out{ext}"
    fio.write_image(out, loaded.pixels, like=loaded)
    assert Image.open(out).mode == "L"
    again = fio.read_image(out)
    assert again.is_grey
    assert np.abs(again.pixels[..., 0].astype(int) - loaded.pixels[..., 0]).max() <= (
        3 if ext == ".jpg" else 0
    )


def test_grey_output_is_luma_of_edited_pixels(tmp_path):
    source = tmp_path / "in.png"
    Image.new("L", (4, 4), 0).save(source)
    like = fio.read_image(source)
    out = tmp_path / "out.png"
    fio.write_image(out, np.full((4, 4, 3), (255, 0, 0), np.uint8), like=like)
    assert np.asarray(Image.open(out))[0, 0] == 76  # 0.299 * 255


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_rgb_and_rgba_round_trip(tmp_path, ext):
    pixels = gradient(dtype=np.uint16)
    pixels[0, 0] = (1, 257, 65534)  # values that 8 bits cannot hold
    alpha = np.full(pixels.shape[:2], 40000, np.uint16)
    source = tmp_path / f"in{ext}"
    assert cv2.imwrite(str(source), pixels[..., ::-1])
    loaded = fio.read_image(source)
    assert loaded.pixels.dtype == np.uint16 and np.array_equal(loaded.pixels, pixels)
    out = tmp_path / f"out{ext}"
    fio.write_image(out, loaded.pixels, alpha, like=loaded)
    again = fio.read_image(out)
    assert again.pixels.dtype == np.uint16 and np.array_equal(again.pixels, pixels)
    assert again.alpha.dtype == np.uint16 and np.array_equal(again.alpha, alpha)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_grey_round_trip(tmp_path, ext):
    grey = gradient(dtype=np.uint16)[..., 1]
    grey[0, 0] = 1
    source = tmp_path / f"in{ext}"
    Image.fromarray(grey).save(source)
    loaded = fio.read_image(source)
    assert loaded.is_grey and loaded.pixels.dtype == np.uint16
    assert np.array_equal(loaded.pixels[..., 0], grey)
    out = tmp_path / f"out{ext}"
    fio.write_image(out, loaded.pixels, like=loaded)
    assert Image.open(out).mode.startswith("I;16")
    assert np.array_equal(fio.read_image(out).pixels[..., 2], grey)


def test_16_bit_png_keeps_icc_and_exif(tmp_path):
    like = fio.LoadedImage(
        "in.png",
        gradient(dtype=np.uint16),
        None,
        "PNG",
        False,
        srgb_profile(),
        exif_with(1, make="Cam").tobytes(),
        False,
    )
    out = tmp_path / "out.png"
    fio.write_image(out, like.pixels, like=like)
    written = Image.open(out)
    assert written.info["icc_profile"] == like.icc_profile
    assert written.getexif()[0x010F] == "Cam"
    assert np.array_equal(fio.read_image(out).pixels, like.pixels)


@pytest.mark.parametrize("ext", fio.SUPPORTED_EXTS)
@pytest.mark.parametrize("deep", [False, True], ids=["8bit", "16bit"])
@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
@pytest.mark.parametrize("with_alpha", [False, True], ids=["opaque", "alpha"])
def test_every_format_mode_combination(tmp_path, ext, deep, grey, with_alpha):
    dtype = np.uint16 if deep else np.uint8
    pixels = gradient(dtype=dtype)
    if grey:
        pixels[...] = pixels[..., :1]
    alpha = np.full(pixels.shape[:2], np.iinfo(dtype).max // 3, dtype) if with_alpha else None
    like = fio.LoadedImage("in", pixels, alpha, "PNG", grey, None, None, False)
    out = tmp_path / f"out{ext}"
    fio.write_image(out, pixels, alpha, like=like)
    again = fio.read_image(out)
    keeps_16 = deep and ext in (".png", ".tif", ".tiff")
    assert again.pixels.dtype == (np.uint16 if keeps_16 else np.uint8)
    assert (again.alpha is not None) == (with_alpha and ext not in (".jpg", ".jpeg", ".bmp"))
    # grey is written as grey except to WebP (no grey mode) and 16-bit grey + alpha (RGBA)
    assert again.is_grey == (grey and ext != ".webp" and not (keeps_16 and with_alpha))
    expected = pixels if keeps_16 else fio.to_uint8(pixels)
    tolerance = {".jpg": 8, ".jpeg": 8, ".webp": 8}.get(ext, 0)
    assert np.abs(again.pixels.astype(int) - expected).mean() <= tolerance


@pytest.mark.parametrize("ext", [".jpg", ".tif"])
def test_cmyk_decodes_to_rgb(tmp_path, ext):
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[:8, :, 1:3] = 255  # magenta + yellow = red
    cmyk[8:, :, 0] = 255  # cyan
    path = tmp_path / f"cmyk{ext}"
    Image.fromarray(cmyk, "CMYK").save(path, **({"quality": 100} if ext == ".jpg" else {}))
    if ext == ".jpg":
        assert Image.open(path).info.get("adobe")  # Pillow writes Adobe (inverted) CMYK
    loaded = fio.read_image(path)
    assert loaded.was_cmyk and loaded.icc_profile is None and loaded.pixels.dtype == np.uint8
    assert np.abs(loaded.pixels[3, 3].astype(int) - RED).max() <= 3
    assert np.abs(loaded.pixels[12, 3].astype(int) - (0, 255, 255)).max() <= 3


def test_cmyk_uses_embedded_icc_profile(tmp_path):
    path = tmp_path / "cmyk.jpg"
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[..., 1:3] = 255  # red without a profile...
    Image.fromarray(cmyk, "CMYK").save(path, quality=100, icc_profile=cmyk_icc_profile())
    pixel = fio.read_image(path).pixels[4, 4].astype(int)
    assert pixel[1] > 200 and pixel[0] < 60 and pixel[2] < 60  # ...green through this profile


def test_cmyk_with_broken_profile_falls_back(tmp_path):
    path = tmp_path / "cmyk.tif"
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[..., 1:3] = 255
    Image.fromarray(cmyk, "CMYK").save(path, icc_profile=b"not an icc profile" * 10)
    assert fio.read_image(path).pixels[0, 0].tolist() == list(RED)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_icc_and_exif_are_kept(tmp_path, ext):
    source = tmp_path / "in.jpg"
    Image.fromarray(gradient()).save(
        source, icc_profile=srgb_profile(), exif=exif_with(3, make="Cam")
    )
    loaded = fio.read_image(source)
    out = tmp_path / f"out{ext}"
    fio.write_image(out, loaded.pixels, like=loaded)
    written = Image.open(out)
    assert written.info.get("icc_profile") == srgb_profile()
    exif = written.getexif()
    assert exif[0x010F] == "Cam" and exif[ORIENTATION] == 1


def test_tiff_structure_tags_are_not_copied_as_exif(tmp_path):
    source = tmp_path / "in.tif"
    Image.fromarray(gradient()).save(source, exif=exif_with(make="Scanner"))
    loaded = fio.read_image(source)
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert dict(exif) == {0x010F: "Scanner"}


# --------------------------------------------------------------------------------------------
# Decoding failures


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        fio.read_image(tmp_path / "nope.jpg")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty file \(0 bytes\)") as info:
        fio.read_image(tmp_path / "empty.jpg")
    assert info.value.path == str(tmp_path / "empty.jpg")


def test_text_file_named_jpg(tmp_path):
    (tmp_path / "notes.jpg").write_text("hello, not a photo\n")
    with pytest.raises(ImageError, match="not a recognised image format"):
        fio.read_image(tmp_path / "notes.jpg")


def test_unsupported_format_is_not_recognised(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    with pytest.raises(ImageError, match="not a recognised image format"):
        fio.read_image(tmp_path / "anim.gif")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        fio.read_image(tmp_path)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_file(tmp_path, ext):
    whole = tmp_path / f"whole{ext}"
    fio.write_image(whole, np.ascontiguousarray(astronaut()[::2, ::2]))
    data = whole.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt") as info:
        fio.read_image(cut)
    assert info.value.path == str(cut)


def test_truncated_16_bit_png(tmp_path):
    png = cv2.imencode(".png", gradient(256, 256, np.uint16))[1]
    (tmp_path / "cut.png").write_bytes(png.tobytes()[: len(png) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt") as info:
        fio.read_image(tmp_path / "cut.png")
    assert info.value.path == str(tmp_path / "cut.png")


def test_float_tiff_is_unsupported(tmp_path):
    Image.fromarray(np.ones((3, 3), np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ImageError, match="unsupported pixel format"):
        fio.read_image(tmp_path / "f.tif")


def test_truncation_is_not_tolerated_globally():
    from PIL import ImageFile

    assert not ImageFile.LOAD_TRUNCATED_IMAGES


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    fio.write_image(path, gradient())
    path.chmod(0)
    with pytest.raises(ImageError, match="permission denied"):
        fio.read_image(path)


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    write_png_header_only(path, 30_000, 20_000)  # no pixel data: decoding it would fail differently
    with pytest.raises(
        ImageError,
        match=r"image is 30000 x 20000 = 600 megapixels, "
        r"above the limit of 100 megapixels \(--max-pixels\)",
    ):
        fio.read_image(path)
    small = tmp_path / "small.png"
    write_png_header_only(small, 300, 200)
    with pytest.raises(
        ImageError, match=r"300 x 200 = 0.06 megapixels, above the limit of 0.05 megapixels"
    ):
        fio.read_image(small, max_pixels=50_000)
    with pytest.raises(ImageError, match="truncated or corrupt"):  # no limit: it does try to decode
        fio.read_image(small, max_pixels=None)


def test_50_megapixel_photo_decodes_and_limit_can_be_lowered(tmp_path):
    path = tmp_path / "big.png"
    write_solid_png(path, 8000, 7000, (10, 200, 30))
    loaded = fio.read_image(path)
    assert loaded.pixels.shape == (7000, 8000, 3) and loaded.pixels[6999, 7999].tolist() == [
        10,
        200,
        30,
    ]
    del loaded
    with pytest.raises(
        ImageError, match=r"8000 x 7000 = 56 megapixels, above the limit of 50 megapixels"
    ):
        fio.read_image(path, max_pixels=50_000_000)


# --------------------------------------------------------------------------------------------
# Writing


def test_unsupported_output_extension(tmp_path):
    with pytest.raises(UsageError, match=r"unsupported output extension '\.gif'"):
        fio.write_image(tmp_path / "out.gif", gradient())
    with pytest.raises(UsageError, match="quality"):
        fio.write_image(tmp_path / "out.jpg", gradient(), quality=0)
    assert listing(tmp_path) == []


def test_jpeg_quality_and_subsampling(tmp_path):
    pixels = np.ascontiguousarray(astronaut()[::2, ::2])
    sizes = {}
    for quality in (30, 95):
        path = tmp_path / f"q{quality}.jpg"
        fio.write_image(path, pixels, quality=quality)
        sizes[quality] = path.stat().st_size
        expected = 0 if quality >= 90 else 2  # 4:4:4 from 90 up, else Pillow's 4:2:0
        assert JpegImagePlugin.get_sampling(Image.open(path)) == expected
    assert sizes[95] > sizes[30]
    webp_low, webp_high = tmp_path / "l.webp", tmp_path / "h.webp"
    fio.write_image(webp_low, pixels, quality=20)
    fio.write_image(webp_high, pixels, quality=95)
    assert webp_high.stat().st_size > webp_low.stat().st_size


def test_write_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "out.png"
    fio.write_image(path, gradient())
    assert fio.read_image(path).pixels.shape == (48, 64, 3)


def test_encoder_failure_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def failing_save(self, fp, format=None, **params):
        fp.write(b"\x89PNG partial")
        raise OSError("disk exploded")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OutputError, match="cannot encode PNG: disk exploded"):
        fio.write_image(target, gradient())
    assert target.read_bytes() == b"previous result"
    assert listing(tmp_path) == ["out.png"]


def test_write_failure_removes_temp_file(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="no space left on device"):
        fio.write_image(tmp_path / "out.jpg", gradient())
    assert listing(tmp_path) == []


def test_unwritable_folder(tmp_path):
    if os.geteuid() == 0:  # root ignores permissions: use a "folder" that is a regular file
        blocker = tmp_path / "file"
        blocker.write_text("x")
        target = blocker / "sub" / "out.png"
        expected = "cannot create folder"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out.png"
        expected = "permission denied"
    with pytest.raises(OutputError, match=expected):
        fio.write_image(target, gradient())
    if os.geteuid() == 0:
        assert listing(tmp_path) == ["file"]
    else:
        assert listing(target.parent) == []


def test_output_path_is_a_folder(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        fio.write_image(tmp_path / "out.png", gradient())


def test_refuses_to_overwrite_inputs(tmp_path):
    source = tmp_path / "in.png"
    fio.write_image(source, gradient())
    before = source.read_bytes()
    aliases = [source, tmp_path / "sub" / ".." / "in.png"]
    (tmp_path / "sub").mkdir()
    os.symlink(source, tmp_path / "link.png")
    os.link(source, tmp_path / "hard.png")
    aliases += [tmp_path / "link.png", tmp_path / "hard.png"]
    for alias in aliases:
        with pytest.raises(OutputError, match="refusing to overwrite an input file"):
            fio.write_image(alias, np.zeros((4, 4, 3), np.uint8), protected=[str(source)])
    assert source.read_bytes() == before
    fio.write_image(tmp_path / "other.png", gradient(), protected=[str(source)])


def test_overwrites_a_previous_output(tmp_path):
    path = tmp_path / "out.png"
    fio.write_image(path, np.zeros((4, 4, 3), np.uint8))
    fio.write_image(path, np.full((4, 4, 3), 7, np.uint8))
    assert fio.read_image(path).pixels[0, 0].tolist() == [7, 7, 7]
    assert listing(tmp_path) == ["out.png"]


def test_stale_temp_files_of_a_killed_writer_are_removed(tmp_path):
    """A writer killed (kill -9) between writing its temporary file and renaming it leaves
    ".NAME.PID.XXXXXXXX.tmp"; the next write of NAME removes it, and only such leftovers."""
    import subprocess
    import sys
    import time

    target = tmp_path / "out.png"
    code = (
        "import os, signal, numpy as np\n"
        "from faceedit import io as fio\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"fio.write_image({str(target)!r}, np.zeros((4, 4, 3), np.uint8))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    [killed] = listing(tmp_path)
    assert killed.startswith(".out.png.") and killed.endswith(".tmp")
    old = time.time() - 3600  # "a few minutes" ago, and then some
    live = os.getppid()  # a running process: its fresh temporary file is being written
    keep = [f".out.png.{live}.0123abcd.tmp",  # a live concurrent writer
            ".out.png.89abcdef.tmp",  # an earlier version's name, recent
            ".out.png.backup.tmp", "out.png.1.0123abcd.tmp",  # not our pattern
            f".other.png.{live}.0123abcd.tmp"]  # another file's
    gone = [f".out.png.{live}.fedcba98.tmp", ".out.png.76543210.tmp"]  # untouched for too long
    for name in keep + gone:
        (tmp_path / name).write_bytes(b"partial")
    for name in gone + [f".other.png.{live}.0123abcd.tmp"]:
        os.utime(tmp_path / name, (old, old))
    fio.write_image(target, gradient())
    assert listing(tmp_path) == sorted(keep + ["out.png"])
    assert fio.read_image(target).pixels.shape == (48, 64, 3)


def test_write_file_atomically(tmp_path):
    path = tmp_path / "sub" / "meta.json"
    fio.write_file_atomically(path, '{"a": "\u00e9"}')
    assert path.read_text(encoding="utf-8") == '{"a": "\u00e9"}'
    fio.write_file_atomically(path, b"{}")
    assert path.read_bytes() == b"{}" and listing(path.parent) == ["meta.json"]


# --------------------------------------------------------------------------------------------
# Input expansion


def make_tree(root):
    """root/{b.jpg, a.PNG, notes.txt, .hidden.jpg, sub/{c.webp, deep/d.tif}, .git/x.jpg}"""
    for rel in [
        "b.jpg",
        "a.PNG",
        "notes.txt",
        ".hidden.jpg",
        "sub/c.webp",
        "sub/deep/d.tif",
        ".git/x.jpg",
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def paths(items) -> list[tuple[str, str, str | None]]:
    return [(item.path, item.rel, item.error) for item in items]


def test_expand_is_a_generator(tmp_path):
    assert isinstance(fio.expand_inputs([str(tmp_path)]), types.GeneratorType)


def test_expand_folder(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(fio.expand_inputs([d])) == [
        (os.path.join(d, "a.PNG"), "a.PNG", None),
        (os.path.join(d, "b.jpg"), "b.jpg", None),
    ]


def test_expand_folder_recursive(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(fio.expand_inputs([d], recursive=True)) == [
        (os.path.join(d, "a.PNG"), "a.PNG", None),
        (os.path.join(d, "b.jpg"), "b.jpg", None),
        (os.path.join(d, "sub", "c.webp"), os.path.join("sub", "c.webp"), None),
        (os.path.join(d, "sub", "deep", "d.tif"), os.path.join("sub", "deep", "d.tif"), None),
    ]


def test_expand_files_any_extension_and_missing(tmp_path):
    make_tree(tmp_path)
    notes, missing = str(tmp_path / "notes.txt"), str(tmp_path / "gone.jpg")
    assert paths(fio.expand_inputs([notes, missing])) == [
        (notes, "notes.txt", None),
        (missing, "gone.jpg", "no such file or directory"),
    ]


def test_expand_empty_folder_reports_it(tmp_path):
    (tmp_path / "only_sub" / "x").mkdir(parents=True)
    (tmp_path / "only_sub" / "x" / "p.jpg").write_bytes(b"x")
    [item] = fio.expand_inputs([str(tmp_path / "only_sub")])
    assert item.error and "no image files" in item.error and "--recursive" in item.error
    assert [i.rel for i in fio.expand_inputs([str(tmp_path / "only_sub")], recursive=True)] == [
        os.path.join("x", "p.jpg")
    ]


def test_expand_globs(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    assert paths(fio.expand_inputs([os.path.join(d, "*.jpg")])) == [
        (os.path.join(d, "b.jpg"), "b.jpg", None)
    ]
    deep = paths(fio.expand_inputs([os.path.join(d, "**", "[cd].*")], recursive=True))
    assert deep == [
        (os.path.join(d, "sub", "c.webp"), os.path.join("sub", "c.webp"), None),
        (os.path.join(d, "sub", "deep", "d.tif"), os.path.join("sub", "deep", "d.tif"), None),
    ]
    pattern = os.path.join(d, "*.gif")
    assert paths(fio.expand_inputs([pattern])) == [(pattern, "", "pattern matched no files")]


def test_glob_matching_a_folder_expands_it(tmp_path):
    make_tree(tmp_path)
    items = paths(fio.expand_inputs([os.path.join(str(tmp_path), "su?")]))
    assert items == [
        (os.path.join(str(tmp_path), "sub", "c.webp"), os.path.join("sub", "c.webp"), None)
    ]


def test_existing_path_with_glob_characters_is_literal(tmp_path):
    odd = tmp_path / "shot[1].jpg"
    odd.write_bytes(b"x")
    assert paths(fio.expand_inputs([str(odd)])) == [(str(odd), "shot[1].jpg", None)]


def test_expand_stdin(tmp_path):
    make_tree(tmp_path)
    a, b = str(tmp_path / "a.PNG"), str(tmp_path / "b.jpg")
    stdin = io.StringIO(f"  {b}  \n\n{a}\n{tmp_path / 'missing.png'}\n{tmp_path / 'sub'}\n")
    assert paths(fio.expand_inputs(["-"], stdin=stdin)) == [
        (b, "b.jpg", None),
        (a, "a.PNG", None),
        (str(tmp_path / "missing.png"), "missing.png", "no such file or directory"),
        (os.path.join(str(tmp_path / "sub"), "c.webp"), "c.webp", None),
    ]


def test_expand_reports_a_symlink_loop_and_lists_the_rest(tmp_path):
    make_tree(tmp_path)
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    d = str(tmp_path)
    items = list(fio.expand_inputs([d]))
    assert [(i.rel, i.error and "symbolic links" in i.error) for i in items] == [
        ("a.PNG", None), ("b.jpg", None), ("loop.jpg", True)]
    assert all(i.listed for i in items)
    assert not next(fio.expand_inputs([os.path.join(d, "b.jpg")])).listed  # named, not listed
    assert next(fio.expand_inputs([os.path.join(d, "*.jpg")])).listed


def test_expand_deduplicates_by_real_path(tmp_path):
    make_tree(tmp_path)
    b = str(tmp_path / "b.jpg")
    os.symlink(b, tmp_path / "link.jpg")
    specs = [
        b,
        str(tmp_path),
        os.path.join(str(tmp_path), "sub", "..", "b.jpg"),
        str(tmp_path / "link.jpg"),
    ]
    assert paths(fio.expand_inputs(specs)) == [
        (b, "b.jpg", None),
        (str(tmp_path / "a.PNG"), "a.PNG", None),
    ]


# --------------------------------------------------------------------------------------------
# Output naming


def item(path: str, rel: str | None = None) -> fio.InputItem:
    return fio.InputItem(path, os.path.basename(path) if rel is None else rel)


def test_default_names(tmp_path):
    namer = fio.OutputNamer(tmp_path)
    assert namer.path_for(item("/in/Photo.JPG"), "smile", 1.0) == str(tmp_path / "Photo_smile.jpg")
    assert namer.path_for(item("/in/scan.gif"), "smile", 1.0) == str(tmp_path / "scan_smile.png")


def test_all_fields(tmp_path):
    namer = fio.OutputNamer(
        tmp_path, "{relparent}/{index:03d}-{name}-{stem}-{target}@{strength}{ext}", ext="WEBP"
    )
    assert namer.path_for(item("/in/a/b/p.jpg", "a/b/p.jpg"), "old", 0.5, 7) == str(
        tmp_path / "a" / "b" / "007-p.jpg-p-old@0.5.webp"
    )
    assert namer.path_for(item("/in/q.png"), "old", -1) == str(tmp_path / "000-q.png-q-old@-1.webp")
    fixed = fio.OutputNamer(tmp_path, "{stem}_{strength:.2f}{ext}")
    assert fixed.path_for(item("/in/q.png"), "old", 0.5) == str(tmp_path / "q_0.50.png")


@pytest.mark.parametrize("ext", ["png", ".PNG", ".Jpeg", "tif"])
def test_ext_override_is_normalised(tmp_path, ext):
    namer = fio.OutputNamer(tmp_path, ext=ext)
    expected = "." + ext.lstrip(".").lower()
    assert namer.path_for(item("/in/a.bmp"), "t", 1).endswith("a_t" + expected)


def test_bad_ext_override(tmp_path):
    with pytest.raises(UsageError, match=r"unsupported output extension '\.gif'; use one of \.jpg"):
        fio.OutputNamer(tmp_path, ext=".gif")


@pytest.mark.parametrize(
    "template, message",
    [
        ("{stem}_{colour}{ext}", r"unknown field \{colour\}; fields: \{stem\} \{name\}"),
        ("{stem.upper}{ext}", "unknown field"),
        ("{}{ext}", "unknown field"),
        ("{stem{ext}", "bad --name template"),
        ("{stem}}{ext}", "bad --name template"),
        ("{index:q}{ext}", "bad --name template"),
        ("{stem}_{target}", "no image extension"),
        ("../{stem}{ext}", "escapes the output folder"),
        ("/abs/{stem}{ext}", "escapes the output folder"),
        ("{stem}/{ext}/", "empty or names a folder"),
    ],
)
def test_bad_templates(tmp_path, template, message):
    with pytest.raises(UsageError, match=message):
        fio.OutputNamer(tmp_path, template)


def test_field_values_cannot_escape(tmp_path):
    namer = fio.OutputNamer(tmp_path, "{target}/{stem}{ext}")
    assert namer.path_for(item("/in/p.jpg"), "..", 1) == str(tmp_path / "__" / "p.jpg")
    assert namer.path_for(item("/in/p.jpg"), "../../etc/x", 1) == str(
        tmp_path / ".._.._etc_x" / "p.jpg"
    )
    assert namer.path_for(item("/in/a\\b.jpg"), "t\0u", 1) == str(tmp_path / "t_u" / "a_b.jpg")
    with pytest.raises(OutputError, match="escapes the output folder"):
        namer.path_for(item("/in/p.jpg", "../../p.jpg"), "t", 1)
    with pytest.raises(OutputError, match="escapes the output folder"):
        fio.OutputNamer(tmp_path, "{relparent}/{stem}{ext}").path_for(
            item("/etc/p.jpg", "/etc/p.jpg"), "t", 1
        )


def test_name_that_is_an_existing_folder(tmp_path):
    (tmp_path / "p_t.jpg").mkdir()
    with pytest.raises(OutputError, match="existing folder"):
        fio.OutputNamer(tmp_path).path_for(item("/in/p.jpg"), "t", 1)


def test_predict_claims_nothing(tmp_path):
    namer = fio.OutputNamer(tmp_path)
    assert namer.predict(item("/b/p.jpg"), "smile", 1) == str(tmp_path / "p_smile.jpg")
    assert namer.predict(item("/b/p.jpg", "../../p.jpg"), "t", 1) is None  # escapes: no path
    assert namer.path_for(item("/a/p.jpg"), "smile", 1) == str(tmp_path / "p_smile.jpg")


def test_collisions(tmp_path):
    namer = fio.OutputNamer(tmp_path, "{stem}{ext}")
    first = namer.path_for(item("/a/p.jpg"), "smile", 1)
    assert namer.path_for(item("/a/p.jpg"), "smile", 1) == first  # the same request again is fine
    with pytest.raises(OutputError, match=r"output path collision with /a/p\.jpg"):
        namer.path_for(item("/b/p.jpg"), "smile", 1)
    with pytest.raises(OutputError, match=r"output path collision with /a/p\.jpg"):
        namer.path_for(item("/a/p.jpg"), "old", 1)
    mirrored = fio.OutputNamer(tmp_path, "{relparent}/{stem}{ext}")
    assert mirrored.path_for(item("/a/x/p.jpg", "x/p.jpg"), "t", 1) != mirrored.path_for(
        item("/a/y/p.jpg", "y/p.jpg"), "t", 1
    )


def test_expand_numbers_the_inputs_and_names_use_the_number(tmp_path):
    make_tree(tmp_path)
    d = str(tmp_path)
    items = list(fio.expand_inputs([d, str(tmp_path / "gone.jpg"), d]))
    assert [(os.path.basename(i.path), i.index) for i in items] == [
        ("a.PNG", 0), ("b.jpg", 1), ("gone.jpg", 2)]
    namer = fio.OutputNamer(tmp_path / "o", "{index:02d}_{stem}{ext}")
    assert namer.path_for(items[1], "t", 1) == str(tmp_path / "o" / "01_b.jpg")
    assert namer.predict(items[1], "t", 1) == str(tmp_path / "o" / "01_b.jpg")


def test_collisions_suggest_a_field_that_separates_the_two(tmp_path):
    namer = fio.OutputNamer(tmp_path, "{stem}_{target}{ext}")
    namer.path_for(fio.InputItem("/a/p.jpg", "p.jpg", index=0), "t", 1)
    with pytest.raises(OutputError, match=r"add \{index\} to the name template, e\.g\. "
                       r"--name '\{stem\}_\{target\}_\{index\}\{ext\}'"):
        namer.path_for(fio.InputItem("/b/p.jpg", "p.jpg", index=1), "t", 1)
    with pytest.raises(OutputError, match=r"add \{relparent\} or \{index\} .* --name '\{relparent\}/"):
        namer.path_for(fio.InputItem("/r/x/p.jpg", "x/p.jpg", index=2), "t", 1)
    with pytest.raises(OutputError, match=r"add \{strength\} to"):
        namer.path_for(fio.InputItem("/a/p.jpg", "p.jpg", index=0), "t", 0.5)


def test_condition_fields_are_bound_to_the_runs_values(tmp_path):
    template = fio.OutputNamer.bind("{relparent}/{stem}_{lighting}_{au}_{attr:.3}{ext}",
                                    {"lighting": "left", "au": "au12-3", "attr": "glasses-on"})
    assert template == "{relparent}/{stem}_left_au12-3_gla{ext}"
    assert fio.OutputNamer.bind("{lighting}/{stem}{ext}", {"lighting": "../x{y}"}) == ".._x{{y}}/{stem}{ext}"
    namer = fio.OutputNamer(tmp_path, "{lighting}/{stem}{ext}")  # unbound: '', still valid
    assert namer.path_for(item("/in/p.jpg"), "t", 1) == str(tmp_path / "p.jpg")
    with pytest.raises(UsageError, match="unknown field"):
        fio.OutputNamer(tmp_path, "{light}{ext}")


def test_unread_image_formats_are_logged_and_collected(tmp_path, caplog, monkeypatch):
    from faceedit.log import logger

    monkeypatch.setattr(logger, "propagate", True)  # to caplog, whatever the CLI tests set up
    make_tree(tmp_path)
    for name in ("anim.gif", "phone.heic", "raw.CR2"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "clip.gif").write_bytes(b"x")
    with caplog.at_level("DEBUG", logger="faceedit"), fio.collect_unread() as unread:
        items = list(fio.expand_inputs([str(tmp_path), str(tmp_path / "only")]))
    assert unread == [str(tmp_path / n) for n in ("anim.gif", "phone.heic", "raw.CR2")] + [
        str(tmp_path / "only" / "clip.gif")]
    assert f"{tmp_path / 'anim.gif'}: skipped: GIF is not a format faceedit reads" in caplog.text
    assert "notes.txt" not in caplog.text
    assert "1 file(s) in formats faceedit does not read (.gif)" in items[-1].error
    assert list(fio.expand_inputs([str(tmp_path / "only")]))  # no collector: nothing breaks
