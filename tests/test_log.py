"""The opt-in stage timings (faceedit.log): every stage of `apply` is timed when recording, nothing
is recorded otherwise."""

import json
import os
import subprocess
import sys

import pytest

from faceedit import log
from faceedit.api import Editor
from faceedit.apply_options import ApplyOptions
from faceedit.run import ApplyRun


@pytest.fixture(scope="module")
def editor():
    # RegGAN on its stage: every stage of an edit runs (the stage, then the network's forward)
    return Editor.from_pretrained("reggan", device="cpu")


def _apply(editor, photo, out) -> list:
    opts = ApplyOptions(targets=["happy"], out_dir=str(out), workers=2)
    return list(ApplyRun.local(editor, opts).run([str(photo)]))


def test_every_stage_is_timed_when_recording(editor, astronaut_png, tmp_path):
    with log.record_timings() as t:
        records = _apply(editor, astronaut_png, tmp_path / "out")
    assert [r.status for r in records] == ["ok"]
    for stage in log.STAGES:
        assert stage in t.seconds, stage
        assert t.seconds[stage] >= 0.0 and t.calls[stage] >= 1, stage
    assert all(v >= 0.0 for v in t.seconds.values())
    assert "first face" in t.marks and t.marks["first face"] >= t.started


def test_nothing_is_recorded_when_off(editor, astronaut_png, tmp_path):
    with log.record_timings() as t:
        pass
    before = t.to_json()
    assert log.timings() is None
    assert log.timed("detect") is log.timed("encode")  # the shared no-op
    records = _apply(editor, astronaut_png, tmp_path / "out")
    assert [r.status for r in records] == ["ok"]
    assert t.to_json() == before and not t.seconds and not t.marks
    assert log.timings() is None


def test_nested_stages_are_counted_once():
    with log.record_timings() as t:
        with log.timed("detect"):
            with log.timed("landmarks"):
                sum(range(100_000))
    assert t.calls == {"detect": 1, "landmarks": 1}
    assert t.seconds["landmarks"] > 0.0 and t.seconds["detect"] >= 0.0


def test_timings_file_from_the_environment(tmp_path):
    out = tmp_path / "timings.json"
    code = ("from faceedit.log import timed, mark\n"
            "with timed('decode'): pass\n"
            "mark('first face')\n")
    env = {**os.environ, log.TIMINGS_ENV: str(out)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    data = json.loads(out.read_text())
    assert data["calls"] == {"decode": 1} and "first face" in data["marks"]
    assert data["ended"] >= data["started"]


def test_loading_one_model_imports_its_method_alone():
    # start-up: `apply -m stage` imports no other method's module (listing them still does)
    code = ("import sys\n"
            "from faceedit.models.loading import load_model; from faceedit.models.registry import model_names\n"
            "load_model('stage')\n"
            "print(sorted(m for m in ('eggan', 'legan', 'lssl', 'reggan', 'secgan')\n"
            "             if 'faceedit.models.' + m in sys.modules))\n"
            "print(model_names())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, names = out.stdout.splitlines()
    assert imported == "[]"
    assert all(m in names for m in ("stage", "reggan", "eggan", "legan", "lssl", "secgan"))
