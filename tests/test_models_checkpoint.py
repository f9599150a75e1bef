"""Checkpoints: round trip, verification, pickles refused, atomic writes, resume state."""

from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import faceedit
from faceedit.errors import CheckpointError
from faceedit.faces.types import CropTemplate
from faceedit.models import checkpoint as ckpt
from faceedit.models.checkpoint import (
    file_sha256,
    load_checkpoint,
    save_checkpoint,
)
from faceedit.models.header import PICKLE_REFUSAL, CheckpointMeta, read_header, read_meta
from faceedit.models.resume_state import load_resume_state, save_resume_state

META = {
    "arch": "test-tiny",
    "config": {"targets": ["a", "b"], "width": 3},
    "conditions": {"targets": ["a", "b"], "lighting": ["left", "right"]},
    "template": CropTemplate(size=32, eye_dist=0.35, eye_y=0.4),
    "channels": 3,
    "training_data": "nothing, it is a test",
    "license": "CC0-1.0",
    "metrics": {"accuracy": 0.75},
    "color_match": False,
    "notes": "free text",
}


def tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "conv.weight": torch.randn(3, 3, 1, 1, generator=g),
        "conv.bias": torch.randn(3, generator=g),
        "bn.num_batches_tracked": torch.tensor(7),
    }


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "tiny.safetensors"
    sha = save_checkpoint(path, tensors(), META)
    return path, sha


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything tries to unpickle."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)


def error_of(path, **kwargs) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, **kwargs)
    assert info.value.path == str(path)
    return info.value.reason


# --------------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------------


def test_round_trip(saved):
    path, sha = saved
    assert sha == file_sha256(path)
    with safe_open(str(path), "pt") as f:
        assert f.get_slice("conv.weight").get_dtype() == "F16"
        assert f.get_slice("bn.num_batches_tracked").get_dtype() == "I64"
        header = f.metadata()
    assert header["faceedit.arch"] == "test-tiny"
    assert json.loads(header["faceedit.config"]) == META["config"]
    assert header["faceedit.format"] == "1"

    ck = load_checkpoint(path, expected_sha256=sha.upper())
    assert ck.sha256 == sha and ck.path == str(path)
    for name, t in tensors().items():
        expected = t.half() if t.is_floating_point() else t
        assert torch.equal(ck.tensors[name], expected)

    meta = ck.meta
    assert meta.arch == "test-tiny"
    assert meta.config == META["config"]
    assert meta.targets == ["a", "b"]
    assert meta.vocabularies == {"lighting": ["left", "right"]}
    assert meta.template == META["template"]
    assert meta.image_size == 32 and meta.channels == 3
    assert meta.training_data == META["training_data"] and meta.license == "CC0-1.0"
    assert meta.metrics == {"accuracy": 0.75}
    assert meta.extra == {"color_match": False, "notes": "free text"}
    assert meta.version == faceedit.__version__ and meta.created
    assert meta.tensors_sha256 == ckpt.tensors_sha256(ck.tensors)
    assert read_meta(path) == meta


def test_keep_dtype_and_meta_object(tmp_path):
    path = tmp_path / "f32.safetensors"
    meta = CheckpointMeta(arch="x", conditions=["a"], created="2024-01-01T00:00:00+00:00")
    save_checkpoint(path, tensors(), meta, dtype=None)
    ck = load_checkpoint(path)
    assert ck.tensors["conv.weight"].dtype == torch.float32
    assert torch.equal(ck.tensors["conv.weight"], tensors()["conv.weight"])
    assert ck.meta.created == "2024-01-01T00:00:00+00:00"
    assert ck.meta.template is None and ck.meta.targets == ["a"]


def test_overwrite_is_atomic(tmp_path, saved, monkeypatch):
    path, sha = saved

    def broken_save(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "save_file", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, tensors(), META)
    assert file_sha256(path) == sha  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.safetensors"]  # no temp left


def test_save_rejects_pickle_suffix_and_overflow(tmp_path):
    with pytest.raises(ValueError, match="safetensors"):
        save_checkpoint(tmp_path / "m.pt", tensors(), META)
    with pytest.raises(ValueError, match="overflows"):
        save_checkpoint(tmp_path / "big.safetensors", {"w": torch.tensor([1e6])}, META)
    with pytest.raises(ValueError, match="extra metadata key"):
        save_checkpoint(tmp_path / "k.safetensors", tensors(), {**META, "extra": {"arch": 1}})
    assert list(tmp_path.iterdir()) == []


