"""Decoding photos: JPEG, PNG, WebP, BMP and TIFF files into pixels, with what is needed to write
an edited version back faithfully (:class:`LoadedImage`).

Failures raise :class:`~faceedit.errors.ImageError` with a short human reason; no raw Pillow /
OpenCV / OS exception escapes.

Pixel conventions: ``pixels`` is always (H, W, 3) RGB, ``uint8`` or ``uint16`` (16-bit sources
keep 16 bits), EXIF orientation already applied; ``alpha`` is (H, W) of the same dtype or None.

Pillow's process-wide decompression-bomb check is switched off when this module is imported:
:func:`read_image` enforces its own documented limit (``max_pixels``) from the image header,
before any pixel is decoded, and Pillow's check (a warning above ~89 MP, an error above ~179 MP)
would otherwise pre-empt it with a confusing message.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from typing import IO

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from faceedit.errors import ImageError
from faceedit.files import os_reason
from faceedit.io.formats import FORMATS_TEXT
from faceedit.pixels import to_uint8

Image.MAX_IMAGE_PIXELS = None  # see the module docstring: read_image checks max_pixels itself

DEFAULT_MAX_PIXELS = 100_000_000
"""Largest image (width x height) :func:`read_image` decodes unless told otherwise; 100 MP
covers every current camera (a 50 MP photo decodes fine) while refusing decompression bombs."""

_PIL_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
# Descriptive IFD0 tags worth carrying over from a TIFF, whose own IFD0 also holds the
# structural tags (strip offsets, sample format...) that must not leak into another file.
_TIFF_EXIF_TAGS = (
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    0x0112,  # Orientation
    0x0131,  # Software
    0x0132,  # DateTime
    0x013B,  # Artist
    0x8298,  # Copyright
)


@dataclass
class LoadedImage:
    """A decoded image plus what is needed to write an edited version back faithfully."""

    path: str
    pixels: np.ndarray
    """(H, W, 3) RGB, uint8 or uint16, orientation applied."""
    alpha: np.ndarray | None
    """(H, W), same dtype as ``pixels``, or None."""
    format: str
    """Pillow format name of the source: JPEG, PNG, WEBP, BMP or TIFF."""
    is_grey: bool
    """The source was greyscale (L, LA, I;16...): ``pixels`` has three equal channels."""
    icc_profile: bytes | None
    """Embedded ICC profile describing ``pixels`` (None for CMYK sources, now sRGB)."""
    exif: bytes | None
    """EXIF block (``Exif\\0\\0`` + TIFF data), orientation reset to 1, thumbnail dropped."""
    was_cmyk: bool
    """The source was CMYK and has been converted to RGB."""

    def rgb8(self) -> np.ndarray:
        """``pixels`` as (H, W, 3) uint8 (16-bit values scaled by round(v / 257))."""
        return to_uint8(self.pixels)


def read_image(
    path: str | os.PathLike[str], max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Decode the first frame of a JPEG, PNG, WebP, BMP or TIFF file.

    EXIF orientation is applied, alpha split out, greyscale expanded to three channels,
    CMYK converted to RGB (through the embedded ICC profile when there is one) and 16-bit
    samples kept. ``max_pixels`` (None: no limit) is checked against the header before the
    pixels are decoded. Every failure raises :class:`ImageError` with a short reason.
    """
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except OSError as e:
        raise ImageError(os_reason(e), path) from e
    if stat.S_ISDIR(info.st_mode):
        raise ImageError("is a folder, not an image file", path)
    if not stat.S_ISREG(info.st_mode):  # a device (/dev/zero), a pipe, a socket: no size to read
        raise ImageError("not a regular file (a device, pipe or socket), not an image file", path)
    if info.st_size == 0:
        raise ImageError("empty file (0 bytes)", path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as e:
        raise ImageError(os_reason(e), path) from e
    with file:
        try:
            image = Image.open(file, formats=_PIL_FORMATS)
        except UnidentifiedImageError as e:
            file.seek(0)
            signature = _signature_format(file.read(12))
            if signature:  # the right magic bytes, then a header Pillow cannot parse
                raise ImageError(
                    f"truncated or corrupt image data: unreadable {signature} header", path
                ) from e
            raise ImageError(
                f"not a recognised image format (supported: {FORMATS_TEXT})", path
            ) from e
        except Exception as e:  # a header that parses as one of our formats, then breaks
            raise ImageError(f"truncated or corrupt image data: {e}", path) from e
        with image:
            width, height = image.size
            if max_pixels is not None and width * height > max_pixels:
                raise ImageError(
                    f"image is {width} x {height} = {_megapixels(width * height)} megapixels, "
                    f"above the limit of {_megapixels(max_pixels)} megapixels (`max_pixels`)",
                    path,
                )
            try:
                return _decode(path, file, image)
            except _DecodeError as e:
                raise ImageError(str(e), path) from e
            except MemoryError as e:
                raise ImageError(
                    f"not enough memory to decode a {width} x {height} image", path
                ) from e
            except Exception as e:
                raise ImageError(f"truncated or corrupt image data: {e}", path) from e


class _DecodeError(Exception):
    """A decoding failure whose message is already the full human reason."""


def _signature_format(head: bytes) -> str | None:
    """The format whose magic bytes ``head`` starts with, among those we read."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "TIFF"
    return None


def _megapixels(pixels: int) -> str:
    """``12.5`` for 12,500,000 pixels: two decimals, or as many significant digits as a small
    number needs (``0.0001`` for 100, never ``0``)."""
    text = f"{pixels / 1e6:.2f}".rstrip("0").rstrip(".")
    return f"{pixels / 1e6:.2g}" if text == "0" and pixels else text


def _decode(path: str, file: IO[bytes], image: ImageFile.ImageFile) -> LoadedImage:
    image_format = "JPEG" if image.format == "MPO" else str(image.format)
    icc = image.info.get("icc_profile") or None
    was_cmyk = False
    rawmode = _rawmode(image)
    if image_format in ("PNG", "TIFF") and image.mode in ("RGB", "RGBA") and ";16" in rawmode:
        # Pillow has no 16-bit colour modes and would cut these to 8 bits: let OpenCV decode.
        pixels, alpha = _decode_deep_colour(file, image.size)
        is_grey = rawmode.startswith("L")
    else:
        image.load()  # decoding errors (truncated data...) surface here, before getexif() below
        if image.mode == "CMYK":
            was_cmyk, icc = True, None
            pixels, alpha, is_grey = _pil_arrays(_cmyk_to_rgb(image, image.info.get("icc_profile")))
        else:
            pixels, alpha, is_grey = _pil_arrays(image)
    exif, orientation = _read_exif(image, from_tiff=image_format == "TIFF")
    pixels = np.ascontiguousarray(_orient(pixels, orientation))
    if alpha is not None:
        alpha = np.ascontiguousarray(_orient(alpha, orientation))
    return LoadedImage(
        path=path,
        pixels=pixels,
        alpha=alpha,
        format=image_format,
        is_grey=is_grey,
        icc_profile=icc,
        exif=exif,
        was_cmyk=was_cmyk,
    )


def _rawmode(image: ImageFile.ImageFile) -> str:
    """The raw (file) pixel layout of the first tile, e.g. 'RGB;16B', or ''."""
    if not image.tile:
        return ""
    args = image.tile[0].args
    if isinstance(args, tuple) and args:
        args = args[0]
    return args if isinstance(args, str) else ""


def _read_exif(image: Image.Image, *, from_tiff: bool) -> tuple[bytes | None, int]:
    """(EXIF bytes with orientation reset to 1, original orientation). Broken EXIF is ignored."""
    try:
        exif = image.getexif()
        if from_tiff:
            exif = _tiff_descriptive_exif(exif)
        orientation = exif.get(_ORIENTATION, 1)
        if _ORIENTATION in exif:
            exif[_ORIENTATION] = 1
        data = exif.tobytes() if len(exif) else None
    except Exception:  # corrupt EXIF must not cost the image
        return None, 1
    return data, orientation if orientation in range(1, 9) else 1


def _tiff_descriptive_exif(tags: Image.Exif) -> Image.Exif:
    exif = Image.Exif()
    for tag in _TIFF_EXIF_TAGS:
        if tag in tags:
            exif[tag] = tags[tag]
    for tag in (_EXIF_IFD, _GPS_IFD):
        if tag in tags:
            exif[tag] = tags.get_ifd(tag)
    return exif


def _decode_deep_colour(
    file: IO[bytes], size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray | None]:
    file.seek(0)
    data = np.frombuffer(file.read(), np.uint8)
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if (
        decoded is None
        or decoded.ndim != 3
        or decoded.shape[1::-1] != size
        or decoded.shape[2] not in (3, 4)
        or decoded.dtype not in (np.uint8, np.uint16)
    ):
        raise _DecodeError(
            "truncated or corrupt image data: cannot decode the 16-bit colour samples"
        )
    alpha = decoded[..., 3] if decoded.shape[2] == 4 else None
    return decoded[..., 2::-1], alpha  # BGR(A) -> RGB


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert CMYK to sRGB through the embedded profile, else with Pillow's plain formula.

    Pillow already undoes the inverted samples of Adobe (Photoshop) CMYK JPEGs on decoding.
    """
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # unusable profile: fall back below
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")


def _pil_arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(pixels (H,W,3), alpha (H,W) or None, is_grey) from a loaded non-CMYK Pillow image."""
    mode = image.mode
    if mode == "1":
        image, mode = image.convert("L"), "L"
    if mode in ("L", "LA", "La"):
        if mode != "LA" and (mode == "La" or image.has_transparency_data):
            image = image.convert("LA")
        array = np.asarray(image)
        grey, alpha = (array[..., 0], array[..., 1]) if array.ndim == 3 else (array, None)
        return _grey_to_rgb(grey), alpha, True
    if mode.startswith("I"):  # I;16, I;16B, I;16L, I;16N (16-bit grey), I (32-bit integer)
        array = np.asarray(image)
        grey = (
            array.astype(np.uint16)
            if mode.startswith("I;16")
            else np.clip(array, 0, 65535).astype(np.uint16)
        )
        return _grey_to_rgb(grey), None, True
    if mode == "F":
        raise _DecodeError("unsupported pixel format: 32-bit floating point")
    if mode != "RGBA" and (mode in ("PA", "RGBa") or image.has_transparency_data):
        image = image.convert("RGBA")
    elif mode not in ("RGB", "RGBA"):
        try:
            image = image.convert("RGB")  # P, YCbCr, HSV...
        except ValueError as e:
            raise _DecodeError(f"unsupported pixel format {mode}") from e
    array = np.asarray(image)
    if array.shape[2] == 4:
        return array[..., :3], array[..., 3], False
    return array, None, False


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, np.newaxis], 3, axis=2)


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W[, C]) array; returns a view."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, -1)
    if orientation == 7:
        return array.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(array, 1)
    return array
