"""Image files in and out: decoding, atomic encoding, input expansion and output naming.

Everything here reports failures as :class:`~faceedit.errors.ImageError` (an input cannot be
decoded), :class:`~faceedit.errors.OutputError` (an output cannot be written) or
:class:`~faceedit.errors.UsageError` (a bad request), each with a short human reason; no raw
Pillow / OpenCV / OS exception escapes.

Pixel conventions: ``pixels`` is always (H, W, 3) RGB, ``uint8`` or ``uint16`` (16-bit sources
keep 16 bits), EXIF orientation already applied; ``alpha`` is (H, W) of the same dtype or None.

Pillow's process-wide decompression-bomb check is switched off when this module is imported:
:func:`read_image` enforces its own documented limit (``max_pixels``) from the image header,
before any pixel is decoded, and Pillow's check (a warning above ~89 MP, an error above ~179 MP)
would otherwise pre-empt it with a confusing message.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import glob
import io
import os
import stat
import string
import struct
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from faceedit.errors import ImageError, OutputError, UsageError
from faceedit.files import os_reason, write_file_atomically  # noqa: F401 (write_file_atomically re-exported)
from faceedit.log import logger
from faceedit.pixels import luma_levels, to_uint16, to_uint8  # noqa: F401 (to_uint8 re-exported)

Image.MAX_IMAGE_PIXELS = None  # see the module docstring: read_image checks max_pixels itself

FORMAT_BY_EXT: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
"""Lower-case file extension -> Pillow format name, for every format we read and write."""

SUPPORTED_EXTS: tuple[str, ...] = tuple(FORMAT_BY_EXT)
"""Extensions (lower case, with the dot) of the image files we read and write."""

DEFAULT_MAX_PIXELS = 100_000_000
"""Largest image (width x height) :func:`read_image` decodes unless told otherwise; 100 MP
covers every current camera (a 50 MP photo decodes fine) while refusing decompression bombs."""

_PIL_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF")
_FORMATS_TEXT = "JPEG, PNG, WebP, BMP, TIFF"
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
_JPEG_MAX_EXIF = 65_533  # one APP1 segment


# --------------------------------------------------------------------------------------------
# Decoding


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
                f"not a recognised image format (supported: {_FORMATS_TEXT})", path
            ) from e
        except Exception as e:  # a header that parses as one of our formats, then breaks
            raise ImageError(f"truncated or corrupt image data: {e}", path) from e
        with image:
            width, height = image.size
            if max_pixels is not None and width * height > max_pixels:
                raise ImageError(
                    f"image is {width} x {height} = {_megapixels(width * height)} megapixels, "
                    f"above the limit of {_megapixels(max_pixels)} megapixels (--max-pixels)",
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


# --------------------------------------------------------------------------------------------
# Encoding


def output_format(path: str | os.PathLike[str]) -> str:
    """Pillow format name for an output path, from its extension; UsageError if unsupported."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMAT_BY_EXT:
        valid = ", ".join(SUPPORTED_EXTS)
        raise UsageError(
            f"unsupported output extension {ext or '(none)'!r}; use one of {valid}", path
        )
    return FORMAT_BY_EXT[ext]


