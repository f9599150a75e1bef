"""Logging to stderr: plain one-line messages for pipelines, rich formatting on a terminal.

stdout is reserved for results (``--json``); everything else goes through the ``faceedit``
logger to stderr.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
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
    def stream(self):  # type: ignore[override]
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
