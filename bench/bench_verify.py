"""What `faceedit apply --verify` reads on held-out London faces, and what it costs.

    python bench/bench_verify.py readings --data ../shared/data/london_hd --model reggan
    python bench/bench_verify.py cost --data ../shared/data/london --photos 48 --rounds 3 [--cli]
    python bench/bench_verify.py video --model stage --seconds 2 --rounds 3

``readings``: the held-out London subjects' neutral photos (the seeded 20 % every model card
holds out, ``faceedit.data.holdout_subjects`` over ``london-<id>``) edited to ``--target`` at
strength 1 and 0.05; per strength the target's probability and the identity cosine each output
reads (``Record.measured``) and how many outputs pass a few thresholds. Beside them, on the
same photos unedited: the identity cosine of each held-out person's neutral and smiling photo
(same person), of every two different held-out people, and the classifier's probability of the
target on the real smiles. ``--verify``'s defaults (``faceedit.analysis.measure``) are chosen
from these.

``cost``: the same run of N photos (the London neutral photos, cycled) with and without
``--verify`` (which measures every output), alternating, in this process with one loaded model
(model loading and interpreter start, which the command line adds to both, left out, so the
ratio is the upper bound); prints each run's wall and CPU seconds, the median wall times and
their ratio, and the ratio of the CPU seconds summed over the rounds (steadier where other jobs
share the machine). ``cost --cli``: the command line itself in subprocesses, ``faceedit -q
apply`` against ``faceedit -q apply --json --verify``, start and model loading included.

``video``: a 720p clip of the astronaut under ``faceedit.video.synth``'s camera (``--seconds``
at 25 fps) through the video engine with and without ``verify`` (a few edited frames a person
read, ``faceedit.video.runner.FaceSamples``), alternating, one loaded model and reader; prints
each run, the median wall times and their ratio, the ratio of the CPU seconds summed over the
rounds (steadier on a shared machine), and what the record read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def held_out(data: Path) -> list[str]:
    """The held-out subjects' ids (file stems) of a London folder (``neutral/``, ``smiling/``)."""
    from faceedit.data import holdout_subjects

    stems = sorted(p.stem for p in (data / "neutral").glob("*.jpg"))
    held = holdout_subjects({f"london-{s}" for s in stems}, 0.2, 0)
    return [s for s in stems if f"london-{s}" in held]


def run_apply(editor, paths: list[str], out: str, targets: list[str], strengths: list[float], **options) -> list:
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    opts = ApplyOptions(targets=targets, strengths=strengths, out_dir=out, overwrite=True,
                        face="largest", **options)
    return list(ApplyRun.local(editor, opts, progress=False).run(paths))


