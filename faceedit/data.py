"""Reading prepared datasets (written by ``faceedit prepare``, :mod:`faceedit.train.prepare`):
the index, the rows' labels and pairs, the seeded by-subject hold-out, the crops, and the data
sets' licence terms.

A lower layer than :mod:`faceedit.train`: analysis, faces (AU calibration), evaluation and
training all read datasets through it, without importing training code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.pixels import levels_to_signed

# Licence terms of the shared data sets, carried into every checkpoint they trained.
DATA_LICENSES = {
    "london": "Face Research Lab London Set, CC BY 4.0: attribute DeBruine & Jones 2017, "
              "doi 10.6084/m9.figshare.5047666.v5",
    "jaffe": "JAFFE: non-commercial research use, cite Lyons et al. (see its DATASET_README)",
    "yale": "Yale Face Database: research use with citation",
    "yaleb": "Extended Yale Face Database B: research use with citation",
}


def data_names(datasets: list[dict]) -> list[str]:
    return sorted({d.get("preset", "custom") for d in datasets})


def data_licence(names) -> str:
    """The terms that weights trained on the data sets ``names`` carry."""
    licence = "; ".join(DATA_LICENSES.get(n, f"{n}: see its licence") for n in sorted(set(names)))
    if any(n in ("jaffe", "yale", "yaleb") for n in names):
        licence = "non-commercial research use only (data terms). " + licence
    return licence


@dataclass
class Dataset:
    root: Path
    meta: dict
    rows: list[dict]

    @property
    def size(self) -> int:
        return int(self.meta["size"])


def dataset_name(d: Dataset) -> str:
    """A dataset's name in metrics and cards: its preset, else its folder's name."""
    return str(d.meta.get("preset") or d.root.name)


def open_dataset(path: str | Path) -> Dataset:
    root = Path(path)
    meta_path = root / "dataset.json"
    if not meta_path.exists():
        raise UsageError(f"{root}: not a prepared dataset (no dataset.json); run faceedit prepare")
    meta = json.loads(meta_path.read_text())
    rows = list(read_index(root))
    if not rows:
        raise UsageError(f"{root}: the dataset is empty")
    for r in rows:
        r["dataset"] = str(root)
    return Dataset(root, meta, rows)


def holdout_subjects(subjects, fraction: float = 0.2, seed: int = 0) -> set[str]:
    """A fixed, seeded choice of held-out subjects: ceil(fraction * n) of them, by hash order.
    Held-out subjects never appear in training; evaluation uses only them."""
    subjects = sorted(set(subjects))
    key = lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest()  # noqa: E731
    return set(sorted(subjects, key=key)[: math.ceil(fraction * len(subjects))])


def load_crop(row: dict, channels: int = 3) -> torch.Tensor:
    """A crop as a float tensor (channels, S, S) in [-1, 1]; greyscale crops are replicated to
    3 channels, colour crops reduced to BT.601 luma for 1 channel."""
    with Image.open(Path(row["dataset"]) / row["file"]) as im:
        arr = np.asarray(im.convert("L" if channels == 1 else "RGB"))
    t = levels_to_signed(arr)
    return t.unsqueeze(0) if channels == 1 else t.permute(2, 0, 1).contiguous()


def load_crops(rows: list[dict], size: int | None = None, channels: int = 3) -> torch.Tensor:
    """Crops of ``rows`` as a uint8 tensor (N, channels, S, S), resized (bilinear) to ``size``
    if given; colour crops reduced to luma for 1 channel, grey ones replicated for 3."""
    out = []
    for r in rows:
        with Image.open(Path(r["dataset"]) / r["file"]) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if size and im.size != (size, size):
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            a = np.asarray(im, dtype=np.uint8)
        out.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)) if out else torch.zeros(0, channels, size or 1, size or 1, dtype=torch.uint8)


# Rows without a lighting label (London, JAFFE, Yale's expression photos) are evenly lit frontal
# studio photographs: the lighting class of a light at the camera (Yale "centerlight", Extended
# Yale B azimuth/elevation near 0).
UNLABELLED_LIGHTING = "front"


def row_label(row: dict, key: str) -> str | None:
    """``row``'s label ``key``; a missing lighting label reads as :data:`UNLABELLED_LIGHTING`."""
    v = row["labels"].get(key)
    return UNLABELLED_LIGHTING if v is None and key == "lighting" else v


