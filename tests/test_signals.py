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
