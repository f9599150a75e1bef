"""Perception throughput against MediaPipe on LiteRT and the decode+encode floor, in one run.

    python bench/bench_perception.py [--photos 96] [--size 512] [--workers 2] [--model reggan]
        [--target happy] [--rounds 3] [--no-apply]

The same N photos (``--size`` px JPEGs made from ../shared/data/london/neutral by
bench_apply.make_photos, or from the astronaut when that folder is absent), on ``--workers``
threads as ``faceedit apply`` decodes, detects and encodes; photos/s of:

1. floor: decode + encode alone (faceedit's io, as apply writes its outputs; bench_pipeline.floor);
2. anchor: MediaPipe's own .tflite models on LiteRT (XNNPACK, one interpreter of one thread per
   worker thread) doing decode + face detection + one Face Mesh pass per face + encode, as
   MediaPipe's face mesh graph does: the short-range BlazeFace on the photo letterboxed to
   128 px, weighted NMS, each face's ROI (box centre, 1.5x its long side, rolled level by the
   eye keypoints) warped to 192 px for one mesh pass;
3. faceedit's perception on each runtime (``mediapipe`` detector: full- and short-range BlazeFace,
   tiles for large photos, the mesh with its selective second pass, the 68 points): decode +
   detection + landmarks + encode, photos in groups of 8 per worker as apply's engine does;
   LiteRT (the CPU default) and torch (the GPU runtime, here on the CPU);
4. ``faceedit apply -m MODEL -t TARGET`` end to end in a fresh process (interpreter start, imports
   and model load included), with its default perception (LiteRT on the CPU), and again with the
   torch perception (a weights folder without the .tflite files, so the detector falls back to
   torch); then where the last round's apply runs spent their time (ms of thread time a photo
   per step, from FACEEDIT_TIMINGS; see bench_pipeline.py).

Every row runs once a round, ``--rounds`` rounds (this machine's speed swings by tens of percent
within minutes); printed: the median photos/s, the median of the ratios to the anchor and to
the floor taken within each round, and the median CPU time a photo (user + system, every
thread; for apply, its process's, start-up and model load included), which moves far less than
photos/s on a machine shared with other work. Torch keeps its default thread count, as apply
does.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_apply import make_photos  # noqa: E402
from bench_pipeline import run_apply, stage_table  # noqa: E402

GROUP = 8  # photos a worker decodes and detects together (faceedit.pipeline.DETECT_GROUP)


class MediaPipeAnchor:
    """MediaPipe's face mesh graph at its plainest, on its own .tflite files with LiteRT: the
    short-range detector on the letterboxed photo, weighted NMS, one mesh pass per face on the
    ROI MediaPipe's graph takes (box centre, 1.5x the long side, rolled by the eye keypoints).
    One set of interpreters (1 thread each) per calling thread. Returns the (468,3) meshes."""

    def __init__(self, weights: Path):
        from faceedit.faces import mediapipe_common as mc

        self.mc = mc
        self.models = {"short": (weights / "face_detection_short_range.tflite").read_bytes(),
                       "mesh": (weights / "face_landmark.tflite").read_bytes()}
        self.anchors = mc.anchors("short")
        self.local = threading.local()

    def nets(self):
        if not hasattr(self.local, "nets"):
            from ai_edge_litert.interpreter import Interpreter

            nets = {}
            for k, m in self.models.items():
                it = Interpreter(model_content=m, num_threads=1)
                it.allocate_tensors()
                outs = {int(d["shape"][-1]): d["index"] for d in it.get_output_details()}
                nets[k] = (it, it.get_input_details()[0]["index"], outs)
            self.local.nets = nets
        return self.local.nets

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        import cv2

        mc = self.mc
        (det, det_in, det_out), (mesh, mesh_in, mesh_out) = self.nets()["short"], self.nets()["mesh"]
        h, w = rgb.shape[:2]
        k = 128 / max(h, w)  # letterbox, centred (MediaPipe's ImageToTensor, keep aspect ratio)
        ox, oy = (128 - w * k) / 2, (128 - h * k) / 2
        m = np.array([[k, 0, ox + 0.5 * k - 0.5], [0, k, oy + 0.5 * k - 0.5]])
        x = cv2.warpAffine(rgb, m, (128, 128), flags=cv2.INTER_LINEAR)
        det.set_tensor(det_in, (x.astype(np.float32) / 127.5 - 1)[None])
        det.invoke()
        scores = mc.sigmoid(det.get_tensor(det_out[1])[0, :, 0])
        idx = np.flatnonzero(scores >= 0.5)
        if not idx.size:
            return []
        boxes, kps = mc.decode(det.get_tensor(det_out[16])[0, idx], self.anchors[idx], 128)
        boxes, kps, _ = mc.weighted_nms(boxes, kps, scores[idx], 0.3)
        meshes = []
        for b, kp in zip(boxes, kps):
            b = (b.reshape(2, 2) * 128 - [ox, oy]) / k  # photo pixels
            kp = (kp * 128 - [ox, oy]) / k
            d = kp[1] - kp[0]
            angle = float(np.arctan2(d[1], d[0]))
            side = float((b[1] - b[0]).max()) * 1.5
            mat = mc.roi_matrix(b.mean(0), side, angle, 192)
            crop = cv2.warpAffine(rgb, mat, (192, 192), flags=cv2.INTER_LINEAR)
            mesh.set_tensor(mesh_in, (crop.astype(np.float32) / 255)[None])
            mesh.invoke()
            pts = mesh.get_tensor(mesh_out[1404]).reshape(468, 3).astype(np.float64)
            meshes.append(mc.crop_to_image(pts, mat))
        return meshes


def perception_rate(photos: list[Path], out: Path, workers: int, detect, quality: int = 95,
                    group: int = GROUP) -> tuple[float, float, int]:
    """photos/s of decode + ``detect(list of RGB) -> faces per photo`` + encode, photos in groups
    of ``group`` on ``workers`` threads; the process's CPU time (user + system, all threads) a
    photo in ms; and the faces found."""
    from faceedit.io.decode import read_image
    from faceedit.io.encode import write_image

    out.mkdir(parents=True, exist_ok=True)

    def one_group(paths: list[Path]) -> int:
        imgs = [read_image(p) for p in paths]
        found = detect([im.rgb8() for im in imgs])
        for p, img in zip(paths, imgs):
            write_image(out / p.name, img.pixels, img.alpha, like=img, quality=quality,
                        protected=(str(p),))
        return sum(len(f) for f in found)

    groups = [photos[i:i + group] for i in range(0, len(photos), group)]
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(one_group, groups[:workers]))  # warm-up: interpreters, codecs, first calls
        t0, c0 = time.perf_counter(), time.process_time()
        faces = sum(ex.map(one_group, groups))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return len(photos) / wall, 1000 * cpu / len(photos), faces


def weights_without_tflite(folder: Path) -> Path:
    """A weights folder (symlinks to the shipped files) without MediaPipe's .tflite files: with it
    as FACEEDIT_WEIGHTS the mediapipe detector runs on torch on the CPU."""
    from faceedit.weights import installed_weights_dir

    if not folder.is_dir():
        folder.mkdir(parents=True)
        for p in installed_weights_dir().iterdir():
            if p.suffix != ".tflite":
                (folder / p.name).symlink_to(p)
    return folder


def apply_run(files: list[Path], tmp: Path, cmd: list[str], runtime: str, k: int) -> tuple[float, float, dict]:
    """``faceedit apply CMD`` on the photos in a fresh process, perception on ``runtime`` ("litert":
    the default; "torch": a weights folder without the .tflite files, so the detector falls back
    to torch): photos/s, the child's CPU ms a photo, its step timings."""
    if runtime == "torch":
        os.environ["FACEEDIT_WEIGHTS"] = str(weights_without_tflite(tmp / "weights-torch"))
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        wall, t = run_apply([*cmd, "-o", str(tmp / f"out-apply-{runtime}-{k}")],
                            tmp / f"timings-apply-{runtime}-{k}.json")
    finally:
        os.environ.pop("FACEEDIT_WEIGHTS", None)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
    return len(files) / wall, 1000 * cpu / len(files), t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=96)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared/data/london/neutral",
                    help="folder of photos to build the set from (absent: the astronaut)")
    ap.add_argument("--workers", type=int, default=2, help="threads, as apply's --workers (default 2)")
    ap.add_argument("--model", default="reggan")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every row (medians are printed)")
    ap.add_argument("--no-apply", action="store_true", help="skip the end-to-end runs")
    args = ap.parse_args()

    from faceedit.faces.detectors.mediapipe import MediaPipeDetector, litert_status
    from faceedit.weights import installed_weights_dir

    if litert_status() is not None:
        sys.exit(f"needs the LiteRT runtime: {litert_status()}")
    source = args.source if args.source.is_dir() else None
    print(f"machine: {os.cpu_count()} cpu; {args.photos} photos of {args.size} px from "
          f"{source or 'the astronaut'}; {args.workers} worker threads; {args.rounds} rounds")
    lite = MediaPipeDetector(device="cpu", runtime="litert")
    ported = MediaPipeDetector(device="cpu", runtime="torch")
    anchor = MediaPipeAnchor(installed_weights_dir())
    labels = {
        "floor": "decode + encode (the floor)",
        "anchor": "MediaPipe .tflite on LiteRT: decode + detect + 1 mesh + encode (the anchor)",
        "litert": "faceedit perception, LiteRT runtime (CPU default): decode + detect + mesh + encode",
        "torch": "faceedit perception, torch runtime on the CPU: decode + detect + mesh + encode",
    }
    if not args.no_apply:
        for runtime in ("litert", "torch"):
            labels[f"apply-{runtime}"] = (f"faceedit apply -m {args.model} -t {args.target}, end to end "
                                          f"({'LiteRT' if runtime == 'litert' else 'torch'} perception)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_photos(tmp / "in", args.photos, args.size, source)
        files = sorted((tmp / "in").iterdir())
        detect = {
            "floor": lambda ims: [[] for _ in ims],
            "anchor": lambda ims: [anchor(im) for im in ims],
            "litert": lite.detect_batch,
            "torch": ported.detect_batch,
        }
        cmd = ["-m", args.model, "-t", args.target, str(tmp / "in"), "--device", "cpu"]
        rate: dict[str, list[float]] = {k: [] for k in labels}
        cpu: dict[str, list[float]] = {k: [] for k in labels}
        faces: dict[str, int] = {}
        steps: dict[str, list[dict]] = {"litert": [], "torch": []}
        for k in range(max(1, args.rounds)):  # every row once a round: each round is one run
            for name in labels:
                if name in detect:
                    r, ms, faces[name] = perception_rate(files, tmp / f"out-{name}", args.workers, detect[name])
                else:
                    runtime = name.split("-")[1]
                    r, ms, t = apply_run(files, tmp, cmd, runtime, k)
                    steps[runtime].append(t)
                rate[name].append(r)
                cpu[name].append(ms)
        med = {k: float(np.median(v)) for k, v in rate.items()}
        # the ratios within each round (same minutes of the machine), then their median
        ratio = {k: float(np.median(np.array(rate[k]) / np.array(rate["anchor"]))) for k in labels}
        ratio_floor = {k: float(np.median(np.array(rate[k]) / np.array(rate["floor"]))) for k in labels}
        print(f"\n{'median of the rounds':92s} {'photos/s':>9s} {'x anchor':>9s} {'x floor':>8s} "
              f"{'cpu ms':>7s}  faces")
        for name, label in labels.items():
            print(f"{label:92s} {med[name]:9.2f} {ratio[name]:9.3f} {ratio_floor[name]:8.3f} "
                  f"{np.median(cpu[name]):7.1f}  {faces.get(name, '') if name != 'floor' else ''}")
        print("(x anchor, x floor: the median over the rounds of the ratio within each round; cpu ms: "
              "CPU time a photo, all threads; for apply, of its process, start-up and load included)")
        print("per round, photos/s: " + "; ".join(
            f"{name} " + " ".join(f"{v:.1f}" for v in rate[name]) for name in labels))
        if not args.no_apply:
            print("\nwhere apply's time went, ms of thread time a photo, last round (LiteRT / torch "
                  "perception; FACEEDIT_TIMINGS):")
            tables = {r: stage_table(steps[r][-1]) for r in ("litert", "torch")}
            for i, (name, _) in enumerate(tables["litert"][0]):
                print(f"  {name:10s} " + " / ".join(f"{1000 * tables[r][0][i][1] / len(files):7.1f}"
                                                    for r in ("litert", "torch")))
            print(f"  {'sum':10s} " + " / ".join(f"{1000 * tables[r][1] / len(files):7.1f}"
                                                 for r in ("litert", "torch")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
