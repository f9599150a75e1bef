"""One function of the stage timed on the calls real edits make to it, against another tree's copy.

    OMP_NUM_THREADS=1 python bench/bench_calls.py faceedit.stage.teeth_look under_shade --base ../base
    OMP_NUM_THREADS=1 python bench/bench_calls.py faceedit.stage.lid_edge lid_edge_rise --again surprised --base ../base

The stage (``Editor.from_pretrained("stage")``) edits ``--photos`` London 512-px photos (made as
bench_stage_steps.py makes them) to each of ``--targets`` while every call of ``MODULE.FUNC`` (as
the modules that imported it by name call it) is recorded with copies of its arguments;
``--again TARGET`` edits each photo to TARGET first and records the edits of those outputs too
(a function that reads the photo before the edit then sees, say, wide-open eyes). The recorded
calls are then run ``--rounds`` times with this tree's function and, with ``--base TREE``, with
the same module loaded from TREE's file (its own imports from this tree), in turn; printed: the
median thread CPU-ms a call of each, and whether every call's outputs are equal (NaN for NaN).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def record(module: str, name: str, photos: int, targets: list[str], again: str | None) -> list[tuple]:
    from bench_stage_steps import photos as make_photos

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import StageFace

    mod = importlib.import_module(module)
    own = getattr(mod, name)
    calls: list[tuple] = []

    def recorded(*a, **k):
        calls.append(copy.deepcopy((a, k)))
        return own(*a, **k)

    users = [m for m in list(sys.modules.values()) if getattr(m, name, None) is own]
    for m in users:
        setattr(m, name, recorded)
    try:
        editor = Editor.from_pretrained("stage")
        stage = editor.stage

        def edit(im: np.ndarray, target: str) -> np.ndarray:
            faces = [StageFace(np.asarray(f.landmarks, np.float64), f.dense) for f in editor.detector.detect(im)]
            return stage.edit_photo(im, faces, EditRequest.of(target, 1.0))[0]

        for im in make_photos(photos, 512, HERE.parent.parent / "shared/data/london/neutral"):
            shown = [im] if again is None else [im, edit(im, again)]
            for src in shown:
                for t in targets:
                    edit(src, t)
    finally:
        for m in users:
            setattr(m, name, own)
    return calls


def same(a, b) -> bool:
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b, equal_nan=np.asarray(a).dtype.kind in "fc")
    return a == b or (a != a and b != b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("module")
    ap.add_argument("func")
    ap.add_argument("--photos", type=int, default=16)
    ap.add_argument("--targets", default="happy")
    ap.add_argument("--again", default=None, help="also edit each photo's edit to this target first")
    ap.add_argument("--base", type=Path, default=None, help="another tree: its copy of the module timed too")
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    calls = record(args.module, args.func, args.photos, args.targets.split(","), args.again)
    if not calls:
        sys.exit(f"no call of {args.module}.{args.func} in these edits")
    funcs = {"this tree": getattr(importlib.import_module(args.module), args.func)}
    if args.base is not None:
        path = args.base / (args.module.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(args.module + "_base", path)
        base = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(base)
        funcs = {"base": getattr(base, args.func), **funcs}
    outs = {k: [f(*copy.deepcopy(a), **copy.deepcopy(kw)) for a, kw in calls] for k, f in funcs.items()}
    spent: dict[str, list[float]] = {k: [] for k in funcs}
    for _ in range(args.rounds):
        for k, f in funcs.items():
            todo = copy.deepcopy(calls)
            t = time.thread_time()
            for a, kw in todo:
                f(*a, **kw)
            spent[k].append((time.thread_time() - t) / len(calls) * 1000)
    print(f"{args.module}.{args.func}: {len(calls)} calls; CPU-ms a call, median of {args.rounds} rounds: "
          + ", ".join(f"{k} {np.median(v):.3f}" for k, v in spent.items()))
    if args.base is not None:
        equal = sum(same(x, y) for x, y in zip(outs["base"], outs["this tree"]))
        print(f"outputs equal to base's on {equal} of {len(calls)} calls")


if __name__ == "__main__":
    main()
