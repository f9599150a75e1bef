"""One edit per person: Editor.edit_each and `faceedit apply --job FILE` on a group photo (two
astronauts side by side, face 0 the larger on the left): each face gets its own edit, its pixels
those of the single-face edit of that face with that request."""

import json

import numpy as np
import pytest
from _imgs import two_astronauts
from PIL import Image
from typer.testing import CliRunner

from faceedit.api import Editor
from faceedit.cli import app
from faceedit.errors import NoFaceError, UsageError
from faceedit.preset_file import job_requests, read_preset

runner = CliRunner()
HALF = 512  # the left astronaut's columns

JOB = """model = "stage"
[[faces]]
face = 0
target = "happy"
[[faces]]
face = 1
target = "surprised"
controls = { brows = 0.5 }
"""


def run(*args):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def editor():
    return Editor.from_pretrained("stage", device="cpu")


@pytest.fixture(scope="module")
def group():
    return two_astronauts()


@pytest.fixture(scope="module")
def singles(editor, group):
    """Each face edited alone: face 0 happy, face 1 surprised with brows 0.5, and face 1 happy."""
    return {"0 happy": editor.edit(group, "happy", face="0"),
            "1 surprised": editor.edit(group, "surprised", face="1", controls={"brows": 0.5}),
            "1 happy": editor.edit(group, "happy", face="1")}


def differs(a, b) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def test_each_face_gets_its_own_edit(editor, group, singles):
    out = editor.edit_each(group, {0: "happy", 1: {"target": "surprised", "controls": {"brows": 0.5}}})
    assert out.shape == group.shape and out is not group
    assert differs(out[:, :HALF], singles["0 happy"][:, :HALF]) == 0  # face 0: its own edit, exactly
    assert differs(out[:, HALF:], singles["1 surprised"][:, HALF:]) == 0  # face 1: its own
    assert differs(out[:, :HALF], group[:, :HALF]) > 50 and differs(out[:, HALF:], group[:, HALF:]) > 50
    assert differs(out[:, HALF:], singles["1 happy"][:, HALF:]) > 50  # not face 0's edit


def test_a_face_not_named_is_left_as_it_is(editor, group, singles):
    out = editor.edit_each(group, {1: "surprised"})
    assert differs(out[:, :HALF], group[:, :HALF]) == 0 and differs(out[:, HALF:], group[:, HALF:]) > 50


def test_each_request_is_checked_first(editor, group):
    with pytest.raises(UsageError, match="controls"):
        editor.edit_each(group, {0: "happy", 1: {"target": "keep", "controls": {"smile": 5}}})
    with pytest.raises(UsageError, match="face number"):
        editor.edit_each(group, {-1: "happy"})
    with pytest.raises(NoFaceError, match="only 2 face"):
        editor.edit_each(group, {0: "happy", 2: "sad"})


def test_job_file_reads_each_faces_request(tmp_path):
    path = tmp_path / "edits.json"
    path.write_text(json.dumps({"model": "stage", "strength": 0.5, "controls": {"smile": 0.2},
                                "faces": [{"face": 1, "target": "sad"},
                                          {"face": "0", "target": "happy", "strength": 1, "controls": {"brows": 0.3}}]}))
    edits = job_requests(read_preset(path))
    assert list(edits) == [1, 0]
    assert edits[1].target == "sad" and edits[1].strength == 0.5 and edits[1].controls == {"smile": 0.2}
    assert edits[0].strength == 1.0 and edits[0].controls == {"brows": 0.3} and edits[0].face == "0"


@pytest.mark.parametrize("faces, says", [
    ([], "key 'faces': give a list of tables"),
    ([{"target": "happy"}], "key 'faces[0].face': None: give the face's number"),
    ([{"face": 0}, {"face": 0}], "key 'faces[1].face': face 0 is given twice"),
    ([{"face": 0, "quality": 9}], "key 'faces[0].quality': not a face's key"),
    ([{"face": 0, "controls": {"smile": 5}}], "key 'faces[0].controls': control smile=5 is outside"),
])
def test_bad_jobs_are_usage_errors_naming_the_key(tmp_path, faces, says):
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"model": "stage", "faces": faces}))
    with pytest.raises(UsageError, match="job.json") as e:
        read_preset(path)
    assert says in str(e.value)


def test_apply_job_writes_each_faces_edit(tmp_path, editor, group):
    """`faceedit apply --job edits.toml`: one output per photo, its pixels the API's edit_each,
    its record listing each face's edit."""
    Image.fromarray(group).save(tmp_path / "group.png")
    (tmp_path / "edits.toml").write_text(JOB)
    code, out, err = run("apply", tmp_path / "group.png", "--job", tmp_path / "edits.toml", "-o", tmp_path / "o", "--json")
    assert code == 0, err
    (rec,) = [json.loads(line) for line in out.splitlines()]
    assert rec["status"] == "ok" and rec["faces"] == 2 and rec["output"].endswith("group_edits.png")
    assert rec["edits"] == [{"face": 0, "target": "happy", "strength": 1.0},
                            {"face": 1, "target": "surprised", "strength": 1.0, "controls": {"brows": 0.5}}]
    written = np.asarray(Image.open(rec["output"]).convert("RGB"))
    expected = editor.edit_each(group, {0: "happy", 1: {"target": "surprised", "controls": {"brows": 0.5}}})
    assert differs(written, expected) == 0
    code, _, err = run("apply", tmp_path / "group.png", "--job", tmp_path / "edits.toml", "-o", tmp_path / "o")
    assert code == 0 and "1 skipped" in err, err  # it exists: not written again without --overwrite


def test_apply_job_refusals(tmp_path, group):
    Image.fromarray(group).save(tmp_path / "group.png")
    (tmp_path / "edits.toml").write_text(JOB)
    (tmp_path / "plain.toml").write_text('model = "stage"\ntarget = "happy"\n')
    (tmp_path / "three.toml").write_text(JOB + '[[faces]]\nface = 2\ntarget = "sad"\n')
    code, _, err = run("apply", tmp_path / "group.png", "--job", tmp_path / "plain.toml", "-o", tmp_path / "o")
    assert code == 2 and "no faces key" in err and err.count("\n") == 1, err
    code, _, err = run("apply", tmp_path / "group.png", "--preset", tmp_path / "edits.toml", "-o", tmp_path / "o")
    assert code == 2 and "give it as --job" in err, err
    code, _, err = run("apply", tmp_path / "group.png", "--job", tmp_path / "edits.toml", "-o", tmp_path / "o",
                       "--control", "smile=0.2")
    assert code == 2 and "with --control: give each face's edit in the job file" in err, err
    code, out, err = run("apply", tmp_path / "group.png", "--job", tmp_path / "three.toml", "-o", tmp_path / "o", "--json")
    assert code == 1 and "only 2 face" in err, err
    assert json.loads(out)["status"] == "error" and not (tmp_path / "o" / "group_three.png").exists()