def valid_area(row: dict, size: int) -> np.ndarray:
    """(size, size) bool: where the crop of a registered row (one with the ``matrix`` that cut it
    from its ``source`` photo) shows that photo, not the repeated edge."""
    import cv2

    with Image.open(row["source"]) as im:
        w, h = im.size
    m = np.asarray(row["matrix"], np.float64)
    return cv2.warpAffine(np.ones((h, w), np.float32), m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0.99


def pair_groups(rows: list[dict]) -> list[list[dict]]:
    """Rows grouped by their ``pair`` field (one subject, one session); rows without one are left out."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("pair"):
            groups.setdefault(r["pair"], []).append(r)
    return list(groups.values())


def condition_pairs(rows: list[dict], expect: dict[str, str], keys: tuple[str, ...] = ("expression", "lighting"),
                    ) -> list[tuple[dict, dict]]:
    """Ground truth for an edit: (source photo, real photo of the same pair group) where the real
    photo shows every label of ``expect`` and keeps the source's other labels of ``keys``; the
    source is the group's ``role: source`` photo (the neutral, front-lit one). Pairs whose two
    photos carry the same labels (nothing to edit) are left out."""
    out = []
    for members in pair_groups(rows):
        for s in (r for r in members if r.get("role") == "source"):
            want = {k: expect.get(k, row_label(s, k)) for k in keys}
            if all(want[k] == row_label(s, k) for k in keys):
                continue
            out += [(s, t) for t in members
                    if t.get("role") == "target" and all(row_label(t, k) == want[k] for k in keys)]
    return out


def expression_pairs(rows: list[dict], source: str = "neutral") -> dict[str, list[tuple[dict, dict]]]:
    """(source row, target row) pairs by target expression, within each pair group (one subject,
    one session): every target photo with every source-expression photo of its group."""
    pairs: dict[str, list[tuple[dict, dict]]] = {}
    for members in pair_groups(rows):
        sources = [r for r in members if r["labels"].get("expression") == source]
        for t in members:
            expr = t["labels"].get("expression")
            if expr and expr != source and t.get("role") == "target":
                pairs.setdefault(expr, []).extend((s, t) for s in sources)
    return pairs


def open_datasets(paths: Iterable[str]) -> list[Dataset]:
    return [open_dataset(p) for p in paths]


def split_rows(datasets: list[Dataset], holdout: float = 0.2, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows): held-out subjects are chosen per dataset by the seeded hash
    of :func:`holdout_subjects`, the same split every trainer and ``faceedit eval`` use."""
    train: list[dict] = []
    held: list[dict] = []
    for d in datasets:
        out = holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
        for r in d.rows:
            (held if r["subject"] in out else train).append(r)
    return train, held


def read_index(dataset: str | os.PathLike) -> Iterator[dict]:
    """The rows of a prepared dataset's index.jsonl. An unreadable last line (an interrupted
    ``prepare``; re-running it repairs the file) is skipped with a warning; any other unreadable
    line is a UsageError naming the file and line."""
    path = Path(dataset) / "index.jsonl"
    if not path.exists():
        raise UsageError(f"{dataset}: not a prepared dataset (no index.jsonl); run faceedit prepare")
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            if i == last:
                logger.warning("%s: line %d is incomplete (an interrupted faceedit prepare; run it "
                               "again to finish the dataset); skipped", path, i + 1)
                return
            raise UsageError(f"{path}: line {i + 1} is not valid JSON ({e}); the dataset is "
                             "damaged, prepare it again into a new folder") from None
        yield row
