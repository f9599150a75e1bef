"""What the ``faceedit`` commands share: exit codes, library errors as one stderr line and an
exit code (in the words of the command line), the choices and help of options several commands
take, the parsing of repeated, comma-separated and KEY=VALUE option values, the progress bar."""

from __future__ import annotations

import enum
import gc
import json
import logging
import re
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from faceedit.device import CUDA_INDEX, DEVICES, PRECISION_ALIASES, PRECISIONS
from faceedit.errors import FaceEditError, UsageError
from faceedit.faces.detectors import AUTO, auto_order, detector_names
from faceedit.log import logger

if TYPE_CHECKING:
    from faceedit.faces.types import CropTemplate

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _no_type_for_flags() -> None:
    """Typer's help shows ``<bool>`` beside flags (``--json <bool>``) and ``<int>`` beside
    counters (``-v``), as if they took a value: show no type for options that take none. Typer
    before 0.29 has no such hook (its help is left as it is)."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "_faceedit", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich._faceedit = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()


# --------------------------------------------------------------------------------------------
# choices and help shared by several commands

DetectorName = enum.Enum(  # type: ignore[misc]
    "DetectorName", {n.replace("-", "_"): n for n in (AUTO, *detector_names())}, type=str)
"""``--detector``'s choices: ``auto`` and every backend of the detector registry."""

DETECTOR_HELP = f"Face detector; auto: the first of {', '.join(auto_order())} that can run here."

DetectorOption = Annotated[DetectorName, typer.Option("--detector", case_sensitive=False, help=DETECTOR_HELP)]
"""The ``--detector`` option (default :data:`AUTO_DETECTOR`)."""

AUTO_DETECTOR = DetectorName(AUTO)

DEVICE_CHOICES = (*DEVICES[:3], "cuda:N", *DEVICES[3:])
"""``--device``'s choices as the help lists them: :data:`faceedit.device.DEVICES` and ``cuda:N``."""


def parse_device(value: str) -> str:
    """``--device``: one of :data:`faceedit.device.DEVICES` or ``cuda:N`` (what
    :func:`faceedit.device.resolve_device` takes), any case; anything else a usage error naming
    the flag, from the parser (exit 2)."""
    device = value.strip().lower()
    if device in DEVICES or CUDA_INDEX.fullmatch(device):
        return device
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(DEVICE_CHOICES)} (N: a GPU number, from 0)")


DEVICE_HELP = "Torch device; auto: CUDA, then Apple MPS, then the CPU; cuda:N: GPU N."

DeviceOption = Annotated[str, typer.Option("--device", parser=parse_device,
                                           metavar=f"<{'|'.join(DEVICE_CHOICES)}>",
                                           help=DEVICE_HELP)]
"""The ``--device`` option (default ``"auto"``)."""

Precision = enum.Enum("Precision", {p: p for p in PRECISIONS}, type=str)  # type: ignore[misc]
"""``apply --precision``'s choices: :data:`faceedit.device.PRECISIONS`."""

Amp = enum.Enum("Amp", {p: p for p in (*PRECISIONS, *PRECISION_ALIASES)}, type=str)  # type: ignore[misc]
"""``train --amp``'s choices: the precisions and their other words (``off``: fp32)."""

AUTO_PRECISION, AUTO_AMP = Precision("auto"), Amp("auto")

PRECISION_HELP = "auto: bf16 (fp16 where bf16 is unsupported) on CUDA, fp32 elsewhere"

SETTINGS_HELP = ("KEY=VALUE, repeatable; VALUE is read as JSON where it is JSON (64, 0.5, true, [0.5,0.99], "
                 "\"text\"), else as text (mode=delta)")
"""How every KEY=VALUE option (``apply --set``, ``train --set`` and ``--option``) reads its values."""


# --------------------------------------------------------------------------------------------
# start-up


def start_up_over() -> None:
    """End the command's start-up (:func:`faceedit.cli.main` holds Python's cyclic garbage
    collector off through it: imports, option parsing, torch and the model's load make some
    200,000 long-lived objects, and the collections that walked them cost about 0.2 s of the
    ~2.4 CPU-s that ``apply`` spends before its first photo). What was made so far is moved to
    the collector's permanent generation (:func:`gc.freeze`: later collections do not walk it
    again) and the collector is turned back on. Does nothing where it is already on (the
    commands run from a test, or called twice)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


# --------------------------------------------------------------------------------------------
# errors


def fail(message: str, code: int) -> None:
    logger.error(message)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit_codes():
    """Usage errors -> exit 2, any other FaceEditError -> exit 1, always as one stderr line, with
    the parameters the library names in the command's words (:func:`in_flag_words`)."""
    try:
        yield
    except UsageError as e:
        fail(in_flag_words(str(e)), EXIT_USAGE)
    except FaceEditError as e:
        fail(in_flag_words(str(e)), EXIT_FAILED)


