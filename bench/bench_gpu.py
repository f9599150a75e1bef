"""A GPU machine's check of the whole command line: every model's ``apply`` on the GPU and on the
CPU of the same machine (two photos, two targets), compared; RegGAN's and LeGAN's refiners on;
a few ``train`` steps of each method on the GPU; the wall time of each command in a fresh process;
``apply -m reggan -t happy`` on a batch of 512-px photos on each device, timed.

    python bench/bench_gpu.py -o OUT                       # cuda against cpu
    python bench/bench_gpu.py -o OUT --devices mps,cpu      # an Apple GPU
    python bench/bench_gpu.py -o OUT --devices cpu --models stage   # a dry run on any machine

Photos: scikit-image's astronaut (512 px) and the same upscaled to 1024 px (no data set needed).
Prints one line per command (model, device, exit code, seconds) and, per output, the PSNR of the
GPU's against the CPU's over the whole photo, the largest difference (levels) and the share of
pixels that differ; writes the same as ``OUT/summary.json`` (a failed command's stderr tail
included). The ``train`` steps use a tiny paired set made from the astronaut (a bright patch
over the mouth) prepared at 128 px, each method's own architecture, ``--steps 3 -b 2 --no-eval``.
The batch (``--batch N``, 8 by default, 0 for none): the astronaut mirrored and shifted, one command per
device in a fresh process, model load and the detector included.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

MODELS = ("stage", "reggan", "eggan", "legan", "lssl", "secgan")
METHODS = MODELS[1:]
REFINED = ("reggan", "legan")


def faceedit(args: list[str], timeout: float) -> tuple[int, float, str]:
    """``python -m faceedit ARGS`` in a fresh process: exit code, wall seconds, output tail."""
    t = time.time()
    p = subprocess.run([sys.executable, "-m", "faceedit", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, round(time.time() - t, 1), (p.stdout[-600:] + "\n" + p.stderr[-1500:]).strip()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else round(10 * np.log10(255.0 ** 2 / mse), 2)


def photos(work: Path) -> list[Path]:
    import skimage.data

    a = skimage.data.astronaut()
    paths = [work / "astronaut.png", work / "astronaut1024.png"]
    Image.fromarray(a).save(paths[0])
    Image.fromarray(a).resize((1024, 1024), Image.LANCZOS).save(paths[1])
    return paths


def batch(work: Path, n: int) -> Path:
    """``n`` distinct 512-px photos: the astronaut mirrored or not and rolled by a few pixels."""
    import skimage.data

    a, d = skimage.data.astronaut(), work / "batch"
    d.mkdir()
    for i in range(n):
        img = np.roll(a[:, ::-1] if i % 2 else a, (i // 2) * 3, axis=1)
        Image.fromarray(np.ascontiguousarray(img)).save(d / f"p{i:02d}.png")
    return d


def pairs(work: Path) -> Path:
    """A tiny prepared paired set (``faceedit prepare`` of six shifted astronauts and their copies
    with a bright mouth patch)."""
    import skimage.data

    a = skimage.data.astronaut()
    raw = work / "raw"
    for d in ("source", "target"):
        (raw / d).mkdir(parents=True, exist_ok=True)
    for i, (dx, dy) in enumerate([(0, 0), (6, 2), (-4, 5), (3, -3), (2, 2), (-2, 1)]):
        img = np.roll(np.roll(a, dy, 0), dx, 1)
        tgt = img.copy()
        tgt[150 + dy:170 + dy, 195 + dx:250 + dx] = 250
        Image.fromarray(img).save(raw / "source" / f"{i}.png")
        Image.fromarray(tgt).save(raw / "target" / f"{i}.png")
    rc, _, tail = faceedit(["prepare", str(raw), "-o", str(work / "pairs"), "--size", "128"], 300)
    if rc:
        raise SystemExit(f"prepare failed:\n{tail}")
    return work / "pairs"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--devices", default="cuda,cpu", help="the GPU, then the CPU to compare with (one: no comparison)")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--no-train", action="store_true")
    p.add_argument("--batch", type=int, default=8, help="photos in the timed batch (0: none)")
    a = p.parse_args(argv)
    devices, models = a.devices.split(","), a.models.split(",")
    a.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_gpu_"))
    inputs = photos(work)
    rows: list[dict] = []
    jobs = [(m, []) for m in models] + [(m, ["--set", "refine=on"]) for m in REFINED if m in models]
    for model, extra in jobs:
        tag = model + ("+refine" if extra else "")
        outs = {}
        for dev in devices:
            outs[dev] = work / f"{dev}_{tag}"
            rc, s, tail = faceedit(["apply", "-m", model, "-t", "surprised,happy", *map(str, inputs),
                                    "-o", str(outs[dev]), "--device", dev, *extra], 600)
            rows.append({"apply": tag, "device": dev, "rc": rc, "s": s, **({"tail": tail} if rc else {})})
            print(f"apply {tag:14s} {dev:6s} rc {rc} {s:6.1f} s", flush=True)
        if len(devices) > 1:
            for f in sorted(outs[devices[0]].glob("*.png")):
                g = outs[devices[1]] / f.name
                if g.is_file():
                    x, y = np.asarray(Image.open(f)), np.asarray(Image.open(g))
                    diff = np.abs(x.astype(int) - y.astype(int))
                    row = {"apply": tag, "file": f.name, "psnr": psnr(x, y), "max": int(diff.max()),
                           "differ": round(float((diff > 0).any(-1).mean()), 5)}
                    rows.append(row)
                    print(f"  {f.name:28s} {devices[0]} vs {devices[1]}: PSNR {row['psnr']} dB, max {row['max']}, "
                          f"{row['differ']:.2%} of pixels differ", flush=True)
    if not a.no_train:
        data = pairs(work)
        for m in METHODS:
            rc, s, tail = faceedit(["train", "-m", m, "-d", str(data), "-o", str(work / f"run_{m}"), "--steps", "3",
                                    "-b", "2", "--device", devices[0], "--no-eval"], 600)
            rows.append({"train": m, "device": devices[0], "rc": rc, "s": s, **({"tail": tail} if rc else {})})
            print(f"train {m:14s} {devices[0]:6s} rc {rc} {s:6.1f} s", flush=True)
    if a.batch:
        src = batch(work, a.batch)
        for dev in devices:
            rc, s, tail = faceedit(["apply", "-m", "reggan", "-t", "happy", str(src), "-o", str(work / f"batch_{dev}"),
                                    "--device", dev], 600)
            rows.append({"batch": a.batch, "device": dev, "rc": rc, "s": s, **({"tail": tail} if rc else {})})
            print(f"batch of {a.batch} reggan happy {dev:6s} rc {rc} {s:6.1f} s", flush=True)
    (a.out / "summary.json").write_text(json.dumps(rows, indent=1))
    return int(any(r.get("rc") for r in rows))


if __name__ == "__main__":
    sys.exit(main())