def test_header_starting_like_a_pickle_still_loads(tmp_path):
    """Header lengths 0x280..0x580 make a safetensors file start like a pickle (0x80 0x02-05)."""
    path = tmp_path / "pad.safetensors"
    for n in range(0, 4000, 8):  # the header is padded to 8 bytes: every aligned length occurs
        save_checkpoint(path, tensors(), {**META, "pad": "x" * n})
        head = path.read_bytes()[:2]
        if head[0] == 0x80 and 2 <= head[1] <= 5:
            break
    else:
        pytest.fail("could not craft the header length")
    assert load_checkpoint(path).meta.extra["pad"] == "x" * n


# --------------------------------------------------------------------------------------------
# Verification failures
# --------------------------------------------------------------------------------------------


def test_sha256_mismatch(saved):
    path, sha = saved
    reason = error_of(path, expected_sha256="0" * 64)
    assert reason.startswith("sha256 mismatch: expected " + "0" * 64 + ", got " + sha)
    assert "corrupt or was modified" in reason


def test_flipped_tensor_byte_caught_without_file_hash(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    (header_len,) = struct.unpack("<Q", data[:8])
    data[8 + header_len + 1] ^= 0x40
    path.write_bytes(bytes(data))
    assert error_of(path).startswith("tensors_sha256 mismatch")


def test_a_file_its_sha256_names_is_taken_as_written(saved):
    """A file whose sha256 is the one expected (a manifest's) is not hashed again tensor by
    tensor: a stored tensor hash that its tensors do not match is refused only where no file
    hash is given (the shipped files' stored hashes are checked below)."""
    import hashlib

    path, _ = saved
    before = load_checkpoint(path).tensors
    data = path.read_bytes()
    with safe_open(str(path), framework="pt") as f:
        old = f.metadata()[ckpt.TENSORS_HASH_KEY].encode()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, b"0" * len(old)))
    assert error_of(path).startswith("tensors_sha256 mismatch")
    named = hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = load_checkpoint(path, expected_sha256=named)
    assert loaded.sha256 == named and loaded.tensors.keys() == before.keys()
    assert all(torch.equal(loaded.tensors[k], before[k]) for k in before)


def test_shipped_checkpoints_hold_the_tensors_their_headers_name():
    """Every checkpoint a manifest ships (and installs here) stores its tensors' own hash: what
    loading it by its sha256 relies on without hashing the tensors again."""
    from faceedit.weights import SECTIONS, installed_weights_dir, read_manifest

    folder = installed_weights_dir()
    checked = 0
    for section in SECTIONS:
        for entry in read_manifest(folder / "manifest.json", section).values():
            path = folder / entry["file"]
            if path.suffix != ".safetensors" or not path.is_file() \
                    or ckpt.TENSORS_HASH_KEY not in read_header(path):  # not a faceedit checkpoint
                continue
            tensors_, header, sha = ckpt.read_verified(path, None)  # the tensors hashed
            assert sha == entry["sha256"], entry["file"]
            assert ckpt.tensors_sha256(tensors_) == header[ckpt.TENSORS_HASH_KEY], entry["file"]
            checked += 1
    assert checked >= 3


def test_truncated(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:-10])
    assert error_of(path).startswith("truncated or corrupt safetensors file")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_meta(path)


def test_empty_missing_random(tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    assert error_of(empty) == "empty file (0 bytes)"
    assert error_of(tmp_path / "nope.safetensors") == "checkpoint file not found"
    assert error_of(tmp_path) == "not a file"
    rnd = tmp_path / "random.safetensors"
    rnd.write_bytes(
        torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1))
        .byte()
        .numpy()
        .tobytes()
    )
    assert error_of(rnd).startswith("truncated or corrupt safetensors file")


