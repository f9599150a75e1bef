"""Writing files atomically, written once (a core helper: image outputs, JSON records and
settings, checkpoints, model cards, sample sheets and timing records all go through it), and
the files a command reads (:class:`InputFiles`), for the one output check of every command
(:func:`faceedit.io.outputs.check_output`).

Every write goes to a temporary file beside the target (``.NAME.PID.XXXXXXXX.tmp``), is synced,
and is renamed over the target, so a reader sees the old content or the new one and never a
partial file; a writer that fails (or raises) removes its temporary file, and one that was
killed leaves one that the next write of the same name removes. Failures to write raise
:class:`~faceedit.errors.OutputError` with a short human reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from faceedit.errors import OutputError, UsageError

STALE_TEMP_SECONDS = 600
"""A temporary file of :func:`write_file_atomically` / :func:`atomic_file` untouched this long
(or whose writing process is gone) belongs to a writer that died (``kill -9``, power loss)."""

# The temporary file of NAME is ".NAME[:200].PID.XXXXXXXX.tmp" (XXXXXXXX: 8 random hex digits).
_TEMP_SUFFIX = re.compile(r"([0-9]+)\.[0-9a-f]{8}\.tmp")
_temp_lock = threading.Lock()
_temp_candidates: dict[str, list[str]] = {}  # folder -> names of temporary files found there


def os_reason(e: OSError) -> str:
    """A short lower-case reason for an OS error ("permission denied", "no such file...")."""
    if isinstance(e, FileNotFoundError):
        return "no such file or directory"
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "is a folder, not a file"
    return (e.strerror or str(e)).lower()


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file (the same path once links are resolved, or
    the same file on disk: a hard link)."""
    a, b = os.fspath(a), os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class InputFiles:
    """The files (and folders) a command reads, for :func:`faceedit.io.outputs.check_output`,
    built once for a batch: a path is one of them if its real path is one of theirs (symbolic
    links), it is the same file on disk (hard links), or it lies in one of the folders.
    :attr:`homes` are the folders that hold them: the folders given, and the folder of each file
    given (as named, and as its real path), and the folders of the files ``near`` them (files
    that are not read, such as those an input listing set aside)."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]],
                 near: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.real: set[str] = set()
        self.ids: set[tuple[int, int]] = set()
        self.folders: list[str] = []
        self.homes: set[str] = set()
        for p in paths:
            real = os.path.realpath(p)
            if os.path.isdir(real):
                self.folders.append(os.path.join(real, ""))
                self.homes.update({real, os.path.abspath(p)})
                continue
            self.real.add(real)
            self.homes.update({os.path.dirname(real), os.path.dirname(os.path.abspath(p))})
            with contextlib.suppress(OSError):
                st = os.stat(real)
                self.ids.add((st.st_dev, st.st_ino))
        for p in near:
            self.homes.update({os.path.dirname(os.path.realpath(p)), os.path.dirname(os.path.abspath(p))})

    def __contains__(self, path: str | os.PathLike[str]) -> bool:
        real = os.path.realpath(path)
        if real in self.real or any(real.startswith(f) for f in self.folders):
            return True
        try:
            st = os.stat(real)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self.ids


def check_named(path: str | os.PathLike[str], *, option: str = "out", what: str = "file") -> None:
    """A path option must name something: the empty path is a UsageError naming the option
    (``Path('')`` is the current folder: a script's unset ``$OUT`` would scatter its outputs
    there, and with ``overwrite`` replace files there)."""
    if not os.fspath(path).strip():
        raise UsageError(f"`{option}` '': an empty path (an unset variable?); give a path for the {what}")


def check_output_folder(path: str | os.PathLike[str], *, option: str = "out", what: str = "folder") -> None:
    """An output folder (created if missing) must be named (the empty path would be the current
    folder) and must not be a file: a UsageError naming the option and the path, before any
    work."""
    check_named(path, option=option, what=what)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UsageError(f"`{option}` {os.fspath(path)}: is a file, not a folder (the {what} is "
                         "created if missing)")


def write_file_atomically(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (``str`` is encoded as UTF-8) to ``path`` atomically: into a temporary
    file beside it, synced, then renamed over it, so readers see the old or the new content and
    never a partial file. Missing folders are created. Raises :class:`OutputError`."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(path) as file:
        file.write(payload)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """``with atomic_file(path) as f: f.write(...)``: a binary file that becomes ``path`` when
    the block ends (synced, then renamed over it). If the block raises, the temporary file is
    removed, ``path`` keeps its old content, and the exception propagates (an ``OSError`` as
    :class:`OutputError`). Missing folders are created."""
    with _temporary(path) as temp:
        with open(temp, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """``with atomic_path(path) as temp: writer(temp)``: for writers that take a file name
    (safetensors, Pillow): ``temp`` is a fresh empty file beside ``path`` that becomes ``path``
    when the block ends (synced, then renamed over it), exactly as :func:`atomic_file`."""
    with _temporary(path) as temp:
        yield temp
        fd = os.open(temp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_model_card(path: str | os.PathLike[str], text: str, **card_data: Any) -> None:
    """Write a model card (``text``, markdown) to ``path`` atomically through
    :class:`huggingface_hub.ModelCard`, with ``card_data`` (``license``, ``library_name``,
    ``tags``...: :class:`huggingface_hub.ModelCardData` fields) as its YAML metadata block."""
    from huggingface_hub import ModelCard, ModelCardData

    card = ModelCard(f"---\n{ModelCardData(**card_data).to_yaml()}\n---\n{text}")
    write_file_atomically(path, str(card))


@contextlib.contextmanager
def _temporary(path: str | os.PathLike[str]) -> Iterator[str]:
    """Create the (empty) temporary file of ``path`` (and missing folders), yield its name,
    rename it over ``path`` when the block ends; remove it if the block raises."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create folder {folder}: {os_reason(e)}", path) from e
    _remove_stale_temps(path)
    temp = os.path.join(folder, _temp_name(path))
    try:
        # O_EXCL: never another writer's file; mode 0o666 so that the umask applies, as for any
        # new file
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            mode = os.fstat(fd).st_mode & 0o7777  # 0o666 less the umask
        finally:
            os.close(fd)
    except OSError as e:
        raise OutputError(f"cannot write in folder {folder}: {os_reason(e)}", path) from e
    try:
        yield temp
        # a writer given the name may have replaced the file with one of its own mode
        # (safetensors 0.8 writes a 0600 file and renames it over ``temp``): give every output
        # the umask's mode, as for any new file
        if os.stat(temp).st_mode & 0o7777 != mode:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write: {os_reason(e)}", path) from e
        raise


