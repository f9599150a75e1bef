"""`apply --engine ray` over photos and videos together (faceedit.ray_engine: a video a call on
the actors): records in input order with the paths as named, errors as records, re-runs that
skip, SIGTERM leaving no file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")
ray = pytest.importorskip("ray", reason="needs the ray extra (pip install 'faceedit[ray]')")
pytest.importorskip("ray.data", reason="needs the ray extra (pip install 'faceedit[ray]')")

from _imgs import astronaut
from PIL import Image

from faceedit.video.synth import write_clip

pytestmark = pytest.mark.slow


# -- `apply --engine ray` with videos among the inputs --------------------------------------------
def two_people() -> np.ndarray:
    """The astronaut beside her mirror image: two people in one picture."""
    a = astronaut()
    return np.concatenate([a, np.ascontiguousarray(a[:, ::-1])], axis=1)


def decoded(path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def mixed_folder(root) -> str:
    """A photo, a clip, a corrupt clip and a clip of two people, in input (name) order."""
    src = root / "in"
    src.mkdir()
    Image.fromarray(astronaut()).resize((256, 256)).save(src / "a.png")
    write_clip(str(src / "b.mp4"), astronaut(), 6, (224, 168))
    (src / "c.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  " + os.urandom(200))
    write_clip(str(src / "d_two.mkv"), two_people(), 5, (320, 160))
    return str(src)


def test_a_mixed_folder_on_ray_actors(tmp_path, ray_session):
    """Photos and videos through the Ray actors: the records of the local engine, in input order;
    a corrupt video an error record that does not stop the others; a re-run skips what is done."""
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.ray_engine import ray_run

    src, out = mixed_folder(tmp_path), tmp_path / "out"

    def applier():
        return ray_run(Editor.from_pretrained("stage", device="cpu"),
                       ApplyOptions(["happy"], str(out), strengths=[0.5]), model="stage")

    run = applier()
    recs = [r.to_json() for r in run.run([src])]
    got = [(os.path.basename(r["input"]), r["status"], r.get("kind"), r["output"]) for r in recs]
    assert got == [("a.png", "ok", None, str(out / "a_happy_0.5.png")),
                   ("b.mp4", "ok", "video", str(out / "b_happy_0.5.mp4")),
                   ("c.mov", "error", "video", None),
                   ("d_two.mkv", "ok", "video", str(out / "d_two_happy_0.5.mkv"))]
    assert recs[1]["frames"] == 6 and recs[1]["tracks"] == 1 and recs[1]["strength"] == 0.5
    assert recs[3]["frames"] == 5 and recs[3]["tracks"] == 2 and recs[3]["faces"] == 2
    assert recs[2]["error"] and not run.interrupted and run.engine.actors >= 1
    assert sorted(os.listdir(out)) == ["a_happy_0.5.png", "b_happy_0.5.mp4", "d_two_happy_0.5.mkv"]
    again = [r.status for r in applier().run([src])]
    assert again == ["skipped", "skipped", "error", "skipped"]
    # the local engine writes the same videos, frame for frame, pixel for pixel (torch on one
    # thread, as an actor's; a Matroska file's header holds a date and a random UID)
    import torch

    from faceedit.run import ApplyRun

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        editor = Editor.from_pretrained("stage", device="cpu")
        local = tmp_path / "local"
        mixed = ApplyRun.local(editor, ApplyOptions(["happy"], str(local), strengths=[0.5]), progress=False)
        assert [r.status for r in mixed.run([src])] == ["ok", "ok", "error", "ok"]
    finally:
        torch.set_num_threads(threads)
    for name, n in (("b_happy_0.5.mp4", 6), ("d_two_happy_0.5.mkv", 5)):
        a, b = decoded(local / name), decoded(out / name)
        assert len(a) == len(b) == n and all(np.array_equal(x, y) for x, y in zip(a, b)), (
            name, [int(np.abs(x.astype(int) - y).max()) for x, y in zip(a, b)],
            [float((np.abs(x.astype(int) - y) > 2).mean()) for x, y in zip(a, b)])


def test_the_command_line_on_ray_with_videos(tmp_path, ray_session):
    """`faceedit apply --engine ray --json` over a folder of a photo and clips: one record per
    output, the photo's options reaching the videos (--max-faces 1 fails the clip of two
    people, as it would a photo of two), exit 1 for the failed inputs, a re-run that skips."""
    from typer.testing import CliRunner

    from faceedit.cli import app

    src, out = mixed_folder(tmp_path), tmp_path / "out"
    args = ["apply", src, "-m", "stage", "-t", "happy", "-o", str(out), "--json", "--engine", "ray",
            "--max-faces", "1", "--crf", "30"]
    r = CliRunner().invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 1, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [(os.path.basename(x["input"]), x["status"]) for x in recs] == [
        ("a.png", "ok"), ("b.mp4", "ok"), ("c.mov", "error"), ("d_two.mkv", "error")]
    assert recs[1]["kind"] == "video" and recs[1]["frames"] == 6 and recs[1]["model"] == "stage"
    assert "more than --max-faces 1" in recs[3]["error"] and recs[3]["output"] is None
    assert sorted(os.listdir(out)) == ["a_happy.png", "b_happy.mp4"]
    assert "Traceback" not in r.stderr
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert [json.loads(line)["status"] for line in again.stdout.splitlines() if line.strip()] == [
        "skipped", "skipped", "error", "error"]


def test_sigterm_on_ray_drops_the_video_in_progress(tmp_path, ray_session):
    """SIGTERM while an actor edits a video: the video stops at its next frame and leaves no
    file (not even its temporary one), no record, the run says it was interrupted."""
    import signal
    import threading
    import time

    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.ray_engine import ray_run

    clip = tmp_path / "long.mp4"
    write_clip(str(clip), astronaut(), 150, (256, 192))
    out = tmp_path / "out"
    run = ray_run(Editor.from_pretrained("stage", device="cpu"), ApplyOptions(["happy"], str(out)),
                  model="stage")
    sent = []

    def term_when_writing() -> None:  # once the video's temporary file is there
        deadline = time.monotonic() + 300
        while not (out.is_dir() and os.listdir(out)):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        time.sleep(0.5)
        sent.append(sorted(os.listdir(out)))
        os.kill(os.getpid(), signal.SIGTERM)

    # SIGTERM's default action in place, as in a fresh `faceedit apply` (the run takes it over
    # from there; ray.init, done here by the fixture, put a handler of its own in)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    killer = threading.Thread(target=term_when_writing, daemon=True)
    killer.start()
    recs = list(run.run([str(clip)]))
    killer.join()
    assert sent and sent[0] and "long_happy.mp4" not in sent[0]  # stopped while writing
    assert recs == [] and run.interrupted and run.stop_signal == signal.SIGTERM
    assert run.unfinished == 1 and not out.exists()  # nor the folder made for the video
