"""Benchmark `faceedit apply` end to end against the decode+encode-only floor, stage by stage.

    python bench/bench_pipeline.py --models stage reggan --photos 200

One run, same photos, same machine:

1. floor: every photo read with faceedit's io (``read_image``) and written back as ``apply``
   writes its output (``write_image``, same format, ``like=`` the source, quality 95), on
   ``--workers`` threads as ``apply`` decodes and encodes; photos/s;
2. end to end, per model: ``faceedit apply -m MODEL -t TARGET <folder> -o <out>`` in a fresh
   process (interpreter start, imports and model load included); photos/s, the ratio to the
   floor, and where the time goes: the process records its stage timings
   (``FACEEDIT_TIMINGS``, :mod:`faceedit.log`) around the real code paths: decode, detect,
   landmarks, align, stage, forward, paste, encode, plus load (model and detector weights) and
   start-up (process start to the model load: interpreter and imports). Stage times are summed
   over the worker threads, so they add up to more than the wall time when threads overlap;
   shares are of that sum;
3. start-up: ``faceedit apply -m stage -t happy one.jpg -o out/`` on one photo in a fresh
   process, ``--startup-runs`` times: median time from process start to the model load, to the
   first face detected, and to the process's exit.

The photos are the London set's neutral faces (``../shared/data/london/neutral``) cycled and
made ``--size`` px square by :func:`bench_apply.make_photos` (each slightly rescaled, shifted
and brightened, so no two files are the same).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apply import make_photos  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("decode", "detect", "landmarks", "align", "stage", "forward", "paste", "encode")


def floor(photos: list[Path], out: Path, workers: int, quality: int) -> float:
    """photos/s of decode + encode alone (faceedit's io, as apply writes its outputs)."""
    from faceedit.io.decode import read_image
    from faceedit.io.encode import write_image

    out.mkdir(parents=True, exist_ok=True)

    def one(p: Path) -> None:
        img = read_image(p)
        write_image(out / p.name, img.pixels, img.alpha, like=img, quality=quality,
                    protected=(str(p),))

    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(one, photos[: min(8, len(photos))]))  # warm-up: the codecs' first calls
        t0 = time.perf_counter()
        list(ex.map(one, photos))
        return len(photos) / (time.perf_counter() - t0)


def compiled_once() -> None:
    """The tree's modules compiled to bytecode (``__pycache__``) before its first timed run, as an
    installed package's are (pip compiles them; an editable install's first run writes them): with
    ``PYTHONDONTWRITEBYTECODE`` set and a fresh checkout every run compiled the project's ~140
    modules again, about 0.3 CPU-s of ``apply``'s start-up on the 2-core development machine."""
    import compileall

    if not getattr(compiled_once, "done", False):
        compileall.compile_dir(str(ROOT / "faceedit"), quiet=1)
        compiled_once.done = True  # type: ignore[attr-defined]


def run_apply(args: list[str], timings: Path) -> tuple[float, dict]:
    """Run ``faceedit apply ARGS`` in a fresh process recording its timings: (wall seconds from
    the spawn to the exit, the timings with ``spawned`` set to the spawn's wall-clock time); the
    tree compiled first (:func:`compiled_once`)."""
    compiled_once()
    env = {**os.environ, "FACEEDIT_TIMINGS": str(timings)}
    cmd = [sys.executable, "-m", "faceedit", "-q", "apply", *args]
    spawned = time.time()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       cwd=ROOT)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"faceedit apply failed ({r.returncode}):\n{r.stderr}")
    t = json.loads(timings.read_text())
    t["spawned"] = spawned
    return wall, t


def stage_table(t: dict) -> tuple[list[tuple[str, float]], float]:
    """[(stage, thread-seconds)] in pipeline order with start-up and load first, and their sum."""
    secs = t["seconds"]
    rows = [("start-up", t["marks"]["load"] - t["spawned"]), ("load", secs.get("load", 0.0))]
    rows += [(s, secs.get(s, 0.0)) for s in STAGES]
    return rows, sum(v for _, v in rows)


def end_to_end(model: str, target: str, photos: Path, out: Path, n: int, batch: int,
               workers: int, floor_rate: float) -> None:
    wall, t = run_apply(["-m", model, "-t", target, str(photos), "-o", str(out),
                         "-b", str(batch), "--workers", str(workers), "--device", "cpu"],
                        out.parent / f"timings-{model}.json")
    rate = n / wall
    rows, busy = stage_table(t)
    startup, load = rows[0][1], rows[1][1]
    print(f"\n{model}: end to end {rate:.2f} photos/s ({n} photos in {wall:.2f} s, start-up "
          f"{startup:.2f} s and model load {load:.2f} s included); "
          f"ratio to the floor {rate / floor_rate:.3f}x")
    print(f"  without start-up and load: {n / max(wall - startup - load, 1e-9):.2f} photos/s")
    print(f"  {'stage':10s} {'seconds':>8s} {'ms/photo':>9s} {'share':>6s}")
    for name, v in rows:
        print(f"  {name:10s} {v:8.2f} {1000 * v / n:9.1f} {100 * v / busy:5.1f}%")
    print(f"  {'sum':10s} {busy:8.2f} {1000 * busy / n:9.1f}  (thread-seconds; wall {wall:.2f} s)")


def startup(one: Path, out: Path, runs: int) -> None:
    load, face, total = [], [], []
    for i in range(runs):
        o = out / f"run{i}"
        wall, t = run_apply(["-m", "stage", "-t", "happy", str(one), "-o", str(o)],
                            out / f"timings-startup{i}.json")
        load.append(t["marks"]["load"] - t["spawned"])
        face.append(t["marks"]["first face"] - t["spawned"])
        total.append(wall)
    med = statistics.median
    print(f"\nstart-up, `faceedit apply -m stage -t happy one.jpg -o out/`, median of {runs} fresh "
          f"processes: model load starts at {med(load):.2f} s, first face detected at "
          f"{med(face):.2f} s, exit at {med(total):.2f} s")
    print("  runs (first face / exit): " + ", ".join(f"{f:.2f}/{w:.2f}" for f, w in zip(face, total)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=["stage", "reggan"],
                    help="models to run end to end (none: the floor and the start-up only)")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--size", type=int, default=512, help="photo side in pixels")
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared/data/london/neutral",
                    help="folder of photos to build the set from")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quality", type=int, default=95, help="as apply's --quality (default 95)")
    ap.add_argument("--startup-runs", type=int, default=5, help="0: skip the start-up runs")
    args = ap.parse_args()

    import torch

    print(f"machine: {os.cpu_count()} cpu, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads); {args.photos} photos of {args.size} px from {args.source}; target "
          f"{args.target}, batch {args.batch_size}, workers {args.workers}, device cpu")
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "in"
        make_photos(photos, args.photos, args.size, args.source)
        files = sorted(photos.iterdir())
        rate = floor(files, Path(tmp) / "floor", args.workers, args.quality)
        print(f"floor (decode + encode only, {args.workers} threads): {rate:.1f} photos/s")
        for model in args.models:
            end_to_end(model, args.target, photos, Path(tmp) / f"out-{model}", len(files),
                       args.batch_size, args.workers, rate)
        if args.startup_runs:
            startup(files[0], Path(tmp) / "startup", args.startup_runs)


if __name__ == "__main__":
    main()
