"""Readers for the layouts of the shared face data sets (../shared/data) and generic layouts.

Each reader yields :class:`RawSample` records: a photo, its subject, its labels and, for paired
data, a pair group so that a target photo can be registered onto its source. Labels use the
canonical vocabulary of :mod:`faceedit.conditions`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from faceedit.conditions import canonical_target
from faceedit.errors import UsageError
from faceedit.io.formats import SUPPORTED_EXTS


@dataclass
class RawSample:
    path: str
    subject: str
    labels: dict = field(default_factory=dict)  # e.g. {"expression": "happy", "lighting": "left"}
    pair: str | None = None  # photos sharing a pair group belong to one subject/session
    role: str | None = None  # "source" (neutral reference) or "target" within a pair group
    # The photos of the pair group are pixel-registered (one camera, one pose: Extended Yale B's
    # cropped set): a target uses its source's alignment, so faces too dark to detect still align.
    registered: bool = False


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_EXTS)


def _need_folders(root: Path, preset: str, *names: str) -> None:
    """A preset whose layout is sub-folders: UsageError naming the ones ``root`` lacks."""
    missing = [n for n in names if not (root / n).is_dir()]
    if missing:
        raise UsageError(f"{root}: not the {preset} layout: no sub-folder {' or '.join(m + '/' for m in missing)} "
                         f"(`preset` {preset} expects {LAYOUTS[preset]})")


def london(root: Path) -> Iterator[RawSample]:
    """London Face set: neutral/NNN.jpg and smiling/NNN.jpg of the same person, same session."""
    _need_folders(root, "london", "neutral", "smiling")
    for p in _images(root / "neutral"):
        smile = root / "smiling" / p.name
        yield RawSample(str(p), f"london-{p.stem}", {"expression": "neutral"}, f"london-{p.stem}", "source")
        if smile.exists():
            yield RawSample(str(smile), f"london-{p.stem}", {"expression": "happy"}, f"london-{p.stem}", "target")


_JAFFE = re.compile(r"^(?P<subj>[A-Z]{2})\.(?P<code>[A-Z]{2})(?P<take>\d+)\.\d+\.", re.I)


def jaffe(root: Path) -> Iterator[RawSample]:
    """JAFFE: ``KA.HA1.29.png`` = subject KA, happy, take 1. One pair group per subject."""
    for p in _images(root):
        m = _JAFFE.match(p.name)
        if not m:
            continue
        expr = canonical_target(m["code"])
        subj = m["subj"].upper()
        yield RawSample(str(p), f"jaffe-{subj}", {"expression": expr}, f"jaffe-{subj}",
                        "source" if expr == "neutral" else "target")


_YALE_EXPR = {"normal": "neutral", "happy": "happy", "sad": "sad", "sleepy": "sleepy",
              "surprised": "surprised", "wink": "wink"}


def yale(root: Path) -> Iterator[RawSample]:
    """Yale faces: ``subject01.happy.png``. Expressions pair with ``normal``; lighting and glasses
    become labels of neutral-expression photos. Exact duplicates of a subject's ``normal`` photo
    (subject04.sad in this copy) are dropped, since they would teach the identity mapping."""
    by_subject: dict[str, list[Path]] = {}
    for p in _images(root):
        parts = p.name.split(".")
        if len(parts) >= 3 and parts[0].startswith("subject"):
            by_subject.setdefault(parts[0], []).append(p)
    for subj, paths in sorted(by_subject.items()):
        normal = [p for p in paths if p.name.split(".")[1] == "normal"]
        normal_hash = hashlib.sha256(normal[0].read_bytes()).hexdigest() if normal else None
        for p in paths:
            cond = p.name.split(".")[1]
            labels: dict = {}
            if cond in _YALE_EXPR:
                labels["expression"] = _YALE_EXPR[cond]
                if cond != "normal" and hashlib.sha256(p.read_bytes()).hexdigest() == normal_hash:
                    continue
            elif cond.endswith("light"):
                labels = {"expression": "neutral", "lighting": {"center": "front"}.get(cond[:-5], cond[:-5])}
            elif cond in ("glasses", "noglasses"):
                labels = {"expression": "neutral", "glasses": cond == "glasses"}
            else:
                continue
            role = "source" if cond == "normal" else "target" if cond in _YALE_EXPR else None
            yield RawSample(str(p), f"yale-{subj}", labels, f"yale-{subj}" if role else None, role)


_YALEB = re.compile(r"^yaleB(?P<subj>\d+)_P00(?:A(?P<az>[+-]\d+)E(?P<el>[+-]\d+)|_Ambient)", re.I)


def yaleb_lighting(azimuth: float, elevation: float) -> str:
    """Group an Extended Yale B light direction into a lighting class, in image terms: positive
    azimuth lights the image-left side of the face (checked on the data: the left half of the
    mean A+060 image is 6x brighter than the right), as Yale's ``leftlight`` does.
    |azimuth| > 20 deg -> left/right; else elevation > 20 -> top, < -20 -> bottom; else front."""
    if azimuth > 20:
        return "left"
    if azimuth < -20:
        return "right"
    if elevation > 20:
        return "top"
    if elevation < -20:
        return "bottom"
    return "front"


def yaleb(root: Path) -> Iterator[RawSample]:
    """Extended Yale B cropped: ``yaleB01_P00A+035E+15.png`` (azimuth, elevation) or ``_Ambient``."""
    for p in _images(root):
        m = _YALEB.match(p.name)
        if not m:
            continue
        light = "ambient" if m["az"] is None else yaleb_lighting(float(m["az"]), float(m["el"]))
        labels: dict[str, str | int] = {"expression": "neutral", "lighting": light}
        if m["az"] is not None:
            labels.update(azimuth=int(m["az"]), elevation=int(m["el"]))
        subject = f"yaleb-{m['subj']}"
        frontal = m["az"] is not None and int(m["az"]) == 0 and int(m["el"]) == 0
        yield RawSample(str(p), subject, labels, subject, "source" if frontal else "target",
                        registered=True)


def label_folders(root: Path) -> Iterator[RawSample]:
    """Generic: one sub-folder per label (``root/happy/x.jpg``); subject = file stem."""
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for p in _images(d):
            yield RawSample(str(p), p.stem, {"expression": canonical_target(d.name)})


def csv_labels(root: Path, csv_path: Path) -> Iterator[RawSample]:
    """Generic: a CSV with a ``file`` column and label columns (``label`` -> expression; any other
    column kept under its own name; optional ``subject`` column)."""
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "file" not in rows[0]:
        raise UsageError(f"{csv_path}: the CSV needs a 'file' column")
    for row in rows:
        labels = {k: v for k, v in row.items() if k not in ("file", "subject") and v not in (None, "")}
        if "label" in labels:
            labels["expression"] = canonical_target(labels.pop("label"))
        path = root / row["file"]
        yield RawSample(str(path), row.get("subject") or Path(row["file"]).stem, labels)


def paired_folders(root: Path, source: str = "source", target: str = "target",
                   target_label: str = "target") -> Iterator[RawSample]:
    """Generic: ``root/source/x.jpg`` pairs with ``root/target/x.*`` (same stem)."""
    _need_folders(root, "paired", source, target)
    targets = {p.stem: p for p in _images(root / target)}
    for p in _images(root / source):
        yield RawSample(str(p), p.stem, {"expression": "neutral"}, p.stem, "source")
        if p.stem in targets:
            yield RawSample(str(targets[p.stem]), p.stem, {"expression": canonical_target(target_label)},
                            p.stem, "target")


LAYOUTS = {
    "london": "sub-folders neutral/ and smiling/ holding NNN.jpg of the same people",
    "jaffe": "photos named like KA.HA1.29.png (subject, expression code and take, number)",
    "yale": "photos named like subject01.happy.png (subject, then the condition)",
    "yaleb": "photos named like yaleB01_P00A+035E+15.png (subject, light azimuth and elevation)",
    "folders": "one sub-folder of photos per expression (happy/, neutral/...)",
    "paired": "sub-folders source/ and target/ holding photos of the same names",
}
"""What each preset expects to find, for the messages of a folder without it."""

PRESETS: dict[str, Callable[[Path], Iterator[RawSample]]] = {
    "london": london,
    "jaffe": jaffe,
    "yale": yale,
    "yaleb": yaleb,
    "folders": label_folders,
    "paired": paired_folders,
}


def guess_preset(root: Path) -> str:
    if (root / "neutral").is_dir() and (root / "smiling").is_dir():
        return "london"
    if (root / "source").is_dir() and (root / "target").is_dir():
        return "paired"
    names = [p.name for p in list(root.iterdir())[:50]]
    if any(_JAFFE.match(n) for n in names):
        return "jaffe"
    if any(_YALEB.match(n) for n in names):
        return "yaleb"
    if any(n.startswith("subject") and n.count(".") >= 2 for n in names):
        return "yale"
    if any((root / n).is_dir() for n in names):
        return "folders"
    raise UsageError(f"{root}: cannot tell the dataset layout; pass `preset` "
                     f"({', '.join(PRESETS)}) or a `csv_path` file")
