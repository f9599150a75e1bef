"""Logging to stderr: plain one-line messages for pipelines, rich formatting on a terminal.

stdout is reserved for results (``--json``); everything else goes through the ``faceedit``
logger to stderr.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("faceedit")


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
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
