"""A script of ``bench/`` loaded as a module by its file (``bench/`` is not a package), for tests
that check what a benchmark measures or prints."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str) -> ModuleType:
    """``bench/NAME.py`` as a module (executed afresh on each call)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mean_face_landmarks():
    """The stage's mean 68-point shape twice its size, 40 px in from the top left: a face to draw
    a benchmark's regions on."""
    from faceedit.api import Editor

    shape = Editor.from_pretrained("stage", device="cpu").stage._a("mean_shape").astype("float64")
    return shape * 2.0 + 40.0
