"""Many videos in one run (faceedit.video.batch): records per output, errors that do not stop
the batch, re-runs that skip finished videos, a stop that leaves no partial file."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut

from faceedit.video.batch import VideoApplier, VideoJob
from faceedit.video.synth import write_clip


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def test_batch_records_errors_and_skips(tmp_path, editor):
    good = str(tmp_path / "a.mp4")
    write_clip(good, astronaut(), 8, (128, 96))
    bad = tmp_path / "b.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300)  # a signature, then nothing
    out = tmp_path / "out"
    jobs = [VideoJob(good, [(str(out / "a_happy.mp4"), "happy", 1.0),
                            (str(out / "a_sad_0.5.mp4"), "sad", 0.5)]),
            VideoJob(str(bad), [(str(out / "b_happy.mp4"), "happy", 1.0)]),
            VideoJob(good, [(str(out / "a_happy.mkv"), "happy", 1.0)])]
    app = VideoApplier(editor, options={"aus": {12: 2.0}}, progress=False, model="stage")
    recs = list(app.run(jobs))
    assert [r["status"] for r in recs] == ["ok", "ok", "error", "ok"]
    assert recs[2]["input"] == str(bad) and recs[2]["output"] is None and recs[2]["error"]
    assert recs[0]["frames"] == 8 and recs[0]["tracks"] == 1 and recs[0]["fps"] > 0
    assert recs[0]["kind"] == "video" and recs[0]["aus"] == {"12": 2.0}
    json.dumps(recs)  # every record is JSON
    assert sorted(os.listdir(out)) == ["a_happy.mkv", "a_happy.mp4", "a_sad_0.5.mp4"]
    again = list(app.run(jobs[:1]))
    assert [r["status"] for r in again] == ["skipped", "skipped"]


def test_stop_ends_the_batch_without_a_partial_file(tmp_path, editor):
    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 12, (128, 96))
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 4

    out = tmp_path / "out"
    jobs = [VideoJob(clip, [(str(out / "a_happy.mp4"), "happy", 1.0)]),
            VideoJob(clip, [(str(out / "a_sad.mp4"), "sad", 1.0)])]
    app = VideoApplier(editor, stop=stop, progress=False)
    assert list(app.run(jobs)) == []
    assert app.stopped
    assert not out.exists() or os.listdir(out) == []


def test_an_encoder_failure_fails_that_video_alone(tmp_path, editor):
    """An encoder the output's container refuses at run time (libx264 into WebM: the command
    refuses it up front) is that output's error record naming the clip; the next one is done."""
    from faceedit.video.container import EncodeOptions

    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 4, (128, 96), tone=None)
    out = tmp_path / "out"
    jobs = [VideoJob(clip, [(str(out / "a_happy.webm"), "happy", 1.0)]),
            VideoJob(clip, [(str(out / "a_happy.mp4"), "happy", 1.0)])]
    app = VideoApplier(editor, encode=EncodeOptions(codec="libx264"), progress=False, model="stage")
    recs = list(app.run(jobs))
    assert [r["status"] for r in recs] == ["error", "ok"]
    assert "cannot encode libx264 into webm" in recs[0]["error"]
    assert os.listdir(out) == ["a_happy.mp4"]
