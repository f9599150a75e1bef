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
"""The kind of a video file (every container FFmpeg demuxes: :data:`VIDEO_EXTS`), read by
:mod:`faceedit.video`."""

VIDEO_FORMAT_BY_EXT: dict[str, str] = {
    ".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
    ".ts": "mpegts", ".flv": "flv", ".3gp": "3gp",
}
"""Lower-case extension -> the container (PyAV's format name) a video output with it is
written in: the video extensions ``--ext`` takes."""

VIDEO_EXTS: tuple[str, ...] = (*VIDEO_FORMAT_BY_EXT, ".mpg", ".mpeg", ".vob", ".m2ts", ".mts", ".asf",
                               ".wmv", ".3g2", ".ogv")
"""Extensions of the video files folders and globs list: those written
(:data:`VIDEO_FORMAT_BY_EXT`) and containers read only (MPEG-1/2 program stream, Blu-ray
transport stream, ASF/WMV, 3GPP2, Ogg). A file named directly is a video when its bytes are a
video container's, whatever its name (``.ogg`` among them, which folders leave out as it is
mostly sound): :func:`faceedit.plan.video_format`."""

VIDEO_EXTS_TEXT = ", ".join(VIDEO_FORMAT_BY_EXT)
"""The video extensions written, for messages."""

KIND_BY_EXT: dict[str, str] = {**dict.fromkeys(FORMAT_BY_EXT, PHOTO), **dict.fromkeys(VIDEO_EXTS, VIDEO)}
"""Lower-case file extension -> the kind of input a file with it holds. A folder listing takes
exactly the files whose extension is here."""


def input_kind(path: str | os.PathLike[str]) -> str | None:
    """The kind of input the file ``path`` holds (:data:`KIND_BY_EXT`), or None when no kind
    claims its extension. Only the name is looked at: the file need not exist."""
    return KIND_BY_EXT.get(os.path.splitext(os.fspath(path))[1].lower())


def normalise_ext(ext: str) -> str:
    """``ext`` (``png``, ``.PNG``, ``.MKV``) as a lower-case extension with its dot that we
    write: an image's (:data:`FORMAT_BY_EXT`) or a video's (:data:`VIDEO_FORMAT_BY_EXT`);
    UsageError otherwise."""
    normalised = ("" if ext.startswith(".") else ".") + ext.lower()
    if normalised not in FORMAT_BY_EXT and normalised not in VIDEO_FORMAT_BY_EXT:
        raise UsageError(
            f"unsupported output extension {ext!r}; use one of {', '.join(SUPPORTED_EXTS)} "
            f"(photos) or {VIDEO_EXTS_TEXT} (videos)"
        )
    return normalised


def ext_kind(ext: str) -> str:
    """The kind of input (``photo``, ``video``) an output extension from
    :func:`normalise_ext` is for."""
    return VIDEO if ext.lower() in VIDEO_FORMAT_BY_EXT else PHOTO


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
