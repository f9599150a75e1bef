"""Benchmark `faceedit apply` end to end against the bare model forward, and its memory.

    python bench/bench_apply.py --model reggan --target happy --photos 100 1000

1. bare forward: the model alone on pre-aligned crops (one face per photo), photos/s;
2. end to end: `faceedit apply` (decode, detect, align, forward, paste-back, encode, write)
   on N generated photos, photos/s, in a subprocess whose peak RSS is reported;
3. the ratio end-to-end / bare (target >= 0.8) and peak RSS at each N (target: the largest N
   within 10 % of the smallest: the batch is streamed through bounded queues).

The photos are made from scikit-image's astronaut (one face each), varied by a small shift,
scale and brightness so no two files are identical; all runs are on this machine, same process
tree, same settings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_photos(folder: Path, n: int, size: int, source: Path | None = None) -> None:
    """n JPEGs of size x size px made from the astronaut, or cycling through the photos of
    ``source`` (e.g. ../shared/data/london/neutral), each slightly rescaled, shifted and
    brightened so no two files are the same."""
    from PIL import Image
    from skimage.data import astronaut

    if source is not None:
        bases = [Image.open(p).convert("RGB") for p in sorted(source.iterdir())
                 if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    else:
        bases = [Image.fromarray(astronaut())]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = bases[i % len(bases)]
        s = size * (1 + 0.1 * rng.random())
        img = base.resize((int(s), int(s)), Image.BICUBIC)
        dx, dy = rng.integers(0, int(s) - size + 1, 2)
        img = img.crop((dx, dy, dx + size, dy + size))
        arr = np.clip(np.asarray(img, np.float32) * (0.9 + 0.2 * rng.random()), 0, 255)
        Image.fromarray(arr.astype(np.uint8)).save(folder / f"p{i:05d}.jpg", quality=92)


def bare_forward(model: str, target: str, n: int, batch: int, device: str, options: dict) -> float:
    """photos/s of the model forward alone on aligned crops (what apply runs per face)."""
    from skimage.data import astronaut

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

    editor = Editor.from_pretrained(model, device=device)
    face = editor.detector.detect(astronaut())[0]
    crop = editor.align(astronaut(), [face])[0].crop
    crops = np.repeat(crop[None], batch, 0)
    request = EditRequest.of(target, **options)
    editor.edit_crops(crops, request)  # warm-up
    t0 = time.perf_counter()
    done = 0
    while done < n:
        editor.edit_crops(crops[: min(batch, n - done)], request)
        done += min(batch, n - done)
    return n / (time.perf_counter() - t0)


# Runs a command and prints its peak RSS (KiB): a fresh parent per measurement, so
# RUSAGE_CHILDREN holds that command's own peak and nothing from earlier runs.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def end_to_end(model: str, target: str, photos: Path, out: Path, batch: int, device: str,
               workers: int, stage: str | None) -> tuple[float, float]:
    """(photos/s, peak RSS MiB) of `faceedit apply` over a folder, in a child process."""
    cmd = [sys.executable, "-m", "faceedit", "-q", "apply", "-m", model, "-t", target,
           str(photos), "-o", str(out), "-b", str(batch), "--device", device,
           "--workers", str(workers)] + (["--stage", stage] if stage else [])
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *cmd], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"faceedit apply failed ({r.returncode}):\n{r.stderr}")
    n = len(list(photos.iterdir()))
    return n / dt, int(r.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="reggan")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--photos", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--size", type=int, default=512, help="photo side in pixels")
    ap.add_argument("--source", type=Path, default=None,
                    help="folder of real photos to build the set from (default: the astronaut)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--stage", default=None, help="model stage (RegGAN: expression | refined)")
    args = ap.parse_args()

    import torch

    print(f"machine: {os.cpu_count()} cpu, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), cuda={torch.cuda.is_available()}")
    print(f"model {args.model} target {args.target} stage {args.stage or 'default'}, "
          f"{args.size}px photos from "
          f"{args.source or 'the astronaut'}, "
          f"batch {args.batch_size}, workers {args.workers}, device {args.device}")
    bare = bare_forward(args.model, args.target, 64, args.batch_size, args.device,
                        {"stage": args.stage} if args.stage else {})
    print(f"bare forward on aligned crops: {bare:.2f} photos/s")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in args.photos:
            photos = Path(tmp) / f"in{n}"
            make_photos(photos, n, args.size, args.source)
            rate, peak = end_to_end(args.model, args.target, photos, Path(tmp) / f"out{n}",
                                    args.batch_size, args.device, args.workers, args.stage)
            results[n] = (rate, peak)
            print(f"end to end, {n:5d} photos: {rate:.2f} photos/s "
                  f"({rate / bare:.2f}x bare forward), peak RSS {peak:.0f} MiB")
        ns = sorted(results)
        if len(ns) > 1:
            lo, hi = results[ns[0]][1], results[ns[-1]][1]
            print(f"peak RSS {ns[-1]} vs {ns[0]} photos: {hi / lo:.3f}x "
                  f"({'within' if hi <= 1.1 * lo else 'NOT within'} 10 %)")


if __name__ == "__main__":
    main()
