"""Benchmark `faceedit apply` with the local engine against the Ray engine, same photos.

    python bench/bench_ray.py --photos 200

The photos: ``--photos`` JPEGs of ``--size`` px (default 512) made by
:func:`bench_apply.make_photos` from the London set's neutral faces
(``../shared/data/london/neutral``) where present, else from scikit-image's astronaut (each
slightly rescaled, shifted and brightened, so no two files are the same). Each run writes into
a fresh folder, so every photo is edited.

1. local engine: ``faceedit apply -m MODEL -t TARGET <folder> -o <out> --json`` in a fresh process
   (``--workers`` threads, default 2);
2. Ray engine: the same with ``--engine ray`` in a fresh process, which starts a private local Ray
   on this machine's cores (one actor per CPU unless ``--actors``);
3. Ray engine with Ray already running: ``ray_run`` in this process after ``start_ray``
   (as with ``--ray-address`` on a cluster started beforehand), Ray's start-up left out.

Figures per run: end to end photos/s (wall time from the process's spawn, or from the call, to
its end: interpreter start, imports, Ray's start-up where it has one, every model load (the
driver's and each actor's) included), and the steady rate: photos/s between the first and the
last --json record (the records of the photos done, as they come; start-up and loads left out).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apply import make_photos  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LONDON = ROOT.parent / "shared" / "data" / "london" / "neutral"


def timed_cli(args: list[str]) -> tuple[float, list[float]]:
    """Run ``faceedit -q apply ARGS --json`` in a fresh process: (wall seconds from the spawn to
    the exit, the seconds from the spawn at which each record line came)."""
    cmd = [sys.executable, "-m", "faceedit", "-q", "apply", *args, "--json"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    stamps = [time.perf_counter() - t0 for line in p.stdout if line.strip()]
    err = p.stderr.read()
    code = p.wait()
    wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"faceedit apply failed ({code}):\n{err}")
    return wall, stamps


def report(label: str, n: int, wall: float, stamps: list[float], note: str) -> None:
    span = stamps[-1] - stamps[0]
    steady = (len(stamps) - 1) / span if span > 0 else float("nan")
    print(f"{label:34s} {n / wall:6.2f} photos/s end to end ({n} photos in {wall:6.2f} s; "
          f"first record at {stamps[0]:5.2f} s); steady {steady:6.2f} photos/s   [{note}]",
          flush=True)


def in_process(model: str, target: str, photos: Path, out: Path,
               actors: int | None) -> tuple[float, list[float]]:
    """The Ray engine with Ray already up in this process: (seconds, record times)."""
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.ray_engine import ray_run

    t0 = time.perf_counter()
    editor = Editor.from_pretrained(model, device="cpu")
    applier = ray_run(editor, ApplyOptions([target], str(out)), model=model, device="cpu", workers=actors)
    stamps = []
    for rec in applier.run([str(photos)]):
        assert rec.status == "ok", rec
        stamps.append(time.perf_counter() - t0)
    return time.perf_counter() - t0, stamps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--model", default="stage")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--workers", type=int, default=2, help="local engine threads")
    ap.add_argument("--actors", type=int, default=None, help="Ray actors (default: one per CPU)")
    ap.add_argument("--source", type=Path, default=LONDON if LONDON.is_dir() else None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        tmp = Path(tmp)
        photos = tmp / "photos"
        make_photos(photos, args.photos, args.size, args.source)
        n = args.photos
        print(f"{n} photos of {args.size} px from {args.source or 'the astronaut'}; "
              f"`apply -m {args.model} -t {args.target}`; {os.cpu_count()} CPUs; load average "
              f"{os.getloadavg()[0]:.2f} (anything else running skews the figures)", flush=True)
        common = ["-m", args.model, "-t", args.target, str(photos), "--device", "cpu"]
        actors = [] if args.actors is None else ["--workers", str(args.actors)]

        wall, stamps = timed_cli([*common, "-o", str(tmp / "local"), "--workers", str(args.workers)])
        report("local engine", n, wall, stamps, "fresh process: start-up + model load included")
        wall, stamps = timed_cli([*common, "-o", str(tmp / "ray"), "--engine", "ray", *actors])
        report("ray engine, private local Ray", n, wall, stamps,
               "fresh process: start-up, Ray start, actor start + model loads included")

        from faceedit.ray_engine import start_ray

        t0 = time.perf_counter()
        start_ray(None)
        print(f"(Ray start-up in this process: {time.perf_counter() - t0:.2f} s, not counted below)")
        wall, stamps = in_process(args.model, args.target, photos, tmp / "ray2", args.actors)
        report("ray engine, Ray already running", n, wall, stamps,
               "actor start + model loads included")
        print(f"load average at the end: {os.getloadavg()[0]:.2f} over 1 min, "
              f"{os.getloadavg()[1]:.2f} over 5 min (this benchmark alone: about 2)")


if __name__ == "__main__":
    main()
