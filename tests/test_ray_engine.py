"""Issue 16: `faceedit apply --engine ray` (Ray Data actors) keeps the local engine's promises:
the same output files and names, the same --json records in the same order, skip-existing and
--overwrite, name collisions, a bad file an error record that does not stop the others, exit
codes, Ctrl-C. One local 2-CPU Ray for the module (starting Ray takes several seconds); each
`--engine ray` run starts its own actors (a few seconds more).

The pixels: the local engine's outputs change by a few grey levels (detected landmarks move
by a fraction of a pixel) with torch's thread count. A Ray actor runs torch on the one CPU it
reserves, so the local runs the Ray runs are compared with use one torch thread too. Which
photos are detected together (the local engine's groups, an actor's share) changes nothing:
the files are the same to the bit (<= 1 grey level allowed for the network's batches)."""

from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")  # Ray Data's own

runner = CliRunner()
NEEDS_RAY = 'Ray is not installed (pip install "faceedit[ray]")'


def run(*args, input=None):
    r = runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@contextmanager
def torch_threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def apply_json(engine: str, out: Path, *args, input=None) -> tuple[int, list[dict]]:
    """``faceedit apply ARGS -o OUT --json --engine ENGINE`` with one torch thread, as in an
    actor: (exit code, records with the output folder written OUT)."""
    with torch_threads(1):
        code, stdout, stderr = run("apply", *args, "-o", out, "--json", "--engine", engine,
                                   input=input)
    assert "Traceback" not in stderr, stderr
    return code, records(stdout.replace(str(out), "OUT"))


def both(tmp_path: Path, *args, input=None):
    """:func:`apply_json` with the local engine into tmp_path/local, then with the Ray engine
    into tmp_path/ray: ((code, records), (code, records))."""
    return [apply_json(engine, tmp_path / engine, *args, input=input) for engine in ("local", "ray")]


def same_files(a: Path, b: Path) -> list[str]:
    """The files of a and b (relative names) are the same, pixel for pixel (<= 1 grey level)."""
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    for name in names:
        x = np.asarray(Image.open(a / name)).astype(int)
        y = np.asarray(Image.open(b / name)).astype(int)
        assert x.shape == y.shape, name
        diff = np.abs(x - y).max(axis=-1) if x.ndim == 3 else np.abs(x - y)
        assert diff.max() <= 1, name
    return names


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut) -> Path:
    """The astronaut, generated variants of her (rescaled, shifted, brightened, mirrored; JPEG
    and PNG), a generated photo without a face and a truncated JPEG."""
    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(astronaut).save(d / "astronaut.png")
    rng = np.random.default_rng(16)
    for i in range(4):
        s = int(512 * (1 + 0.1 * rng.random()))
        img = Image.fromarray(astronaut).resize((s, s), Image.BICUBIC)
        dx, dy = rng.integers(0, 40, 2)
        img = np.asarray(img.crop((dx, dy, dx + 448, dy + 448)), np.float32) * (0.9 + 0.2 * rng.random())
        img = np.clip(img, 0, 255).astype(np.uint8)[:, ::-1 if i % 2 else 1]
        Image.fromarray(img).save(d / f"gen{i}.jpg" if i < 3 else d / f"gen{i}.png", quality=92)
    y, x = np.mgrid[0:240, 0:320]
    Image.fromarray(np.dstack([x % 256, y % 256, (x + y) % 256]).astype(np.uint8)).save(d / "noface.png")
    good = (d / "gen0.jpg").read_bytes()
    (d / "corrupt.jpg").write_bytes(good[: len(good) // 2])
    return d


def test_ray_engine_matches_the_local_engine(tmp_path, photos, ray_session):
    (local_code, local), (ray_code, by_ray) = both(tmp_path, "-m", "stage", "-t", "happy,surprised",
                                                  photos)
    assert local_code == ray_code == 1  # the bad files failed, the others were edited
    assert by_ray == local  # the same records (paths, statuses, faces, errors), in input order
    status = {(Path(r["input"]).name, r["target"]): r["status"] for r in by_ray}
    assert len(by_ray) == 14 and set(status.values()) == {"ok", "error"}
    assert [n for n, t in status if status[n, t] == "error"] == ["corrupt.jpg"] * 2 + ["noface.png"] * 2
    errors = {Path(r["input"]).name: r["error"] for r in by_ray if r["status"] == "error"}
    assert "truncated" in errors["corrupt.jpg"] and "no face" in errors["noface.png"]
    names = same_files(tmp_path / "local", tmp_path / "ray")
    assert len(names) == 10 and "astronaut_happy.png" in names and "gen0_surprised.jpg" in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_skip_existing_overwrite_and_index(tmp_path, photos, ray_session):
    """With the default batch size (batched detection)."""
    inputs = [photos / "astronaut.png", photos / "gen1.jpg", photos / "gen3.png"]
    args = ["-m", "stage", "-t", "happy", "--name", "{index:02d}_{stem}{ext}", *inputs]
    first = both(tmp_path, *args)
    assert first[0] == first[1] and first[0][0] == 0
    # {index}: the input's position in the whole list, whichever actor edited it
    assert [r["output"] for r in first[1][1]] == ["OUT/00_astronaut.png", "OUT/01_gen1.jpg",
                                                  "OUT/02_gen3.png"]
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("0*")}
    assert len(mtimes) == 6
    (lc, local), (rc, by_ray) = both(tmp_path, *args)  # all exist: skipped, nothing sent to Ray
    assert lc == rc == 0 and by_ray == local and {r["status"] for r in by_ray} == {"skipped"}
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("0*")} == mtimes  # untouched
    (lc, local), (rc, by_ray) = both(tmp_path, *args, "--overwrite")
    assert lc == rc == 0 and by_ray == local == first[0][1]
    assert all(p.stat().st_mtime_ns != t for p, t in mtimes.items())  # written again
    same_files(tmp_path / "local", tmp_path / "ray")


