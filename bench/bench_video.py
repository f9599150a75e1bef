"""Benchmark video editing end to end (decode, track, edit, encode), its memory and its
temporal stability.

    OMP_NUM_THREADS=1 python bench/bench_video.py speed --models stage reggan --sizes 720 1080
    OMP_NUM_THREADS=1 python bench/bench_video.py speed --models stage --sizes 720 --repeat 5
    OMP_NUM_THREADS=1 python bench/bench_video.py speed --models stage --sizes 720 --every 8 1
    OMP_NUM_THREADS=1 python bench/bench_video.py speed --models stage --sizes 720 --every 8 1 --clip talking
    OMP_NUM_THREADS=1 python bench/bench_video.py profile --every 8 1
    OMP_NUM_THREADS=1 python bench/bench_video.py memory --seconds 10 60 --size 1080 --fps 10
    OMP_NUM_THREADS=1 python bench/bench_video.py stability --models stage --size 720
    OMP_NUM_THREADS=1 python bench/bench_video.py stability --target keep --attr glasses=round --size 720

Clips are made from scikit-image's astronaut under a smooth synthetic camera motion (pan,
zoom, roll; :mod:`faceedit.video.synth`) with a 440 Hz tone as audio; one face per frame,
about 0.3 of the frame's height (``--clip talking``: her mouth also opening and closing every 8
frames, which makes most frames key frames).

* speed: frames/s of :func:`faceedit.video.runner.edit_video` on a ``--seconds`` clip at
  25 fps, per model and frame height (the model loaded beforehand, not counted), with the CPU
  time a frame takes over all threads and the machine's load average (on a shared machine the
  frames/s follow the load; the CPU time a frame much less); beside each, in the same run, the
  frames/s of merely transcoding the same clip (decode, to RGB, encode with the same encoder
  settings: x264 superfast) and the ratio of the two (the edit's frames/s over the
  transcode's: what holds when the machine's speed drifts), and the same ratio of their CPU
  time a frame (what holds when other work shares the machine's cores); ``--every``: the
  longest run of frames that take a key frame's edit (:mod:`faceedit.video.reuse`; 1: every
  frame edited in full), several values alternated in the same run, with the key frames each made;
* profile: where a frame's CPU goes, the runner's steps run in order on one thread (decode,
  track, hold the expression, plan the key frames, edit in full or move the change, steady the
  mouth and eyes, encode), per ``--every``;
* memory: peak RSS of a subprocess editing a clip of each length (flat = the frames stream
  through bounded queues, whatever the length);
* stability: the edited face's mean frame-to-frame change once the camera motion is undone,
  against the input's (the requirement: within 1.2x), per ``--every`` as above, and a few
  frames written as PNG (``--frames DIR``) to look at.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

TARGET = "surprised"  # a large, visible change (opened mouth, raised brows)
FACE_BOX = (180, 60, 300, 220)  # the astronaut's face in the photo's pixels


def size_of(height: int) -> tuple[int, int]:
    return (height * 16 // 9 // 2 * 2, height)


def make_clip(path: str, height: int, seconds: float, fps: int = 25, clip: str = "camera") -> list:
    """The astronaut under the camera motion; ``clip`` talking: her mouth also opening and
    closing every 8 frames (:func:`faceedit.video.synth.talking`, drawn by the stage)."""
    from skimage.data import astronaut

    from faceedit.video.synth import write_clip

    photos = None
    if clip == "talking":
        from faceedit.api import Editor
        from faceedit.video.runner import default_tracker
        from faceedit.video.synth import talking

        editor = Editor.from_pretrained("stage")
        face = max(default_tracker(editor).faces([astronaut()])[0], key=lambda f: f.area)
        photos = talking(editor.stage, astronaut(), face)
    return write_clip(path, astronaut(), round(seconds * fps), size_of(height), fps=fps, photos=photos)


def _cpu() -> float:
    """CPU seconds this process has used, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def transcode(src: str, dst: str) -> float:
    """Frames/s of decoding ``src`` to RGB and encoding it into ``dst`` as :func:`edit_video`
    does (the same reader and writer, their default threads and encoder settings), no edit."""
    from faceedit.video.container import Frame, VideoReader, VideoWriter

    start = time.perf_counter()
    n = 0
    with VideoReader(src) as reader:
        writer = VideoWriter(dst, reader)
        for item in reader:
            writer.write(item)
            n += isinstance(item, Frame)
        writer.close()
    return n / (time.perf_counter() - start)


