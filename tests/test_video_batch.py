"""The video engine (faceedit.video.batch.VideoEngine) on planned video jobs: a record per output,
errors that do not stop the batch, a stop that leaves no partial file."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
pytest.importorskip("skimage", reason="the astronaut photo comes with scikit-image")

from _imgs import astronaut

from faceedit.apply_options import ApplyOptions
from faceedit.io.inputs import InputItem
from faceedit.models.request import EditRequest
from faceedit.plan import VIDEO, Job, PlannedOutput, RecordMaker
from faceedit.video.batch import VideoEngine
from faceedit.video.synth import write_clip


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage")


def engine(editor, out, encode=None, **options) -> VideoEngine:
    opts = ApplyOptions(["happy"], str(out), request=EditRequest.of(**options))
    return VideoEngine(editor, opts, RecordMaker(opts, "stage"), encode, progress=False)


def job(pos: int, path: str, *outputs: tuple[str, str, float]) -> Job:
    return Job(pos, InputItem(path, os.path.basename(path)), VIDEO,
               [PlannedOutput(target, strength, out) for out, target, strength in outputs])


def never() -> bool:
    return False


def test_records_and_errors(tmp_path, editor):
    good = str(tmp_path / "a.mp4")
    write_clip(good, astronaut(), 8, (128, 96))
    bad = tmp_path / "b.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300)  # a signature, then nothing
    out = tmp_path / "out"
    videos = engine(editor, out, aus={12: 2.0})
    recs = videos.edit(job(0, good, (str(out / "a_happy.mp4"), "happy", 1.0),
                           (str(out / "a_sad_0.5.mp4"), "sad", 0.5)), never)
    recs += videos.edit(job(1, str(bad), (str(out / "b_happy.mp4"), "happy", 1.0)), never)
    recs = [r.to_json() for r in recs]
    assert [r["status"] for r in recs] == ["ok", "ok", "error"]
    assert recs[2]["input"] == str(bad) and recs[2]["output"] is None and recs[2]["error"]
    assert recs[0]["frames"] == 8 and recs[0]["tracks"] == 1 and recs[0]["fps"] > 0
    assert recs[0]["kind"] == "video" and recs[0]["aus"] == {"12": 2.0} and recs[0]["model"] == "stage"
    assert list(recs[0])[:3] == ["input", "output", "kind"]
    json.dumps(recs)  # every record is JSON
    assert sorted(os.listdir(out)) == ["a_happy.mp4", "a_sad_0.5.mp4"]


def test_stop_ends_the_video_without_a_partial_file(tmp_path, editor):
    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 12, (128, 96))
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 4

    out = tmp_path / "out"
    assert engine(editor, out).edit(job(0, clip, (str(out / "a_happy.mp4"), "happy", 1.0)), stop) is None
    assert not out.exists()


def test_an_encoder_failure_fails_that_video_alone(tmp_path, editor):
    """An encoder the output's container refuses at run time (libx264 into WebM: the command
    refuses it up front) is that output's error record naming the clip; the next one is done."""
    from faceedit.video.container import EncodeOptions

    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 4, (128, 96), tone=None)
    out = tmp_path / "out"
    videos = engine(editor, out, EncodeOptions(codec="libx264"))
    recs = videos.edit(job(0, clip, (str(out / "a_happy.webm"), "happy", 1.0),
                           (str(out / "a_happy.mp4"), "happy", 1.0)), never)
    assert [r.status for r in recs] == ["error", "ok"]
    assert "cannot encode libx264 into webm" in recs[0].error
    assert os.listdir(out) == ["a_happy.mp4"]