def readings(args) -> None:
    from faceedit.analysis.measure import ANALYSIS_TEMPLATE, FaceReader
    from faceedit.api import Editor
    from faceedit.faces.align import align_face
    from faceedit.io.decode import read_image

    ids = held_out(args.data)
    paths = [str(args.data / "neutral" / f"{s}.jpg") for s in ids]
    print(f"{len(ids)} held-out London subjects: {' '.join(ids)}")
    editor = Editor.from_pretrained(args.model, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        recs = run_apply(editor, paths, tmp, [args.target], [1.0, 0.05], measure=True)
    for s in (1.0, 0.05):
        rows = [r for r in recs if r.strength == s and r.measured]
        p = np.array([m["target_prob"] for r in rows for m in r.measured], float)
        ident = np.array([m["identity"] for r in rows for m in r.measured], float)
        p_in = np.array([m["input_target_prob"] for r in rows for m in r.measured], float)
        print(f"\n{args.model} -t {args.target} -s {s:g}: {len(rows)} outputs "
              f"({sum(r.status != 'ok' for r in recs if r.strength == s)} not ok)")
        print(f"  p({args.target}) output: min {p.min():.3f} median {np.median(p):.3f} max {p.max():.3f}"
              f"   input: median {np.median(p_in):.3f} max {p_in.max():.3f}")
        print(f"  identity: min {ident.min():.3f} median {np.median(ident):.3f}")
        print("  outputs with p >= " + ", ".join(f"{t:g}: {(p >= t).sum()}" for t in (0.3, 0.4, 0.5, 0.6, 0.7)))
        print("  per photo (id p identity): " + " ".join(
            f"{Path(r.input).stem}:{m['target_prob']:.2f}/{m['identity']:.2f}" for r in rows for m in r.measured))

    # the same people unedited: identity of neutral vs smiling, and of different people
    reader = FaceReader("cpu")
    crops: dict[tuple[str, str], np.ndarray] = {}
    for s in ids:
        for kind in ("neutral", "smiling"):
            img = read_image(args.data / kind / f"{s}.jpg").pixels
            faces = editor.detector.detect(img)
            if faces:
                crops[(s, kind)] = align_face(img, max(faces, key=lambda f: f.area), ANALYSIS_TEMPLATE).crop
    keys = list(crops)
    emb = reader.identity.embed(reader._tensor([crops[k] for k in keys])).detach().numpy()
    probs = reader.classifier.probs(reader._tensor([crops[k] for k in keys])).detach().numpy()
    sim = emb @ emb.T
    same = [sim[i, j] for i in range(len(keys)) for j in range(i + 1, len(keys)) if keys[i][0] == keys[j][0]]
    diff = [sim[i, j] for i in range(len(keys)) for j in range(i + 1, len(keys)) if keys[i][0] != keys[j][0]]
    t = reader.classifier.labels.index(args.target) if args.target in reader.classifier.labels else None
    print(f"\nunedited: same person (neutral vs smiling photo) identity min {min(same):.3f} "
          f"median {np.median(same):.3f} ({len(same)} pairs); different people max {max(diff):.3f} "
          f"99th pct {np.percentile(diff, 99):.3f} median {np.median(diff):.3f} ({len(diff)} pairs)")
    print("  different-people pairs at or above " + ", ".join(
        f"{t:g}: {sum(d >= t for d in diff)}" for t in (0.4, 0.5, 0.6, 0.7)))
    if t is not None:
        real = [probs[i, t] for i, k in enumerate(keys) if k[1] == "smiling"]
        neutral = [probs[i, t] for i, k in enumerate(keys) if k[1] == "neutral"]
        print(f"p({args.target}) on the real smiles: min {min(real):.3f} median {np.median(real):.3f}; "
              f"on the neutral photos: median {np.median(neutral):.3f} max {max(neutral):.3f}")


def cost_cli(args, inputs: list[str], tmp: str) -> None:
    """``cost --cli``: the command itself, ``faceedit -q apply`` on the folder of ``inputs``
    with and without ``--json --verify``, alternating (interpreter start and model loading
    included in both)."""
    import resource
    import subprocess

    def child_cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime

    folder = str(Path(inputs[0]).parent)
    times: dict[str, list[float]] = {"plain": [], "verify": []}
    cpu: dict[str, list[float]] = {"plain": [], "verify": []}
    for r in range(args.rounds):
        for mode in (("plain", "verify") if r % 2 == 0 else ("verify", "plain")):
            cmd = [sys.executable, "-m", "faceedit", "-q", "apply", "-m", args.model, "-t", args.target,
                   folder, "-o", str(Path(tmp) / f"cli-{mode}{r}")]
            cmd += ["--json", "--verify", "--verify-min-prob", "0", "--verify-min-identity", "-1"] if mode == "verify" else []
            t0, c0 = time.perf_counter(), child_cpu()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[mode].append(time.perf_counter() - t0)
            cpu[mode].append(child_cpu() - c0)
            print(f"round {r} {mode:6s} {times[mode][-1]:7.2f} s wall {cpu[mode][-1]:7.2f} s CPU (command)",
                  flush=True)
    plain, verify = statistics.median(times["plain"]), statistics.median(times["verify"])
    print(f"\n{args.photos} photos ({args.data.name}), `faceedit apply -m {args.model} -t {args.target}`: "
          f"median {plain:.2f} s, with --json --verify {verify:.2f} s: ratio {verify / plain:.3f}; summed "
          f"{sum(times['plain']):.2f} vs {sum(times['verify']):.2f} s: {sum(times['verify']) / sum(times['plain']):.3f}")
    print(f"CPU seconds of the commands, summed: {sum(cpu['plain']):.2f} vs {sum(cpu['verify']):.2f}: "
          f"ratio {sum(cpu['verify']) / sum(cpu['plain']):.3f}")


def cost(args) -> None:
    from faceedit.api import Editor

    sources = sorted((args.data / "neutral").glob("*.jpg"))
    paths = [str(sources[i % len(sources)]) for i in range(args.photos)]
    times: dict[str, list[float]] = {"plain": [], "verify": []}
    cpu: dict[str, list[float]] = {"plain": [], "verify": []}
    with tempfile.TemporaryDirectory() as tmp:
        # each photo once under its own name: repeated sources are distinct inputs
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i, p in enumerate(paths):
            (folder / f"p{i:04d}.jpg").symlink_to(Path(p).resolve())
        inputs = sorted(str(p) for p in folder.iterdir())
        if args.cli:
            cost_cli(args, inputs, tmp)
            return
        editor = Editor.from_pretrained(args.model, device="cpu")
        run_apply(editor, inputs[:4], str(Path(tmp) / "warm"), [args.target], [1.0], verify=True)
        for r in range(args.rounds):
            order = ("plain", "verify") if r % 2 == 0 else ("verify", "plain")
            for mode in order:
                t0, c0 = time.perf_counter(), time.process_time()
                recs = run_apply(editor, inputs, str(Path(tmp) / f"{mode}{r}"), [args.target], [1.0],
                                 verify=mode == "verify", verify_min_prob=0.0, verify_min_identity=-1.0)
                times[mode].append(time.perf_counter() - t0)
                cpu[mode].append(time.process_time() - c0)
                bad = [x for x in recs if x.status != "ok"]
                print(f"round {r} {mode:6s} {times[mode][-1]:7.2f} s wall {cpu[mode][-1]:7.2f} s CPU  "
                      f"{len(recs)} outputs"
                      + (f", {len(bad)} not ok: {bad[0].error}" if bad else ""), flush=True)
    plain, verify = statistics.median(times["plain"]), statistics.median(times["verify"])
    print(f"\n{args.photos} photos ({args.data.name}), model {args.model}, -t {args.target}: "
          f"median {plain:.2f} s plain, {verify:.2f} s with --verify: ratio {verify / plain:.3f} "
          f"({args.photos / plain:.2f} vs {args.photos / verify:.2f} photos/s)")
    ratios = [v / p for p, v in zip(times["plain"], times["verify"])]
    print("per round wall ratios: " + " ".join(f"{x:.3f}" for x in ratios))
    print(f"CPU time (this process, all threads), summed over the rounds: {sum(cpu['plain']):.2f} s plain, "
          f"{sum(cpu['verify']):.2f} s with --verify: ratio {sum(cpu['verify']) / sum(cpu['plain']):.3f}")


def video(args) -> None:
    from skimage.data import astronaut

    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.io.inputs import InputItem
    from faceedit.plan import VIDEO, Job, PlannedOutput, RecordMaker
    from faceedit.video.batch import VideoEngine
    from faceedit.video.synth import write_clip

    editor = Editor.from_pretrained(args.model, device="cpu")
    times: dict[str, list[float]] = {"plain": [], "verify": []}
    cpu: dict[str, list[float]] = {"plain": [], "verify": []}
    with tempfile.TemporaryDirectory() as tmp:
        clip = str(Path(tmp) / "clip.mp4")
        write_clip(clip, astronaut(), int(args.seconds * 25), (1280, 720))
        engines = {}
        for mode in times:
            opts = ApplyOptions([args.target], tmp, verify=mode == "verify").validate(editor)
            engines[mode] = VideoEngine(editor, opts, RecordMaker(opts, args.model), progress=False)

        def run(mode: str, name: str):
            out = str(Path(tmp) / f"{name}.mp4")
            job = Job(0, InputItem(clip, "clip.mp4"), VIDEO, [PlannedOutput(args.target, 1.0, out)])
            (rec,) = engines[mode].edit(job, lambda: False)
            return rec.to_json()

        run("verify", "warm")
        for r in range(args.rounds):
            for mode in ("plain", "verify") if r % 2 == 0 else ("verify", "plain"):
                t0, c0 = time.perf_counter(), time.process_time()
                rec = run(mode, f"{mode}{r}")
                times[mode].append(time.perf_counter() - t0)
                cpu[mode].append(time.process_time() - c0)
                print(f"round {r} {mode:6s} {times[mode][-1]:6.2f} s wall {cpu[mode][-1]:6.2f} s CPU  {rec['frames']} frames, {rec['status']}"
                      + (f", measured {rec['measured']}" if rec["measured"] else ""), flush=True)
    plain, verify = statistics.median(times["plain"]), statistics.median(times["verify"])
    print(f"\n{args.seconds:g} s of 720p, model {args.model}, -t {args.target}: median {plain:.2f} s plain, "
          f"{verify:.2f} s with --verify: ratio {verify / plain:.3f}")
    print(f"CPU time summed over the rounds: {sum(cpu['plain']):.2f} s plain, {sum(cpu['verify']):.2f} s "
          f"with --verify: ratio {sum(cpu['verify']) / sum(cpu['plain']):.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["readings", "cost", "video"])
    p.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"),
                   help="a London folder with neutral/ and smiling/")
    p.add_argument("--model", default="reggan")
    p.add_argument("--target", default="happy")
    p.add_argument("--photos", type=int, default=48)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cli", action="store_true", help="cost: time the command in a subprocess instead")
    p.add_argument("--seconds", type=float, default=2.0, help="video: the clip's length")
    args = p.parse_args(argv)
    if args.what == "video":
        video(args)
        return 0
    if not (args.data / "neutral").is_dir():
        print(f"{args.data}: no neutral/ folder (the London set is needed)", file=sys.stderr)
        return 2
    readings(args) if args.what == "readings" else cost(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