def speed(args) -> None:
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video.reuse import Reuse
    from faceedit.video.runner import VideoSettings, default_tracker, edit_video

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clips = {}
        for h in args.sizes:
            clips[h] = os.path.join(tmp, f"clip{h}.mp4")
            make_clip(clips[h], h, args.seconds, clip=args.clip)
        for model in args.models:
            editor = Editor.from_pretrained(model)
            default_tracker(editor)  # the detector and identity network loaded before the clock
            for h in args.sizes:
                out = os.path.join(tmp, f"out_{model}_{h}.mp4")
                runs: dict[int, tuple] = {e: ([], [], [], [], [], []) for e in args.every}
                for _ in range(args.repeat):  # edit and transcode in turn: a drift hits both
                    for every in args.every:
                        fps, plain, cpus, plain_cpus, loads, keys = runs[every]
                        cpu0, load0 = _cpu(), os.getloadavg()[0]
                        r = edit_video(editor, clips[h], out, EditRequest(args.target),
                                       VideoSettings(reuse=Reuse(every=every), workers=args.workers), progress=False)
                        cpus.append((_cpu() - cpu0) / r.frames * 1000)
                        cpu0 = _cpu()
                        plain.append(transcode(clips[h], os.path.join(tmp, f"plain_{h}.mp4")))
                        plain_cpus.append((_cpu() - cpu0) / r.frames * 1000)
                        loads.append((load0 + os.getloadavg()[0]) / 2)
                        fps.append(r.fps)
                        keys.append(r.keys)
                for every, (fps, plain, cpus, plain_cpus, loads, keys) in runs.items():
                    rows.append(_speed_row(model, h, every, r, fps, plain, cpus, plain_cpus, loads, keys))
    print(json.dumps({"bench": "video_speed", "threads": os.environ.get("OMP_NUM_THREADS"),
                      "workers": args.workers, "target": args.target, "clip": args.clip, "rows": rows}))


def _speed_row(model, h, every, r, fps, plain, cpus, plain_cpus, loads, keys) -> dict:
    """One row of the speed table (medians over the runs), printed as it is made."""
    ratios = [a / b for a, b in zip(fps, plain)]
    ratio = float(np.median(ratios))
    cpu, plain_cpu, load = (float(np.median(x)) for x in (cpus, plain_cpus, loads))
    # on a loaded machine the CPU time a frame holds where the frames/s do not
    cpu_ratio = float(np.median([b / a for a, b in zip(cpus, plain_cpus)]))
    print(f"{model:8s} {h:5d}p  every {every:2d} ({keys[-1]:3d} key frames)  {r.frames} frames  "
          f"{np.median(fps):6.2f} frames/s  transcode {np.median(plain):6.2f} frames/s  ratio {ratio:.3f} "
          f"(runs {', '.join(f'{x:.3f}' for x in ratios)})  "
          f"{cpu:6.1f} CPU ms a frame (all threads; transcode {plain_cpu:.1f}, ratio {cpu_ratio:.3f})  "
          f"load {load:.1f}", flush=True)
    return {"model": model, "height": h, "every": every, "key_frames": keys[-1], "frames": r.frames,
            "fps": round(float(np.median(fps)), 2), "transcode_fps": round(float(np.median(plain)), 2),
            "ratio": round(ratio, 3), "ratios": [round(x, 3) for x in ratios], "seconds": round(r.seconds, 2),
            "edited": r.edited, "cpu_ms_per_frame": round(cpu, 1), "transcode_cpu_ms_per_frame": round(plain_cpu, 1),
            "cpu_ratio": round(cpu_ratio, 3), "load_average": round(load, 2)}