def test_name_collisions_and_input_protection(tmp_path, astronaut, ray_session):
    """Planned on the driver for all inputs at once, as the local engine plans them: the second
    photo named like the first is a collision, an output that would replace an input is
    refused."""
    d = tmp_path / "in"
    for sub in ("x", "y"):
        (d / sub).mkdir(parents=True)
        Image.fromarray(astronaut[:300, 60:360]).save(d / sub / "p.png")
    Image.fromarray(astronaut).save(d / "y" / "q.png")
    (l_code, local), (r_code, by_ray) = both(
        tmp_path, "-m", "stage", "-t", "happy", "-r", d, "--name", "{stem}_{target}{ext}")
    assert l_code == r_code == 1 and by_ray == local
    assert [r["status"] for r in by_ray] == ["ok", "error", "ok"] and "collision" in by_ray[1]["error"]
    same_files(tmp_path / "local", tmp_path / "ray")
    # x/p.png's output would be y/p_happy.png, an input met later: refused, with --overwrite too
    other = d / "y" / "p_happy.png"
    other.write_bytes((d / "y" / "p.png").read_bytes())
    before = other.read_bytes()
    local, by_ray = (apply_json(engine, d / "y", "-m", "stage", "-t", "happy", d / "x" / "p.png",
                                other, "--overwrite") for engine in ("local", "ray"))
    assert local == by_ray and local[0] == 1
    assert [r["status"] for r in local[1]] == ["error", "ok"] and "input file" in local[1][0]["error"]
    assert other.read_bytes() == before


def test_a_network_model_matches_too(tmp_path, photos, ray_session):
    inputs = [photos / "astronaut.png", photos / "gen1.jpg"]
    (lc, local), (rc, by_ray) = both(tmp_path, "-m", "reggan", "-t", "happy", *inputs)
    assert lc == rc == 0 and by_ray == local and [r["status"] for r in by_ray] == ["ok", "ok"]
    same_files(tmp_path / "local", tmp_path / "ray")


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="needs Python's default SIGINT handler")
def test_ctrl_c_finishes_the_photos_in_progress(tmp_path, astronaut, ray_session):
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.ray_engine import ray_run

    d = tmp_path / "in"
    d.mkdir()
    head = Image.fromarray(astronaut[:300, 60:360])
    n = 30
    for i in range(n):
        head.save(d / f"p{i:02d}.png")
    out = tmp_path / "out"
    applier = ray_run(Editor.from_pretrained("stage", device="cpu"), ApplyOptions(["happy"], str(out)),
                      model="stage")
    recs = applier.run([str(d)])
    try:
        done = [next(recs)]
        os.kill(os.getpid(), signal.SIGINT)  # two Ctrl-C at once: the second is ignored
        os.kill(os.getpid(), signal.SIGINT)
        done += list(recs)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C raised KeyboardInterrupt out of the Ray run")
    assert applier.interrupted and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert all(r.status == "ok" for r in done) and applier.unfinished == n - len(done)
    # every file written has its record (the actors finished their photos), no temporary file
    assert sorted(os.listdir(out)) == sorted(Path(r.output).name for r in done)


