"""A face whose planned move the warp cannot hold is left as it is, per output, with the reason in
the record and the summary; ``--force`` edits it (faceedit.stage.hold): the mouth slid sideways
under the nose (:func:`mouth_shear`), measured on the move the stage plans for every model."""

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.stage import hold

runner = CliRunner()


def _face(gap: float = 0.0) -> np.ndarray:
    """68 points of a frontal face, eyes 60 px apart, the inner lips ``gap`` eye distances apart."""
    lm = np.zeros((68, 2))
    lm[0:17] = np.c_[np.linspace(40, 160, 17), 100 + 60 * np.sin(np.linspace(0, np.pi, 17))]
    lm[17:27] = np.c_[np.linspace(55, 145, 10), np.full(10, 80.0)]
    lm[27:31] = np.c_[np.full(4, 100.0), np.linspace(95, 125, 4)]
    lm[31:36] = np.c_[np.linspace(88, 112, 5), np.full(5, 130.0)]
    lm[36:42] = np.c_[70 + 5 * np.cos(np.linspace(0, 2 * np.pi, 6, endpoint=False)), 95.0 + np.zeros(6)]
    lm[42:48] = lm[36:42] + [60.0, 0.0]
    lm[48:60] = np.c_[100 + 22 * np.cos(np.linspace(np.pi, 3 * np.pi, 12, endpoint=False)),
                      150 + 6 * np.sin(np.linspace(np.pi, 3 * np.pi, 12, endpoint=False))]
    lm[60:68] = np.c_[100 + 14 * np.cos(np.linspace(np.pi, 3 * np.pi, 8, endpoint=False)), np.full(8, 150.0)]
    lm[61:64, 1] -= gap * 60 / 2
    lm[65:68, 1] += gap * 60 / 2
    return lm


def test_the_mouth_slid_sideways_under_a_still_nose_is_its_shear():
    lm = _face()
    goal = lm.copy()
    goal[48:68, 0] += 10.0  # the mouth's middle is 20 px under the nose base
    assert hold.mouth_shear(lm, goal) == pytest.approx(0.5)
    goal[31:36, 0] += 10.0  # the nose going along: no slide under it
    assert hold.mouth_shear(lm, goal) == pytest.approx(0.0)
    down = lm.copy()
    down[48:68, 1] += 8.0  # up and down is what expressions do
    assert hold.mouth_shear(lm, down) == pytest.approx(0.0)


def test_an_open_mouth_is_held_to_a_smaller_slide_than_a_closed_one():
    for gap, slide, declined in ((0.0, 0.4, False), (0.0, 0.6, True), (0.15, 0.2, False), (0.15, 0.4, True)):
        lm = _face(gap)
        goal = lm.copy()
        goal[48:68, 0] -= slide * 20.0
        why = hold.move_decline_reason(lm, goal, (-20.0, -28.0))
        assert (why is not None) == declined, (gap, slide, why)
        if declined:
            assert why.startswith("the move would distort a turned (yaw -20, pitch -28) face")
            assert f"sideways {slide:.2f}" in why and ("open mouth" in why) == (gap > 0)


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("stage")):
        pytest.skip("the stage's weights are not present")
    return Editor.from_pretrained("stage", device="cpu")


def test_the_astronauts_moves_are_held_for_every_target(editor, astronaut):
    from faceedit.models.request import EditRequest

    faces = editor.detector.detect(astronaut)
    for target in editor.stage.expressions:
        assert editor.stage.move_declines(astronaut, faces, editor.check_request(EditRequest.of(target))) == [None]


def _apply(*args):
    r = runner.invoke(app, ["apply", *map(str, args), "--json"], catch_exceptions=False)
    return r.exit_code, [json.loads(line) for line in r.stdout.splitlines() if line.strip()], r.stderr


def test_a_slid_move_is_declined_in_its_own_output_and_force_edits_it(editor, slid, tmp_path, astronaut_png):
    code, recs, stderr = _apply("-m", "stage", "-t", "surprised", "-t", "happy", astronaut_png, "-o", tmp_path / "o")
    assert code == 0, stderr
    by = {r["target"]: r for r in recs}
    surprised, happy = by["surprised"], by["happy"]
    assert surprised["status"] == "copied" and [d["face"] for d in surprised["declined"]] == [0]
    assert "the move would distort" in surprised["declined"][0]["declined"]
    assert "slides the open mouth sideways" in surprised["declined"][0]["declined"]
    src = cv2.imread(str(astronaut_png))
    assert np.array_equal(cv2.imread(surprised["output"]), src)
    assert happy["status"] == "ok" and "declined" not in happy
    assert np.abs(cv2.imread(happy["output"]).astype(int) - src).max() > 10
    assert "1 face declined" in stderr

    code, recs, stderr = _apply("-m", "stage", "-t", "surprised", astronaut_png, "-o", tmp_path / "f", "--force")
    assert code == 0, stderr
    assert recs[0]["status"] == "ok" and "declined" not in recs[0] and "declined" not in stderr
    assert np.abs(cv2.imread(recs[0]["output"]).astype(int) - src).max() > 10