def write_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    like: LoadedImage | None = None,
    quality: int = 95,
    protected: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Encode ``pixels`` (H, W, 3) RGB uint8/uint16 (+ optional (H, W) ``alpha``) to ``path``.

    The format comes from the extension. 16 bits are kept for PNG and TIFF, other formats get
    8 bits. With ``like`` (the decoded source) greyscale sources are written greyscale (luma of
    ``pixels``) and its ICC profile and EXIF are kept where the format can hold them. Alpha is
    kept for PNG, WebP and TIFF and dropped for JPEG and BMP. ``quality`` (1-100) applies to
    JPEG (4:4:4 chroma from 90 up) and WebP.

    The file is encoded in memory, written to a temporary file beside the target, synced and
    renamed over it, so a failed write never leaves a partial file. Paths in ``protected``
    (the inputs) are never overwritten.

    Raises UsageError (unsupported extension, bad quality), OutputError (cannot encode or
    write, would overwrite an input), and ValueError / TypeError for arrays of the wrong
    shape or dtype (a programming error).
    """
    path = os.fspath(path)
    image_format = output_format(path)
    if not 1 <= quality <= 100:
        raise UsageError(f"quality must be between 1 and 100, got {quality}")
    _check_arrays(pixels, alpha)
    if os.path.isdir(path):
        raise OutputError("is a folder", path)
    if any(_same_file(path, os.fspath(p)) for p in protected):
        raise OutputError("refusing to overwrite an input file", path)
    try:
        data = _encode(image_format, pixels, alpha, like, quality)
    except Exception as e:
        raise OutputError(f"cannot encode {image_format}: {e}", path) from e
    write_file_atomically(path, data)


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


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _encode(
    image_format: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    like: LoadedImage | None,
    quality: int,
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
        return _png_add_metadata(data, icc, exif) if image_format == "PNG" else data

    channels = luma_levels(pixels) if grey else pixels
    if alpha is not None:
        channels = np.dstack([channels, alpha])
    image = Image.fromarray(np.ascontiguousarray(channels))
    options: dict[str, Any] = {}
    if icc is not None:
        options["icc_profile"] = icc
    if exif is not None:
        options["exif"] = exif
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


def _png_add_metadata(png: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Insert iCCP / eXIf chunks right after IHDR (before any PLTE or IDAT)."""
    chunks = b""
    if icc is not None:
        chunks += _png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc))
    if exif is not None:
        chunks += _png_chunk(b"eXIf", exif.removeprefix(b"Exif\0\0"))
    end_of_ihdr = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    return png[:end_of_ihdr] + chunks + png[end_of_ihdr:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class InputItem:
    """One input file (or a spec that matched nothing, with ``error`` set)."""

    path: str
    """The file's path as found (spec, folder + name, glob match or stdin line)."""
    rel: str
    """Path relative to the root of the spec it came from, to mirror folder structure
    (a plain file: its basename; a file found in a folder: ``sub/dir/name.jpg``)."""
    error: str | None = None
    """Why the spec yielded no file ("no such file or directory", ...), else None."""
    listed: bool = False
    """Found by listing a folder or matching a glob pattern (False: named by a spec or a stdin
    line)."""
    index: int = 0
    """Position in the input list :func:`expand_inputs` yields (0 for the first item), the
    ``{index}`` of output names."""


UNREAD_IMAGE_EXTS: frozenset[str] = frozenset({
    ".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".ico", ".psd", ".svg", ".tga",
    ".exr", ".hdr", ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".raf", ".orf",
    ".rw2", ".pef", ".srw", ".x3f",
})
"""Extensions of image files that folders may hold but :func:`read_image` does not decode:
:func:`expand_inputs` passes over them (logged at debug level, see :func:`collect_unread`)."""

_unread_sink: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "faceedit_unread_images", default=None
)


@contextlib.contextmanager
def collect_unread() -> Iterator[list[str]]:
    """Collect, while the block runs, the image files in a format we do not read (GIF, HEIC,
    camera raw...: :data:`UNREAD_IMAGE_EXTS`) that :func:`expand_inputs` passed over in the
    folders it listed, so a summary can count them."""
    found: list[str] = []
    token = _unread_sink.set(found)
    try:
        yield found
    finally:
        _unread_sink.reset(token)


def expand_inputs(
    specs: Iterable[str], recursive: bool = False, stdin: IO[str] | None = None
) -> Iterator[InputItem]:
    """Expand command-line input specs into image files, lazily, without duplicates.

    A spec is a file (any extension: decoding judges it), a folder (its image files by
    extension, sorted by name, hidden ones skipped; subfolders with ``recursive``, symlinked
    subfolders are not followed), a glob pattern (``**`` spans folders with ``recursive``) or
    ``-``: paths (files or folders, taken literally) read one per line from ``stdin``
    (default ``sys.stdin``). Existing paths are taken literally even if they contain glob
    characters. A spec that yields nothing gives one item with ``error`` set, and so does an
    entry of a folder that cannot be examined (a symbolic link loop...): the folder's other
    files still come. Files are deduplicated by real path, keeping the first occurrence.
    Items are numbered in order (``index``). Image files of a folder in a format we do not
    read (:data:`UNREAD_IMAGE_EXTS`) are passed over, logged at debug level (``-v``) and
    collected by :func:`collect_unread`.
    """
    for index, item in enumerate(_expand_specs(specs, recursive, stdin)):
        yield dataclasses.replace(item, index=index)


def _expand_specs(
    specs: Iterable[str], recursive: bool, stdin: IO[str] | None
) -> Iterator[InputItem]:
    seen: set[str] = set()
    for spec in specs:
        if spec == "-":
            read = False
            for line in stdin if stdin is not None else sys.stdin:
                line = line.strip()
                if line:
                    read = True
                    yield from _dedupe(_expand_path(line, recursive), seen)
            if not read:  # as an empty folder: nothing to do is a failed input
                yield InputItem("-", "-", "no paths on standard input")
        elif os.path.lexists(spec) or not glob.has_magic(spec):
            yield from _dedupe(_expand_path(spec, recursive), seen)
        else:
            yield from _dedupe(_expand_glob(spec, recursive), seen)


