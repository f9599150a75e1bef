"""Encoding photos (faceedit.io.encode): round trips through every format, what a written file
keeps of its source (alpha, grey, 16 bits, ICC, EXIF), quality, and failed writes."""

from __future__ import annotations

import errno
import os

import cv2
import numpy as np
import pytest
from _imgs import (
    astronaut,
    gradient,
    marker,
    marker_corner,
)
from _io_files import ORIENTATION, exif_with, listing, srgb_profile
from PIL import Image, JpegImagePlugin

from faceedit.errors import OutputError, UsageError
from faceedit.io.decode import LoadedImage, read_image
from faceedit.io.encode import write_image
from faceedit.io.formats import FORMAT_BY_EXT, SUPPORTED_EXTS
from faceedit.pixels import to_uint8


@pytest.mark.parametrize("ext", SUPPORTED_EXTS)
def test_round_trip_each_format(tmp_path, ext):
    pixels = np.ascontiguousarray(astronaut()[::4, ::4])
    path = tmp_path / f"out{ext}"
    write_image(path, pixels)
    loaded = read_image(path)
    assert loaded.format == FORMAT_BY_EXT[ext]
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == pixels.shape
    assert loaded.alpha is None and not loaded.is_grey and not loaded.was_cmyk
    error = np.abs(loaded.pixels.astype(int) - pixels).mean()
    if ext in (".jpg", ".jpeg", ".webp"):
        assert error < 6
    else:
        assert error == 0


def test_written_exif_is_not_rotated_twice(tmp_path):
    source = tmp_path / "in.jpg"
    Image.fromarray(marker(40, 60)).save(source, quality=95, exif=exif_with(6))
    loaded = read_image(source)
    out = tmp_path / "out.jpg"
    write_image(out, loaded.pixels, like=loaded)
    again = read_image(out)
    assert again.pixels.shape == (60, 40, 3) and marker_corner(again.pixels) == "tr"
    assert Image.open(out).getexif()[ORIENTATION] == 1


# --------------------------------------------------------------------------------------------
# Alpha, greyscale, 16 bits, CMYK


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_alpha_kept_where_the_format_has_it(tmp_path, ext):
    pixels = gradient()
    alpha = np.tile(np.linspace(0, 255, pixels.shape[1]).astype(np.uint8), (pixels.shape[0], 1))
    path = tmp_path / f"a{ext}"
    write_image(path, pixels, alpha)
    loaded = read_image(path)
    assert loaded.alpha is not None and loaded.alpha.dtype == np.uint8
    assert np.abs(loaded.alpha.astype(int) - alpha).max() <= (2 if ext == ".webp" else 0)


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_dropped_for_jpeg_and_bmp(tmp_path, ext):
    path = tmp_path / f"a{ext}"
    write_image(path, gradient(), np.full((48, 64), 128, np.uint8))
    assert Image.open(path).mode == "RGB"
    assert read_image(path).alpha is None


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".bmp"])
def test_grey_in_grey_out(tmp_path, ext):
    grey = gradient()[..., 0]
    source = tmp_path / f"in{ext}"
    Image.fromarray(grey).save(source)
    loaded = read_image(source)
    assert loaded.is_grey and loaded.pixels.shape == (48, 64, 3)
    assert np.array_equal(loaded.pixels[..., 0], loaded.pixels[..., 2])
    out = tmp_path / f"out{ext}"
    write_image(out, loaded.pixels, like=loaded)
    assert Image.open(out).mode == "L"
    again = read_image(out)
    assert again.is_grey
    assert np.abs(again.pixels[..., 0].astype(int) - loaded.pixels[..., 0]).max() <= (
        3 if ext == ".jpg" else 0
    )


def test_grey_output_is_luma_of_edited_pixels(tmp_path):
    source = tmp_path / "in.png"
    Image.new("L", (4, 4), 0).save(source)
    like = read_image(source)
    out = tmp_path / "out.png"
    write_image(out, np.full((4, 4, 3), (255, 0, 0), np.uint8), like=like)
    assert np.asarray(Image.open(out))[0, 0] == 76  # 0.299 * 255


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_rgb_and_rgba_round_trip(tmp_path, ext):
    pixels = gradient(dtype=np.uint16)
    pixels[0, 0] = (1, 257, 65534)  # values that 8 bits cannot hold
    alpha = np.full(pixels.shape[:2], 40000, np.uint16)
    source = tmp_path / f"in{ext}"
    assert cv2.imwrite(str(source), pixels[..., ::-1])
    loaded = read_image(source)
    assert loaded.pixels.dtype == np.uint16 and np.array_equal(loaded.pixels, pixels)
    out = tmp_path / f"out{ext}"
    write_image(out, loaded.pixels, alpha, like=loaded)
    again = read_image(out)
    assert again.pixels.dtype == np.uint16 and np.array_equal(again.pixels, pixels)
    assert again.alpha.dtype == np.uint16 and np.array_equal(again.alpha, alpha)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_grey_round_trip(tmp_path, ext):
    grey = gradient(dtype=np.uint16)[..., 1]
    grey[0, 0] = 1
    source = tmp_path / f"in{ext}"
    Image.fromarray(grey).save(source)
    loaded = read_image(source)
    assert loaded.is_grey and loaded.pixels.dtype == np.uint16
    assert np.array_equal(loaded.pixels[..., 0], grey)
    out = tmp_path / f"out{ext}"
    write_image(out, loaded.pixels, like=loaded)
    assert Image.open(out).mode.startswith("I;16")
    assert np.array_equal(read_image(out).pixels[..., 2], grey)