# Library parameter names that the command line spells otherwise: the edit request's fields
# (``aus=``, ``settings=``...), ``EncodeOptions.codec`` and ``.preset`` (``prepare``'s dataset ``preset`` stays ``--preset``), ``start_ray``'s ``address``, ``prepare``'s
# ``csv_path``, ``check_config``'s trainer ``options``, the training loop's ``datasets``, the driving's ``neutral``. (The
# ``ApplyOptions`` fields are ``apply``'s parameters by the same names: their flags are read
# from the command.)
_LIBRARY_NAMES = {"model_options": "option", "settings": "option", "aus": "au", "attrs": "attr", "controls": "control",
                  "codec": "video_codec", "preset": "video_preset", "address": "ray_address", "csv_path": "csv_file",
                  "options": "option", "datasets": "data", "neutral": "like_neutral"}


def _running_command():
    """The command being run, None outside one (Typer's own copy of click where it has one)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context
    ctx = get_current_context(silent=True)
    return None if ctx is None else ctx.command


def in_flag_words(message: str, command=None) -> str:
    """A library error in the words of the command line: each parameter the library names as
    Python spells it, in backquotes (`` `on_no_face` ``), becomes the running command's flag for it
    (``--on-no-face``). The one place that maps parameter names to flags: they are read from the
    command's own options (``command``; default: the command being run), so a flag renamed on
    the command line is named right. A name the command has no flag for stays as it is."""
    command = command or _running_command()
    if command is None or "`" not in message:
        return message
    flags = {}
    for p in command.params:
        long = [o for o in getattr(p, "opts", []) if o.startswith("--")]
        if p.name and long:
            flags[p.name] = long[0]
            # a parameter declared under another name (``out_text`` for ``--out``) answers to its flag's
            flags.setdefault(long[0][2:].replace("-", "_"), long[0])

    def flag(m: re.Match) -> str:
        name = m.group(1)
        return flags.get(_LIBRARY_NAMES.get(name, name)) or flags.get(name) or m.group(0)

    return re.sub(r"`([A-Za-z_][A-Za-z0-9_]*)`", flag, message)


class _InFlagWords(logging.Filter):
    """The library's log records in the words of the command line too (:func:`in_flag_words`),
    where they are logged in the thread that runs the command (a worker thread's stay as the
    library wrote them)."""

    _faceedit = True

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record its arguments do not fit: the handler reports it
            return True
        if "`" in message:
            worded = in_flag_words(message)
            if worded != message:
                record.msg, record.args = worded, ()
        return True


if not any(getattr(f, "_faceedit", False) for f in logger.filters):
    logger.addFilter(_InFlagWords())


def _click_exception() -> type[Exception]:
    """The base of the option parser's errors: Typer's own copy of click's where it has one,
    else click's."""
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # a Typer without its own copy
        from click.exceptions import ClickException  # type: ignore[assignment]
    return ClickException


_ClickException = _click_exception()


class OneLineErrors(TyperGroup):
    """The ``faceedit`` command group, whose option parser reports a usage error (a bad value,
    an unknown or missing option) as faceedit reports its own: one stderr line, exit 2, where
    Typer draws a box of several lines."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _ClickException as e:
            if type(e).__name__ != "NoArgsIsHelpError":  # `faceedit` alone: the help is shown
                sys.stderr.write(f"faceedit: error: {parser_message(e)}\n")
            sys.exit(e.exit_code)
        except typer.Abort:
            sys.stderr.write("faceedit: error: aborted\n")
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def parser_message(e) -> str:
    """A click error's message on one line, naming the command it is about (``apply``) where
    it is not the whole program's, with where the options are listed."""
    message = "; ".join(line.strip() for line in e.format_message().splitlines() if line.strip())
    ctx = getattr(e, "ctx", None)
    if ctx is None:
        return message
    name = ctx.info_name if ctx.parent is not None else None
    where = f"faceedit {name} --help" if name else "faceedit --help"
    return f"{name}: {message} ({where} lists the options)" if name else f"{message} ({where})"


# --------------------------------------------------------------------------------------------
# option values


def split_list(values: Iterable[str] | None, flag: str) -> list[str]:
    """``--target a,b --target c`` -> [a, b, c]. A value with nothing in it (``-s ''``,
    ``-s ','``) or an empty item (``happy,,sad``, ``happy,``) is a usage error naming ``flag``:
    a script's unset variable asks for nothing, and silently doing nothing is no answer."""
    out: list[str] = []
    for v in values or []:
        items = [p.strip() for p in v.split(",")]
        if not any(items):
            raise UsageError(f"{flag} {v!r}: empty; give a value")
        if not all(items):
            raise UsageError(f"{flag} {v!r}: an empty item (a comma with nothing before or after it)")
        out.extend(items)
    return out


