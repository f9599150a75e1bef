"""The run folder ``RUN`` of a training command: what it holds (the resume state
``RUN/state.safetensors``, the loss log ``RUN/log.jsonl``, sample sheets
``RUN/samples/step-NNNNNNN.png``, ``RUN/report.json``), the guard that keeps a command from
writing over a run it was not told to continue or discard, and the writers of the log and the
sample sheets.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Protocol

import torch
from PIL import Image
from torch import nn

from faceedit.errors import UsageError
from faceedit.files import atomic_path, write_file_atomically
from faceedit.pixels import signed_to_uint8

STATE_FILE = "state.safetensors"
LOG_FILE = "log.jsonl"


def check_run_folder(out: str | os.PathLike, *, resume: bool, overwrite: bool) -> list[Path]:
    """Guard a run folder before a training command writes into it; returns what
    :func:`clear_run_folder` would remove (empty unless ``overwrite``).

    A folder that already holds a run (a resume state, ``log.jsonl``, ``report.json`` or
    sample sheets) is continued with ``resume`` or started afresh with ``overwrite``; anything
    else is a UsageError naming the folder, so a forgotten ``--resume`` never wipes a run.
    ``resume`` needs the run's resume state, ``RUN/state.safetensors``.
    """
    out = Path(out)
    if resume and overwrite:
        raise UsageError(f"`resume` continues the run in {out}, `overwrite` discards it: give one")
    if resume:
        if not (out / STATE_FILE).is_file():
            raise UsageError(nothing_to_resume(out))
        return []
    found = _run_files(out)
    if found and not overwrite:
        names = ", ".join(p.relative_to(out).as_posix() for p in found[:4])
        raise UsageError(f"{out} already holds a training run ({names}{', ...' if len(found) > 4 else ''}); "
                         "continue it with `resume`, or discard it with `overwrite`")
    return found


def clear_run_folder(found: list[Path]) -> None:
    """Remove an earlier run's files found by :func:`check_run_folder` (``--overwrite``)."""
    for path in found:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def nothing_to_resume(out: Path) -> str:
    """The message of a ``--resume`` into ``out``, which holds no resume state."""
    return f"{out}: nothing to resume (no {STATE_FILE})"


def _run_files(out: Path) -> list[Path]:
    """The files of an earlier run in ``out``: resume state, log, report, samples."""
    names = (STATE_FILE, LOG_FILE, "report.json", "eval-sheet.png")
    found = [out / n for n in names if (out / n).is_file()]
    samples = out / "samples"
    if samples.is_dir():
        sheet = re.compile(r"step[-_][0-9]+\.png")
        found += sorted(p for p in samples.iterdir() if sheet.fullmatch(p.name) and p.is_file())
    return found


class Sampled(Protocol):
    """What a sample sheet reads of a trainer (:class:`faceedit.train.trainer.Trainer`): its
    networks (put in eval mode) and its sample rows."""

    nets: dict[str, nn.Module]

    def samples(self, batch: dict) -> torch.Tensor: ...


@torch.no_grad()
def write_samples(trainer: Sampled, batch: dict, path: Path) -> None:
    """The sample sheet of ``batch`` (:meth:`Trainer.samples`, one row per example) as a PNG
    at ``path``."""
    for m in trainer.nets.values():
        m.eval()
    grid = torch.cat(list(trainer.samples(batch).float()), dim=-2)  # (C, B*H, W')
    pixels = signed_to_uint8(grid).permute(1, 2, 0).cpu().numpy()
    with atomic_path(path) as tmp:
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(tmp, format="PNG")


def start_log(path: Path, keep_through_step: int | None) -> None:
    """A fresh log, or for a resumed run the records up to the resumed step (a crashed run's
    later records are dropped, so the log matches the state it continues from)."""
    kept = []
    if keep_through_step is not None and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= keep_through_step:
                    kept.append(line + "\n")
            except (ValueError, KeyError, TypeError):
                continue
    write_file_atomically(path, "".join(kept))


def append_log(path: Path, pending: list[dict]) -> None:
    """Append the ``pending`` loss records to the log at ``path`` and empty the list. The loop
    calls it when it writes a checkpoint, so the log never runs ahead of the state a resume
    would start from."""
    if pending:
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in pending)
        pending.clear()
