"""cProfile of ``faceedit apply -m MODEL -t TARGET`` through the command's own path, in this process.

    OMP_NUM_THREADS=1 python bench/profile_apply.py [--photos 16] [--model reggan] [--target happy]
        [--top 25] [--dump FILE]

The photos: ``--photos`` 512-px JPEGs made from ../shared/data/london/neutral as the speed benches
make them (bench_apply.make_photos). The command runs as ``faceedit apply ... --device cpu
--workers 1`` through its typer app (imports, option parsing, model and detector load, the head
start, the edits, the writes), the interpreter's start aside, twice: first unprofiled for the
marks below, then profiled (its imports done by the first run, its model, stage and detector
loaded again). Every thread is profiled with its own CPU clock (``time.thread_time``: a shared machine's waits are not counted) and the profiles
are merged. Printed: the CPU at the start-up's marks (the command imported, torch imported, the
apply entered, the model loaded, the photos done; taken without the profiler, in a first run),
then the profile's top ``--top`` functions by cumulative and by own time. The profiler's own
cost inflates many small calls (torch's import about 3x); the marks are the unprofiled figures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _argv(model: str, target: str, photos: Path, out: Path) -> list[str]:
    return ["apply", "-m", model, "-t", target, str(photos), "-o", str(out), "--device", "cpu", "--workers", "1"]


def marks(argv: list[str]) -> list[tuple[str, float]]:
    """CPU seconds (the process, all threads) at each mark of one unprofiled run."""
    t0 = time.process_time()
    got: list[tuple[str, float]] = []
    from faceedit.cli import app

    got.append(("faceedit.cli imported", time.process_time() - t0))
    import torch  # noqa: F401

    got.append(("torch imported", time.process_time() - t0))
    import faceedit.run as run
    load = run.ApplyRun.load_local

    def timed_load(*a, **k):
        got.append(("apply entered (options parsed and checked)", time.process_time() - t0))
        out = load(*a, **k)
        got.append(("model, stage and detector loaded (the head start under way)", time.process_time() - t0))
        return out

    run.ApplyRun.load_local = timed_load
    try:
        app(args=argv, standalone_mode=False)
    finally:
        run.ApplyRun.load_local = load
    got.append(("every photo written", time.process_time() - t0))
    return got


def profiled(argv: list[str]) -> pstats.Stats:
    """One run with every thread under cProfile on its own CPU clock, merged."""
    profiles: list[cProfile.Profile] = []
    run = threading.Thread.run

    def run_profiled(self):
        p = cProfile.Profile(time.thread_time)
        profiles.append(p)
        p.enable()
        try:
            run(self)
        finally:
            p.disable()

    threading.Thread.run = run_profiled
    main = cProfile.Profile(time.thread_time)
    try:
        from faceedit.cli import app

        main.enable()
        app(args=argv, standalone_mode=False)
    finally:
        main.disable()
        threading.Thread.run = run
    stats = pstats.Stats(main)
    for p in profiles:
        stats.add(p)
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=16)
    ap.add_argument("--model", default="reggan")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--dump", type=Path, help="write the merged profile here (pstats)")
    args = ap.parse_args()

    from bench_apply import make_photos

    gc.disable()  # as `faceedit`'s entry point holds it off through the start-up
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        make_photos(photos, args.photos, 512, HERE.parent.parent / "shared/data/london/neutral")
        got = marks(_argv(args.model, args.target, photos, Path(tmp) / "out-marks"))
        stats = profiled(_argv(args.model, args.target, photos, Path(tmp) / "out-profile"))
    prev = 0.0
    print(f"{args.photos} photos of 512 px, apply -m {args.model} -t {args.target} --workers 1; CPU-ms (unprofiled):")
    for name, t in got:
        print(f"  {1e3 * t:8.0f} (+{1e3 * (t - prev):6.0f})  {name}")
        prev = t
    if args.dump:
        stats.dump_stats(str(args.dump))
    for key in ("cumulative", "tottime"):
        print(f"\nprofile (every thread's CPU clock), by {key}:")
        stats.sort_stats(key).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