def test_editor_edit_declines_a_slid_move_and_force_edits_it(editor, slid, astronaut):
    out = editor.edit(astronaut, "surprised")
    assert np.array_equal(out, astronaut)
    assert [d["face"] for d in editor.declined] == [0] and "the move would distort" in editor.declined[0]["declined"]
    forced = editor.edit(astronaut, "surprised", force=True)
    assert editor.declined == [] and np.abs(forced.astype(int) - astronaut).max() > 10
    editor.edit(astronaut, "happy")
    assert editor.declined == []


def test_the_laughing_man_turned_and_tipped_back_is_planned_without_a_slide(editor):
    """insightface's group_t1.jpg face 3 (yaw -20, pitch -28, a laugh; a local world photo): his
    moves, planned on his face turned to the front (faceedit.stage.turned), slide his open mouth
    under 0.1 under the nose (laid by the similarity alone, neutral, surprised and fearful slid
    it 0.47-0.51). Made surprised or fearful (his mouth reshaped, not closed) he is declined for
    his teeth: colour finds them over 0.73 of his inner corners, under the 0.8 a cut along them
    needs (cut along the Face Mesh's loop instead, they stood round the new opening as a black
    hook); made neutral (his lips closed) or happy, and every other face, none is declined."""
    from faceedit.eval.world import cache_dir
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import StageFace
    from faceedit.stage.steps import planned

    path = cache_dir() / "images" / "group_t1.jpg"
    if not path.exists():
        pytest.skip("the world photos are not fetched (faceedit.eval.world)")
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    faces = editor.detector.detect(rgb)
    for target in ("neutral", "surprised", "fearful", "happy"):
        request = editor.check_request(EditRequest.of(target))
        whys = editor.stage.move_declines(rgb, faces[1:], request)
        opens = target in ("surprised", "fearful")
        assert [w is None for w in whys] == [True, True, not opens, True, True], (target, whys)
        if opens:
            assert whys[2].startswith("the move would leave teeth outside the opening"), whys[2]
            assert "(yaw -20, pitch -28) show over 0.7" in whys[2] and "the cut needs 0.80" in whys[2]
        face = planned(editor.stage, StageFace(faces[3].landmarks, faces[3].dense), editor.stage.request(request), rgb)
        assert face is not None and face.goal is not None
        assert abs(hold.mouth_shear(face.landmarks, face.goal)) < 0.1, target


def test_an_open_mouths_teeth_found_over_too_little_of_it_decline_its_reshaping(editor, astronaut, monkeypatch):
    """The astronaut's open smile (teeth shown, lips 0.15 eye distances apart) made surprised:
    held with the teeth colour finds; with them found over 0.6 of her inner corners alone
    (faceedit.stage.lips.find_interior cut short) and her head read as turned, declined for them;
    read as frontal (the Face Mesh's loop lies on the lips there) or made neutral (her lips
    closed), never."""
    from faceedit.models.request import EditRequest

    faces = editor.detector.detect(astronaut)
    surprised = editor.check_request(EditRequest.of("surprised"))
    assert editor.stage.move_declines(astronaut, faces, surprised) == [None]
    real = hold.find_interior

    def short(rgb, dense, tuning=None):
        found = real(rgb, dense, tuning)
        assert found is not None
        up, lo = found
        lm = np.asarray(faces[0].landmarks, np.float64)
        keep = 0.6 * float(np.linalg.norm(lm[64] - lm[60])) / float(np.linalg.norm(up[-1] - up[0]))
        mid = (up[0] + up[-1]) / 2
        return mid + keep * (up - mid), mid + keep * (lo - mid)

    monkeypatch.setattr(hold, "find_interior", short)
    assert editor.stage.move_declines(astronaut, faces, surprised) == [None]  # her head frontal
    monkeypatch.setattr(hold, "_pose", lambda face, edit: (-20.0, -28.0))
    whys = editor.stage.move_declines(astronaut, faces, surprised)
    assert whys[0] is not None and "teeth" in whys[0] and "show over 0.60 of its width" in whys[0], whys
    assert editor.stage.move_declines(astronaut, faces, editor.check_request(EditRequest.of("neutral"))) == [None]


