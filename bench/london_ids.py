"""The London HD people the benches measure on and never tune on, and the ``--ids`` words that name them.

:data:`HELD_OUT` is :func:`faceedit.data.holdout_subjects` of London HD's 86 people (``london-NNN``, seed 0,
a fifth of them), the same people the training commands leave out; written out here so that a bench's
default and its help read without the data (``tests/test_bench_london_ids.py`` checks the two agree)."""

from __future__ import annotations

import argparse
import sys
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


def add_photo_args(ap: argparse.ArgumentParser, targets: str) -> None:
    """The options of a bench that edits London HD's neutral photos (``--london``, ``--ids``, ``--pairs``)
    and a folder of other photos (``--photos``) to ``--targets`` (default ``targets``)."""
    ap.add_argument("--london", type=Path, default=None, help="London HD (its neutral/ photos)")
    ap.add_argument("--ids", default="train", help="train, held, none or a comma-separated list")
    ap.add_argument("--pairs", type=int, default=20, help="how many of the ids (train)")
    ap.add_argument("--photos", type=Path, default=None, help="a folder of other photos (jpg, png)")
    ap.add_argument("--targets", default=targets)


def photo_paths(args: argparse.Namespace) -> list[Path]:
    """The photos :func:`add_photo_args`' options name: London's neutral photos of ``--ids``, then the
    folder's JPEGs and PNGs in name order; exits with a message where there are none."""
    paths: list[Path] = []
    if args.london is not None:
        paths += [args.london / "neutral" / f"{i}.jpg" for i in london_ids(args.london, args.ids, args.pairs)]
    if args.photos is not None:
        paths += sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not paths:
        sys.exit("no photos: give --london or --photos")
    return paths