def test_16_bit_png_keeps_icc_and_exif(tmp_path):
    like = LoadedImage(
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
    write_image(out, like.pixels, like=like)
    written = Image.open(out)
    assert written.info["icc_profile"] == like.icc_profile
    assert written.getexif()[0x010F] == "Cam"
    assert np.array_equal(read_image(out).pixels, like.pixels)


@pytest.mark.parametrize("ext", SUPPORTED_EXTS)
@pytest.mark.parametrize("deep", [False, True], ids=["8bit", "16bit"])
@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
@pytest.mark.parametrize("with_alpha", [False, True], ids=["opaque", "alpha"])
def test_every_format_mode_combination(tmp_path, ext, deep, grey, with_alpha):
    dtype = np.uint16 if deep else np.uint8
    pixels = gradient(dtype=dtype)
    if grey:
        pixels[...] = pixels[..., :1]
    alpha = np.full(pixels.shape[:2], np.iinfo(dtype).max // 3, dtype) if with_alpha else None
    like = LoadedImage("in", pixels, alpha, "PNG", grey, None, None, False)
    out = tmp_path / f"out{ext}"
    write_image(out, pixels, alpha, like=like)
    again = read_image(out)
    keeps_16 = deep and ext in (".png", ".tif", ".tiff")
    assert again.pixels.dtype == (np.uint16 if keeps_16 else np.uint8)
    assert (again.alpha is not None) == (with_alpha and ext not in (".jpg", ".jpeg", ".bmp"))
    # grey is written as grey except to WebP (no grey mode) and 16-bit grey + alpha (RGBA)
    assert again.is_grey == (grey and ext != ".webp" and not (keeps_16 and with_alpha))
    expected = pixels if keeps_16 else to_uint8(pixels)
    tolerance = {".jpg": 8, ".jpeg": 8, ".webp": 8}.get(ext, 0)
    assert np.abs(again.pixels.astype(int) - expected).mean() <= tolerance


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif"])
def test_icc_and_exif_are_kept(tmp_path, ext):
    source = tmp_path / "in.jpg"
    Image.fromarray(gradient()).save(
        source, icc_profile=srgb_profile(), exif=exif_with(3, make="Cam")
    )
    loaded = read_image(source)
    out = tmp_path / f"out{ext}"
    write_image(out, loaded.pixels, like=loaded)
    written = Image.open(out)
    assert written.info.get("icc_profile") == srgb_profile()
    exif = written.getexif()
    assert exif[0x010F] == "Cam" and exif[ORIENTATION] == 1


def test_unsupported_output_extension(tmp_path):
    with pytest.raises(UsageError, match=r"unsupported output extension '\.gif'"):
        write_image(tmp_path / "out.gif", gradient())
    with pytest.raises(UsageError, match="quality"):
        write_image(tmp_path / "out.jpg", gradient(), quality=0)
    assert listing(tmp_path) == []


def test_jpeg_quality_and_subsampling(tmp_path):
    pixels = np.ascontiguousarray(astronaut()[::2, ::2])
    sizes = {}
    for quality in (30, 95):
        path = tmp_path / f"q{quality}.jpg"
        write_image(path, pixels, quality=quality)
        sizes[quality] = path.stat().st_size
        expected = 0 if quality >= 90 else 2  # 4:4:4 from 90 up, else Pillow's 4:2:0
        assert JpegImagePlugin.get_sampling(Image.open(path)) == expected
    assert sizes[95] > sizes[30]
    webp_low, webp_high = tmp_path / "l.webp", tmp_path / "h.webp"
    write_image(webp_low, pixels, quality=20)
    write_image(webp_high, pixels, quality=95)
    assert webp_high.stat().st_size > webp_low.stat().st_size


def test_write_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "out.png"
    write_image(path, gradient())
    assert read_image(path).pixels.shape == (48, 64, 3)


def test_encoder_failure_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def failing_save(self, fp, format=None, **params):
        fp.write(b"\x89PNG partial")
        raise OSError("disk exploded")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OutputError, match="cannot encode PNG: disk exploded"):
        write_image(target, gradient())
    assert target.read_bytes() == b"previous result"
    assert listing(tmp_path) == ["out.png"]


def test_write_failure_removes_temp_file(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="no space left on device"):
        write_image(tmp_path / "out.jpg", gradient())
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
        write_image(target, gradient())
    if os.geteuid() == 0:
        assert listing(tmp_path) == ["file"]
    else:
        assert listing(target.parent) == []


def test_output_path_is_a_folder(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_image(tmp_path / "out.png", gradient())


def test_refuses_to_overwrite_inputs(tmp_path):
    source = tmp_path / "in.png"
    write_image(source, gradient())
    before = source.read_bytes()
    aliases = [source, tmp_path / "sub" / ".." / "in.png"]
    (tmp_path / "sub").mkdir()
    os.symlink(source, tmp_path / "link.png")
    os.link(source, tmp_path / "hard.png")
    aliases += [tmp_path / "link.png", tmp_path / "hard.png"]
    for alias in aliases:
        with pytest.raises(OutputError, match="refusing to overwrite an input file"):
            write_image(alias, np.zeros((4, 4, 3), np.uint8), protected=[str(source)])
    assert source.read_bytes() == before
    write_image(tmp_path / "other.png", gradient(), protected=[str(source)])


def test_overwrites_a_previous_output(tmp_path):
    path = tmp_path / "out.png"
    write_image(path, np.zeros((4, 4, 3), np.uint8))
    write_image(path, np.full((4, 4, 3), 7, np.uint8))
    assert read_image(path).pixels[0, 0].tolist() == [7, 7, 7]
    assert listing(tmp_path) == ["out.png"]