def _temp_name(path: str) -> str:
    return f".{os.path.basename(path)[:200]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _remove_stale_temps(path: str) -> None:
    """Remove the temporary files an earlier, dead writer of ``path`` left beside it.

    Only names of exactly our pattern for this very file are considered, and only those whose
    writing process no longer runs (on this machine) or that nobody touched for
    ``STALE_TEMP_SECONDS``, so a concurrent writer is left alone. Each folder is listed once per
    process (a batch writing thousands of files lists its output folder once); files that
    cannot be removed are left as they are.
    """
    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)[:200]}."
    with _temp_lock:
        names = _temp_candidates.get(folder)
        if names is None:
            try:
                with os.scandir(folder) as entries:
                    names = [e.name for e in entries
                             if e.name.startswith(".") and e.name.endswith(".tmp")]
            except OSError:
                names = []
            _temp_candidates[folder] = names
        mine = [n for n in names if n.startswith(prefix) and _TEMP_SUFFIX.fullmatch(n[len(prefix):])]
        for name in mine:
            names.remove(name)
    for name in mine:
        temp = os.path.join(folder, name)
        pid = _TEMP_SUFFIX.fullmatch(name[len(prefix):]).group(1)  # type: ignore[union-attr]
        try:
            stale = not _pid_alive(int(pid)) or (
                time.time() - os.lstat(temp).st_mtime > STALE_TEMP_SECONDS
            )
            if stale:
                os.unlink(temp)
        except OSError:
            continue


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot tell: assume alive
    return True
