"""StopSignals: the one place SIGINT and SIGTERM become a run's stop request."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from faceedit.signals import StopSignals, signal_name


def test_the_first_request_names_the_signal_and_later_ones_change_nothing():
    stop = StopSignals()
    assert not stop.requested and stop.signum == signal.SIGINT
    assert stop.request(signal.SIGTERM) and stop.requested and stop.signum == signal.SIGTERM
    assert not stop.request(signal.SIGINT) and stop.signum == signal.SIGTERM
    assert signal_name(signal.SIGINT) == "Ctrl-C" and signal_name(signal.SIGTERM) == "SIGTERM"


def test_signals_set_the_flag_while_taken_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = StopSignals().take()
    try:
        assert set(stop.taken) == {signal.SIGINT, signal.SIGTERM} and stop.sigint_taken
        os.kill(os.getpid(), signal.SIGTERM)  # handled in the main thread: a flag, no exception
        assert stop.requested and stop.signum == signal.SIGTERM
    finally:
        stop.restore()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_while_listing_the_first_signal_raises_keyboard_interrupt():
    listing = True
    stop = StopSignals(raise_while=lambda: listing).take()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        listing = False
        os.kill(os.getpid(), signal.SIGINT)  # a second one: ignored
        assert stop.requested and stop.signum == signal.SIGINT
    finally:
        stop.restore()


def test_nothing_is_taken_outside_the_main_thread():
    taken = []
    thread = threading.Thread(target=lambda: taken.append(StopSignals().take().taken))
    thread.start()
    thread.join()
    assert taken == [[]]


def test_a_process_that_is_ending_ignores_the_stop_signals():
    from faceedit.signals import ignore_stop_signals

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        ignore_stop_signals()
        assert signal.getsignal(signal.SIGINT) is signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_wait_returns_on_a_request_or_when_the_run_ends():
    stop, ended = StopSignals(), threading.Event()
    ended.set()
    assert stop.wait(until=ended) is False  # ended, no stop
    asker = threading.Timer(0.1, stop.request, args=(signal.SIGTERM,))
    asker.start()
    assert stop.wait(until=threading.Event()) is True and stop.signum == signal.SIGTERM
    asker.join()


# A second signal may reach the main thread at any bytecode of the first one's handler. It once
# arrived inside the handler's threading.Event.set(), whose lock was held: the process hung
# (CI: a second Ctrl-C sent right after the first). This sends the second signal at each traced
# step of the first handler in turn; the child is killed where it hangs.
_NESTED = """
import os, signal, sys
from faceedit.signals import StopSignals
for k in range(1, 120):
    stop = StopSignals().take()
    n = [0]
    def tracer(frame, event, arg):
        n[0] += 1
        if n[0] == k:
            os.kill(os.getpid(), signal.SIGINT)
        return tracer
    sys.settrace(tracer)
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(20):
        pass
    sys.settrace(None)
    stop.restore()
    assert stop.requested
print("done", k)
"""


def test_a_signal_inside_the_first_ones_handler_does_not_hang():
    import subprocess
    import sys

    try:
        p = subprocess.run([sys.executable, "-c", _NESTED], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a second signal during the first one's handler hung the process")
    assert p.returncode == 0 and "done 119" in p.stdout, p.stderr
