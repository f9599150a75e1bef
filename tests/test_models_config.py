"""One config convention, weights described by data (issue 14, items 4 and 5).

* every registered model is built from a typed config (``faceedit.models.base.ModelConfig``) that
  refuses an unknown key by its name and uses the same key names as the others;
* a config or a header with a key of another name is refused by its name (no old names);
* the config is captured into the header by the save path, not written by each trainer;
* shipped weights are described by ``weights/manifest.json`` (file, sha256, texts), which the
  registry reads and verifies against; vocabularies, template and paste settings come from the
  checkpoint header, so a retrained model with other targets ships by ``--update-manifest``,
  without editing code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from faceedit.errors import CheckpointError, UsageError
from faceedit.faces.types import CropTemplate
from faceedit.models import registry
from faceedit.models.base import ConfigError, ModelConfig
from faceedit.models.checkpoint import (
    file_sha256,
    save_checkpoint,
    save_model,
)
from faceedit.models.header import read_meta
from faceedit.models.hub import resolve_weights, weights_present
from faceedit.models.legan import LEGANConfig, build_legan
from faceedit.models.loading import list_models, load_model
from faceedit.models.manifest import update_manifest
from faceedit.models.registry import (
    ARCHS,
    ModelSpec,
    get_spec,
    model_names,
    register_model,
)
from faceedit.weights import (
    MANIFEST_FILE,
    installed_weights_dir,
    manifest_paths,
    read_manifest,
    shipped_file,
    weights_dir,
)

NAMES = model_names()
MODELS_DIR = Path(registry.__file__).parent
TEMPLATE = CropTemplate(size=32)
# A small LEGAN: a real architecture with vocabularies in its config and header.
TINY_LEGAN = {"image_size": 32, "channels": 1, "targets": ["happy", "neutral"], "lighting": ["front", "left"],
              "base_channels": 4, "max_channels": 8, "n_down": 2, "n_res": 1}


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


def _shipped_config(name: str) -> dict:
    spec = get_spec(name)
    if not weights_present(spec):
        pytest.skip(f"weights of {name!r} are not installed")
    return read_meta(resolve_weights(spec)).config


# --------------------------------------------------------------------------------------------
# One typed config per model
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_unknown_config_key_refused_by_name(name):
    config = _shipped_config(name)
    build = ARCHS[get_spec(name).arch]
    model = build(config)
    assert isinstance(model.cfg, ModelConfig) and model.config == config  # the header rebuilds it
    with pytest.raises(ConfigError, match="unknown .* config key 'bogus_key'") as info:
        build({**config, "bogus_key": 1})
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)
    with pytest.raises(ConfigError, match="valid keys: "):
        type(model.cfg).from_dict({"bogus_key": 1})


@pytest.mark.parametrize("name", NAMES)
def test_one_key_name_per_thing(name):
    """No model config uses a name that another calls by a different one."""
    cls = type(ARCHS[get_spec(name).arch](_shipped_config(name)).cfg)
    keys = set(cls.keys())
    if name != "stage":  # the stage works on the photo; every network has a crop size
        assert {"image_size", "channels"} <= keys
    # a first width and a cap on widths are called the same in every network that has them
    assert not keys & {"dim", "max_dim", "size", "width", "expressions"}


def test_bad_value_type_refused_with_key_and_type():
    with pytest.raises(ConfigError, match=r"LEGAN config n_res='6': expected int"):
        LEGANConfig.from_dict({**TINY_LEGAN, "n_res": "6"})
    with pytest.raises(ConfigError, match="upsample='nearest'"):
        build_legan({**TINY_LEGAN, "upsample": "nearest"})


def test_config_round_trip_and_replace():
    cfg = LEGANConfig.from_dict(TINY_LEGAN)
    assert LEGANConfig.from_dict(cfg.to_dict()) == cfg and LEGANConfig.from_dict(cfg) is cfg
    assert json.loads(json.dumps(cfg.to_dict())) == cfg.to_dict()
    assert cfg.replace(n_res=2).n_res == 2 and cfg.n_res == 1
    with pytest.raises(ConfigError, match="'bogus'"):
        cfg.replace(bogus=1)


# --------------------------------------------------------------------------------------------
# One name per key
# --------------------------------------------------------------------------------------------


def test_old_key_names_are_unknown_keys(tmp_path):
    """A header or a config with a key under another name is refused, by that name."""
    from faceedit.models.reggan import build_reggan

    model = build_legan(TINY_LEGAN)
    path = tmp_path / "old.safetensors"
    config = {("size" if k == "image_size" else k): v for k, v in model.config.items()}
    save_checkpoint(path, model.state_dict(), {"arch": "legan", "config": config, "template": TEMPLATE,
                                               "channels": 1, "conditions": {"targets": model.targets()}})
    with pytest.raises(CheckpointError, match="unknown LEGAN config key 'size'"):
        load_model(path)
    with pytest.raises(ConfigError, match="unknown RegGAN config key 'size'"):
        build_reggan({"size": 32})
    with pytest.raises(KeyError):
        model.config["size"]


def test_unknown_key_in_a_header_named_on_load(tmp_path):
    model = build_legan(TINY_LEGAN)
    path = tmp_path / "bad.safetensors"
    save_checkpoint(path, model.state_dict(), {"arch": "legan", "config": {**model.config, "n_blocks": 3},
                                               "template": TEMPLATE, "channels": 1,
                                               "conditions": {"targets": model.targets()}})
    with pytest.raises(CheckpointError, match="unknown LEGAN config key 'n_blocks'"):
        load_model(path)


def test_trainer_config_refuses_unknown_keys():
    from faceedit.train.config import trainer_config
    from faceedit.train.legan import LEGANTrainer

    assert trainer_config(LEGANTrainer, {"base_channels": 8, "d_channels": 8}) == {
        "base_channels": 8, "d_channels": 8}
    with pytest.raises(ConfigError, match="unknown LEGAN config key 'dim'"):
        trainer_config(LEGANTrainer, {"dim": 8})
    with pytest.raises(ConfigError, match="unknown LEGAN config key 'lambda_bogus'"):
        trainer_config(LEGANTrainer, {"lambda_bogus": 1.0})


# --------------------------------------------------------------------------------------------
# The config is captured by the save path
# --------------------------------------------------------------------------------------------


def test_save_path_writes_the_models_own_config(tmp_path):
    from faceedit.train.export import export_model

    model = build_legan({**TINY_LEGAN, "targets": ["happy", "sad", "wink"]})
    path, _ = export_model(model, tmp_path / "m.safetensors", arch="legan", targets=model.targets(),
                           template=TEMPLATE, datasets=[], metrics={}, command="test", budget={},
                           method="LEGAN", conditions={"lighting": model.lighting_classes()}, channels=1)
    assert read_meta(path).config == model.config
    assert json.dumps(model.config) in Path(path).with_suffix(".md").read_text()
    with pytest.raises(ValueError, match="differs from the model's own config"):
        save_model(tmp_path / "x.safetensors", model, {"arch": "legan", "config": {**model.config, "n_res": 3}})


# --------------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------------


def test_manifest_lists_exactly_the_shipped_files():
    folder = installed_weights_dir()
    entries = read_manifest(folder / MANIFEST_FILE)
    assert sorted(entries) == sorted(NAMES)  # every registered model is shipped, nothing else
    for name, entry in entries.items():
        spec = get_spec(name)
        path = folder / entry["file"]
        assert path.is_file() and file_sha256(path) == entry["sha256"] == spec.source.sha256
        assert (folder / entry["card"]).is_file() and entry["license"] and entry["description"]
        assert read_meta(path).arch == spec.arch
        assert spec.description == entry["description"] and spec.license == entry["license"]
    # every other shipped file (analysis and detector networks, mouth bank, shading) is in the
    # files section, its sha256 that of the file; together the two list the whole folder
    files = read_manifest(folder / MANIFEST_FILE, "files")
    for name, entry in files.items():
        path = shipped_file(name)
        assert path == folder / entry["file"] and file_sha256(path) == entry["sha256"], name
        assert (folder / entry["card"]).is_file() and entry["license"] and entry["description"], name
    listed = {e["file"] for e in [*entries.values(), *files.values()]}
    assert listed == {p.name for p in [*folder.glob("*.safetensors"), *folder.glob("*.tflite")]}


def test_every_consumer_finds_its_weights_through_the_manifest(monkeypatch, tmp_path):
    """The analysis networks, the detectors, the mouth bank and the shading model are looked up
    by name (faceedit.weights.shipped_file) in the one weights folder (FACEEDIT_WEIGHTS)."""
    from faceedit.analysis.store import analysis_path
    from faceedit.faces.detectors import mediapipe

    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path))
    assert analysis_path("expression") == tmp_path / "expression.safetensors"
    assert "missing from " + str(tmp_path) in (mediapipe.mediapipe_status() or "")
    with pytest.raises(CheckpointError, match="no weights manifest lists 'nothing'"):
        shipped_file("nothing")


def test_no_hashes_or_vocabularies_written_in_the_model_modules():
    for path in MODELS_DIR.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b[0-9a-f]{64}\b", text), f"a sha256 in {path.name}"
        assert "SHIPPED_" not in text, f"a SHIPPED_ constant in {path.name}"


@pytest.mark.parametrize("name", NAMES)
def test_vocabularies_come_from_the_header(name):
    spec = get_spec(name)
    if not weights_present(spec):
        pytest.skip(f"weights of {name!r} are not installed")
    meta = read_meta(resolve_weights(spec))
    assert spec.targets == meta.targets and spec.conditions == meta.vocabularies
    assert spec.targets, f"{name}'s header holds no targets"
    row = next(r for r in list_models() if r["name"] == name)
    # the header's targets first, then those the stage under the model applies alone (keep...)
    assert row["targets"][:len(meta.targets)] == meta.targets


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """An isolated registry (the real tables return after) knowing the legan architecture, and a
    weights folder of its own (FACEEDIT_WEIGHTS)."""
    monkeypatch.setattr(registry, "ARCHS", {"legan": build_legan})
    monkeypatch.setattr(registry, "REGISTRY", {})
    monkeypatch.setattr(registry, "METHOD_MODULES", [])
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(folder))
    return folder


def _register_shipped(name: str = "mine") -> ModelSpec:
    """Registered as a method module registers its shipped model: no weights, nothing the header
    holds."""
    return register_model(ModelSpec(name=name, method="LEGAN", arch="legan"))


def _export(folder: Path, targets: list[str], seed: int = 0, name: str = "mine") -> tuple[Path, torch.nn.Module]:
    from faceedit.train.export import export_model

    torch.manual_seed(seed)
    model = build_legan({**TINY_LEGAN, "targets": targets}).eval()
    path, _ = export_model(model, folder / f"{name}.safetensors", arch="legan", targets=targets,
                           template=TEMPLATE, datasets=[], metrics={}, command="test", budget={},
                           method="LEGAN", channels=1,
                           conditions={"expression": targets, "lighting": model.lighting_classes()},
                           extra={"description": "a retrained tiny LEGAN"})
    return Path(path), model


def test_manifest_sha_mismatch_is_the_clear_error_of_before(isolated):
    path, _ = _export(isolated, ["happy", "neutral"])
    _register_shipped()
    (isolated / MANIFEST_FILE).write_text(json.dumps({"models": {"mine": {
        "file": path.name, "sha256": "f" * 64, "license": "test", "description": "tiny"}}}))
    with pytest.raises(CheckpointError) as info:
        load_model("mine")
    assert info.value.path == str(path)
    assert info.value.reason == (f"sha256 mismatch: expected {'f' * 64}, got {file_sha256(path)} "
                                 "— file is corrupt or was modified")


def test_a_shipped_model_missing_from_the_manifest(isolated):
    _register_shipped()
    with pytest.raises(CheckpointError, match="no weights manifest lists 'mine' among its models"):
        get_spec("mine")


def test_malformed_manifest_named(isolated):
    (isolated / MANIFEST_FILE).write_text(json.dumps({"models": {"mine": {"file": "m.safetensors",
                                                                          "sha": "0" * 64}}}))
    _register_shipped()
    with pytest.raises(CheckpointError, match="unknown field 'sha'"):
        get_spec("mine")


def test_retrained_model_ships_without_code(isolated):
    """A model with other targets, exported and pinned by update_manifest: its vocabulary comes
    from its header, by name and by path; retrained again, the manifest update is all it takes."""
    path, first = _export(isolated, ["happy", "sad", "wink"])
    spec = _register_shipped()
    entry = update_manifest(path)  # manifest.json beside the file, created
    assert entry["sha256"] == file_sha256(path) and entry["file"] == path.name
    assert entry["description"] == "a retrained tiny LEGAN" and entry["card"] == "mine.md"
    assert get_spec("mine").targets == ["happy", "sad", "wink"]
    assert get_spec("mine").conditions == {"expression": ["happy", "sad", "wink"], "lighting": ["front", "left"]}
    assert spec.targets is None  # the registration holds nothing of the header
    loaded = load_model("mine")
    assert loaded.model.targets() == ["happy", "sad", "wink"] and loaded.spec == get_spec("mine")
    by_path = load_model(str(path))
    assert by_path.spec.targets == ["happy", "sad", "wink"] and by_path.model.cfg == first.cfg

    # retrained with another vocabulary: the old pin refuses the new file...
    path, second = _export(isolated, ["angry", "happy"], seed=1)
    with pytest.raises(CheckpointError, match="sha256 mismatch"):
        load_model("mine")
    # ...until the manifest says so; no code changes
    from faceedit.models.manifest import main

    assert main(["--update-manifest", str(path)]) == 0
    assert json.loads((isolated / MANIFEST_FILE).read_text())["models"]["mine"]["sha256"] == file_sha256(path)
    loaded = load_model("mine")
    assert loaded.model.targets() == ["angry", "happy"] == get_spec("mine").targets
    for k, v in second.state_dict().items():  # the retrained weights, as stored (fp16)
        torch.testing.assert_close(loaded.model.state_dict()[k], v.half().float())


def test_update_manifest_checks_the_registered_architecture(isolated):
    path, _ = _export(isolated, ["happy", "neutral"])
    register_model(ModelSpec(name="mine", method="RegGAN", arch="reggan"))
    with pytest.raises(CheckpointError, match="architecture 'legan' \\(registry: 'reggan'\\)"):
        update_manifest(path)
    assert not (isolated / MANIFEST_FILE).exists()


def test_folder_manifest_overrides_the_shipped_one_entry_by_entry(isolated):
    paths = manifest_paths()
    assert paths[0] == isolated / MANIFEST_FILE and paths[-1] == installed_weights_dir() / MANIFEST_FILE
    assert weights_dir() == isolated


def test_update_manifest_pins_a_file_of_the_files_section_by_its_bytes(isolated):
    """The mouth bank, shading model and detector weights are no faceedit checkpoints: their
    entry is pinned by the file's sha256 alone, its texts kept."""
    path = isolated / "bank.safetensors"
    path.write_bytes(b"not a checkpoint")
    (isolated / MANIFEST_FILE).write_text(json.dumps({"models": {}, "files": {"bank": {
        "file": path.name, "sha256": "0" * 64, "license": "CC0", "description": "a bank"}}}))
    entry = update_manifest(path)
    assert entry == {"file": path.name, "sha256": file_sha256(path), "license": "CC0", "description": "a bank"}
    assert read_manifest(isolated / MANIFEST_FILE, "files")["bank"] == entry
    assert shipped_file("bank") == path
