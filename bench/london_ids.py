"""The London HD people the benches measure on and never tune on, and the ``--ids`` words that name them.

:data:`HELD_OUT` is :func:`faceedit.data.holdout_subjects` of London HD's 86 people (``london-NNN``, seed 0,
a fifth of them), the same people the training commands leave out; written out here so that a bench's
default and its help read without the data (``tests/test_bench_london_ids.py`` checks the two agree)."""

from __future__ import annotations

from pathlib import Path

HELD_OUT = ("008", "014", "019", "022", "061", "083", "094", "096", "097", "099", "114", "126", "131", "136",
            "137", "142", "144", "173")
#: :data:`HELD_OUT` as one comma-separated ``--ids`` value.
HELD_OUT_CSV = ",".join(HELD_OUT)


def london_ids(london: Path, which: str, pairs: int | None = None, skip: int = 0) -> list[str]:
    """The London ids an ``--ids`` option names: ``train`` (those not :data:`HELD_OUT` with a neutral photo in
    ``london``, ``pairs`` of them after the first ``skip``; all with ``pairs`` None), ``held``, ``none`` or a
    comma-separated list."""
    train = sorted(p.stem for p in (london / "neutral").glob("*.jpg") if p.stem not in HELD_OUT)
    end = None if pairs is None else skip + pairs
    return {"train": train[skip:end], "held": list(HELD_OUT), "none": []}.get(which, which.split(","))
