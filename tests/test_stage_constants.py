"""Every module constant of the stage sits on one side of the rule for tuned values, and
``docs/stage-tuning.md`` lists them as the modules hold them (``bench/stage_constants.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("stage_constants", ROOT / "bench" / "stage_constants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_doc_lists_every_stage_constant_on_its_side():
    script = _script()
    assert script.documented(ROOT / "docs" / "stage-tuning.md") == script.table()


def test_a_constant_without_a_side_is_refused(tmp_path):
    script = _script()
    (tmp_path / "new.py").write_text("LOOKS = 0.3\n")
    with pytest.raises(ValueError, match="new.LOOKS"):
        script.table(tmp_path)


def test_moved_values_are_in_the_record_with_their_old_defaults():
    from faceedit.stage.tuning import EditTuning, StageTuning

    script = _script()
    assert "steps.CREASE_GAP" not in script.SIDES and "steps.RAISED_LIP" not in script.SIDES
    edit = StageTuning.from_dict({"edit": {}}).edit  # a header without the fields
    assert (edit.crease_gap, edit.raised_lip) == (0.1, 0.05) == (EditTuning().crease_gap, EditTuning().raised_lip)
