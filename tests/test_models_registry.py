"""Registry and loading: names and paths to loaded models, weight sources (shipped, path, Hub),
listing."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants as hf_constants
from torch import nn

import faceedit
from faceedit.errors import CheckpointError, UsageError
from faceedit.faces.types import CropTemplate
from faceedit.models import registry
from faceedit.models.base import EditModel
from faceedit.models.checkpoint import save_checkpoint
from faceedit.models.hub import WeightSource, resolve_weights, weights_present
from faceedit.models.loading import list_models, load_as, load_model
from faceedit.models.registry import (
    ModelSpec,
    get_spec,
    register_arch,
    register_model,
    spec_from_path,
)
from faceedit.weights import weights_dir

TARGETS = ["a", "b"]
TEMPLATE = CropTemplate(size=16, eye_dist=0.3, eye_y=0.42)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class TinyEdit(EditModel):
    """1x1 conv plus a per-target colour offset."""

    def __init__(self, config: dict):
        super().__init__()
        self._targets = list(config["targets"])
        self.conv = nn.Conv2d(3, 3, 1)
        self.offset = nn.Parameter(torch.zeros(len(self._targets), 3))

    def targets(self) -> list[str]:
        return self._targets

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, **options) -> torch.Tensor:
        i = self._targets.index(self.check_target(target))
        return self.conv(x) + self.offset[i].view(1, 3, 1, 1)


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """An isolated registry holding the 'test-tiny' architecture; the real tables return after."""
    monkeypatch.setattr(registry, "ARCHS", {})
    monkeypatch.setattr(registry, "REGISTRY", {})
    monkeypatch.setattr(registry, "METHOD_MODULES", [])
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path / "weights"))
    register_arch("test-tiny")(TinyEdit)


def make_checkpoint(path, targets=TARGETS, **meta) -> tuple[TinyEdit, str]:
    torch.manual_seed(0)
    model = TinyEdit({"targets": targets})
    with torch.no_grad():
        model.offset.normal_()
    sha = save_checkpoint(
        path,
        model.state_dict(),
        {
            "arch": "test-tiny",
            "config": {"targets": targets},
            "conditions": targets,
            "template": TEMPLATE,
            "license": "CC0-1.0",
            "color_match": False,
            "description": "a tiny test model",
            **meta,
        },
    )
    return model, sha


def spec(name="tiny", weights=None, **kw) -> ModelSpec:
    fields = {
        "method": "test",
        "arch": "test-tiny",
        "description": "tiny test model",
        "license": "CC0-1.0",
        **kw,
    }
    return ModelSpec(
        name=name, weights=weights or WeightSource.shipped("tiny.safetensors"), **fields
    )


def assert_same_edits(loaded: EditModel, original: TinyEdit) -> None:
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    for t in TARGETS:
        torch.testing.assert_close(loaded.edit(x, t), original.edit(x, t), atol=2e-3, rtol=2e-3)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_by_path(tiny, tmp_path):
    path = tmp_path / "mine.safetensors"
    original, _ = make_checkpoint(path)
    lm = load_model(path)
    assert not lm.model.training
    assert all(p.dtype == torch.float32 for p in lm.model.parameters())
    assert lm.path == str(path) and lm.meta.arch == "test-tiny"
    assert lm.spec.name == "mine" and lm.spec.targets == TARGETS and lm.spec.template == TEMPLATE
    assert lm.spec.color_match is False and lm.spec.description == "a tiny test model"
    assert lm.spec.weights.kind == "path"
    assert spec_from_path(path) == lm.spec
    assert_same_edits(lm.model, original)


def test_load_as_checks_the_kind(tiny, tmp_path):
    """``load_as`` gives the model alone where the file holds that kind, and refuses another."""
    from faceedit.stage.model import Stage

    path = tmp_path / "mine.safetensors"
    original, _ = make_checkpoint(path)
    model = load_as(EditModel, path)
    assert type(model) is type(original) and not model.training
    assert_same_edits(model, original)
    with pytest.raises(UsageError, match="holds a .*, not a Stage"):
        load_as(Stage, path)
    with pytest.raises(UsageError, match="not a Stage"):
        Stage.from_pretrained(str(path))


def test_load_by_name_verifies_sha(tiny, tmp_path):
    folder = tmp_path / "weights"
    original, sha = make_checkpoint(folder / "tiny.safetensors")
    register_model(spec(weights=WeightSource.shipped("tiny.safetensors", sha256=sha)))
    lm = load_model("tiny")
    assert lm.spec == get_spec("tiny") and lm.path == str(folder / "tiny.safetensors")
    assert_same_edits(lm.model, original)

    registry.REGISTRY["tiny"] = spec(
        weights=WeightSource.shipped("tiny.safetensors", sha256="f" * 64)
    )
    with pytest.raises(CheckpointError, match="sha256 mismatch"):
        load_model("tiny")


def test_default_config_is_overridden_by_checkpoint(tiny, tmp_path):
    seen = {}

    @register_arch("test-config")
    def build(config):
        seen.update(config)
        return TinyEdit(config)

    make_checkpoint(
        tmp_path / "weights" / "tiny.safetensors",
        arch="test-config",
        config={"targets": TARGETS, "k": 2},
    )
    register_model(spec(arch="test-config", default_config={"k": 1, "only_default": True}))
    load_model("tiny")
    assert seen == {"targets": TARGETS, "k": 2, "only_default": True}


def test_registered_spec_must_match_checkpoint(tiny, tmp_path):
    make_checkpoint(tmp_path / "weights" / "tiny.safetensors")
    register_arch("test-other")(TinyEdit)
    register_model(spec(arch="test-other"))
    with pytest.raises(CheckpointError, match=r"does not match model 'tiny': architecture 'test-tiny' "
                       r"\(registry: 'test-other'\)"):
        load_model("tiny")


def test_settings_come_from_the_header_by_name_and_by_path(tiny, tmp_path):
    """Targets, template, channels and the paste settings are the header's alone: a model loaded
    by name and the same file by path get the same ones."""
    path = tmp_path / "weights" / "tiny.safetensors"
    make_checkpoint(path, delta_smooth=2.5, stage="a-stage", channels=3)
    register_model(spec())
    by_name, by_path = load_model("tiny").spec, load_model(path).spec
    keys = ("targets", "conditions", "template", "channels", "color_match", "delta_smooth", "stage")
    assert {k: getattr(by_name, k) for k in keys} == {k: getattr(by_path, k) for k in keys} == {
        "targets": TARGETS, "conditions": {}, "template": TEMPLATE, "channels": 3,
        "color_match": False, "delta_smooth": 2.5, "stage": "a-stage"}
    assert get_spec("tiny").delta_smooth == 2.5  # a header read, before any loading
    with pytest.raises(TypeError):
        ModelSpec(name="x", method="m", arch="test-tiny", color_match=True)  # never given in code


def test_unknown_arch_and_state_mismatch(tiny, tmp_path):
    make_checkpoint(tmp_path / "other.safetensors", arch="nope")
    with pytest.raises(CheckpointError, match="unknown architecture 'nope'; known: test-tiny"):
        load_model(tmp_path / "other.safetensors")

    save_checkpoint(
        tmp_path / "bad.safetensors",
        {
            "conv.weight": torch.zeros(3, 3, 3, 3),
            "conv.bias": torch.zeros(3),
            "extra.w": torch.zeros(1),
        },
        {"arch": "test-tiny", "config": {"targets": TARGETS}, "conditions": TARGETS},
    )
    with pytest.raises(CheckpointError) as info:
        load_model(tmp_path / "bad.safetensors")
    reason = info.value.reason
    assert "missing keys: offset" in reason and "unexpected keys: extra.w" in reason
    assert "shape mismatch: conv.weight (3, 3, 3, 3) vs model (3, 3, 1, 1)" in reason


def test_pickle_path_gives_checkpoint_error(tiny, tmp_path):
    torch.save({"w": torch.zeros(1)}, tmp_path / "model.pth")
    with pytest.raises(CheckpointError, match="refusing to load a pickle-based checkpoint"):
        load_model(str(tmp_path / "model.pth"))


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def test_unknown_model_names(tiny):
    with pytest.raises(UsageError, match=r"no models are registered yet.*\.safetensors"):
        get_spec("reggan")
    register_model(spec(name="reggan"))
    register_model(spec(name="legan"))
    with pytest.raises(UsageError) as info:
        load_model("regan")
    assert (
        info.value.reason
        == "unknown model 'regan'; did you mean 'reggan'? available: reggan, legan"
    )
    with pytest.raises(ValueError, match="already registered"):
        register_model(spec(name="reggan"))
    with pytest.raises(ValueError, match="already registered"):
        register_arch("test-tiny")(TinyEdit)


def test_weight_source_validation():
    with pytest.raises(ValueError, match="incomplete hub"):
        WeightSource.hub("org/x", "x.safetensors", revision="main", sha256="0" * 64)
    with pytest.raises(ValueError, match="incomplete file"):
        WeightSource(kind="file")
    with pytest.raises(ValueError, match="unknown weight source kind"):
        WeightSource(kind="s3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64 lowercase hex"):
        WeightSource.local("x.safetensors", sha256="abc")
    assert (
        WeightSource.hub("org/x", "x.safetensors", COMMIT, "0" * 64).describe()
        == "hf://org/x/x.safetensors@01234567"
    )


# --------------------------------------------------------------------------------------------
# Weight sources
# --------------------------------------------------------------------------------------------


def test_missing_shipped_weights(tiny, tmp_path):
    register_model(spec())
    assert not weights_present(get_spec("tiny"))
    with pytest.raises(CheckpointError) as info:
        load_model("tiny")
    assert (
        str(tmp_path / "weights") in info.value.reason and "FACEEDIT_WEIGHTS" in info.value.reason
    )


def test_weights_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path))
    assert weights_dir() == tmp_path
    monkeypatch.delenv("FACEEDIT_WEIGHTS")
    repo = Path(faceedit.__file__).resolve().parents[1]  # these tests run from a source checkout
    assert weights_dir() == repo / "weights"


@pytest.fixture
def hub_cache(monkeypatch, tmp_path):
    """An empty Hugging Face cache, offline."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_hub_offline_not_cached(tiny, hub_cache):
    register_model(spec(weights=WeightSource.hub("org/tiny", "tiny.safetensors", COMMIT, "0" * 64)))
    assert not weights_present(get_spec("tiny"))
    with pytest.raises(CheckpointError) as info:
        load_model("tiny")
    assert info.value.reason == "not in the local Hugging Face cache and offline (HF_HUB_OFFLINE=1)"
    assert info.value.path == "hf://org/tiny/tiny.safetensors@01234567"


