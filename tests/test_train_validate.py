"""Prepared datasets checked before a run (faceedit.train.validate): crop sizes, unreadable and
missing files, labels, pairs."""

from __future__ import annotations

import json

import pytest
from _datasets import make_dataset
from tiny_trainer import TinyGanTrainer

from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.train.validate import validate_datasets


def test_validation_mixed_sizes(tmp_path):
    a = open_dataset(make_dataset(tmp_path / "a", size=32))
    b = open_dataset(make_dataset(tmp_path / "b", size=48))
    with pytest.raises(UsageError, match="mixed crop sizes"):
        validate_datasets([a, b], TinyGanTrainer)


def test_validation_corrupt_and_missing_files(tmp_path):
    root = make_dataset(tmp_path / "a")
    (root / "images" / "s0-happy.png").write_bytes(b"not a png at all")
    (root / "images" / "s1-happy.png").unlink()
    with pytest.raises(UsageError) as e:
        validate_datasets([open_dataset(root)], TinyGanTrainer)
    assert "s0-happy.png: unreadable" in str(e.value) and "s1-happy.png: missing" in str(e.value)


def test_validation_labels(tmp_path):
    one = open_dataset(make_dataset(tmp_path / "one", labels=("happy",)))
    with pytest.raises(UsageError, match="at least two classes"):
        validate_datasets([one], TinyGanTrainer)
    none = open_dataset(make_dataset(tmp_path / "none", key="lighting"))
    with pytest.raises(UsageError, match="no crop has a 'expression' label"):
        validate_datasets([none], TinyGanTrainer)
    ds = open_dataset(make_dataset(tmp_path / "ok", labels=("neutral", "smirk")))
    with pytest.raises(UsageError, match="unknown expression label.*smirk"):
        validate_datasets([ds], TinyGanTrainer, vocab={"expression": ["neutral", "happy"]})


def test_validation_pairs(tmp_path):
    class Paired(TinyGanTrainer):
        needs_pairs = True

    root = make_dataset(tmp_path / "p", paired=True)
    validate_datasets([open_dataset(root)], Paired)  # fine
    rows = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines()]
    rows = [r for r in rows if not (r["subject"] == "s2" and r["role"] == "source")]
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(UsageError, match="without a source"):
        validate_datasets([open_dataset(root)], Paired)
    with pytest.raises(UsageError, match="no \\(source, target\\) pairs"):
        validate_datasets([open_dataset(make_dataset(tmp_path / "u"))], Paired)
