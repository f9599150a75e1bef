"""The video engine (faceedit.video.batch.VideoEngine) on planned video jobs: a record per output,
errors that do not stop the batch, a stop that leaves no partial file."""

from __future__ import annotations

import json
import os

import numpy as np
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
    opts = ApplyOptions(["happy"], str(out), request=EditRequest.of(**options)).validate(editor)
    return VideoEngine(editor, opts, RecordMaker(opts, "stage"), encode, progress=False)


def job(pos: int, path: str, *outputs: tuple[str, str, float]) -> Job:
    return Job(pos, InputItem(path, os.path.basename(path)), VIDEO,
               [PlannedOutput(target, strength, out) for out, target, strength in outputs])


#: The frame rate of the clip the records test writes (not the synthetic clips' default 25).
CLIP_FPS = 12


def never() -> bool:
    return False


def test_records_and_errors(tmp_path, editor):
    good = str(tmp_path / "a.mp4")
    write_clip(good, astronaut(), 8, (224, 168), fps=CLIP_FPS)
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
    assert recs[0]["frames"] == 8 and recs[0]["tracks"] == 1
    # the clip's frame rate (it was the speed of the edit, which is edit_fps)
    assert recs[0]["fps"] == CLIP_FPS and recs[0]["edit_fps"] > 0
    assert recs[0]["network"] is False and recs[2]["network"] is None  # the stage alone has none
    assert recs[0]["kind"] == "video" and recs[0]["aus"] == {"12": 2.0} and recs[0]["model"] == "stage"
    assert list(recs[0])[:3] == ["input", "output", "kind"]
    json.dumps(recs)  # every record is JSON
    assert sorted(os.listdir(out)) == ["a_happy.mp4", "a_sad_0.5.mp4"]


def test_stop_ends_the_video_without_a_partial_file(tmp_path, editor):
    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 12, (224, 168))
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
    write_clip(clip, astronaut(), 4, (224, 168), tone=None)
    out = tmp_path / "out"
    videos = engine(editor, out, EncodeOptions(codec="libx264"))
    recs = videos.edit(job(0, clip, (str(out / "a_happy.webm"), "happy", 1.0),
                           (str(out / "a_happy.mp4"), "happy", 1.0)), never)
    assert [r.status for r in recs] == ["error", "ok"]
    assert "cannot encode libx264 into webm" in recs[0].error
    assert os.listdir(out) == ["a_happy.mp4"]


def measuring_engine(editor, out, **flags) -> VideoEngine:
    opts = ApplyOptions(["happy"], str(out), **flags).validate(editor)
    return VideoEngine(editor, opts, RecordMaker(opts, "stage"), progress=False)


def test_a_measured_video_reads_a_few_frames_per_person(tmp_path, editor):
    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 12, (192, 144))
    out = tmp_path / "out"
    (rec,) = measuring_engine(editor, out, measure=True).edit(
        job(0, clip, (str(out / "a_happy.mp4"), "happy", 1.0)), never)
    rec = rec.to_json()
    assert rec["status"] == "ok" and rec["error"] is None
    (m,) = rec["measured"]  # one person
    assert m["face"] == 0 and 1 <= m["frames_read"] <= 5
    assert m["judged"] is True and m["expression"] and 0.0 <= m["target_prob"] <= 1.0
    assert 0.4 < m["identity"] < 1.0  # edited, the same person
    json.dumps(rec)


def test_a_video_is_not_measured_unless_asked(tmp_path, editor, monkeypatch):
    from faceedit.analysis.measure import FaceReader

    def unexpected(*a, **k):
        raise AssertionError("read without --json or --verify")

    monkeypatch.setattr(FaceReader, "read", unexpected)
    clip = str(tmp_path / "a.mp4")
    write_clip(clip, astronaut(), 4, (224, 168))
    out = tmp_path / "out"
    videos = measuring_engine(editor, out)
    assert videos.reader is None
    (rec,) = videos.edit(job(0, clip, (str(out / "a_happy.mp4"), "happy", 1.0)), never)
    assert rec.status == "ok" and rec.to_json()["measured"] is None


def test_samples_stay_few_and_spread():
    from faceedit.video.runner import FaceSamples

    class Face:  # the five points align_face fits
        five = landmarks = np.array([[40.0, 40], [60, 40], [50, 50], [42, 62], [58, 62]])

    frame = np.zeros((96, 96, 3), np.uint8)
    s = FaceSamples(5)
    for i in range(40):
        s.add(7, i, frame, frame, Face())
    kept = [i for i, _, _ in s.crops[7]]
    assert 3 <= len(kept) <= 5 and kept[0] == 0 and kept[-1] >= 20
    assert kept == sorted(kept) and len(set(np.diff(kept))) == 1  # evenly spread
