"""Issue 15, item 6: Ctrl-C during ``faceedit apply`` stops cleanly.

One Ctrl-C: no new input is taken, the photos in progress are finished, the worker threads are
joined, no temporary file is left, the --json records of every output written are printed,
the summary says "interrupted", exit status 130. A second Ctrl-C while stopping is ignored (it
used to abort the process: SIGABRT, "terminate called without an active exception")."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

INTERRUPTED = 130
N_PHOTOS = 20


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory, astronaut) -> Path:
    d = tmp_path_factory.mktemp("many")
    head = Image.fromarray(astronaut[:300, 60:360])  # the astronaut's head and shoulders
    for i in range(N_PHOTOS):
        head.save(d / f"p{i:02d}.png")
    return d


def _check_outputs(out: Path, recs: list[dict]) -> None:
    """The records of the outputs written are exactly the files in ``out``; no temp file."""
    names = sorted(os.listdir(out)) if out.is_dir() else []
    assert [n for n in names if n.endswith(".tmp")] == [], names
    written = sorted(Path(r["output"]).name for r in recs if r["status"] in ("ok", "copied"))
    assert written == names
    assert all(r["status"] == "ok" for r in recs), recs
    # a photo is reported whole: both targets or none
    per_input: dict[str, int] = {}
    for r in recs:
        per_input[r["input"]] = per_input.get(r["input"], 0) + 1
    assert set(per_input.values()) <= {2}, per_input


def _faceedit_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("faceedit-") and t.is_alive()]


# ---- in process: ApplyRun.run -----------------------------------------------------------------


def _applier(tiny_ckpt, out: Path):
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")
    return ApplyRun.local(editor, ApplyOptions(["bright", "dark"], str(out), batch_size=2))


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="needs Python's default SIGINT handler")
def test_sigint_stops_run_and_yields_the_records_of_the_outputs_written(tmp_path, many_photos, tiny_ckpt):
    out = tmp_path / "out"
    applier = _applier(tiny_ckpt, out)
    records = applier.run([str(many_photos)])
    try:
        recs = [next(records)]
        os.kill(os.getpid(), signal.SIGINT)  # two Ctrl-C at once: the second is ignored
        os.kill(os.getpid(), signal.SIGINT)
        recs += list(records)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C raised KeyboardInterrupt out of ApplyRun.run")
    recs = [r.to_json() for r in recs]
    assert applier.interrupted
    assert 0 < len(recs) < 2 * N_PHOTOS
    assert applier.unfinished == N_PHOTOS - len(recs) // 2
    _check_outputs(out, recs)
    assert _faceedit_threads() == []  # joined, not left running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handed back


def test_keyboard_interrupt_thrown_into_run_is_handled_the_same_way(tmp_path, many_photos, tiny_ckpt):
    """Where SIGINT is not taken over (another thread, a handler of the caller's own), a
    KeyboardInterrupt raised in the iteration stops it the same way."""
    out = tmp_path / "out"
    applier = _applier(tiny_ckpt, out)
    records = applier.run([str(many_photos)])
    recs = [next(records)]
    try:
        recs.append(records.throw(KeyboardInterrupt()))
    except StopIteration:
        pass
    recs += list(records)
    recs = [r.to_json() for r in recs]
    assert applier.interrupted and len(recs) < 2 * N_PHOTOS
    _check_outputs(out, recs)
    assert _faceedit_threads() == []


def test_a_run_that_is_not_interrupted_hands_sigint_back(tmp_path, astronaut_png, tiny_ckpt):
    before = signal.getsignal(signal.SIGINT)
    applier = _applier(tiny_ckpt, tmp_path / "out")
    recs = list(applier.run([str(astronaut_png)]))
    assert [r.status for r in recs] == ["ok", "ok"] and not applier.interrupted
    assert signal.getsignal(signal.SIGINT) is before
    assert _faceedit_threads() == []


# ---- the command, in a subprocess ------------------------------------------------------------


def _interrupt_cli(tmp_path: Path, photos: Path, ckpt: str, env: dict, signals: int, gap: float,
                   sig: int = signal.SIGINT, extra: tuple = ()):
    """Run ``faceedit apply --json`` on ``photos``; once its first record is out, send
    ``signals`` signals ``sig`` ``gap`` seconds apart. Returns (exit status, records, stderr, out)."""
    out = tmp_path / "out"
    stdout_path, stderr_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(stdout_path, "w") as so, open(stderr_path, "w") as se:
        p = subprocess.Popen(
            [sys.executable, "-m", "faceedit", "apply", "-m", ckpt, "-t", "bright,dark", str(photos),
             "-o", str(out), "--json", "--batch-size", "2", *extra],
            stdout=so, stderr=se, stdin=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 300  # Ray starts in minutes on a loaded machine
            while "\n" not in stdout_path.read_text() and p.poll() is None:
                assert time.monotonic() < deadline, "no output in 300 s"
                time.sleep(0.01)
            assert p.poll() is None, f"finished before the Ctrl-C: {stderr_path.read_text()}"
            for i in range(signals):
                if i:
                    time.sleep(gap)
                p.send_signal(sig)
            code = p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    text = stdout_path.read_text()
    assert text.endswith("\n")  # no partial line
    return code, [json.loads(line) for line in text.splitlines()], stderr_path.read_text(), out


@pytest.mark.slow
def test_ctrl_c_prints_the_records_written_and_the_summary_and_exits_130(
        tmp_path, many_photos, tiny_ckpt, plugin_env):
    code, recs, stderr, out = _interrupt_cli(tmp_path, many_photos, tiny_ckpt, plugin_env, 1, 0)
    assert code == INTERRUPTED, stderr
    summary = [line for line in stderr.splitlines() if re.search(r"\d+ written, ", line)]
    assert len(summary) == 1, stderr
    assert "interrupted" in summary[0]
    assert f"{len(recs)} written" in summary[0]
    assert 0 < len(recs) < 2 * N_PHOTOS
    left = N_PHOTOS - len(recs) // 2
    assert f"{left} input{'s' * (left != 1)} not done" in summary[0]
    assert "Traceback" not in stderr and "terminate called" not in stderr
    _check_outputs(out, recs)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.0, 0.05, 0.3, 0.8])  # while stopping, and at exit
def test_a_second_ctrl_c_does_not_abort(tmp_path, many_photos, tiny_ckpt, plugin_env, gap):
    code, recs, stderr, out = _interrupt_cli(tmp_path, many_photos, tiny_ckpt, plugin_env, 2, gap)
    assert code == INTERRUPTED, f"exit status {code} (-6: SIGABRT): {stderr}"
    assert "interrupted" in stderr and "terminate called" not in stderr and "Traceback" not in stderr
    _check_outputs(out, recs)


# ---- SIGTERM (how batch schedulers stop a job) is taken as Ctrl-C is -------------------------


def test_sigterm_stops_run_as_ctrl_c_does(tmp_path, many_photos, tiny_ckpt):
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("needs SIGTERM's default action in place")
    out = tmp_path / "out"
    applier = _applier(tiny_ckpt, out)
    records = applier.run([str(many_photos)])
    recs = [next(records)]
    os.kill(os.getpid(), signal.SIGTERM)  # would end the test process if not taken
    os.kill(os.getpid(), signal.SIGTERM)
    recs += list(records)
    recs = [r.to_json() for r in recs]
    assert applier.interrupted and applier.stop_signal == signal.SIGTERM
    assert 0 < len(recs) < 2 * N_PHOTOS and applier.unfinished == N_PHOTOS - len(recs) // 2
    _check_outputs(out, recs)
    assert _faceedit_threads() == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handed back


@pytest.mark.slow
def test_sigterm_prints_the_records_written_and_the_summary_and_exits_143(
        tmp_path, many_photos, tiny_ckpt, plugin_env):
    code, recs, stderr, out = _interrupt_cli(tmp_path, many_photos, tiny_ckpt, plugin_env, 2, 0.05,
                                             sig=signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, stderr
    summary = [line for line in stderr.splitlines() if re.search(r"\d+ written, ", line)]
    assert len(summary) == 1 and "interrupted (SIGTERM)" in summary[0], stderr
    assert "interrupted (Ctrl-C)" not in stderr  # every line that names the signal names SIGTERM
    assert f"{len(recs)} written" in summary[0] and 0 < len(recs) < 2 * N_PHOTOS
    assert "Traceback" not in stderr
    _check_outputs(out, recs)


@pytest.mark.slow
def test_sigterm_with_the_ray_engine(tmp_path, many_photos, tiny_ckpt, plugin_env):
    """The Ray engine too: its workers finish the photos in progress, the records and the summary
    are printed, exit 143 (ray.init puts a SIGTERM handler of its own that exits at once)."""
    pytest.importorskip("ray.data", reason="Ray is not installed")
    env = {**plugin_env, "RAY_ADDRESS": "", "RAY_DISABLE_USAGE_STATS": "1"}
    code, recs, stderr, out = _interrupt_cli(
        tmp_path, many_photos, tiny_ckpt, env, 1, 0, sig=signal.SIGTERM,
        extra=("--engine", "ray", "--workers", "1", "--device", "cpu"))
    assert code == 128 + signal.SIGTERM, stderr
    summary = [line for line in stderr.splitlines() if re.search(r"\d+ written, ", line)]
    assert len(summary) == 1 and "interrupted (SIGTERM)" in summary[0], stderr
    assert f"{len(recs)} written" in summary[0] and 0 < len(recs) < 2 * N_PHOTOS
    _check_outputs(out, recs)
