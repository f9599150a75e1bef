"""Every registered model, from the registry's own list (a new model is covered without editing
this file): listed with its weights present and hash-pinned, loaded offline, saved and loaded
again bit for bit, and editing the astronaut photo offline, where her face changes and nothing
far from it does. Each model is loaded once for the module.

Method-specific behaviour (EGGAN's strength interpolation, LEGAN's lighting and masks, SeCGAN's
glasses, RegGAN's stages, the stage's geometry...) stays in each method's own test module."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from faceedit.api import Editor
from faceedit.cli import app
from faceedit.models import registry
from faceedit.models.checkpoint import save_checkpoint
from faceedit.models.hub import resolve_weights, weights_present
from faceedit.models.layers import prepare_input
from faceedit.models.loading import LoadedModel, load_model
from faceedit.models.registry import get_spec, model_names

NAMES = model_names()
# A target every registered model has, and one the astronaut (who already smiles) visibly changes
# for; a model without it edits to its first target that is neither "keep" nor "neutral".
PREFERRED_TARGET = "surprised"


def _target(targets: list[str]) -> str:
    if PREFERRED_TARGET in targets:
        return PREFERRED_TARGET
    return next(t for t in targets if t not in ("keep", "neutral"))


@pytest.fixture(scope="module", params=NAMES)
def editor(request) -> Editor:
    name = request.param
    if not weights_present(get_spec(name)):
        pytest.skip(f"weights of {name!r} are not installed ({get_spec(name).weights.describe()})")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")  # offline: nothing may be fetched
        return Editor.from_pretrained(name, device="cpu", detector="dlib", allow_download=False)


@pytest.fixture(scope="module")
def face_box(astronaut) -> tuple[int, int, int, int]:
    """The astronaut's face box (x0, y0, x1, y1), from the same detector the editors use."""
    from faceedit.faces.detectors import get_detector

    face = max(get_detector("dlib").detect(astronaut), key=lambda f: f.area)
    return tuple(int(round(v)) for v in face.box)


def _crops(editor: Editor, astronaut: np.ndarray) -> torch.Tensor:
    """The astronaut's aligned crop plus a random one, at the network's size and channels."""
    crop = editor.align(astronaut, editor.detector.detect(astronaut)[:1])[0].crop
    x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float() / 127.5 - 1
    x = torch.cat([x, torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1])
    return prepare_input(x, editor.spec.image_size, editor.spec.channels)


def test_listed_present_and_hash_pinned(editor):
    name = editor.spec.name
    r = CliRunner().invoke(app, ["models", "--json"])
    assert r.exit_code == 0, r.output
    row = next(m for m in json.loads(r.stdout) if m["name"] == name)
    # the header's targets first, then every other target -t takes (the stage's, a method's extras)
    assert row["present"] and row["targets"][:len(editor.spec.targets)] == list(editor.spec.targets)
    assert set(editor.targets()) <= set(row["targets"])
    assert editor.spec.source.sha256, f"pin the shipped file's sha256 of {name} in weights/manifest.json"
    assert resolve_weights(editor.spec, allow_download=False).stat().st_size < 20e6
    assert not editor.loaded.model.training


def test_checkpoint_round_trip(editor, astronaut, tmp_path):
    """Saved with its metadata and loaded back by path: the same tensors, the same edits."""
    loaded = editor.loaded
    path = tmp_path / f"{editor.spec.name}.safetensors"
    save_checkpoint(path, loaded.model.state_dict(), loaded.meta, dtype=None)
    again = load_model(path)
    assert again.meta.arch == loaded.meta.arch and again.meta.config == loaded.meta.config
    assert again.meta.targets == loaded.meta.targets and again.spec.channels == editor.spec.channels
    want, got = loaded.model.state_dict(), again.model.state_dict()
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want)
    x = _crops(editor, astronaut)
    changed = False
    for target in loaded.model.targets() if editor.has_network else ():  # crops through the network
        a, b = loaded.model.edit(x, target), again.model.edit(x, target)
        assert torch.equal(a, b), target
        changed |= bool((a - x).abs().max() > 1e-3)
    assert changed or not editor.has_network  # a network does something to a face
    # the whole photo (the stage the model sits on, or the stage itself, included)
    stage = again.model if editor.stage is loaded.model else editor.stage
    reloaded = Editor(loaded=LoadedModel(again.model, editor.spec, again.meta, again.path), device=editor.device,
                      amp_dtype=editor.amp_dtype, detector_name="dlib", stage=stage)
    target = _target(editor.targets())
    assert np.array_equal(reloaded.edit(astronaut, target), editor.edit(astronaut, target))


def test_edits_the_astronaut_face_only(editor, astronaut, face_box):
    target = _target(editor.targets())
    out = editor.edit(astronaut, target)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    d = np.abs(out.astype(int) - astronaut.astype(int)).sum(2)
    x0, y0, x1, y1 = face_box
    assert d[y0:y1, x0:x1].mean() > 10, d[y0:y1, x0:x1].mean()  # the face changed noticeably
    w, h = x1 - x0, y1 - y0
    far = np.ones(d.shape, bool)
    far[max(0, y0 - h):y1 + h, max(0, x0 - w):x1 + w] = False  # beyond a face-size margin
    assert far.sum() > 0.5 * far.size and d[far].max() == 0
    # the photo's border strips (the top one is the astronaut's forehead) and corners: untouched
    for strip in (d[-40:], d[:, :40], d[:, -40:], d[:40, :40], d[:40, -40:]):
        assert strip.max() == 0


# -- the method modules stay independent ---------------------------------------------------------

# (importer, imported) pairs allowed to break the rule: none.
KNOWN_SIBLING_IMPORTS: set[tuple[str, str]] = set()


def _faceedit_imports(module: str) -> set[str]:
    """Every faceedit module ``module`` imports, at the top or lazily inside functions."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return set()
    found = set()
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("faceedit"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("faceedit"))
    return found


def test_no_method_module_imports_a_sibling_method():
    """A method's model and trainer modules import only their own method's modules and shared
    ones (layers, stargan, critic, loop...), never another method's."""
    methods = [m.rsplit(".", 1)[1] for m in registry.METHOD_MODULES]
    bad = set()
    for method in methods:
        siblings = {f"faceedit.{layer}.{other}" for other in methods if other != method
                    for layer in ("models", "train")}
        for module in (f"faceedit.models.{method}", f"faceedit.train.{method}"):
            bad.update((module, imported) for imported in _faceedit_imports(module) & siblings)
    assert bad <= KNOWN_SIBLING_IMPORTS, sorted(bad - KNOWN_SIBLING_IMPORTS)


def test_every_model_card_states_its_file_s_own_sha256():
    """A card's "File" line names the shipped file and its sha256; the hash is the file's (three
    cards had kept a retrained file's earlier hash: eggan, legan, stage)."""
    import hashlib
    import re

    weights = Path(__file__).resolve().parents[1] / "weights"
    stated = {m.group(1): m.group(2) for card in sorted(weights.glob("*.md"))
              for m in re.finditer(r"`([\w.-]+\.safetensors)`[^\n]*?sha256 `([0-9a-f]{64})`", card.read_text())}
    assert len(stated) >= 10, stated
    wrong = {name: h for name, h in stated.items() if (weights / name).exists()
             and hashlib.sha256((weights / name).read_bytes()).hexdigest() != h}
    assert not wrong, f"cards state a sha256 their file does not have: {wrong}"