def test_not_a_faceedit_checkpoint(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file(tensors(), path)
    assert error_of(path) == "not a faceedit checkpoint (no faceedit.arch metadata)"
    with pytest.raises(CheckpointError, match=r"no faceedit\.arch"):
        read_meta(path)


def test_missing_tensor_hash_and_newer_format(tmp_path, saved):
    path, _ = saved
    with safe_open(str(path), "pt") as f:
        header = f.metadata()
        data = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    save_file(
        data,
        tmp_path / "nohash.safetensors",
        {k: v for k, v in header.items() if k != "faceedit.tensors_sha256"},
    )
    assert "cannot verify" in error_of(tmp_path / "nohash.safetensors")
    save_file(data, tmp_path / "v2.safetensors", {**header, "faceedit.format": "2"})
    assert "format '2' is not supported" in error_of(tmp_path / "v2.safetensors")
    save_file(data, tmp_path / "badjson.safetensors", {**header, "faceedit.config": "{oops"})
    assert error_of(tmp_path / "badjson.safetensors").startswith("bad faceedit.config metadata")


# --------------------------------------------------------------------------------------------
# Pickles are refused unread
# --------------------------------------------------------------------------------------------


def test_torch_save_refused(tmp_path, no_unpickling):
    torch.save(tensors(), tmp_path / "model.pt")  # torch.save is fine; loading is what we forbid
    assert error_of(tmp_path / "model.pt") == PICKLE_REFUSAL
    # Detected by content too, whatever the name.
    (tmp_path / "model.safetensors").write_bytes((tmp_path / "model.pt").read_bytes())
    assert error_of(tmp_path / "model.safetensors") == PICKLE_REFUSAL
    torch.save(tensors(), tmp_path / "legacy.safetensors", _use_new_zipfile_serialization=False)
    assert error_of(tmp_path / "legacy.safetensors") == PICKLE_REFUSAL


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_pickle_refused(tmp_path, protocol, no_unpickling):
    blob = pickle.dumps({"conv.weight": [1.0, 2.0]}, protocol=protocol)
    for name in ("state.pkl", "state.safetensors"):
        (tmp_path / name).write_bytes(blob)
        assert error_of(tmp_path / name) == PICKLE_REFUSAL


def test_pickle_suffixes_refused_unread(tmp_path, no_unpickling, saved):
    path, _ = saved
    for suffix in (".pth", ".ckpt", ".bin", ".pickle"):
        renamed = tmp_path / f"model{suffix}"
        renamed.write_bytes(path.read_bytes())
        assert error_of(renamed) == PICKLE_REFUSAL


def test_protocol0_pickle_is_not_unpickled(tmp_path, no_unpickling):
    path = tmp_path / "old.safetensors"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=0))
    assert error_of(path).startswith("truncated or corrupt")


# --------------------------------------------------------------------------------------------
# Resume state
# --------------------------------------------------------------------------------------------


def _train(model: nn.Module, opt: torch.optim.Optimizer, steps: int) -> None:
    for _ in range(steps):
        x = torch.randn(8, 4)  # global RNG: resuming must restore it too
        loss = (model(x) - x.flip(1)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def _make(seed: int = 0) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))
    return model, torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.99))


def test_resume_state_is_bit_exact(tmp_path, no_unpickling):
    reference, ref_opt = _make()
    torch.manual_seed(123)
    _train(reference, ref_opt, 10)

    model, opt = _make()
    torch.manual_seed(123)
    _train(model, opt, 4)
    path = tmp_path / "state.safetensors"
    sha = save_resume_state(
        path,
        {"G": model.state_dict()},
        {"G": opt.state_dict()},
        step=4,
        extra={
            "rng": torch.get_rng_state(),
            "schedule": (1, 2.5, None),
            "by_id": {3: "x"},
            "tag": {"__tuple__": 1},
        },
    )
    torch.manual_seed(999)  # disturb everything before resuming

    resumed, res_opt = _make(seed=7)
    state = load_resume_state(path, expected_sha256=sha)
    assert state.step == 4
    assert state.extra["schedule"] == (1, 2.5, None)
    assert state.extra["by_id"] == {3: "x"} and state.extra["tag"] == {"__tuple__": 1}
    assert state.optimizer_state_dicts["G"]["param_groups"][0]["betas"] == (0.5, 0.99)
    resumed.load_state_dict(state.model_state["G"])
    res_opt.load_state_dict(state.optimizer_state_dicts["G"])
    torch.set_rng_state(state.extra["rng"])
    _train(resumed, res_opt, 6)

    for a, b in zip(reference.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_resume_state_and_checkpoint_are_not_confused(tmp_path, saved):
    path, _ = saved
    with pytest.raises(CheckpointError, match="not a faceedit resume state"):
        load_resume_state(path)
    state_path = tmp_path / "state.safetensors"
    save_resume_state(state_path, {"w": torch.ones(2)}, {}, step=0)
    assert error_of(state_path) == "this is a faceedit resume state, not a model checkpoint"
    with pytest.raises(TypeError, match="cannot store a value of type object"):
        save_resume_state(tmp_path / "bad.safetensors", {}, {}, step=0, extra={"f": object()})