def _dedupe(items: Iterator[InputItem], seen: set[str]) -> Iterator[InputItem]:
    for item in items:
        if item.error is None:
            key = os.path.realpath(item.path)
            if key in seen:
                continue
            seen.add(key)
        yield item


def _expand_path(path: str, recursive: bool) -> Iterator[InputItem]:
    if os.path.isdir(path):
        yield from _expand_folder(path, "", recursive, report_empty=True)
    elif os.path.lexists(path):
        yield InputItem(path, os.path.basename(path))
    else:
        yield InputItem(path, os.path.basename(path), "no such file or directory")


def _expand_glob(pattern: str, recursive: bool) -> Iterator[InputItem]:
    root = _glob_root(pattern)
    matched = False
    for match in sorted(glob.iglob(pattern, recursive=recursive)):
        rel = os.path.relpath(match, root) if root else match
        if os.path.isdir(match):
            for item in _expand_folder(
                match, "" if rel == os.curdir else rel, recursive, report_empty=False
            ):
                matched = True
                yield item
        else:
            matched = True
            yield InputItem(match, rel, listed=True)
    if not matched:
        yield InputItem(pattern, "", "pattern matched no files")


def _glob_root(pattern: str) -> str:
    """The leading folders of a glob pattern that hold no wildcard ('' if none)."""
    head = pattern
    while glob.has_magic(head):
        head = os.path.dirname(head)
    return head


def _expand_folder(
    folder: str, rel: str, recursive: bool, *, report_empty: bool
) -> Iterator[InputItem]:
    """Image files of ``folder`` sorted by name, then (recursive) each subfolder's in turn.

    Only one sorted listing per folder level is held; symlinked subfolders are not followed.
    """
    files: list[tuple[str, str | None]] = []  # (name, why it cannot be examined, or None)
    subfolders: list[str] = []
    unread: list[str] = []  # image files in a format we do not read (GIF, HEIC...)
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        subfolders.append(entry.name)
                    continue
                ext = os.path.splitext(entry.name)[1].lower()
                if ext in FORMAT_BY_EXT:
                    try:
                        if entry.is_file():
                            files.append((entry.name, None))
                    except OSError as e:  # e.g. a symbolic link loop: report it, list the rest
                        files.append((entry.name, os_reason(e)))
                elif ext in UNREAD_IMAGE_EXTS:
                    unread.append(entry.name)
    except OSError as e:
        yield InputItem(folder, rel, f"cannot list folder: {os_reason(e)}")
        return
    _pass_over(folder, sorted(unread))
    found = bool(files)
    files.sort()
    for name, error in files:
        yield InputItem(os.path.join(folder, name), os.path.join(rel, name), error, listed=True)
    del files  # hold no more than one listing per level while descending
    subfolders.sort()
    for name in subfolders:
        for item in _expand_folder(
            os.path.join(folder, name), os.path.join(rel, name), True, report_empty=False
        ):
            found = True
            yield item
    if report_empty and not found:
        hint = "" if recursive else " (subfolders need --recursive)"
        if unread:
            kinds = ", ".join(sorted({os.path.splitext(n)[1].lower() for n in unread}))
            hint += f"; {len(unread)} file(s) in formats faceedit does not read ({kinds})"
        yield InputItem(folder, rel, f"no image files in folder{hint}")


def _pass_over(folder: str, names: list[str]) -> None:
    """Log (debug) and collect the files of ``folder`` in an image format we do not read."""
    sink = _unread_sink.get()
    for name in names:
        path = os.path.join(folder, name)
        kind = os.path.splitext(name)[1][1:].upper()
        logger.debug("%s: skipped: %s is not a format faceedit reads (%s)", path, kind, _FORMATS_TEXT)
        if sink is not None:
            sink.append(path)


# --------------------------------------------------------------------------------------------
# Output names


class _Strength(float):
    """A float that formats compactly by default (0.5, 1, -0.25) but honours format specs."""

    def __format__(self, spec: str) -> str:
        return format(float(self), spec or "g")


