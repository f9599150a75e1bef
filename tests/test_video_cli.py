"""`faceedit apply` on videos, through the command: a folder of photos and videos (a corrupt
one and one without a face among them), one --json record per output, re-runs that skip, and
SIGTERM in the middle of a video leaving no file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut
from PIL import Image

from faceedit.video.synth import write_clip

pytestmark = pytest.mark.slow


def apply(*args, env=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "faceedit", "apply", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_folder_of_photos_and_videos(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(astronaut()).resize((256, 256)).save(src / "a.png")
    write_clip(str(src / "b.mp4"), astronaut(), 8, (224, 168))
    write_clip(str(src / "c.mkv"), astronaut(), 6, (224, 168), hide=(0, 6))  # no face at all
    (src / "d.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  " + os.urandom(200))  # corrupt
    Image.fromarray(np.ascontiguousarray(astronaut()[:, ::-1])).save(src / "e.jpg")
    (src / "notes.txt").write_text("not an input")
    out = tmp_path / "out"
    r = apply(src, "-m", "stage", "-t", "happy", "-o", out, "--json", "--crf", "23")
    assert r.returncode == 1, r.stderr  # one input failed, the rest were done
    recs = records(r.stdout)
    got = [(os.path.basename(x["input"]), x["status"], x.get("kind")) for x in recs]
    assert got == [("a.png", "ok", None), ("b.mp4", "ok", "video"), ("c.mkv", "error", "video"),
                   ("d.mov", "error", "video"), ("e.jpg", "ok", None)]
    b, c = recs[1], recs[2]
    assert b["output"] == str(out / "b_happy.mp4") and b["frames"] == 8 and b["tracks"] == 1
    assert b["fps"] > 0 and b["faces"] == 1
    assert c["error"] == "no face found in any of its 6 frames" and c["output"] is None
    assert c["faces"] == 0
    assert "d.mov" in r.stderr and sorted(os.listdir(out)) == ["a_happy.png", "b_happy.mp4", "e_happy.jpg"]
    again = apply(src, "-m", "stage", "-t", "happy", "-o", out, "--json")
    assert [x["status"] for x in records(again.stdout)] == ["skipped", "skipped", "error", "error",
                                                            "skipped"]
    # --on-no-face as for a photo: skip writes nothing, copy the clip unedited
    skip = apply(src / "c.mkv", "-m", "stage", "-t", "happy", "-o", out, "--json", "--on-no-face", "skip")
    assert skip.returncode == 0 and [x["status"] for x in records(skip.stdout)] == ["no_face"]
    copy = apply(src / "c.mkv", "-m", "stage", "-t", "happy", "-o", out, "--json", "--on-no-face", "copy")
    assert copy.returncode == 0, copy.stderr
    (c,) = records(copy.stdout)
    assert c["status"] == "copied" and c["frames"] == 6 and c["edited_frames"] == 0
    assert os.path.exists(out / "c_happy.mkv")


def test_bad_video_codec_is_a_usage_error(tmp_path):
    write_clip(str(tmp_path / "b.mp4"), astronaut(), 3, (224, 168))
    r = apply(tmp_path / "b.mp4", "-m", "stage", "-t", "happy", "-o", tmp_path / "o",
              "--video-codec", "nosuchcodec")
    assert r.returncode == 2 and "--video-codec nosuchcodec" in r.stderr
    assert not (tmp_path / "o").exists()


def test_sigterm_in_a_video_leaves_no_file(tmp_path):
    clip = tmp_path / "long.mp4"
    write_clip(str(clip), astronaut(), 150, (256, 192))
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "faceedit", "apply", str(clip), "-m", "stage", "-t",
                          "happy", "-o", str(out), "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not (out.is_dir() and os.listdir(out)):  # the video's temporary file is there
            assert p.poll() is None and time.monotonic() < deadline, p.communicate()
            time.sleep(0.05)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 128 + signal.SIGTERM, stderr
    assert not out.exists() and records(stdout) == []  # nor the folder made for it
    assert "interrupted (SIGTERM)" in stderr and "interrupted (Ctrl-C)" not in stderr


def test_quiet_silences_the_encoder(tmp_path):
    """-q: only errors on stderr, x265's own info lines included (its log level follows -q)."""
    write_clip(str(tmp_path / "b.mp4"), astronaut(), 3, (224, 168))
    r = subprocess.run([sys.executable, "-m", "faceedit", "-q", "apply", str(tmp_path / "b.mp4"), "-m",
                        "stage", "-t", "happy", "-o", str(tmp_path / "o"), "--video-codec", "libx265"],
                       capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and os.listdir(tmp_path / "o") == ["b_happy.mp4"]


def test_a_codec_the_output_container_cannot_hold_is_a_usage_error(tmp_path):
    """libx264 into a WebM output is refused before anything runs (exit 2), naming the video and
    the containers that take it; nothing is written."""
    write_clip(str(tmp_path / "clip.webm"), astronaut(), 3, (224, 168), codec="libvpx-vp9")
    write_clip(str(tmp_path / "basic.mp4"), astronaut(), 3, (224, 168))
    Image.fromarray(astronaut()).resize((256, 256)).save(tmp_path / "face.jpg")
    r = apply(tmp_path / "clip.webm", tmp_path / "basic.mp4", tmp_path / "face.jpg", "-m", "stage", "-t",
              "happy", "-o", tmp_path / "o", "--video-codec", "libx264", "--json")
    assert r.returncode == 2, r.stderr
    assert "clip.webm" in r.stderr and "--video-codec libx264" in r.stderr and ".mkv" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == "" and not (tmp_path / "o").exists()


def test_key_frames_option_reaches_the_video(tmp_path):
    """--key-frames 1 edits every frame in full; the default carries a still face's key frame
    edit onto the frames after it (the record's key_frames); 0 is a usage error."""
    write_clip(str(tmp_path / "b.mp4"), astronaut(), 12, (224, 168))
    every = apply(tmp_path / "b.mp4", "-m", "stage", "-t", "happy", "-o", tmp_path / "o1", "--json",
                  "--key-frames", "1")
    default = apply(tmp_path / "b.mp4", "-m", "stage", "-t", "happy", "-o", tmp_path / "o8", "--json")
    (a,), (b,) = records(every.stdout), records(default.stdout)
    assert a["status"] == b["status"] == "ok", (every.stderr, default.stderr)
    assert a["key_frames"] == a["frames"] == 12
    assert 1 <= b["key_frames"] < 12 and b["edited_frames"] == 12
    bad = apply(tmp_path / "b.mp4", "-m", "stage", "-t", "happy", "-o", tmp_path / "o0", "--key-frames", "0")
    assert bad.returncode == 2 and not (tmp_path / "o0").exists()
