"""Outputs that check themselves: `faceedit apply --json` records what each edited face reads as
(`measured`: the expression classifier's reading, the identity cosine to the input face), and
`--verify` marks the outputs whose target did not read or whose person changed."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from faceedit.analysis.measure import MIN_IDENTITY, MIN_PROB, FaceReader, Reading, verdict
from faceedit.cli import app

runner = CliRunner()
KEYS = {"face", "expression", "expression_prob", "target_prob", "input_target_prob", "judged", "identity"}


def run(*args):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_real_happy_edit_verifies(tmp_path, astronaut_png):
    code, stdout, stderr = run("apply", "-m", "reggan", "-t", "happy", astronaut_png, "-o", tmp_path / "out",
                               "--json", "--verify")
    assert code == 0, stderr
    (rec,) = records(stdout)
    assert rec["status"] == "ok" and rec["error"] is None
    (m,) = rec["measured"]
    assert set(m) == KEYS
    assert m["expression"] == "happy" and m["target_prob"] >= MIN_PROB and m["judged"] is True
    assert MIN_IDENTITY <= m["identity"] < 1.0  # changed, the same person


def test_a_faint_edit_is_unverified_and_the_run_exits_1(tmp_path, astronaut_png):
    # strength 0.05 towards surprised: the smiling astronaut still reads happy
    out = tmp_path / "out"
    code, stdout, stderr = run("apply", "-m", "reggan", "-t", "surprised,happy", "-s", "0.05", astronaut_png,
                               "-o", out, "--json", "--verify")
    assert code == 1
    recs = {r["target"]: r for r in records(stdout)}
    faint = recs["surprised"]
    assert faint["status"] == "unverified"
    assert "surprised not read" in faint["error"] and "--verify-min-prob" in faint["error"]
    assert faint["measured"][0]["target_prob"] < MIN_PROB
    assert (out / "astronaut_surprised_0.05.png").is_file()  # written all the same
    assert recs["happy"]["status"] == "ok"  # she smiles already: happy reads
    assert "unverified" in stderr

    # without --verify the same outputs keep status ok, and still carry what they read
    code, stdout, stderr = run("apply", "-m", "reggan", "-t", "surprised", "-s", "0.05", astronaut_png,
                               "-o", tmp_path / "plain", "--json")
    assert code == 0, stderr
    (rec,) = records(stdout)
    assert rec["status"] == "ok" and rec["error"] is None
    assert rec["measured"][0]["target_prob"] == pytest.approx(faint["measured"][0]["target_prob"], abs=1e-4)


def test_thresholds_decide(tmp_path, astronaut_png):
    """The person check: an identity floor above any edit's cosine marks the output."""
    code, stdout, _ = run("apply", "-m", "reggan", "-t", "happy", astronaut_png, "-o", tmp_path / "out",
                          "--json", "--verify", "--verify-min-identity", "1", "--verify-min-prob", "0")
    assert code == 1
    (rec,) = records(stdout)
    assert rec["status"] == "unverified" and "the person changed" in rec["error"]
    assert "happy not read" not in rec["error"]


@pytest.mark.parametrize("flag,value", [("--verify-min-prob", "1.5"), ("--verify-min-prob", "-0.1"),
                                        ("--verify-min-identity", "2"), ("--verify-min-identity", "nan")])
def test_bad_thresholds_are_usage_errors(tmp_path, astronaut_png, flag, value):
    code, stdout, stderr = run("apply", "-m", "reggan", "-t", "happy", astronaut_png, "-o", tmp_path / "out",
                               "--verify", flag, value)
    assert code == 2
    assert flag in stderr and stdout == ""
    assert not (tmp_path / "out").exists()


def test_records_without_json_or_verify_are_not_measured(tmp_path, astronaut_png, tiny_ckpt):
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")
    opts = ApplyOptions(targets=["bright"], out_dir=str(tmp_path / "out"))
    (rec,) = ApplyRun.local(editor, opts, progress=False).run([str(astronaut_png)])
    assert rec.status == "ok" and rec.measured is None
    assert rec.to_json()["measured"] is None


def test_targets_the_classifier_does_not_judge_still_check_identity(tmp_path, astronaut_png, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", astronaut_png, "-o", tmp_path / "out",
                               "--json", "--verify", "--verify-min-prob", "1", "--verify-min-identity", "-1")
    assert code == 0, stderr  # no verdict on its expression: a min prob of 1 cannot fail it
    (m,) = records(stdout)[0]["measured"]
    assert m["target_prob"] is None and m["input_target_prob"] is None and m["judged"] is False
    assert m["expression"] and 0.0 < m["identity"] < 1.0


@pytest.fixture(scope="module")
def reader():
    return FaceReader("cpu")