def profile(args) -> None:
    """Where a frame's CPU goes: the runner's steps run in order on this thread (no queues or
    workers), with key frames as ``--every`` says; CPU-ms a frame per step (this thread's: the
    codecs' own threads are in the last line, the process's CPU over all threads)."""
    from collections import defaultdict

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video.container import Frame, VideoReader, VideoWriter
    from faceedit.video.edit import ExpressionHold, steady_parts
    from faceedit.video.frame_edit import key_edit, reused_edit
    from faceedit.video.reuse import KeyFrames, Reuse
    from faceedit.video.runner import default_tracker

    class Done:  # a key frame's edit, done on this thread
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    editor = Editor.from_pretrained(args.models[0])
    tracker = default_tracker(editor)
    request = EditRequest.of(args.target, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.src or os.path.join(tmp, "clip.mp4")
        if not args.src:
            make_clip(clip, args.size, args.seconds, clip=args.clip)
        for every in args.every:
            steps: dict[str, float] = defaultdict(float)
            keys, holds, prev, n = KeyFrames(Reuse(every=every)), {}, None, 0
            cpu0, now = _cpu(), time.thread_time()

            def tick(step: str) -> None:
                nonlocal now
                t = time.thread_time()
                steps[step] += t - now
                now = t

            with VideoReader(clip) as reader:
                writer = VideoWriter(os.path.join(tmp, "out.mp4"), reader)
                for item in reader:
                    tick("decode")
                    if not isinstance(item, Frame):
                        writer.write(item)
                        continue
                    n += 1
                    t = item.index / 25
                    tracks = tracker(item.rgb, t)
                    tick("track")
                    likes = [holds.setdefault(tr.id, ExpressionHold()).reference(
                        editor.stage, tr.face.landmarks, t, args.target, None, tr.identity) for tr in tracks]
                    tick("hold the expression")
                    plan = keys.plan(item.index, item.rgb, tracks, likes)
                    tick("plan (align, check)")
                    if plan.motions is None:
                        plan.key.future = Done(key_edit(plan if every > 1 else None, editor, item.rgb,
                                                         [tr.face for tr in tracks], request, likes,
                                                         [None] * len(tracks)))
                        out, done = plan.key.future.result()
                        tick("key frame: edit in full")
                    else:
                        out, done = reused_edit(plan, item.rgb)
                        tick("carried frame: move the change")
                    if done and done[0] is not None:
                        prev = steady_parts(out, done[0].landmarks, prev)
                    tick("steady the mouth and eyes")
                    writer.write(Frame(out, item.pts, item.time_base, item.index, item.rotation))
                    tick("encode")
                writer.close()
                tick("encode")
            total = (_cpu() - cpu0) / n * 1000
            print(f"every {every}: {n} frames, {keys.keys} key frames, {total:.1f} CPU-ms a frame over all threads")
            for step, sec in steps.items():
                print(f"  {step:32s} {sec / n * 1000:6.1f}")
            print(f"  {'(codec threads)':32s} {total - sum(steps.values()) / n * 1000:6.1f}", flush=True)


def memory(args) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in args.seconds:
            clip = os.path.join(tmp, f"clip{s}.mp4")
            make_clip(clip, args.size, s, args.fps)
            cmd = [sys.executable, __file__, "_one", clip, os.path.join(tmp, f"out{s}.mp4"),
                   "--model", args.models[0], "--target", args.target, "--workers", str(args.workers),
                   "--every", str(args.every[0])]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rec = json.loads(out.strip().splitlines()[-1])
            rec["clip_seconds"] = s
            rows.append(rec)
            print(f"{s:4g} s of {args.size}p at {args.fps} fps: {rec['frames']} frames, "
                  f"peak RSS {rec['peak_rss_mb']:.0f} MB, {rec['fps']:.2f} frames/s", flush=True)
    print(json.dumps({"bench": "video_memory", "size": args.size, "rows": rows}))


def one(args) -> None:
    """(subprocess) edit one clip; print frames, fps and this process's peak RSS as JSON."""
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video.reuse import Reuse
    from faceedit.video.runner import VideoSettings, edit_video

    editor = Editor.from_pretrained(args.model)
    r = edit_video(editor, args.src, args.dst, EditRequest(args.target),
                   VideoSettings(reuse=Reuse(every=args.every), workers=args.workers), progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"frames": r.frames, "fps": round(r.fps, 2), "peak_rss_mb": round(peak, 1)}))


