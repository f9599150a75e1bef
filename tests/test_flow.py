"""The editing flow (faceedit.flow): its entry points give what Editor.edit gives, faces are
aligned once, the two halves the batch engine uses give what the one call gives, and the stage
is a photo step with no network."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.api import Editor
from faceedit.errors import UsageError
from faceedit.faces.align import align_face, apply_affine
from faceedit.flow import (
    Flow,
    align_faces,
    edit_faces,
    finish_photo,
    paste_faces,
    prepare_photo,
    run_network,
    select_faces,
    stage_faces,
)
from faceedit.models.base import EditModel
from faceedit.models.hub import weights_present
from faceedit.models.registry import get_spec
from faceedit.models.request import EditRequest
from faceedit.stage.model import Stage

R = EditRequest


@pytest.fixture(scope="module")
def tiny_editor(tiny_ckpt) -> Editor:
    return Editor.from_pretrained(tiny_ckpt, device="cpu", detector="dlib")


def _shipped(name: str) -> Editor:
    if not weights_present(get_spec(name)) or not weights_present(get_spec("stage")):
        pytest.skip(f"shipped {name} weights not present")
    return Editor.from_pretrained(name, device="cpu", detector="dlib")


@pytest.fixture(scope="module")
def stage_editor() -> Editor:
    return _shipped("stage")


def _faces(editor: Editor, pixels: np.ndarray):
    return select_faces(editor.detector.detect(pixels))


def test_edit_faces_with_known_faces_equals_editor_edit(tiny_editor, astronaut):
    before = astronaut.copy()
    faces = _faces(tiny_editor, astronaut)
    out = edit_faces(tiny_editor, astronaut, faces, R("bright"))
    assert np.array_equal(out, tiny_editor.edit(astronaut, "bright"))
    assert np.array_equal(astronaut, before)  # the input is not changed
    face = (slice(90, 150), slice(190, 250))
    assert out[face].mean() > astronaut[face].mean() + 20
    # a bare Flow (no detector: the faces are given, as a video tracker gives them) does the same
    flow = Flow(loaded=tiny_editor.loaded, device=tiny_editor.device, amp_dtype=None)
    assert np.array_equal(edit_faces(flow, astronaut, faces, R("bright")), out)


def test_the_two_halves_over_several_photos_equal_one_call_per_photo(tiny_editor, astronaut):
    """The batch engine's split: per photo, prepare_photo; one network forward over the crops
    of every photo; per photo, paste_faces. The same pixels as edit_faces photo by photo."""
    photos = [astronaut, np.ascontiguousarray(astronaut[:, ::-1]), np.ascontiguousarray(astronaut[40:, 20:])]
    faces = [_faces(tiny_editor, p) for p in photos]
    prepared = [prepare_photo(tiny_editor, p, f, R("dark")) for p, f in zip(photos, faces)]
    edited = run_network(tiny_editor, [a for ph in prepared for a in ph.faces], R("dark"))
    assert len(edited) == sum(len(f) for f in faces) and all(e is not None for e in edited)
    i = 0
    for p, f, ph in zip(photos, faces, prepared):
        out = ph.pixels.copy()
        paste_faces(tiny_editor, out, ph.faces, edited[i:i + len(ph.faces)])
        i += len(ph.faces)
        assert np.array_equal(out, edit_faces(tiny_editor, p, f, R("dark")))
        assert np.array_equal(finish_photo(tiny_editor, ph, R("dark")), out)


def test_the_stage_is_a_photo_step_without_a_network(stage_editor, astronaut):
    stage = stage_editor.loaded.model
    assert isinstance(stage, Stage) and not isinstance(stage, EditModel)
    assert not Stage.from_pretrained("stage").has_network  # loaded as every registered model is
    with pytest.raises(UsageError, match="no network"):
        stage.eval_conditions()  # faceedit eval measures networks on crops
    assert stage_editor.stage is stage and not stage_editor.has_network
    assert not any(stage_editor.uses_network(t) for t in stage_editor.targets())
    faces = _faces(stage_editor, astronaut)
    photo = prepare_photo(stage_editor, astronaut, faces, R("happy"))
    assert run_network(stage_editor, photo.faces, R("happy")) == [None] * len(faces)
    assert stage_editor.network_options(R(lighting="left", like="x.jpg")) == {}
    out = edit_faces(stage_editor, astronaut, faces, R("happy"))
    assert np.array_equal(out, photo.pixels) and not np.array_equal(out, astronaut)
    assert np.array_equal(out, stage_editor.edit(astronaut, "happy"))


def test_faces_are_aligned_once_and_the_crop_follows_the_staged_photo(stage_editor, astronaut):
    """stage_faces keeps each face's alignment (matrix, mask) and cuts the crop from the staged
    photo with it; the crop's landmarks are the stage's moved ones through the same matrix."""
    faces = _faces(stage_editor, astronaut)
    aligned = align_faces(stage_editor, astronaut, faces)
    photo = stage_faces(stage_editor, astronaut, aligned, R("surprised"))
    assert photo.owns_pixels and not np.array_equal(photo.pixels, astronaut)
    for a, b, done in zip(aligned, photo.faces, photo.edits):
        assert np.array_equal(b.matrix, a.matrix) and b.extra["mask"] is a.extra["mask"]
        again = align_face(photo.pixels, a.face, a.template)  # aligning the staged photo anew
        assert np.array_equal(b.crop, again.crop) and np.array_equal(b.matrix, again.matrix)
        assert np.allclose(b.landmarks, apply_affine(a.matrix, done.landmarks))
        assert not np.allclose(b.landmarks, a.landmarks, atol=0.5)  # the mouth opened


def test_staging_face_by_face_equals_staging_all_at_once(stage_editor, astronaut):
    """Per-face references or what a video track carries (a video's tracks) stage face by face; with none
    set, the photo is the one staged in one call."""
    faces = _faces(stage_editor, astronaut)
    together = prepare_photo(stage_editor, astronaut, faces, R("happy"))
    each = prepare_photo(stage_editor, astronaut, faces, R("happy"), likes=[None] * len(faces),
                         carried=[e.carried for e in together.edits])
    assert np.array_equal(each.pixels, together.pixels)
    assert [e.carried.mouth for e in each.edits] == [e.carried.mouth for e in together.edits]


def test_network_on_the_stage_edit_faces_equals_editor_edit(astronaut):
    editor = _shipped("reggan")
    assert editor.stage is not None and editor.has_network and editor.uses_network("happy")
    faces = _faces(editor, astronaut)
    out = edit_faces(editor, astronaut, faces, R("happy", 0.5))
    assert np.array_equal(out, editor.edit(astronaut, "happy", 0.5))
    staged = prepare_photo(editor, astronaut, faces, R("happy", 0.5)).pixels
    assert not np.array_equal(out, staged)  # the network's change was pasted on the stage's


def test_a_target_the_header_leaves_to_the_stage_is_the_stage_s_edit(tmp_path, stage_editor, astronaut):
    """A network whose header lists a target in ``stage_only`` (its change spoilt the stage's
    edit there) is not run for it: the photo is the stage's edit alone; its other targets get
    the network's change, and without the stage the network runs for every target."""
    from tiny_model import save_tiny

    path = save_tiny(tmp_path / "darkens.safetensors", targets=["happy", "surprised"], stage="stage",
                     stage_only=["surprised"])
    editor = Editor.from_pretrained(path, device="cpu", detector="dlib")
    assert editor.spec.stage_only == ["surprised"]
    assert editor.uses_network("happy") and not editor.uses_network("surprised")
    assert np.array_equal(editor.edit(astronaut, "surprised"), stage_editor.edit(astronaut, "surprised"))
    happy, staged = editor.edit(astronaut, "happy"), stage_editor.edit(astronaut, "happy")
    face = (slice(90, 150), slice(190, 250))
    assert happy[face].mean() < staged[face].mean() - 20  # the network darkened the staged face
    alone = Editor.from_pretrained(path, device="cpu", detector="dlib", stage=False)
    assert alone.uses_network("surprised")


def test_paste_back_lives_in_its_own_module():
    from faceedit.faces import align, paste

    assert callable(paste.paste_back) and callable(paste.face_mask)
    assert not hasattr(align, "paste_back") and not hasattr(align, "face_mask")