def test_in_a_group_only_the_declined_face_of_that_output_is_left_as_it_is(editor, tmp_path, monkeypatch):
    """group_t1.jpg (a local world photo) made neutral and happy, face 3's neutral mouth slid
    sideways half an eye distance (a move the warp cannot hold): the neutral output leaves face
    3 as it is (its record names it beside face 0, a profile) and edits the others; the happy
    output edits face 3."""
    from faceedit.eval.world import cache_dir
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage import steps

    path = cache_dir() / "images" / "group_t1.jpg"
    if not path.exists():
        pytest.skip("the world photos are not fetched (faceedit.eval.world)")
    third = np.asarray(editor.detector.detect(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))[3].landmarks)
    plan = steps.plan_move

    def sliding(stage, face):
        plan(stage, face)
        if face.request.target == "neutral" and np.abs(face.landmarks - third).max() < 3:
            face.goal = face.goal.copy()
            face.goal[48:68, 0] += 0.5 * eye_distance(face.landmarks)

    monkeypatch.setattr(steps, "plan_move", sliding)
    code, recs, stderr = _apply("-m", "stage", "-t", "neutral", "-t", "happy", path, "-o", tmp_path / "o")
    assert code == 0, stderr
    by = {r["target"]: r for r in recs}
    assert [d["face"] for d in by["neutral"]["declined"]] == [0, 3]
    assert "the move would distort" in by["neutral"]["declined"][1]["declined"]
    assert [d["face"] for d in by["happy"]["declined"]] == [0]
    src = cv2.imread(str(path)).astype(int)
    faces = editor.detector.detect(cv2.cvtColor(src.astype(np.uint8), cv2.COLOR_BGR2RGB))

    def change(output, k):
        x0, y0 = np.asarray(faces[k].landmarks).min(0).astype(int)
        x1, y1 = np.asarray(faces[k].landmarks).max(0).astype(int)
        return np.abs(cv2.imread(output).astype(int) - src)[y0:y1, x0:x1].mean()

    assert change(by["neutral"]["output"], 3) < 1.5  # JPEG's re-encoding alone
    assert change(by["neutral"]["output"], 2) > 5 and change(by["happy"]["output"], 3) > 3  # edited (his smile reached)


def test_a_judged_face_is_planned_once_and_edited_as_without_the_verdict(editor, astronaut, monkeypatch, tmp_path,
                                                                        astronaut_png):
    """The verdict's planned move is what the edit starts from (faceedit.stage.hold.judged):
    ``Editor.edit`` and ``apply`` plan each face's move once, and their outputs are those of
    ``force`` (no verdict, the edit planning it itself), pixel for pixel."""
    from faceedit.stage import steps

    plan, calls = steps.plan_move, []

    def counted(stage, face):
        calls.append(1)
        plan(stage, face)

    monkeypatch.setattr(steps, "plan_move", counted)
    out = editor.edit(astronaut, "happy")
    assert len(calls) == 1 and editor.declined == []
    forced = editor.edit(astronaut, "happy", force=True)
    assert len(calls) == 2 and np.array_equal(out, forced) and np.abs(out.astype(int) - astronaut).max() > 10
    code, recs, stderr = _apply("-m", "stage", "-t", "happy", astronaut_png, "-o", tmp_path / "o")
    assert code == 0 and len(calls) == 3, (stderr, len(calls))
    code, forced_recs, stderr = _apply("-m", "stage", "-t", "happy", astronaut_png, "-o", tmp_path / "f", "--force")
    assert code == 0 and len(calls) == 4, (stderr, len(calls))
    assert np.array_equal(cv2.imread(recs[0]["output"]), cv2.imread(forced_recs[0]["output"]))


def test_edit_each_takes_on_the_verdicts_plan_until_a_face_has_changed_the_photo(editor, astronaut, monkeypatch):
    """``Editor.edit_each`` judges each face's move and the first face's edit starts from its
    verdict's plan (the next face's edit sees the photo the first one changed, and plans again):
    3 plans for 2 faces, and the output is ``force``'s (no verdict, every edit planning itself)."""
    from faceedit.stage import steps

    plan, calls = steps.plan_move, []

    def counted(stage, face):
        calls.append(1)
        plan(stage, face)

    monkeypatch.setattr(steps, "plan_move", counted)
    two = np.ascontiguousarray(np.hstack([astronaut, astronaut[:, ::-1]]))
    out = editor.edit_each(two, {0: "happy", 1: "surprised"})
    assert len(calls) == 3 and editor.declined == []
    forced = editor.edit_each(two, {0: "happy", 1: "surprised"}, force=True)
    assert len(calls) == 5 and np.array_equal(out, forced)
    w = astronaut.shape[1]
    for side in (slice(0, w), slice(w, 2 * w)):  # both faces edited
        assert np.abs(out[:, side].astype(int) - two[:, side]).max() > 10
