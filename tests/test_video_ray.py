"""Videos on Ray (faceedit.video.on_ray): one task per video, records in input order with the
paths as named, errors as records."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")
ray = pytest.importorskip("ray", reason="needs the ray extra (pip install 'faceedit[ray]')")
pytest.importorskip("ray.data", reason="needs the ray extra (pip install 'faceedit[ray]')")

from _imgs import astronaut

from faceedit.video.batch import VideoJob
from faceedit.video.on_ray import run_on_ray
from faceedit.video.synth import write_clip

pytestmark = pytest.mark.slow


def test_one_task_per_video(tmp_path, ray_session, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths: the tasks get absolute ones, the records these
    write_clip("a.mp4", astronaut(), 6, (128, 96))
    write_clip("b.mkv", astronaut(), 5, (128, 96))
    with open("c.mp4", "wb") as f:
        f.write(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    jobs = [VideoJob("a.mp4", [("out/a_happy.mp4", "happy", 1.0)]),
            VideoJob("c.mp4", [("out/c_happy.mp4", "happy", 1.0)]),
            VideoJob("b.mkv", [("out/b_happy.mkv", "happy", 1.0)])]
    recs = list(run_on_ray(ray_session, jobs, model="stage", load={"device": "cpu"}))
    assert [(r["input"], r["output"], r["status"]) for r in recs] == [
        ("a.mp4", "out/a_happy.mp4", "ok"), ("c.mp4", None, "error"), ("b.mkv", "out/b_happy.mkv", "ok")]
    assert recs[0]["frames"] == 6 and recs[2]["frames"] == 5
    assert sorted(os.listdir("out")) == ["a_happy.mp4", "b_happy.mkv"]
