"""Checks run on prepared datasets before any training starts, so a bad dataset fails in seconds
with a clear message instead of crashing an hour into a run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PIL import Image

from faceedit.data import Dataset, expression_pairs
from faceedit.errors import UsageError

MAX_LISTED = 5


def _listing(items: list[str]) -> str:
    more = f" (and {len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return "; ".join(items[:MAX_LISTED]) + more


def validate_datasets(datasets: list[Dataset], trainer_cls, vocab: dict[str, list[str]] | None = None) -> None:
    """Raise UsageError naming the dataset, the files and the reason when:

    * no dataset is given, or one is empty;
    * datasets have different crop sizes (prepare them at one size, or with one ``--model``);
    * a crop file is missing, unreadable, or not of the dataset's size;
    * a label the trainer needs is absent, has a single class, or (when fine-tuning or resuming a
      model with a fixed vocabulary) takes a value outside that vocabulary;
    * a paired method gets a target without a source in its pair group, or no pairs at all.
    """
    if not datasets:
        raise UsageError("no dataset given (`datasets`: folders made by faceedit prepare)")
    sizes = {str(d.root): int(d.meta.get("size", 0)) for d in datasets}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{k} is {v} px" for k, v in sizes.items())
        raise UsageError(f"datasets have mixed crop sizes ({listed}); prepare them at one crop size")
    for d in datasets:
        if not d.rows:
            raise UsageError(f"{d.root}: the dataset is empty")
        _check_files(d)
    rows = [r for d in datasets for r in d.rows]
    for key in trainer_cls.needs_labels:
        values = Counter(str(r["labels"][key]) for r in rows if r["labels"].get(key) is not None)
        if not values:
            raise UsageError(f"{', '.join(sizes)}: no crop has a {key!r} label, which "
                             f"{trainer_cls.method or trainer_cls.__name__} trains on")
        if len(values) < 2:
            raise UsageError(f"{', '.join(sizes)}: every {key!r} label is {next(iter(values))!r}; "
                             f"at least two classes are needed")
    for key, allowed in (vocab or {}).items():
        bad = [f"{r['dataset']}/{r['file']} ({key}={r['labels'][key]!r})" for r in rows
               if r["labels"].get(key) is not None and str(r["labels"][key]) not in allowed]
        if bad:
            raise UsageError(f"unknown {key} label(s), not in the model's vocabulary "
                             f"[{', '.join(allowed)}]: {_listing(bad)}")
    if trainer_cls.needs_pairs:
        _check_pairs(datasets)


def _check_files(d: Dataset) -> None:
    size = int(d.meta["size"])
    bad = []
    for r in d.rows:
        path = Path(d.root) / r["file"]
        try:
            with Image.open(path) as im:
                if im.size != (size, size):
                    bad.append(f"{path}: {im.size[0]}x{im.size[1]}, not {size}x{size}")
                    continue
                im.verify()
        except FileNotFoundError:
            bad.append(f"{path}: missing")
        except Exception as e:  # PIL raises many types for damaged files
            bad.append(f"{path}: unreadable ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    if bad:
        raise UsageError(f"{d.root}: {len(bad)} bad crop file(s): {_listing(bad)}; re-run faceedit prepare")


def _check_pairs(datasets: list[Dataset]) -> None:
    total = 0
    for d in datasets:
        groups: dict[str, list[dict]] = {}
        for r in d.rows:
            if r.get("pair"):
                groups.setdefault(r["pair"], []).append(r)
        orphans = [f"{d.root}/{r['file']}" for g in groups.values()
                   if not any(m.get("role") == "source" for m in g)
                   for r in g if r.get("role") == "target"]
        if orphans:
            raise UsageError(f"{d.root}: target photo(s) without a source in their pair: "
                             f"{_listing(orphans)}")
        total += sum(len(v) for v in expression_pairs(d.rows).values())
    if not total:
        raise UsageError(f"{', '.join(str(d.root) for d in datasets)}: no (source, target) pairs; "
                         "this method trains on pairs (prepare with a paired preset)")
