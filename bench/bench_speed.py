"""Issue 57's speed bars in one run: photos against MediaPipe on LiteRT, two clips against their
transcode, and the fast render's PSNR against the exact one.

    OMP_NUM_THREADS=1 python bench/bench_speed.py [--photos 96] [--rounds 3] [--model reggan]
        [--target happy] [--seconds 4] [--grid ../shared/data/grid/bbaf2n.mpg] [--repeat 3]
        [--psnr-photos 24] [--psnr-targets happy,surprised,sad] [--skip photos,video,psnr] [--workers 2]

What each part runs (the functions of the benches it names, not copies of them):

(a) photos: ``--photos`` London photos of 512 px (bench_apply.make_photos); each of ``--rounds``
    rounds runs MediaPipe's .tflite graph on LiteRT over them (decode + detect + one mesh pass +
    encode on 2 threads: bench_perception.MediaPipeAnchor, perception_rate) and then ``faceedit
    apply -m MODEL -t TARGET --workers WORKERS`` (apply's default 2) on them in a fresh process
    (start-up and model load included: bench_perception.apply_run). Printed: the median photos/s of each, the median of the
    photos/s ratio taken within each round (bar: >= 0.25), and the CPU-ms a photo (all threads;
    apply's whole process) with their ratio, anchor over apply (steadier on a shared machine);
(b) video: a 720p clip of the astronaut under bench_video's camera motion (a moving face,
    ``--seconds`` at 25 fps; bench_video.make_clip) and a real GRID talking clip (``--grid``,
    360x288, 75 frames), each edited by ``edit_video`` with its defaults (key frames, 2 workers;
    the model and tracker loaded before the clock) and transcoded (bench_video.transcode: decode,
    RGB, encode with the same settings) in turn, ``--repeat`` times. Printed: median frames/s of
    both, the median ratio within each turn (bars: 720p >= 0.3, GRID >= 0.25), CPU-ms a frame
    (the process, all threads) and its ratio, transcode over edit;
(c) PSNR: the first ``--psnr-photos`` of the same photos, each edited by the model to each of
    ``--psnr-targets`` (``faceedit.flow.edit_faces`` on the faces found once) with the default
    render and inside ``faceedit.stage.precision.exact_render()``; PSNR (8-bit, all three
    channels) of the two inside each face's detected box. Printed: min and median over the
    edits (bar: min >= 45 dB; "inf" where the two are the same bytes), and the CPU-ms an edit
    of each render (one thread).

The default run took 532 s and 390 s wall on the shared 2-core development machine at load
10-19; ``--photos``,
``--rounds``, ``--seconds``, ``--repeat``, ``--psnr-photos`` make it smaller, ``--skip`` leaves
parts out.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_apply import make_photos  # noqa: E402
from bench_perception import MediaPipeAnchor, apply_run, perception_rate  # noqa: E402
from bench_video import _cpu, make_clip, transcode  # noqa: E402

BARS = {"photos": 0.25, "720p": 0.3, "grid": 0.25, "psnr": 45.0}


def med(xs) -> float:
    return float(np.median(xs))


def photos_part(files: list[Path], tmp: Path, args) -> None:
    """(a): the anchor and apply, once each a round."""
    from faceedit.weights import installed_weights_dir

    anchor = MediaPipeAnchor(installed_weights_dir())
    cmd = ["-m", args.model, "-t", args.target, str(files[0].parent), "--device", "cpu", "--workers", str(args.workers)]
    rates: dict[str, list[float]] = {"anchor": [], "apply": []}
    cpus: dict[str, list[float]] = {"anchor": [], "apply": []}
    for k in range(args.rounds):
        r, ms, _ = perception_rate(files, tmp / "out-anchor", 2, lambda ims: [anchor(im) for im in ims])
        rates["anchor"].append(r)
        cpus["anchor"].append(ms)
        r, ms, _ = apply_run(files, tmp, cmd, "litert", k)
        rates["apply"].append(r)
        cpus["apply"].append(ms)
        print(f"  round {k + 1}: anchor {rates['anchor'][-1]:.1f} photos/s ({cpus['anchor'][-1]:.1f} CPU-ms), "
              f"apply {r:.2f} photos/s ({ms:.1f} CPU-ms), load {os.getloadavg()[0]:.1f}", flush=True)
    # the fixed part: apply on one photo (interpreter start, imports, model load, one edit)
    _, one_ms, _ = apply_run(files[:1], tmp, ["-m", args.model, "-t", args.target, str(files[0]),
                                             "--device", "cpu"], "litert", -1)
    ratio = med(np.array(rates["apply"]) / np.array(rates["anchor"]))
    cpu_ratio = med(np.array(cpus["anchor"]) / np.array(cpus["apply"]))
    print(f"(a) apply -m {args.model} -t {args.target} --workers {args.workers}, {len(files)} photos of 512 px, model load included: "
          f"{med(rates['apply']):.2f} photos/s against the anchor's {med(rates['anchor']):.1f}: "
          f"ratio {ratio:.3f} (bar {BARS['photos']}: {'met' if ratio >= BARS['photos'] else 'NOT met'}); "
          f"CPU-ms a photo {med(cpus['apply']):.1f} against {med(cpus['anchor']):.1f}: CPU ratio {cpu_ratio:.3f}",
          flush=True)
    n = len(files)
    print(f"    apply on one photo (start-up, imports, model load, one edit): {one_ms:.0f} CPU-ms; so "
          f"{(med(cpus['apply']) * n - one_ms) / max(n - 1, 1):.1f} CPU-ms for each further photo", flush=True)


def clip_part(name: str, clip: str, editor, tmp: Path, args, bar: float) -> None:
    """(b) for one clip: edit_video (defaults) and the transcode in turn, ``--repeat`` times."""
    from faceedit.models.request import EditRequest
    from faceedit.video.runner import VideoSettings, edit_video

    fps, plain, cpu, plain_cpu, keys = [], [], [], [], []
    for _ in range(args.repeat):
        c0 = _cpu()
        r = edit_video(editor, clip, str(tmp / f"out-{name}.mp4"), EditRequest(args.target),
                       VideoSettings(), progress=False)
        cpu.append((_cpu() - c0) / r.frames * 1000)
        c0 = _cpu()
        plain.append(transcode(clip, str(tmp / f"plain-{name}.mp4")))
        plain_cpu.append((_cpu() - c0) / r.frames * 1000)
        fps.append(r.fps)
        keys.append(r.keys)
    ratio = med(np.array(fps) / np.array(plain))
    cpu_ratio = med(np.array(plain_cpu) / np.array(cpu))
    print(f"(b) {name}: {r.frames} frames ({keys[-1]} key frames), edit {med(fps):.2f} frames/s against the "
          f"transcode's {med(plain):.1f}: ratio {ratio:.3f} (turns {', '.join(f'{a / b:.3f}' for a, b in zip(fps, plain))}; "
          f"bar {bar}: {'met' if ratio >= bar else 'NOT met'}); CPU-ms a frame {med(cpu):.1f} against "
          f"{med(plain_cpu):.1f}: CPU ratio {cpu_ratio:.3f}; load {os.getloadavg()[0]:.1f}", flush=True)


def video_part(tmp: Path, args) -> None:
    from faceedit.api import Editor
    from faceedit.video.runner import default_tracker

    clip720 = str(tmp / "clip720.mp4")
    make_clip(clip720, 720, args.seconds, clip="camera")
    editor = Editor.from_pretrained(args.model)
    default_tracker(editor)  # the detector and identity network loaded before the clock
    clip_part("720p, moving face (synthetic)", clip720, editor, tmp, args, BARS["720p"])
    clip_part(f"GRID {Path(args.grid).name}", str(args.grid), editor, tmp, args, BARS["grid"])


def psnr_in_box(a: np.ndarray, b: np.ndarray, box) -> float:
    """PSNR (8-bit, every channel) of ``a`` against ``b`` inside ``box`` (x0, y0, x1, y1), clipped
    to the photo; inf where they are the same."""
    h, w = a.shape[:2]
    x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x1, y1 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    d = a[y0:y1, x0:x1].astype(np.float64) - b[y0:y1, x0:x1]
    mse = float(np.mean(d * d))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def psnr_part(files: list[Path], args) -> None:
    """(c): every photo to every target, default and exact render, PSNR in each face's box."""
    from PIL import Image

    from faceedit.api import Editor
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.precision import exact_render

    editor = Editor.from_pretrained(args.model)
    targets = args.psnr_targets.split(",")
    values, spent, edits = [], {"default": 0.0, "exact": 0.0}, 0
    worst = None
    for p in files[: args.psnr_photos]:
        im = np.asarray(Image.open(p).convert("RGB"))
        faces = editor.detector.detect(im)
        if not faces:
            continue
        for t in targets:
            request = editor.check_request(EditRequest.of(t, 1.0))
            c0 = time.process_time()
            fast = edit_faces(editor, im, faces, request)
            c1 = time.process_time()
            with exact_render():
                exact = edit_faces(editor, im, faces, request)
            spent["default"] += c1 - c0
            spent["exact"] += time.process_time() - c1
            edits += 1
            for f in faces:
                v = psnr_in_box(fast, exact, f.box)
                values.append(v)
                if worst is None or v < worst[0]:
                    worst = (v, p.name, t)
    if worst is None:
        print("(c) no face found")
        return
    lo, mid = min(values), med(values)
    where = "every edit the same bytes" if lo == float("inf") else f"{worst[1]}, {worst[2]}"
    print(f"(c) PSNR of the default render against exact_render() in the face box, {args.model}, "
          f"{len(values)} faces ({edits} edits: {min(args.psnr_photos, len(files))} photos x {', '.join(targets)}): "
          f"min {lo:.2f} dB ({where}), median {mid:.2f} dB (bar {BARS['psnr']}: "
          f"{'met' if lo >= BARS['psnr'] else 'NOT met'}); CPU-ms an edit, one thread: default "
          f"{1000 * spent['default'] / edits:.1f}, exact {1000 * spent['exact'] / edits:.1f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=96)
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared/data/london/neutral",
                    help="folder of photos to build the set from (absent: the astronaut)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of anchor + apply (medians printed)")
    ap.add_argument("--model", default="reggan")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--workers", type=int, default=2, help="apply's --workers in (a) (its default 2)")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of the 720p clip")
    ap.add_argument("--grid", type=Path, default=ROOT.parent / "shared/data/grid/bbaf2n.mpg")
    ap.add_argument("--repeat", type=int, default=3, help="edit + transcode turns per clip")
    ap.add_argument("--psnr-photos", type=int, default=24)
    ap.add_argument("--psnr-targets", default="happy,surprised,sad")
    ap.add_argument("--skip", default="", help="parts to leave out: photos, video, psnr (comma-separated)")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    from faceedit.faces.detectors.mediapipe import litert_status

    if litert_status() is not None:
        sys.exit(f"needs the LiteRT runtime: {litert_status()}")
    start, c0 = time.perf_counter(), time.process_time()
    print(f"machine: {os.cpu_count()} cpu, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load "
          f"{os.getloadavg()[0]:.1f}; model {args.model}, target {args.target}", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_photos(tmp / "in", args.photos, 512, args.source if args.source.is_dir() else None)
        files = sorted((tmp / "in").iterdir())
        if "photos" not in skip:
            photos_part(files, tmp, args)
        if "video" not in skip:
            video_part(tmp, args)
        if "psnr" not in skip:
            psnr_part(files, args)
    print(f"({time.perf_counter() - start:.0f} s wall, {time.process_time() - c0:.0f} s CPU of this process; "
          f"load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
