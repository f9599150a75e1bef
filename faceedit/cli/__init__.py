"""The ``faceedit`` command: a thin layer over :mod:`faceedit.api` and :mod:`faceedit.pipeline`.

Contract for scripts: results go to stdout only with ``--json`` (one JSON object per line); logs,
errors and the progress bar (only on a terminal) go to stderr. Exit codes: 0 everything
succeeded, 1 some inputs failed (the others were still processed) or the model could not be
loaded, 2 usage error (unknown model, target or option, one line from the option parser too;
``faceedit ui``: an address it cannot serve on), 130 interrupted by Ctrl-C and 143 by
SIGTERM (how batch schedulers stop a job): the outputs already written are reported and kept
whole, the photos in progress finished; a second signal is ignored while it stops.
"""

from __future__ import annotations

import gc
import os
import sys

# One BLAS thread unless the user says otherwise: the stage solves one small thin-plate-spline
# system per face and target with numpy, and OpenBLAS's worker threads make each solve many times
# slower on a busy machine while the outputs stay byte-identical (bench/bench_pipeline.py). Set
# for the command, before anything imports numpy (it reads the variable once); ``import faceedit``
# sets no process-wide settings.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Annotated  # noqa: E402

import typer  # noqa: E402

from faceedit.cli import apply, detect, models, sheet, train, ui  # noqa: E402
from faceedit.cli.common import OneLineErrors, start_up_over  # noqa: E402
from faceedit.log import setup_logging  # noqa: E402

app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Edit facial expression, lighting and attributes in photographs.",
)


def _show_version(value: bool) -> None:
    if value:
        from faceedit import __version__

        sys.stdout.write(f"faceedit {__version__}\n")
        raise typer.Exit()


def _main(
    ctx: typer.Context,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log detail (-v: debug, which files were passed over and why).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit.")] = False,
) -> None:
    setup_logging(-1 if quiet else verbose)
    if ctx.invoked_subcommand != "apply":  # apply ends its start-up once its model is loaded
        start_up_over()


# The commands, in the order the help lists them.
app.callback()(_main)
app.command(cls=apply.ApplyCommand)(apply.apply)
app.command()(detect.detect)
app.command()(models.models)
app.command()(train.prepare)
app.command()(train.train)
app.command("eval")(train.eval_)
app.command("train-stage")(train.train_stage)
app.command("train-analysis")(train.train_analysis)
app.command("au")(detect.au_)
app.command()(sheet.sheet)
app.command()(ui.ui)


def main() -> None:
    """The ``faceedit`` command. Python's cyclic garbage collector is held off through its
    start-up (:func:`faceedit.cli.common.start_up_over`: ``apply`` turns it back on once its
    model is loaded, the other commands before they start). When it is done it leaves without
    tearing the interpreter down (:func:`_leave`)."""
    gc.disable()
    try:
        app()
    except SystemExit as e:
        _leave(e.code)
    _leave(0)


def _leave(code) -> None:
    """Exit with ``code`` (as ``sys.exit`` reads it) the quick way: exit handlers run (log
    handlers, Ray's shutdown, temporary files) and the streams are flushed, then the process ends
    without Python's interpreter teardown, which with torch loaded took 0.6-1.0 s on this machine
    (longer than editing one photo). Every output is already written and renamed into place by
    then. If a thread other than the main one is still running, the normal exit waits for it."""
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    import atexit

    atexit._run_exitfuncs()  # noqa: SLF001 (what the normal exit runs first)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`faceedit ... | head`) or stream
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
