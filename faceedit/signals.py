"""The signals that ask a run to stop (SIGINT: Ctrl-C; SIGTERM: ``kill``, batch schedulers,
container runtimes), handled once for every engine: :class:`StopSignals` turns them into a flag
the engine looks at between its steps, so that a run stops cleanly (the photos in progress
finished, no partial output, every record of a finished photo given) instead of being unwound
at an arbitrary point.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def take_stop_signals(handler) -> tuple[list[int], Callable[[], None]]:
    """In the main thread, route the signals that ask a run to stop to ``handler(signum,
    frame)``: SIGINT (Ctrl-C) where Python's default handler is in place, and SIGTERM (how
    batch schedulers, ``kill`` and container runtimes stop a job) where its default action (the
    end of the process, no record or summary printed) is. Returns (the signals taken, the
    function that puts their handlers back). Elsewhere, or where the caller has handlers of its
    own, nothing is taken."""
    if threading.current_thread() is not threading.main_thread():
        return [], lambda: None
    previous = {}
    for name, default in (("SIGINT", signal.default_int_handler), ("SIGTERM", signal.SIG_DFL)):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is default:
            previous[sig] = default
            signal.signal(sig, handler)

    def restore() -> None:
        for sig, default in previous.items():
            signal.signal(sig, default)

    return list(previous), restore


def ignore_stop_signals() -> None:
    """From now on SIGINT and SIGTERM do nothing (a process that is ending after a stop: the
    summary and the interpreter's exit are not cut short); nothing outside the main thread."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def signal_name(signum: int) -> str:
    """``Ctrl-C`` for SIGINT, else the signal's name (``SIGTERM``), for the summary line."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class StopSignals:
    """One run's stop request: :attr:`requested` is set by the first SIGINT or SIGTERM while the
    signals are taken (:meth:`take`, where :func:`take_stop_signals` can) or by :meth:`request`
    (another thread stopping the run); later ones do nothing. :attr:`signum` is the first
    signal's number (SIGINT where none came: a KeyboardInterrupt thrown into the run).

    The handler only sets the flag: raising there would unwind whatever the main thread was
    doing (a model forward, a half-written ``--json`` line), and with threads still running at
    exit torch / dlib abort the process ("terminate called without an active exception"); the
    engine notices the flag after its current step. The flag is a plain attribute, not a
    ``threading.Event``: a handler runs between two bytecodes of the main thread, which may be
    inside the first handler's ``Event.set`` holding its lock, and a second signal there would
    wait for that lock forever. Whoever waits for the flag polls it (:meth:`wait`). Where
    ``raise_while()`` is true (the inputs are being listed: nothing started yet, stdin may be a
    terminal), the first signal raises KeyboardInterrupt as Ctrl-C does."""

    POLL_S = 0.05  # how often :meth:`wait` looks at the flag

    def __init__(self, raise_while: Callable[[], bool] | None = None):
        self._requested = False
        self.signum: int = signal.SIGINT
        self.taken: list[int] = []
        self._raise_while = raise_while
        self._restore: Callable[[], None] = lambda: None

    @property
    def requested(self) -> bool:
        return self._requested

    @property
    def sigint_taken(self) -> bool:
        """Whether Ctrl-C reaches this run as a flag (else as a KeyboardInterrupt)."""
        return signal.SIGINT in self.taken

    def request(self, signum: int | None = None) -> bool:
        """Ask the run to stop (``signum``: the signal that asked); True for the first request.
        Takes no lock: it runs in signal handlers."""
        first = not self._requested
        if first and signum is not None:
            self.signum = signum
        self._requested = True
        return first

    def wait(self, until: threading.Event) -> bool:
        """Block until a stop is requested (True) or ``until`` is set (False, no stop yet)."""
        while not self._requested:
            if until.wait(self.POLL_S):
                return self._requested
        return True

    def _handle(self, signum, frame) -> None:
        if self.request(signum) and self._raise_while is not None and self._raise_while():
            raise KeyboardInterrupt

    def take(self) -> StopSignals:
        """Route SIGINT and SIGTERM to this run (:func:`take_stop_signals`); :meth:`restore`
        puts the handlers back."""
        self.taken, self._restore = take_stop_signals(self._handle)
        return self

    def retake(self) -> None:
        """Take the signals back after a library put its own handlers in (``ray.init`` installs
        a SIGTERM handler that exits at once)."""
        for sig in self.taken:
            signal.signal(sig, self._handle)

    def restore(self) -> None:
        self._restore()
        self._restore = lambda: None