class OutputNamer:
    """Build output paths from a template, keeping them inside ``out_dir`` and distinct.

    Fields: ``{stem}`` ``{name}`` (input basename) ``{ext}`` (output extension with the dot:
    ``ext`` if given, else the input's own, lower-cased; ``.png`` for inputs whose extension
    cannot be written) ``{target}`` ``{strength}`` (compact: 0.5, 1; format specs such as
    ``{strength:.2f}`` work) ``{relparent}`` (the input's folder relative to its spec root,
    '' at top level, to mirror ``--recursive`` trees) ``{index}`` (the input's position in the
    input list, from 0: :attr:`InputItem.index`; an int, e.g. ``{index:03d}``) and the
    conditions of a run, the same for every output: ``{lighting}`` (``left``) ``{au}``
    (``au12-3.5_au6-2``) ``{attr}`` (``glasses-on``) ``{control}`` (``smile-0.5_brows--0.3``)
    ``{like}`` (``like-ref``, the reference photo's stem), ``{model}`` (the model's name:
    ``reggan``, or a checkpoint's), '' unless bound to the run's values by
    :meth:`bind` (``faceedit apply`` does). Path separators and NULs in field values are
    replaced by '_'; only ``{relparent}`` and literal '/' in the template create subfolders.
    """

    FIELDS = ("stem", "name", "ext", "target", "strength", "relparent", "index")
    CONDITION_FIELDS = ("lighting", "au", "attr", "control", "like", "model")

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        template: str = "{stem}_{target}{ext}",
        ext: str | None = None,
    ):
        self.out_dir = os.fspath(out_dir)
        self.template = template
        self.ext = None if ext is None else _normalise_ext(ext)
        self._claimed: dict[str, tuple[InputItem, str, float, int]] = {}
        self.validate()

    @classmethod
    def bind(cls, template: str, conditions: dict[str, str]) -> str:
        """``template`` with the condition fields named in ``conditions`` (``lighting``, ``au``,
        ``attr``) replaced by their text, as literal text; every other field is left as it is.
        A malformed template comes back unchanged (the namer reports it)."""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            return template
        out = []
        for literal, field, spec, conversion in parsed:
            out.append(_escape_braces(literal))
            if field is None:
                continue
            if field in cls.CONDITION_FIELDS and field in conditions:
                try:
                    text = format(str(conditions[field]), spec or "")
                except ValueError:
                    return template
                out.append(_escape_braces(_sanitise(text)))
            else:
                out.append("{" + field + (f"!{conversion}" if conversion else "")
                           + (f":{spec}" if spec else "") + "}")
        return "".join(out)

    def validate(self) -> None:
        """UsageError if the template is malformed, uses an unknown field, lacks an image
        extension or leaves the output folder (absolute, ``..``)."""

        def bad(reason: str) -> UsageError:
            return UsageError(
                f"bad --name template {self.template!r}: {reason}; fields: {self._fields_text()}"
            )

        try:
            for _, field, _, _ in string.Formatter().parse(self.template):
                if field is not None and field not in self.FIELDS + self.CONDITION_FIELDS:
                    raise bad(f"unknown field {{{field}}}")
            sample = self._format(
                stem="photo",
                name="photo.jpg",
                ext=self.ext or ".jpg",
                target="smile",
                strength=1.0,
                relparent="folder",
                index=0,
                lighting="left",
                au="au12-3",
                attr="glasses-on",
                control="smile-0.5",
                like="ref",
                model="reggan",
            )
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise bad(str(e)) from e
        problem = _name_problem(sample)
        if problem:
            raise bad(f"output name {sample!r} {problem}")
        base = os.path.basename(sample)
        name_ext = os.path.splitext(base)[1].lower()
        if name_ext not in FORMAT_BY_EXT:
            if ("." + base.lstrip(".")).lower() in FORMAT_BY_EXT:  # '.png', '..jpg': a bare extension
                raise bad(f"output name {sample!r} has nothing before its extension (add {{stem}})")
            raise bad(f"output name {sample!r} has no image extension (add {{ext}})")
        if self.ext is not None and FORMAT_BY_EXT[name_ext] != FORMAT_BY_EXT[self.ext]:
            raise bad(f"the names end in {name_ext}, --ext asks for {self.ext}: give one of them "
                      "(with {ext} in --name the names follow --ext)")

    def path_for(
        self, item: InputItem, target: str, strength: float, index: int | None = None
    ) -> str:
        """The output path for ``item`` edited towards ``target`` at ``strength``; ``{index}``
        is ``index``, by default the item's own.

        OutputError if it would leave ``out_dir`` or an earlier call already gave the same
        path to a different input, target, strength or index; the message names the fields
        that would tell the two apart.
        """
        index = item.index if index is None else index
        path, formatted = self._resolve(item, target, strength, index)
        if os.path.isdir(path):
            raise OutputError(f"output name {formatted!r} is an existing folder", item.path)
        key = os.path.normcase(os.path.abspath(path))
        owner = (item, target, float(strength), index)
        first = self._claimed.setdefault(key, owner)
        if first[0].path != item.path or first[1:] != owner[1:]:
            raise OutputError(
                f"output path collision with {first[0].path} (target {first[1]}, "
                f"strength {first[2]:g}); {self._separating_hint(first, owner)}",
                path,
            )
        return path

    def _separating_hint(self, first: tuple, second: tuple) -> str:
        """What to add to the template so that two claims of one path get their own names."""
        (a, a_target, a_strength, _), (b, b_target, b_strength, _) = first, second
        used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
        fields = []
        if a_target != b_target:
            fields.append("target")
        if a_strength != b_strength:
            fields.append("strength")
        if a.path != b.path:
            if os.path.dirname(a.rel) != os.path.dirname(b.rel):
                fields.append("relparent")
            fields.append("index")  # the input's position in the input list: always distinct
        fields = [f for f in fields if f not in used] or ["index"]
        example = ""
        if self.template.endswith("{ext}"):
            field = fields[0]
            example = (f"{{relparent}}/{self.template}" if field == "relparent"
                       else f"{self.template[:-5]}_{{{field}}}{{ext}}")
            example = f", e.g. --name '{example}'"
        return "add " + " or ".join(f"{{{f}}}" for f in fields) + f" to the name template{example}"

    def predict(
        self, item: InputItem, target: str, strength: float, index: int | None = None
    ) -> str | None:
        """The path :meth:`path_for` would give, without claiming it; None if it has none."""
        try:
            return self._resolve(item, target, strength, item.index if index is None else index)[0]
        except OutputError:
            return None

    def _resolve(
        self, item: InputItem, target: str, strength: float, index: int
    ) -> tuple[str, str]:
        """(output path, formatted name); OutputError if the name is unusable."""
        name = os.path.basename(item.path)
        stem, in_ext = os.path.splitext(name)
        in_ext = in_ext.lower()
        relparent = os.path.dirname(item.rel)
        problem = _name_problem(os.path.join(relparent, "x"))
        if problem:
            raise OutputError(f"input folder {relparent!r} {problem}", item.path)
        formatted = self._format(
            stem=_sanitise(stem),
            name=_sanitise(name),
            ext=self.ext or (in_ext if in_ext in FORMAT_BY_EXT else ".png"),
            target=_sanitise(target),
            strength=strength,
            relparent=relparent,
            index=index,
        )
        # Join the non-empty components: an empty {relparent} or {target} leaves stray '/'.
        relative = "/".join(
            part for part in formatted.replace("\\", "/").split("/") if part not in ("", ".")
        )
        problem = _name_problem(relative)
        if problem:
            raise OutputError(f"output name {formatted!r} {problem}", item.path)
        return os.path.join(self.out_dir, *relative.split("/")), formatted

    def _format(self, *, strength: float, **fields: object) -> str:
        unbound = dict.fromkeys(self.CONDITION_FIELDS, "")  # fields that bind() did not fill
        return self.template.format(strength=_Strength(strength), **{**unbound, **fields})

    def _fields_text(self) -> str:
        return " ".join(f"{{{f}}}" for f in self.FIELDS + self.CONDITION_FIELDS)


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _normalise_ext(ext: str) -> str:
    normalised = ("" if ext.startswith(".") else ".") + ext.lower()
    if normalised not in FORMAT_BY_EXT:
        raise UsageError(
            f"unsupported output extension {ext!r}; use one of {', '.join(SUPPORTED_EXTS)}"
        )
    return normalised


def _sanitise(value: str) -> str:
    """Make a field value a single path component: no separators, NULs or bare dots."""
    value = value.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return "_" * len(value) if value in (".", "..") else value


def _name_problem(relative: str) -> str | None:
    """Why ``relative`` cannot name a file inside the output folder, or None if it can."""
    if "\0" in relative:
        return "contains a NUL character"
    if os.path.isabs(relative) or os.path.splitdrive(relative)[0]:
        return "escapes the output folder (absolute path)"
    parts = relative.replace("\\", "/").split("/")
    if ".." in parts:
        return "escapes the output folder (..)"
    if parts[-1] in ("", "."):
        return "is empty or names a folder"
    return None