def test_hub_downloads_disabled(tiny, hub_cache, monkeypatch):
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    s = spec(weights=WeightSource.hub("org/tiny", "tiny.safetensors", COMMIT, "0" * 64))
    with pytest.raises(CheckpointError, match="downloading is disabled"):
        resolve_weights(s, allow_download=False)


def test_hub_from_local_cache(tiny, hub_cache, tmp_path):
    original, sha = make_checkpoint(tmp_path / "tiny.safetensors")
    repo = hub_cache / "models--org--tiny"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    shutil.copy(tmp_path / "tiny.safetensors", repo / "blobs" / sha)
    (snapshot / "tiny.safetensors").symlink_to(repo / "blobs" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)

    register_model(spec(weights=WeightSource.hub("org/tiny", "tiny.safetensors", COMMIT, sha)))
    assert weights_present(get_spec("tiny"))
    lm = load_model("tiny")
    assert lm.path == str(snapshot / "tiny.safetensors")
    assert_same_edits(lm.model, original)
    (row,) = list_models()
    assert (
        row["present"] and row["file_size_bytes"] == (tmp_path / "tiny.safetensors").stat().st_size
    )


# --------------------------------------------------------------------------------------------
# Listing and method modules
# --------------------------------------------------------------------------------------------


def test_list_models_rows(tiny, tmp_path):
    _, sha = make_checkpoint(tmp_path / "weights" / "tiny.safetensors")
    register_model(spec(weights=WeightSource.shipped("tiny.safetensors", sha256=sha)))
    register_model(spec(name="absent", weights=WeightSource.local(tmp_path / "absent.safetensors")))
    rows = list_models()
    fields = rows[0]["options"]["fields"]  # the edit request's fields it takes, as declared
    assert [f["name"] for f in fields] == ["target", "strength", "face", "max_faces"]
    assert fields[0]["choices"] == TARGETS and fields[1]["range"] == [0.0, 1.0]  # no stage: up to 1
    assert rows == [
        {
            "name": "tiny",
            "method": "test",
            "targets": TARGETS,
            "network_targets": TARGETS,  # no stage: the network edits every target
            "stage_targets": [],
            "stage_only": [],
            "conditions": {},
            "options": {"lighting": [], "aus": [], "attributes": [], "set": [], "phase": [],
                        "controls": {}, "light": False, "like": False, "help": {}, "fields": fields},
            "image_size": 16,
            "channels": 3,
            "weights": "weights/tiny.safetensors",
            "present": True,
            "file_size_bytes": (tmp_path / "weights" / "tiny.safetensors").stat().st_size,
            "license": "CC0-1.0",
            "description": "tiny test model",
            "refiner": None,  # no manifest lists a refiner for it
        },
        {
            "name": "absent",
            "method": "test",
            "targets": [],  # in the header: not known before the weights come
            "network_targets": None,
            "stage_targets": None,
            "stage_only": [],
            "conditions": {},
            "options": None,
            "image_size": None,
            "channels": None,
            "weights": str(tmp_path / "absent.safetensors"),
            "present": False,
            "file_size_bytes": None,
            "license": "CC0-1.0",
            "description": "tiny test model",
            "refiner": None,  # no manifest lists a refiner for it
        },
    ]


