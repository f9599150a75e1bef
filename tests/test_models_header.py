"""Checkpoint headers read without torch (faceedit.models.header): the same metadata the
safetensors library reads, and the files it refuses refused, naming the file."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from faceedit.errors import CheckpointError
from faceedit.models.checkpoint import save_checkpoint
from faceedit.models.header import read_header, read_meta
from faceedit.weights import SECTIONS, read_manifest, weights_dir


def library_metadata(path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def shipped_files() -> list:
    names = {e["file"] for s in SECTIONS for e in read_manifest(section=s).values()}
    return sorted(p for p in (weights_dir() / n for n in names) if p.suffix == ".safetensors" and p.is_file())


def test_same_metadata_as_the_library(tmp_path):
    files = shipped_files()
    tensors = {"a": torch.zeros(2, 3), "b": torch.arange(5), "c": torch.ones(0), "d": torch.ones(4, dtype=torch.bool)}
    save_file(tensors, tmp_path / "plain.safetensors")  # no metadata at all
    save_checkpoint(tmp_path / "ours.safetensors", tensors, {"arch": "x", "conditions": ["a"], "note": "é"})
    for path in [*files, tmp_path / "plain.safetensors", tmp_path / "ours.safetensors"]:
        assert read_header(path) == library_metadata(path), path
    assert read_meta(tmp_path / "ours.safetensors").extra == {"note": "é"}


def write_raw(path, header: dict, data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


@pytest.mark.parametrize("header, data, words", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "do not cover"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12, "do not cover"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "do not fit its data offsets"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "invalid offset"),
    ({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "invalid tensor info"),
    ({"__metadata__": {"faceedit.arch": 3}}, b"", "map of strings"),
], ids=["truncated", "trailing-bytes", "shape", "gap", "no-offsets", "metadata-values"])
def test_refused_as_the_library_refuses(tmp_path, header, data, words):
    path = tmp_path / "bad.safetensors"
    write_raw(path, header, data)
    with pytest.raises(Exception):  # noqa: B017 (the library's own error type)
        library_metadata(path)
    with pytest.raises(CheckpointError, match=words) as info:
        read_header(path)
    assert info.value.reason.startswith("truncated or corrupt safetensors file")
    assert info.value.path == str(path)


def test_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b'{"a": 1}')
    with pytest.raises(CheckpointError, match="invalid header length"):
        read_meta(path)
    path.write_bytes(b"[1, 2, 3]")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_meta(path)
    path.write_bytes(struct.pack("<Q", 2) + b"[]")
    with pytest.raises(CheckpointError, match="not a JSON object"):
        read_meta(path)
