"""``faceedit ui``: the local page to tune an edit by eye (:mod:`faceedit.ui`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from faceedit.cli.common import EXIT_USAGE, DeviceOption, errors_to_exit_codes, fail


def ui(
    host: Annotated[str, typer.Option("--host", help="Address to serve on; 127.0.0.1: this machine only "
                                      "(0.0.0.0 shares the page with the network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")] = 7860,
    max_pixels: Annotated[int, typer.Option("--max-pixels", min=1, help="Refuse photos with more pixels than this.")] = 100_000_000,
    checkpoints: Annotated[str | None, typer.Option(
        "--checkpoints", metavar="DIR", help="Also offer the .safetensors files in DIR, by file name (the page "
        "takes registered model names only otherwise).")] = None,
    device: DeviceOption = "auto",
) -> None:
    """Serve a local web page to tune an edit by eye: drop a photo, click a face, move the
    sliders (every control, AU, light and attribute the model takes) and see the preview; it
    shows the `faceedit apply` line that writes the same file as its download, and edits a
    batch of files into a zip. Needs the ui extra (pip install 'faceedit\\[ui]'). Exit 2, with
    nothing served, where --host:--port cannot be had (the port in use, an address that is not
    this machine's)."""
    from faceedit import ui as page

    absent = page.missing()
    if absent:
        fail(f"faceedit ui needs the ui extra ({', '.join(absent)} not installed): pip install 'faceedit[ui]'",
             EXIT_USAGE)
    if checkpoints is not None and not os.path.isdir(checkpoints):
        fail(f"--checkpoints {checkpoints}: not a folder", EXIT_USAGE)
    with errors_to_exit_codes():
        page.serve(host, port, max_pixels=max_pixels, device=device, checkpoints=checkpoints)