@pytest.fixture
def method_package(monkeypatch, tmp_path):
    """A throwaway package with one good and one broken method module."""
    pkg = tmp_path / "pkgs" / "fe_test_methods"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text(
        textwrap.dedent(
            """
            from faceedit.models.hub import WeightSource
            from faceedit.models.registry import ModelSpec, register_model

            register_model(ModelSpec(name="good", method="good", arch="test-tiny", description="",
                                     weights=WeightSource.shipped("good.safetensors")))
            """
        )
    )
    (pkg / "broken.py").write_text("raise RuntimeError('half-written module')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    monkeypatch.setattr(registry, "_IMPORTED", set())
    yield "fe_test_methods"
    for name in [m for m in sys.modules if m.startswith("fe_test_methods")]:
        del sys.modules[name]


def test_method_modules_imported_lazily(tiny, method_package, monkeypatch):
    monkeypatch.setattr(
        registry, "METHOD_MODULES", [f"{method_package}.good", f"{method_package}.missing"]
    )
    assert f"{method_package}.good" not in sys.modules
    assert [row["name"] for row in list_models()] == ["good"]
    assert get_spec("good").method == "good"  # imported once, not re-registered


def test_broken_method_module_raises(tiny, method_package, monkeypatch):
    monkeypatch.setattr(registry, "METHOD_MODULES", [f"{method_package}.broken"])
    with pytest.raises(RuntimeError, match="half-written module"):
        get_spec("anything")


def test_declared_architecture_imports_its_module_when_built(tiny, method_package, tmp_path):
    """``declare_arch`` names the builder; its module is imported by the first build, not by the
    declaration (the shipped methods' networks and torch stay unimported until a model loads)."""
    (tmp_path / "pkgs" / method_package / "net.py").write_text(
        "from test_models_registry import TinyEdit\n\n"
        "def build(config):\n"
        "    return TinyEdit(config)\n"
    )
    lazy = registry.declare_arch("test-lazy", f"{method_package}.net:build")
    assert registry.ARCHS["test-lazy"] is lazy and f"{method_package}.net" not in sys.modules
    original, _ = make_checkpoint(tmp_path / "lazy.safetensors", arch="test-lazy")
    lm = load_model(tmp_path / "lazy.safetensors")
    assert f"{method_package}.net" in sys.modules and isinstance(lm.model, TinyEdit)
    assert_same_edits(lm.model, original)
    with pytest.raises(ValueError, match="expected 'module:function'"):
        registry.declare_arch("test-bad", f"{method_package}.net")
    with pytest.raises(ValueError, match="already registered"):
        registry.declare_arch("test-lazy", f"{method_package}.net:build")


def test_shipped_declarations_name_their_builders():
    """Every shipped method's declaration names a function of its own network module (the
    stage's: its package's model module)."""
    registry.import_method_modules()
    for module in registry.METHOD_MODULES:
        method = module.rpartition(".")[2]
        arch = registry.REGISTRY[method].arch
        builder = registry.ARCHS[arch]
        assert isinstance(builder, registry.LazyBuilder), arch
        own = "faceedit.stage.model:" if method == "stage" else f"faceedit.models.{method}:"
        assert builder.target.startswith(own)
        assert callable(builder.resolve()) and arch in registry.ARCH_OPTIONS
