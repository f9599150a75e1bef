"""Logging to stderr: plain one-line messages for pipelines, rich formatting on a terminal.

stdout is reserved for results (``--json``); everything else goes through the ``faceedit``
logger to stderr.

Also the opt-in stage timings (:func:`record_timings`, :func:`timed`, :func:`mark`) that
``bench/bench_apply.py`` reads: off unless enabled, and then the code paths cost one global
lookup each.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger("faceedit")

# Notices about what this environment lacks (an optional backend that cannot run), which every
# command would repeat: shown once per environment (Python prefix), and always under -v.
ENVIRONMENT_NOTICES = (re.compile(r"^face detector: \S+ \(not available: "),)


def notices_file() -> Path:
    """Where the environment notices already shown are remembered (one hash per line)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(cache).expanduser() / "faceedit" / "notices-shown"


class _OncePerEnvironment(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if logger.level <= logging.DEBUG or record.levelno != logging.INFO:
            return True
        message = record.getMessage()
        if not any(p.search(message) for p in ENVIRONMENT_NOTICES):
            return True
        key = hashlib.sha256(f"{sys.prefix}\0{message}".encode()).hexdigest()[:32]
        path = notices_file()
        try:
            if key in path.read_text(encoding="utf-8").split():
                return False
        except OSError:
            pass  # none shown yet (or unreadable: show it)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:
                f.write(key + "\n")
        except OSError:
            pass  # cannot remember it: show it every time, as before
        return True


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return f"faceedit: {level}{record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (it may be replaced, e.g.
    by test runners), not the stream that was current when logging was set up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(verbosity: int = 0) -> None:
    """verbosity: -1 quiet (errors only), 0 info, 1+ debug. Idempotent."""
    level = logging.ERROR if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    for h in list(logger.handlers):
        if getattr(h, "_faceedit", False):
            logger.removeHandler(h)
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(stderr=True), show_time=False, show_path=False, markup=False
        )
    else:
        handler = _StderrHandler()
        handler.setFormatter(_PlainFormatter())
    handler._faceedit = True  # type: ignore[attr-defined]
    handler.addFilter(_OncePerEnvironment())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


# --------------------------------------------------------------------------------------------
# Stage timings (opt-in)

#: The stages of an edit, in pipeline order, as :func:`timed` names them: decode (read the
#: file), detect (face boxes), landmarks (points per face), align (crops and masks), stage (the
#: geometry/shading stage at full resolution), forward (the network on the crops), paste (the
#: edited crops back into the photo), encode (encode and write the output); load (model and
#: detector weights) is the one-off cost of a run.
STAGES = ("decode", "detect", "landmarks", "align", "stage", "forward", "paste", "encode")

#: Environment variable: a file path; when set as ``faceedit`` starts, the timings of the whole
#: process are recorded and written there as JSON at exit (:meth:`Timings.to_json`).
TIMINGS_ENV = "FACEEDIT_TIMINGS"


class Timings:
    """Seconds spent per stage, summed over every thread (a stage timed inside another is
    counted once: its time is taken out of the enclosing stage's), calls per stage, and the
    wall-clock time (``time.time()``) of the first occurrence of each :func:`mark`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.marks: dict[str, float] = {}
        self.started = time.time()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] += seconds
            self.calls[name] += 1

    def _mark(self, name: str) -> None:
        now = time.time()
        with self._lock:
            self.marks.setdefault(name, now)

    def to_json(self) -> dict:
        with self._lock:
            return {"seconds": dict(self.seconds), "calls": dict(self.calls),
                    "marks": dict(self.marks), "started": self.started}


_TIMINGS: Timings | None = None


class _Timed:
    __slots__ = ("name", "timings", "t0", "inner")

    def __init__(self, name: str, timings: Timings) -> None:
        self.name, self.timings = name, timings

    def __enter__(self):
        stack = getattr(self.timings._local, "stack", None)
        if stack is None:
            stack = self.timings._local.stack = []
        stack.append(self)
        self.inner = 0.0
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        dt = time.perf_counter() - self.t0
        stack = self.timings._local.stack
        stack.pop()
        if stack:
            stack[-1].inner += dt
        self.timings._add(self.name, max(0.0, dt - self.inner))


class _Untimed:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


_UNTIMED = _Untimed()


def timed(name: str):
    """``with timed("detect"): ...``: adds the block's time to stage ``name`` while timings are
    being recorded (:func:`record_timings`); otherwise a shared no-op context manager."""
    t = _TIMINGS
    return _UNTIMED if t is None else _Timed(name, t)


def mark(name: str) -> None:
    """Note the wall-clock time of the first ``name`` event (e.g. ``first face``) while timings
    are being recorded; nothing otherwise."""
    t = _TIMINGS
    if t is not None:
        t._mark(name)


def timings() -> Timings | None:
    """The timings being recorded, or None."""
    return _TIMINGS


@contextmanager
def record_timings():
    """Record stage timings inside the block; yields the :class:`Timings` (complete once the
    block ends). Not reentrant: one recording per process at a time."""
    global _TIMINGS
    if _TIMINGS is not None:
        raise RuntimeError("timings are already being recorded")
    _TIMINGS = Timings()
    try:
        yield _TIMINGS
    finally:
        _TIMINGS = None


def _record_from_environment() -> None:
    """:data:`TIMINGS_ENV` set: record this process's timings and write them out at exit."""
    global _TIMINGS
    path = os.environ.get(TIMINGS_ENV)
    if not path or _TIMINGS is not None:
        return
    import atexit
    import json

    _TIMINGS = Timings()
    recorded = _TIMINGS

    def dump() -> None:
        from faceedit.files import write_file_atomically

        write_file_atomically(path, json.dumps({**recorded.to_json(), "ended": time.time()}))

    atexit.register(dump)


_record_from_environment()
