"""Encoding photos: pixels (+ alpha) to a JPEG, PNG, WebP, BMP or TIFF file, written atomically
(:func:`faceedit.files.write_file_atomically`: a failed write never leaves a partial file), keeping
what the source had where the format can hold it (16 bits, grey, ICC profile, EXIF), and
faceedit's record of the output where given (:mod:`faceedit.io.outputs`).

Failures raise :class:`~faceedit.errors.OutputError` (cannot encode or write) or
:class:`~faceedit.errors.UsageError` (a bad request), each with a short human reason.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image

from faceedit.errors import OutputError, UsageError
from faceedit.files import os_reason, same_file, write_file_atomically
from faceedit.io.formats import output_format
from faceedit.io.outputs import RECORD_KEY, record_text, xmp_packet
from faceedit.pixels import luma_levels, to_uint8, to_uint16

if TYPE_CHECKING:
    from faceedit.io.decode import LoadedImage

_JPEG_MAX_EXIF = 65_533  # one APP1 segment


def write_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    like: LoadedImage | None = None,
    quality: int = 95,
    protected: Iterable[str | os.PathLike[str]] = (),
    record: dict[str, Any] | None = None,
) -> None:
    """Encode ``pixels`` (H, W, 3) RGB uint8/uint16 (+ optional (H, W) ``alpha``) to ``path``.

    The format comes from the extension. 16 bits are kept for PNG and TIFF, other formats get
    8 bits. With ``like`` (the decoded source) greyscale sources are written greyscale (luma of
    ``pixels``) and its ICC profile and EXIF are kept where the format can hold them. Alpha is
    kept for PNG, WebP and TIFF and dropped for JPEG and BMP. ``quality`` (1-100) applies to
    JPEG (4:4:4 chroma from 90 up) and WebP.

    The file is encoded in memory, written to a temporary file beside the target, synced and
    renamed over it, so a failed write never leaves a partial file. Paths in ``protected``
    (the inputs) are never overwritten. ``record`` (JSON-able) goes into the file's metadata,
    where :func:`faceedit.io.outputs.read_record` finds it (not in BMP, nor in 16-bit colour
    TIFF: they hold none).

    Raises UsageError (unsupported extension, bad quality), OutputError (cannot encode or
    write, would overwrite an input), and ValueError / TypeError for arrays of the wrong
    shape or dtype (a programming error).
    """
    path = os.fspath(path)
    image_format = output_format(path)
    if not 1 <= quality <= 100:
        raise UsageError(f"quality must be between 1 and 100, got {quality}")
    _check_arrays(pixels, alpha)
    _check_target(path, protected)
    try:
        data = _encode(image_format, pixels, alpha, like, quality, record)
    except Exception as e:
        raise OutputError(f"cannot encode {image_format}: {e}", path) from e
    write_file_atomically(path, data)


def write_unedited(
    path: str | os.PathLike[str],
    image: LoadedImage,
    *,
    quality: int = 95,
    protected: Iterable[str | os.PathLike[str]] = (),
    record: dict[str, Any] | None = None,
) -> None:
    """Write the photo ``image`` unedited to ``path``: its file's own bytes where ``path`` is
    of its format (nothing re-encoded, metadata as they were, so no ``record``), else encoded
    from its pixels with ``record`` as :func:`write_image` does. The same errors, atomic write
    and ``protected`` inputs."""
    path = os.fspath(path)
    if output_format(path) != image.format:
        write_image(path, image.pixels, image.alpha, like=image, quality=quality, protected=protected,
                    record=record)
        return
    _check_target(path, protected)
    try:
        with open(image.path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise OutputError(f"cannot read the input {image.path} to copy it: {os_reason(e)}", path) from e
    write_file_atomically(path, data)


def _check_target(path: str, protected: Iterable[str | os.PathLike[str]]) -> None:
    """OutputError where ``path`` is a folder or one of the ``protected`` inputs."""
    if os.path.isdir(path):
        raise OutputError("is a folder", path)
    if any(same_file(path, p) for p in protected):
        raise OutputError("refusing to overwrite an input file", path)


def _check_arrays(pixels: np.ndarray, alpha: np.ndarray | None) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(
            f"pixels must be an (H, W, 3) array, got {getattr(pixels, 'shape', type(pixels))}"
        )
    if pixels.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"pixels must be uint8 or uint16, got {pixels.dtype}")
    if alpha is not None:
        if alpha.shape != pixels.shape[:2]:
            raise ValueError(f"alpha must be {pixels.shape[:2]}, got {alpha.shape}")
        if alpha.dtype not in (np.uint8, np.uint16):
            raise TypeError(f"alpha must be uint8 or uint16, got {alpha.dtype}")


def _encode(
    image_format: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    like: LoadedImage | None,
    quality: int,
    record: dict[str, Any] | None = None,
) -> bytes:
    deep = pixels.dtype == np.uint16 and image_format in ("PNG", "TIFF")
    if image_format in ("JPEG", "BMP"):
        alpha = None
    if deep:
        alpha = None if alpha is None else to_uint16(alpha)
    else:
        pixels = to_uint8(pixels)
        alpha = None if alpha is None else to_uint8(alpha)
    grey = like is not None and like.is_grey and image_format != "WEBP"  # WebP has no grey
    icc = like.icc_profile if like is not None and image_format != "BMP" else None
    if icc is not None and icc[16:20] != (b"GRAY" if grey else b"RGB "):
        icc = None  # a profile for another colour space would mislabel the pixels
    exif = like.exif if like is not None and image_format != "BMP" else None
    if exif is not None and image_format == "JPEG" and len(exif) > _JPEG_MAX_EXIF:
        exif = None

    if deep and (not grey or alpha is not None):
        # Pillow cannot write 16-bit colour: OpenCV can, for PNG and TIFF (grey+alpha goes
        # out as RGBA). ICC and EXIF are spliced into the PNG; OpenCV's TIFF drops them.
        samples = pixels[..., ::-1] if alpha is None else np.dstack([pixels[..., ::-1], alpha])
        ok, encoded = cv2.imencode(".png" if image_format == "PNG" else ".tif", samples)
        if not ok:
            raise ValueError("OpenCV failed to encode the 16-bit image")
        data = encoded.tobytes()
        return _png_add_metadata(data, icc, exif, record) if image_format == "PNG" else data

    channels = luma_levels(pixels) if grey else pixels
    if alpha is not None:
        channels = np.dstack([channels, alpha])
    image = Image.fromarray(np.ascontiguousarray(channels))
    options: dict[str, Any] = {}
    if icc is not None:
        options["icc_profile"] = icc
    if exif is not None:
        options["exif"] = exif
    if record is not None:
        options.update(_record_options(image_format, record))
    if image_format == "JPEG":
        options["quality"] = quality
        if quality >= 90:
            options["subsampling"] = 0  # 4:4:4
    elif image_format == "WEBP":
        options["quality"] = quality
    elif image_format == "TIFF":
        options["compression"] = "tiff_adobe_deflate"
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _record_options(image_format: str, record: dict[str, Any]) -> dict[str, Any]:
    """Pillow's save options that put ``record`` into a file of ``image_format``."""
    text = record_text(record)
    if image_format == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text(RECORD_KEY, text[len(RECORD_KEY) + 1:])
        return {"pnginfo": info}
    if image_format == "JPEG":
        return {"comment": text.encode("ascii")}
    if image_format == "WEBP":
        return {"xmp": xmp_packet(record)}
    if image_format == "TIFF":
        return {"description": text}
    return {}  # BMP: no metadata


def _png_add_metadata(png: bytes, icc: bytes | None, exif: bytes | None,
                      record: dict[str, Any] | None = None) -> bytes:
    """Insert iCCP / eXIf / the record's tEXt chunks right after IHDR (before any PLTE or IDAT)."""
    chunks = b""
    if record is not None:
        text = record_text(record)[len(RECORD_KEY) + 1:]
        chunks += _png_chunk(b"tEXt", RECORD_KEY.encode("ascii") + b"\0" + text.encode("ascii"))
    if icc is not None:
        chunks += _png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc))
    if exif is not None:
        chunks += _png_chunk(b"eXIf", exif.removeprefix(b"Exif\0\0"))
    end_of_ihdr = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    return png[:end_of_ihdr] + chunks + png[end_of_ihdr:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