def test_usage_errors(tmp_path, photos, monkeypatch):
    """Exit 2 before anything is edited; Ray itself is not needed for these."""
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photos, "-o", tmp_path / "o",
                          "--engine", "spark")
    assert code == 2 and "'local'" in stderr and "'ray'" in stderr
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photos, "-o", tmp_path / "o",
                          "--ray-address", "auto")
    assert code == 2 and "--engine ray" in stderr
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code, stdout, stderr = run("apply", "-m", "stage", "-t", "happy", photos, "-o", tmp_path / "o",
                               "--engine", "ray", "--json")
    assert code == 2 and stdout == "" and 'pip install "faceedit[ray]"' in stderr
    assert not (tmp_path / "o").exists()


def test_an_address_where_no_ray_answers_fails_at_once(tmp_path, astronaut, tiny_ckpt, monkeypatch):
    """--ray-address HOST:PORT where nothing answers: one line naming the address, exit 1, within
    the stated timeout (ray.init retried for minutes printing "Failed to connect to GCS")."""
    import socket
    import time

    pytest.importorskip("ray.data", reason=NEEDS_RAY)
    from faceedit import ray_engine

    photo = tmp_path / "a.png"
    Image.fromarray(astronaut).save(photo)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ray_engine, "RAY_CONNECT_TIMEOUT_S", 3.0)
    monkeypatch.setattr(ray_engine, "start_ray", _no_init(ray_engine.start_ray))
    t0 = time.monotonic()
    code, stdout, stderr = run("apply", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}", "-m", tiny_ckpt,
                               "-t", "bright", photo, "-o", tmp_path / "o", "--json")
    assert code == 1 and time.monotonic() - t0 < 60, stderr
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert errors == [f"faceedit: error: cannot join the Ray cluster at 127.0.0.1:{port} (--ray-address): "
                      "connection refused; is Ray running there (ray start --head)?"], stderr
    assert "GCS" not in stderr and stdout == ""
    code, _, stderr = run("apply", "--engine", "ray", "--ray-address", "headnode", "-m", tiny_ckpt,
                          "-t", "bright", photo, "-o", tmp_path / "o")
    assert code == 2 and "--ray-address headnode: give HOST:PORT" in stderr


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n"])
def test_an_address_that_accepts_but_is_not_ray_fails_within_the_timeout(monkeypatch, reply):
    """A port that accepts a connection and stays silent (or speaks HTTP/1): one error naming the
    address within the timeout, not a ray.init that hangs for minutes."""
    import time

    from faceedit import ray_engine
    from faceedit.errors import FaceEditError

    def answer(conn):
        if reply:
            conn.sendall(reply)
        time.sleep(3)

    with _one_connection_server(answer) as port:
        monkeypatch.setattr(ray_engine, "RAY_CONNECT_TIMEOUT_S", 1.0)
        t0 = time.monotonic()
        with pytest.raises(FaceEditError, match=f"127.0.0.1:{port}"):
            ray_engine._check_reachable(f"127.0.0.1:{port}", "--ray-address")
        assert time.monotonic() - t0 < 2.5


def test_a_grpc_answer_passes_the_reachability_check():
    """A server answering the HTTP/2 preface with a SETTINGS frame, as Ray's GCS does, passes."""
    from faceedit import ray_engine

    def answer(conn):
        conn.recv(64)
        conn.sendall(bytes([0, 0, 0x18, 4, 0, 0, 0, 0, 0]))

    with _one_connection_server(answer) as port:
        ray_engine._check_reachable(f"127.0.0.1:{port}", "--ray-address")


@contextmanager
def _one_connection_server(answer):
    """A local TCP port whose first connection is handled by ``answer(conn)`` in a thread."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _no_init(start_ray):
    """start_ray, with ray.init made to fail the test instead of joining anything."""
    def wrapped(address=None, num_cpus=None):
        import ray

        def no(*a, **k):
            raise AssertionError("ray.init was called for an address that does not answer")

        real, ray.init = ray.init, no
        try:
            return start_ray(address, num_cpus)
        finally:
            ray.init = real
    return wrapped


def test_a_worker_failure_reads_as_one_plain_line():
    from faceedit.ray_engine import _first_line

    assert _first_line(RuntimeError("\x1b[36mray::Worker()\x1b[39m failed\nTraceback ...")) == (
        "RuntimeError: ray::Worker() failed")