def stability(args) -> None:
    import av
    import cv2
    from skimage.data import astronaut

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video.reuse import Reuse
    from faceedit.video.runner import VideoSettings, edit_video
    from faceedit.video.synth import temporal_change

    def frames(p):
        with av.open(p) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        mats = make_clip(clip, args.size, args.seconds)
        before = temporal_change(frames(clip), mats, astronaut().shape[:2], FACE_BOX)
        for model, every in ((m, e) for m in args.models for e in args.every):
            editor = Editor.from_pretrained(model)
            out = os.path.join(tmp, f"{model}.mp4")
            r = edit_video(editor, clip, out, EditRequest.of(args.target, attrs=args.attr),
                           VideoSettings(reuse=Reuse(every=every), workers=args.workers), progress=False)
            got = frames(out)
            after = temporal_change(got, mats, astronaut().shape[:2], FACE_BOX)
            rows.append({"model": model, "every": every, "key_frames": r.keys,
                         "input_change": round(float(before.mean()), 3),
                         "edited_change": round(float(after.mean()), 3),
                         "ratio": round(float(after.mean() / before.mean()), 3),
                         "worst_step_ratio": round(float(after.max() / before.max()), 3)})
            print(f"{model:8s} every {every:2d} ({r.keys:3d} key frames) change per frame: "
                  f"input {before.mean():.2f}, edited {after.mean():.2f}"
                  f" (x{after.mean() / before.mean():.2f}; worst step x{after.max() / before.max():.2f})",
                  flush=True)
            if args.frames:
                os.makedirs(args.frames, exist_ok=True)
                for k in np.linspace(0, len(got) - 1, 4).astype(int):
                    cv2.imwrite(os.path.join(args.frames, f"{model}_every{every}_{k:03d}.png"),
                                cv2.cvtColor(got[k], cv2.COLOR_RGB2BGR))
    print(json.dumps({"bench": "video_stability", "size": args.size, "target": args.target, "attr": args.attr,
                      "rows": rows}))


def main() -> None:
    from faceedit.video.reuse import Reuse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    for name in ("speed", "profile", "memory", "stability"):
        s = sub.add_parser(name)
        s.add_argument("--models", nargs="+", default=["stage"])
        s.add_argument("--target", default=TARGET)
        s.add_argument("--workers", type=int, default=2)
        s.add_argument("--every", nargs="+", type=int, default=[Reuse().every],
                       help="a key frame at least every this many frames (1: every frame edited in full); "
                            "several: each in turn, in the same run")
        if name in ("speed", "profile"):
            s.add_argument("--seconds", type=float, default=4.0)
            s.add_argument("--clip", choices=["camera", "talking"], default="camera",
                           help="talking: the mouth also opens and closes every 8 frames")
        if name == "speed":
            s.add_argument("--sizes", nargs="+", type=int, default=[720, 1080])
            s.add_argument("--repeat", type=int, default=3,
                           help="edit and transcode each clip this many times, in turn (the median is printed)")
        elif name == "profile":
            s.add_argument("--size", type=int, default=720)
            s.add_argument("--src", help="a clip to profile instead of the astronaut (e.g. a GRID .mpg)")

        elif name == "memory":
            s.add_argument("--seconds", nargs="+", type=float, default=[10, 60])
            s.add_argument("--size", type=int, default=1080)
            s.add_argument("--fps", type=int, default=10)
        else:
            s.add_argument("--size", type=int, default=720)
            s.add_argument("--seconds", type=float, default=3.0)
            s.add_argument("--frames", help="write a few edited frames here as PNG")
            s.add_argument("--attr", help="attributes to draw as well, e.g. glasses=round or hair=blond")
    o = sub.add_parser("_one")
    o.add_argument("src")
    o.add_argument("dst")
    o.add_argument("--model", default="stage")
    o.add_argument("--target", default=TARGET)
    o.add_argument("--workers", type=int, default=2)
    o.add_argument("--every", type=int, default=Reuse().every)
    args = p.parse_args()
    start = time.perf_counter()
    {"speed": speed, "profile": profile, "memory": memory, "stability": stability, "_one": one}[args.what](args)
    if args.what != "_one":
        print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
