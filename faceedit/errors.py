"""Exceptions with a file and a one-line reason, so every failure can be reported as
``path: reason`` without a traceback."""

from __future__ import annotations

import os


class FaceEditError(Exception):
    """Base class. ``path`` is the file the error is about (may be None)."""

    def __init__(self, reason: str, path: str | os.PathLike | None = None):
        self.reason = str(reason)
        self.path = None if path is None else os.fspath(path)
        super().__init__(f"{self.path}: {self.reason}" if self.path else self.reason)


class ImageError(FaceEditError):
    """An input image cannot be decoded (empty, not an image, truncated, too large...)."""


class OutputError(FaceEditError):
    """An output cannot be written (unwritable folder, collision, would overwrite an input...)."""


class NoFaceError(FaceEditError):
    """No face was found where one was required."""


class TooManyFacesError(FaceEditError):
    """More faces than the configured maximum."""


class CheckpointError(FaceEditError):
    """A checkpoint is missing, corrupt, tampered with, of the wrong format, or a pickle."""


class UsageError(FaceEditError):
    """Bad user request (unknown model, target, option). The CLI maps it to exit code 2."""