def parse_floats(values: Iterable[str] | None, flag: str) -> list[float]:
    items = split_list(values, flag)
    try:
        return [float(v) for v in items]
    except ValueError:
        raise UsageError(f"{flag}: expected numbers such as 0.5 or 0,0.5,1") from None


def parse_options(values: Iterable[str] | None, flag: str) -> dict[str, str]:
    """``KEY=VALUE`` strings (``--attr glasses=on``) as ``{KEY: VALUE}`` text; a KEY given twice
    is a UsageError, as a repeated AU of ``--au`` is."""
    opts: dict[str, str] = {}
    for kv in values or []:
        if "=" not in kv:
            raise UsageError(f"{flag} {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        if k.strip() in opts:
            raise UsageError(f"{flag}: {k.strip()} is given twice ({opts[k.strip()]} and {v.strip()})")
        opts[k.strip()] = v.strip()
    return opts


def parse_settings(values: Iterable[str] | None, flag: str) -> dict:
    """``KEY=VALUE`` settings (``--set``, ``--option``), read as :data:`SETTINGS_HELP` says: the
    VALUE as JSON where it is JSON (``64``, ``true``, ``[1, 2]``, ``"64"``), else as text."""
    out = {}
    for key, value in parse_options(values, flag).items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# progress and files


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


def model_template(model: str) -> CropTemplate:
    """The crop template of ``model`` (a registered name or a .safetensors path): its checkpoint
    header's, the weights fetched as loading the model would fetch them when they are not on this
    machine yet (CheckpointError where they cannot be had)."""
    from faceedit.models.hub import resolve_weights
    from faceedit.models.registry import get_spec, spec_from_path

    spec = spec_from_path(model) if model.endswith(".safetensors") else get_spec(model)
    if spec.template is None:  # the header is not on this machine: a registered model's weights are not
        spec = spec_from_path(resolve_weights(spec))
    assert spec.template is not None  # a header read gives every spec a template
    return spec.template


def atomic_json(path: Path, obj) -> None:
    from faceedit.files import write_file_atomically

    write_file_atomically(path, json.dumps(obj, indent=1))


def dataset_files(folders: Iterable[str | Path]) -> list[Path]:
    """What a command reads of the prepared datasets in ``folders`` (the layout of
    :mod:`faceedit.train.prepare`): inputs that no output may replace
    (:func:`faceedit.io.outputs.check_output`); a run folder or a report may still go in the folder."""
    return [Path(f) / name for f in folders for name in ("dataset.json", "index.jsonl", "errors.jsonl", "images")]


def named_path(value: str, option: str, what: str = "file") -> Path:
    """A path option's text as a Path; the empty path a usage error naming the option
    (:func:`faceedit.files.check_named`): typer would read '' as the current folder. Path
    options are declared as text for this."""
    from faceedit.files import check_named

    check_named(value, option=option, what=what)
    return Path(value)


def checkpoint_name(path: Path, option: str) -> None:
    """A checkpoint a command writes is a ``.safetensors`` file: anything else (a photo's name,
    a typo) a usage error naming the option, before any work."""
    if path.suffix.lower() != ".safetensors":
        raise UsageError(f"`{option}` {path}: give a .safetensors file name (a checkpoint is written there)")


def model_file(model: str | None) -> list[Path]:
    """The checkpoint that ``model`` (a registered name or a .safetensors path) reads, where it
    is on this machine: an input that no output may replace (:func:`faceedit.io.outputs.check_output`).
    An unknown name has none here (loading the model reports it)."""
    from faceedit.models.registry import get_spec, looks_like_path

    if not model:
        return []
    if looks_like_path(model):
        return [Path(model)]
    try:
        found = get_spec(model).source.local_path()
    except FaceEditError:
        return []
    return [] if found is None else [found]


def check_reference(like: Path, max_pixels: int) -> None:
    """The --like photo read once, before the model loads and the batch starts: one usage error
    naming it (not the same error on every input photo) if it is missing, a folder, empty, not an
    image, or larger than --max-pixels. Its face is looked for once the model's detector is
    there (``ApplyOptions.validate``)."""
    from faceedit.io.decode import read_image

    if like.is_dir():
        raise UsageError(f"--like {like}: is a folder; give one reference photo")
    try:
        read_image(like, max_pixels=max_pixels)
    except FaceEditError as e:
        raise UsageError(f"--like {like}: {e.reason}") from None
