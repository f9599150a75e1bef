"""What a training run shows while it runs: a progress bar on a terminal, else a log line now
and then."""

from __future__ import annotations

import sys
import time

from faceedit.log import logger


class Progress:
    """A rich progress bar on stderr when it is a terminal; otherwise a log line (step, losses)
    every ``LOG_SECONDS``, so that a run under nohup or a job scheduler shows it is alive."""

    LOG_SECONDS = 30.0

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.lines = enabled and not sys.stderr.isatty()
        self.enabled = enabled and not self.lines
        self.total, self.start = total, start
        self._p = None
        self._logged = time.monotonic()

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(),
                               TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
                               console=Console(stderr=True), transient=True)
            self._p.__enter__()
            self._task = self._p.add_task("train", total=self.total, completed=self.start, losses="")
        return self

    def update(self, step: int, losses: dict[str, float]) -> None:
        text = " ".join(f"{k} {float(v):.3g}" for k, v in list(losses.items())[:4])
        if self._p is not None:
            self._p.update(self._task, completed=step, losses=text)
        elif self.lines and time.monotonic() - self._logged >= self.LOG_SECONDS:
            self._logged = time.monotonic()
            logger.info("train step %d%s: %s", step, f"/{self.total}" if self.total < 10**9 else "", text)

    def __exit__(self, *exc) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)
