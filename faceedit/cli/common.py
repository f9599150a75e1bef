"""What the ``faceedit`` commands share: exit codes, library errors as one stderr line and an
exit code, the parsing of repeated and comma-separated option values, the progress bar."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List

import typer

from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _no_type_for_flags() -> None:
    """Typer's help shows ``<bool>`` beside flags (``--json <bool>``) and ``<int>`` beside
    counters (``-v``), as if they took a value: show no type for options that take none."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_faceedit", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich._faceedit = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()


DETECTORS = "{detectors}"
"""Where an option's help lists the face detectors: replaced, when help is shown, by the real
list of backends (``faceedit.faces.detect.DETECTOR_NAMES``, so the help cannot drift from it);
importing that module at every start would cost 0.3 s (OpenCV)."""


def _detectors_text() -> str:
    from faceedit.faces.detectors import auto_order, detector_names

    return (f"auto (the first of {', '.join(auto_order())} that is available) | "
            + " | ".join(detector_names()))


def _help_lists_detectors() -> None:
    """Fill :data:`DETECTORS` in the help of a command's options when its help is shown."""
    from typer.core import TyperCommand

    shown = TyperCommand.format_help
    if getattr(shown, "_faceedit", False):
        return

    def format_help(self, ctx, formatter):
        if any(DETECTORS in (getattr(p, "help", None) or "") for p in self.params):
            text = _detectors_text()
            for p in self.params:
                if getattr(p, "help", None):
                    p.help = p.help.replace(DETECTORS, text)
        return shown(self, ctx, formatter)

    format_help._faceedit = True  # type: ignore[attr-defined]
    TyperCommand.format_help = format_help  # type: ignore[method-assign]


_help_lists_detectors()


def fail(message: str, code: int) -> None:
    logger.error(message)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit_codes():
    """Usage errors -> exit 2, any other FaceEditError -> exit 1, always as one stderr line."""
    try:
        yield
    except UsageError as e:
        fail(str(e), EXIT_USAGE)
    except FaceEditError as e:
        fail(str(e), EXIT_FAILED)


def split_list(values: List[str] | None) -> list[str]:
    """``--target a,b --target c`` -> [a, b, c]."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def parse_floats(values: List[str] | None, name: str) -> list[float]:
    try:
        return [float(v) for v in split_list(values)]
    except ValueError:
        raise UsageError(f"{name}: expected numbers such as 0.5 or 0,0.5,1")


def parse_options(values: List[str] | None) -> dict:
    opts = {}
    for kv in values or []:
        if "=" not in kv:
            raise UsageError(f"--set {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        opts[k.strip()] = v.strip()
    return opts


@contextmanager
def progress(label: str):
    """Yields ``advance(total=None)``, to call once per item done, with the number of items in
    all when it is known; draws a rich progress bar only when stderr is a TTY, with the count
    and the time left once the total is known."""
    if not sys.stderr.isatty() or logger.level > 20:
        yield lambda total=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        redirect_stdout=False,  # --json records stay on stdout (rich would route them to stderr)
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(total: int | None = None) -> None:
            progress.update(task, total=total, advance=1)

        yield advance


def atomic_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)
