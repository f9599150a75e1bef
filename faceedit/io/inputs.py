"""The input list: command-line input specs (files, folders, glob patterns, ``-`` for paths on
standard input) expanded into the files to edit, lazily and without duplicates, each an
:class:`InputItem` that says which kind of input it is (:func:`faceedit.io.formats.input_kind`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import glob
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from faceedit.files import os_reason
from faceedit.io.formats import FORMATS_TEXT, PHOTO, UNREAD_IMAGE_EXTS, input_kind
from faceedit.log import logger


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
    kind: str = PHOTO
    """Which kind of input the file is (:func:`~faceedit.io.formats.input_kind`): ``photo``.
    A file named directly whose extension no kind claims is a photo (decoding judges it)."""


def _item(path: str, rel: str, error: str | None = None, *, listed: bool = False) -> InputItem:
    return InputItem(path, rel, error, listed=listed, kind=input_kind(path) or PHOTO)


_unread_sink: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "faceedit_unread_images", default=None
)


@contextlib.contextmanager
def collect_unread() -> Iterator[list[str]]:
    """Collect, while the block runs, the image files in a format we do not read (GIF, HEIC,
    camera raw...: :data:`~faceedit.io.formats.UNREAD_IMAGE_EXTS`) that :func:`expand_inputs`
    passed over in the folders it listed, so a summary can count them."""
    found: list[str] = []
    token = _unread_sink.set(found)
    try:
        yield found
    finally:
        _unread_sink.reset(token)


def expand_inputs(
    specs: Iterable[str], recursive: bool = False, stdin: IO[str] | None = None
) -> Iterator[InputItem]:
    """Expand command-line input specs into input files, lazily, without duplicates.

    A spec is a file (any extension: decoding judges it), a folder (its files of a known kind
    by extension, :func:`~faceedit.io.formats.input_kind`, sorted by name, hidden ones skipped;
    subfolders with ``recursive``, symlinked subfolders are not followed), a glob pattern
    (``**`` spans folders with ``recursive``) or ``-``: paths (files or folders, taken
    literally) read one per line from ``stdin`` (default ``sys.stdin``). Existing paths are
    taken literally even if they contain glob characters. A spec that yields nothing gives one
    item with ``error`` set, and so does an entry of a folder that cannot be examined (a
    symbolic link loop...): the folder's other files still come. Files are deduplicated by real
    path, keeping the first occurrence. Items are numbered in order (``index``) and say their
    kind (``kind``). Image files of a folder in a format we do not read
    (:data:`~faceedit.io.formats.UNREAD_IMAGE_EXTS`) are passed over, logged at debug level
    (``-v``) and collected by :func:`collect_unread`.
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
                yield _item("-", "-", "no paths on standard input")
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
        yield _item(path, os.path.basename(path))
    else:
        yield _item(path, os.path.basename(path), "no such file or directory")


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
            yield _item(match, rel, listed=True)
    if not matched:
        yield _item(pattern, "", "pattern matched no files")


def _glob_root(pattern: str) -> str:
    """The leading folders of a glob pattern that hold no wildcard ('' if none)."""
    head = pattern
    while glob.has_magic(head):
        head = os.path.dirname(head)
    return head


def _expand_folder(
    folder: str, rel: str, recursive: bool, *, report_empty: bool
) -> Iterator[InputItem]:
    """Files of a known kind in ``folder`` sorted by name, then (recursive) each subfolder's in
    turn.

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
                if input_kind(entry.name) is not None:
                    try:
                        if entry.is_file():
                            files.append((entry.name, None))
                    except OSError as e:  # e.g. a symbolic link loop: report it, list the rest
                        files.append((entry.name, os_reason(e)))
                elif ext in UNREAD_IMAGE_EXTS:
                    unread.append(entry.name)
    except OSError as e:
        yield _item(folder, rel, f"cannot list folder: {os_reason(e)}")
        return
    _pass_over(folder, sorted(unread))
    found = bool(files)
    files.sort()
    for name, error in files:
        yield _item(os.path.join(folder, name), os.path.join(rel, name), error, listed=True)
    del files  # hold no more than one listing per level while descending
    subfolders.sort()
    for name in subfolders:
        for item in _expand_folder(
            os.path.join(folder, name), os.path.join(rel, name), True, report_empty=False
        ):
            found = True
            yield item
    if report_empty and not found:
        hint = "" if recursive else " (subfolders need `recursive`)"
        if unread:
            kinds = ", ".join(sorted({os.path.splitext(n)[1].lower() for n in unread}))
            hint += f"; {len(unread)} file(s) in formats faceedit does not read ({kinds})"
        yield _item(folder, rel, f"no photos or videos in folder{hint}")


def _pass_over(folder: str, names: list[str]) -> None:
    """Log (debug) and collect the files of ``folder`` in an image format we do not read."""
    sink = _unread_sink.get()
    for name in names:
        path = os.path.join(folder, name)
        kind = os.path.splitext(name)[1][1:].upper()
        logger.debug("%s: skipped: %s is not a format faceedit reads (%s)", path, kind, FORMATS_TEXT)
        if sink is not None:
            sink.append(path)
