"""How far two versions of the stage's code edit apart: level differences of their outputs.

    OMP_NUM_THREADS=1 PYTHONPATH=OLD python bench/bench_stage_diff.py write /tmp/old.npz
    OMP_NUM_THREADS=1 PYTHONPATH=NEW python bench/bench_stage_diff.py write /tmp/new.npz
    python bench/bench_stage_diff.py compare /tmp/old.npz /tmp/new.npz --crops /tmp/crops

OLD and NEW are checkouts of the two versions (one exported without its weights folder finds
the shipped weights with ``FACEEDIT_WEIGHTS=weights`` of this checkout). ``write`` edits three
sets of photos to each target (``--targets``, default happy, surprised, sad, angry) at strength
1 through :meth:`faceedit.stage.model.Stage.edit_photo`, as bench_stage_steps.py does, and
stores every output: ``hd``, London 1350-px neutral faces
(../shared/data/london_hd/neutral); ``512``, 512-px JPEGs made from ../shared/data/london/neutral
as bench_apply.py makes them (the astronaut where that folder is absent); ``720p``, 1280x720
frames of the astronaut under bench_video.py's synthetic camera motion. ``compare`` prints per
set and target the largest level difference, its 99.9th percentile over the pixels that differ
at all, and the share of the photos' pixels (any channel) that changed; with ``--crops``, it
writes the worst outputs' neighbourhoods at the photo's own pixels as PNGs: old, new and the
difference times 8, side by side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from faceedit.models.request import EditRequest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = HERE.parent.parent / "shared/data"


def sets(n_hd: int, n_512: int, n_720: int) -> dict[str, list[np.ndarray]]:
    from bench_stage_steps import frames, photos
    from PIL import Image

    hd_dir = DATA / "london_hd/neutral"
    hd = sorted(hd_dir.glob("*.jpg"))[:n_hd] if hd_dir.is_dir() else []
    return {"hd": [np.asarray(Image.open(p).convert("RGB")) for p in hd],
            "512": photos(n_512, 512, DATA / "london/neutral"),
            "720p": frames(n_720)}


def write(out: Path, targets: list[str], n_hd: int, n_512: int, n_720: int) -> None:
    from faceedit.api import Editor

    editor = Editor.from_pretrained("stage")
    stage = editor.stage or editor.loaded.model
    arrays = {}
    for name, images in sets(n_hd, n_512, n_720).items():
        for i, im in enumerate(images):
            found = editor.detector.detect(im)
            arrays[f"{name}/{i}/input"] = im
            for t in targets:
                arrays[f"{name}/{i}/{t}"] = stage.edit_photo(im, found, EditRequest.of(t, 1.0))[0]
    np.savez(out, **arrays)
    print(f"{len(arrays)} arrays written to {out}")


def compare(old: Path, new: Path, crops: Path | None, n_crops: int) -> None:
    a, b = np.load(old), np.load(new)
    groups: dict[tuple[str, str], list[np.ndarray]] = {}
    worst = []
    for key in a.files:
        name, i, t = key.split("/")
        if t == "input":
            continue
        d = np.abs(a[key].astype(np.int16) - b[key].astype(np.int16))
        groups.setdefault((name, t), []).append(d)
        worst.append((int(d.max()), int((d.max(-1) > 8).sum()), key))
    print("set, target: max level difference; 99.9th percentile of the changed pixels; "
          "share of pixels changed; pixels changed by more than 8 levels")
    for (name, t), ds in groups.items():
        per_px = np.concatenate([d.max(-1).ravel() for d in ds])
        changed = per_px[per_px > 0]
        p999 = float(np.percentile(changed, 99.9)) if changed.size else 0.0
        print(f"{name:5s} {t:10s} max {per_px.max():3d}  p99.9 {p999:5.1f}  "
              f"changed {changed.size / per_px.size:.2e}  >8: {int((per_px > 8).sum())}")
    if crops is None:
        return
    from PIL import Image

    crops.mkdir(parents=True, exist_ok=True)
    for m, _, key in sorted(worst, reverse=True)[:n_crops]:
        d = np.abs(a[key].astype(np.int16) - b[key].astype(np.int16)).max(-1)
        y, x = np.unravel_index(np.argmax(d), d.shape)
        h, w = d.shape
        y0, x0 = int(np.clip(y - 64, 0, max(h - 128, 0))), int(np.clip(x - 64, 0, max(w - 128, 0)))
        sl = np.s_[y0:y0 + 128, x0:x0 + 128]
        diff = np.clip(np.abs(a[key][sl].astype(np.int16) - b[key][sl].astype(np.int16)) * 8, 0, 255)
        tile = np.concatenate([a[key][sl], b[key][sl], diff.astype(np.uint8)], 1)
        path = crops / f"{key.replace('/', '_')}_max{m}.png"
        Image.fromarray(tile).save(path)
        print(f"crop {path} at x {x0}, y {y0}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--targets", default="happy,surprised,sad,angry")
    w.add_argument("--hd", type=int, default=8)
    w.add_argument("--photos", type=int, default=16)
    w.add_argument("--frames", type=int, default=20)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--crops", type=Path)
    c.add_argument("--n-crops", type=int, default=6)
    args = ap.parse_args()
    if args.cmd == "write":
        write(args.out, args.targets.split(","), args.hd, args.photos, args.frames)
    else:
        compare(args.old, args.new, args.crops, args.n_crops)


if __name__ == "__main__":
    main()
