"""Which files are inputs of which kind, and which image formats faceedit reads and writes.

An input's *kind* says which reader takes it: ``photo`` (:func:`faceedit.io.decode.read_image`).
:func:`input_kind` is the one place that decides it, from the file's extension
(:data:`KIND_BY_EXT`); the input listing (:mod:`faceedit.io.inputs`) asks it for every file, so a
new kind of input is one more entry there (and, where an extension is not enough, a look at the
file's container in :func:`input_kind`) plus its reader.
"""

from __future__ import annotations

import os

from faceedit.errors import UsageError

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

FORMATS_TEXT = "JPEG, PNG, WebP, BMP, TIFF"
"""The image formats we read, for messages."""

UNREAD_IMAGE_EXTS: frozenset[str] = frozenset({
    ".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".ico", ".psd", ".svg", ".tga",
    ".exr", ".hdr", ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".raf", ".orf",
    ".rw2", ".pef", ".srw", ".x3f",
})
"""Extensions of image files that folders may hold but :func:`~faceedit.io.decode.read_image`
does not decode: the input listing passes over them (logged at debug level, see
:func:`faceedit.io.inputs.collect_unread`)."""

PHOTO = "photo"
"""The kind of a still image, read by :func:`faceedit.io.decode.read_image`."""

VIDEO = "video"
"""The kind of a video file (MP4, MOV, Matroska, WebM, AVI), read by :mod:`faceedit.video`."""

VIDEO_EXTS: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
"""Extensions of the video files folders and globs list (a file named directly is a video when
its bytes are a video container's, whatever its name: :func:`faceedit.plan.video_format`)."""

KIND_BY_EXT: dict[str, str] = {**dict.fromkeys(FORMAT_BY_EXT, PHOTO), **dict.fromkeys(VIDEO_EXTS, VIDEO)}
"""Lower-case file extension -> the kind of input a file with it holds. A folder listing takes
exactly the files whose extension is here."""


def input_kind(path: str | os.PathLike[str]) -> str | None:
    """The kind of input the file ``path`` holds (:data:`KIND_BY_EXT`), or None when no kind
    claims its extension. Only the name is looked at: the file need not exist."""
    return KIND_BY_EXT.get(os.path.splitext(os.fspath(path))[1].lower())


def normalise_ext(ext: str) -> str:
    """``ext`` (``png``, ``.PNG``) as a supported lower-case extension with its dot; UsageError
    if we cannot write it."""
    normalised = ("" if ext.startswith(".") else ".") + ext.lower()
    if normalised not in FORMAT_BY_EXT:
        raise UsageError(
            f"unsupported output extension {ext!r}; use one of {', '.join(SUPPORTED_EXTS)}"
        )
    return normalised


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