def test_reader_batches_outputs_and_reads_an_unchanged_face_as_the_input(reader, astronaut):
    from faceedit.analysis.measure import ANALYSIS_TEMPLATE
    from faceedit.faces.align import align_face
    from faceedit.faces.detectors import get_detector

    (face,) = get_detector("dlib").detect(astronaut)
    crop = align_face(astronaut, face, ANALYSIS_TEMPLATE).crop
    dark = (crop * 0.5).astype(np.uint8)
    rows = reader.read([crop], [[crop], [dark], [crop]], ["happy", "keep", "wink"])
    assert [len(r) for r in rows] == [1, 1, 1]
    same, darker, wink = (r[0] for r in rows)
    assert same.identity == pytest.approx(1.0, abs=1e-4)
    assert same.target_prob == pytest.approx(same.input_target_prob) and same.top == "happy"
    assert same.judged
    assert darker.target_prob is None and not darker.judged and darker.identity < same.identity
    assert wink.target_prob is not None and not wink.judged  # 3 held-out winks: too few to judge by
    assert reader.read([], [[]], ["happy"]) == [[]]


def test_the_shipped_classifier_judges_the_classes_it_reads(reader):
    assert {"neutral", "happy", "surprised"} <= reader.judged
    # held-out accuracy too low, too few crops, or (angry) one data set only
    assert not {"sad", "fearful", "sleepy", "wink", "angry"} & reader.judged


def test_verdict_names_each_failing_face():
    ok = Reading(0, "happy", 0.8, 0.8, 0.01, 0.95, judged=True)
    faint = Reading(1, "neutral", 0.9, 0.05, 0.01, 0.99, judged=True)
    other = Reading(2, "happy", 0.7, 0.7, 0.01, 0.3, judged=True)
    unknown = Reading(3, "neutral", 0.9, None, None, 0.99)
    unjudged = Reading(4, "neutral", 0.9, 0.01, 0.01, 0.99, judged=False)
    assert verdict([ok, unknown, unjudged], "happy", 0.5, 0.7) is None
    why = verdict([ok, faint, other], "happy", 0.5, 0.7)
    assert why is not None and "face 1: happy not read" in why and "reads as neutral 0.90" in why
    assert "face 2: the person changed (identity 0.30" in why and "face 0" not in why
    assert verdict([faint], "happy", 0.0, -1.0) is None


def test_a_reading_that_fails_never_fails_the_output(tmp_path, astronaut_png, tiny_ckpt, monkeypatch):
    from faceedit.analysis.measure import FaceReader as Reader
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    def broken(self, *a, **k):
        raise RuntimeError("no reading")

    monkeypatch.setattr(Reader, "read", broken)
    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")
    for verify, status in ((False, "ok"), (True, "unverified")):
        opts = ApplyOptions(targets=["bright"], out_dir=str(tmp_path / str(verify)), measure=True, verify=verify)
        (rec,) = ApplyRun.local(editor, opts, progress=False).run([str(astronaut_png)])
        assert rec.status == status and rec.measured is None
        assert (tmp_path / str(verify) / "astronaut_bright.png").is_file()
        assert (rec.error is None) if not verify else "could not be measured: RuntimeError: no reading" in rec.error


def test_median_reading_sums_a_persons_frames():
    from faceedit.analysis.measure import median_reading

    frames = [Reading(0, "happy", 0.8, 0.8, 0.6, 0.9, judged=True),
              Reading(0, "neutral", 0.9, 0.1, 0.6, 0.3, judged=True),  # a blink
              Reading(0, "happy", 0.6, 0.6, 0.6, 0.8, judged=True)]
    r = median_reading(3, frames)
    assert (r.face, r.top, r.frames, r.judged) == (3, "happy", 3, True)
    assert r.top_prob == pytest.approx(0.7) and r.target_prob == pytest.approx(0.6)
    assert r.identity == pytest.approx(0.8)
    assert r.to_json()["frames_read"] == 3 and set(r.to_json()) == KEYS | {"frames_read"}
    assert "frames_read" not in frames[0].to_json()  # a photo's face


def test_a_faint_video_edit_is_unverified_and_the_run_exits_1(tmp_path):
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    from skimage.data import astronaut

    from faceedit.video.synth import write_clip

    clip = tmp_path / "a.mp4"
    write_clip(str(clip), astronaut(), 12, (192, 144))
    out = tmp_path / "out"
    # strength 0.05 towards surprised: the smiling astronaut still reads happy on every frame
    code, stdout, stderr = run("apply", "-m", "stage", "-t", "surprised", "-s", "0.05", clip, "-o", out,
                               "--json", "--verify")
    assert code == 1
    (rec,) = records(stdout)
    assert rec["kind"] == "video" and rec["status"] == "unverified"
    assert "surprised not read" in rec["error"] and "--verify-min-prob" in rec["error"]
    (m,) = rec["measured"]
    assert m["target_prob"] < MIN_PROB and m["frames_read"] >= 1
    assert (out / "a_surprised_0.05.mp4").is_file()  # written all the same
    assert "unverified" in stderr
