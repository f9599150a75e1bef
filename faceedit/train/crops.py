"""A training run's examples in memory (:class:`CropSet`, :class:`TrainData`: prepared datasets
split by subject into a training and a held-out set) and which of them each step takes
(:func:`batch_indices`, a pure function of the step and the seed, so a resumed run continues the
same sequence).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from faceedit.data import Dataset, holdout_subjects
from faceedit.pixels import levels_to_signed


@dataclass
class CropSet:
    """Examples of one split held in memory: ``images`` (N, C, S, S), uint8 grey levels or float
    in [-1, 1]; ``labels[key]`` class indices (N,) with -1 where a row has no such label;
    ``landmarks`` (N, 68, 2) in crop pixels, ``grey`` (N,) bool, ``subjects`` (N,) subject index
    and ``aus`` (N, 17) float with NaN where not estimable, where the data has them (AUs only when
    the trainer asks for them); ``fields``: any other per-example tensors a trainer's data
    carries (RegGAN: the real target photo of each pair), given to batches under their names.
    ``rows``: the index rows of the examples, where each example is one crop."""

    rows: list[dict]
    images: torch.Tensor
    labels: dict[str, torch.Tensor] = field(default_factory=dict)
    landmarks: torch.Tensor | None = None
    grey: torch.Tensor | None = None
    subjects: torch.Tensor | None = None
    aus: torch.Tensor | None = None
    fields: dict[str, torch.Tensor] = field(default_factory=dict)
    offset: int = 0  # row numbers continue across splits (held-out rows follow the training rows)

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu") -> dict[str, Any]:
        """A training batch: ``image`` float in [-1, 1], ``index`` (row numbers), and the labels,
        landmarks, grey flags, subjects, AUs and fields the set has."""
        images = self.images[idx].to(device)
        out: dict[str, Any] = {
            "image": levels_to_signed(images) if images.dtype == torch.uint8 else images.float(),
            "index": idx.to(device) + self.offset,
        }
        known = {"landmarks": self.landmarks, "grey": self.grey, "subject": self.subjects, "aus": self.aus}
        for k, v in {**known, **self.labels, **self.fields}.items():
            if v is not None:
                out[k] = v[idx].to(device)
        return out


@dataclass
class TrainData:
    """Prepared datasets as one training set and one held-out set, with the label vocabularies."""

    datasets: list[Dataset]
    size: int
    channels: int
    vocab: dict[str, list[str]]
    train: CropSet
    held: CropSet
    heldout_subjects: list[str]

    @property
    def names(self) -> list[str]:
        return sorted({d.meta.get("preset", "custom") for d in self.datasets})


def load_train_data(
    datasets: list[Dataset],
    *,
    label_keys: tuple[str, ...] = ("expression",),
    vocab: dict[str, list[str]] | None = None,
    size: int | None = None,
    channels: int = 3,
    with_aus: bool = False,
    holdout: float = 0.2,
    seed: int = 0,
) -> TrainData:
    """Load crops and labels into memory. ``vocab`` fixes the class order per label key (a model
    being fine-tuned keeps its vocabulary); otherwise each key's vocabulary is the sorted set of
    values found. Rows without any of ``label_keys`` are kept (they count as real images for the
    discriminator) with -1 labels."""
    from faceedit.data import load_crops

    size = size or int(datasets[0].meta["size"])
    rows_train: list[dict] = []
    rows_held: list[dict] = []
    held_names: list[str] = []
    for d in datasets:
        held_here = holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
        held_names += sorted(held_here)
        for r in d.rows:
            (rows_held if r["subject"] in held_here else rows_train).append(r)
    found: dict[str, set[str]] = {k: set() for k in label_keys}
    for r in rows_train + rows_held:
        for k in label_keys:
            v = r["labels"].get(k)
            if v is not None:
                found[k].add(str(v))
    vocab = {k: list(vocab[k]) if vocab and k in vocab else sorted(found[k]) for k in label_keys}
    subjects = {s: i for i, s in enumerate(sorted({r["subject"] for r in rows_train + rows_held}))}

    def crop_set(rows: list[dict]) -> CropSet:
        labels = {
            k: torch.tensor([vocab[k].index(str(r["labels"][k])) if str(r["labels"].get(k)) in vocab[k]
                             else -1 for r in rows], dtype=torch.long)
            for k in label_keys
        }
        lm = torch.tensor(np.array([r["landmarks"] for r in rows], np.float32).reshape(len(rows), -1, 2)
                          * (size / int(datasets[0].meta["size"])))
        aus = None
        if with_aus:
            from faceedit.faces.au import dataset_aus

            aus = torch.from_numpy(np.asarray(dataset_aus(rows), np.float32))
        return CropSet(
            rows=rows,
            images=load_crops(rows, size, channels),
            labels=labels,
            landmarks=lm,
            grey=torch.tensor([bool(r.get("grey")) for r in rows]),
            subjects=torch.tensor([subjects[r["subject"]] for r in rows], dtype=torch.long),
            aus=aus,
        )

    held = crop_set(rows_held)
    held.offset = len(rows_train)
    return TrainData(datasets, size, channels, vocab, crop_set(rows_train), held, held_names)


def batch_indices(step: int, n: int, batch: int, seed: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """Indices of this rank's part of the global batch of ``step``: epochs are seeded permutations
    of the ``n`` training crops, consumed ``batch * world`` at a time. A pure function of its
    arguments, so resuming at any step continues the same sequence."""
    g = batch * world
    start = step * g
    out: list[int] = []
    while len(out) < g:
        epoch, offset = divmod(start + len(out), n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(mix_seed(seed, "epoch", epoch)))
        out.extend(perm[offset : offset + g - len(out)].tolist())
    return torch.tensor(out[rank * batch : (rank + 1) * batch], dtype=torch.long)


def mix_seed(*parts) -> int:
    """A 63-bit seed from ``parts`` (their repr hashed): the seeds of epochs and steps."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") & (2**63 - 1)
