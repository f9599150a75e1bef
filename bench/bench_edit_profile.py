"""Where one photo's edit spends its CPU, step by step, at several photo and face sizes.

    OMP_NUM_THREADS=1 python bench/bench_edit_profile.py [--model reggan] [--target happy]
        [--photos 4] [--cases 512,1350,4k,4k-small]

Cases (JPEGs of quality 92 written to a temporary folder; each photo decoded from its file):

* ``512``: London photos of 512 px square as the speed benches make them (bench_apply.make_photos
  from ../shared/data/london/neutral);
* ``1350``: the full-resolution London photos (../shared/data/london_hd/neutral, 1350 px square);
* ``4k``: the same photos upscaled (bicubic) to 3840 px square: the face 2.84x as wide;
* ``4k-small``: the 512-px photos of the first case, each centred on a 3840-px square of its
  mean colour: 4k's pixels with 512's face. Comparing the cases tells a step that grows with the
  photo's pixels (512 -> 4k-small) from one that grows with the face's (4k-small -> 4k).

Each case's photos go one at a time through the steps ``faceedit apply`` runs
(:mod:`faceedit.pipeline`), called here in order on this thread: decode (``read_image``),
detect and mesh (``detector.detect``; its own ``detect`` / ``landmarks`` timings), the decline
check (``split_declined``), align, the stage (:mod:`faceedit.stage.steps` step by step, as
bench_stage_steps.py times them, and what is left of ``stage_faces``), keeping the stage's
change as a patch (``_changed_patch``) and putting it on a copy of the photo, the network
forward, paste, encode (``write_image``, quality 95). The first photo of a case runs once
untimed first (caches, first calls). CPU time by ``time.process_time`` with OpenCV held to one
thread (``cv2.setNumThreads(1)``; run with ``OMP_NUM_THREADS=1``): printed as CPU-ms a photo
per step, with the face's box width and the photo's megapixels. ``--out DIR`` keeps the
edited photos.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_apply import make_photos  # noqa: E402
from bench_stage_steps import STEPS, time_steps  # noqa: E402

DATA = ROOT.parent / "shared/data"
ROWS = ("decode", "detect", "mesh (landmarks)", "decline check", "align", *STEPS, "stage, the rest",
        "keep the change (patch)", "copy + put the patch", "forward", "paste", "encode")


def write_case(case: str, folder: Path, n: int) -> list[Path]:
    """The case's photos as JPEGs in ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True)
    if case in ("512", "4k-small"):
        make_photos(folder, n, 512, DATA / "london/neutral")
        if case == "4k-small":
            for p in sorted(folder.iterdir()):
                im = Image.open(p).convert("RGB")
                mean = tuple(int(v) for v in np.asarray(im).reshape(-1, 3).mean(0))
                canvas = Image.new("RGB", (3840, 3840), mean)
                canvas.paste(im, ((3840 - im.width) // 2, (3840 - im.height) // 2))
                canvas.save(p, quality=92)
        return sorted(folder.iterdir())
    for i, src in enumerate(sorted((DATA / "london_hd/neutral").glob("*.jpg"))[:n]):
        im = Image.open(src).convert("RGB")
        if case == "4k":
            im = im.resize((3840, round(3840 * im.height / im.width)), Image.Resampling.BICUBIC)
        im.save(folder / f"p{i:05d}.jpg", quality=92)
    return sorted(folder.iterdir())


def edit_one(editor, request, path: Path, out: Path, spent: dict[str, float], timings) -> float:
    """One photo through apply's steps on this thread; adds CPU seconds per row to ``spent``;
    returns the largest face's box width (0 without a face)."""
    from faceedit.faces.reading import split_declined
    from faceedit.flow import align_faces, paste_faces, run_network, stage_faces
    from faceedit.io.decode import read_image
    from faceedit.io.encode import write_image
    from faceedit.pipeline import _changed_patch

    def tick(row: str, t0: float) -> float:
        t = time.process_time()
        spent[row] += t - t0
        return t

    timings.seconds.clear()
    t = time.process_time()
    image = read_image(path)
    t = tick("decode", t)
    faces = editor.detector.detect(image.rgb8())
    t = time.process_time()  # detect and mesh from the detector's own timings, below
    chosen, _, _ = split_declined(image.pixels, faces)
    t = tick("decline check", t)
    aligned = align_faces(editor, image.pixels, chosen)
    prepared = stage_faces(editor, image.pixels, aligned, request)
    t = time.process_time()
    patch = _changed_patch(image.pixels, prepared.pixels)
    t = tick("keep the change (patch)", t)
    pixels = image.pixels.copy()
    if patch is not None:
        (y0, y1, x0, x1), values = patch
        pixels[y0:y1, x0:x1] = values
    t = tick("copy + put the patch", t)
    edited = run_network(editor, prepared.faces, request)
    paste_faces(editor, pixels, prepared.faces, edited, request.strength)
    t = time.process_time()
    write_image(out / path.name, pixels, image.alpha, like=image, quality=95, protected=(str(path),))
    tick("encode", t)
    secs = timings.seconds
    for row, name in (("detect", "detect"), ("mesh (landmarks)", "landmarks"), ("align", "align"),
                      ("forward", "forward"), ("paste", "paste")):
        spent[row] += secs.get(name, 0.0)
    spent["stage, the rest"] += secs.get("stage", 0.0)  # the steps are taken out after the case
    return max((float(f.box[2] - f.box[0]) for f in faces), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="reggan")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--photos", type=int, default=4, help="photos a case")
    ap.add_argument("--cases", default="512,1350,4k,4k-small")
    ap.add_argument("--out", type=Path, help="keep the edited photos here (CASE/NAME.jpg) to look at")
    args = ap.parse_args()

    import cv2
    from PIL import Image

    import faceedit.log as flog
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

    cv2.setNumThreads(1)
    # faceedit's own stage timings, read as CPU time: its clock made process_time (one thread here)
    vars(flog)["time"] = types.SimpleNamespace(perf_counter=time.process_time, time=time.time)
    editor = Editor.from_pretrained(args.model)
    request = editor.check_request(EditRequest.of(args.target, 1.0))
    cases = args.cases.split(",")
    steps: dict[str, float] = defaultdict(float)
    time_steps(steps)  # each stage step's CPU time, where edit_face calls it
    table: dict[str, dict[str, float]] = {}
    info: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp_name, flog.record_timings() as timings:
        tmp = Path(tmp_name)
        for case in cases:
            files = write_case(case, tmp / case, args.photos)
            out = (args.out or tmp / "out") / case
            out.mkdir(parents=True, exist_ok=True)
            edit_one(editor, request, files[0], out, defaultdict(float), timings)  # warm-up
            steps.clear()
            spent: dict[str, float] = defaultdict(float)
            widths = [edit_one(editor, request, p, out, spent, timings) for p in files]
            spent.update(steps)
            spent["stage, the rest"] -= sum(steps.values())
            n = len(files)
            table[case] = {row: 1000 * spent[row] / n for row in ROWS}
            w, h = Image.open(files[0]).size
            info[case] = f"{w}x{h} ({w * h / 1e6:.1f} MP), face {np.median(widths):.0f} px"
            print(f"{case}: {n} photos, {info[case]}: {sum(table[case].values()):.1f} CPU-ms a photo", flush=True)
    print(f"\nCPU-ms a photo, one thread, {args.model} -t {args.target}, {args.photos} photos a case:")
    print("| step | " + " | ".join(f"{c}: {info[c]}" for c in cases) + " |")
    print("|---|" + "---:|" * len(cases))
    for row in ROWS:
        print(f"| {row} | " + " | ".join(f"{table[c][row]:.1f}" for c in cases) + " |")
    print("| **sum** | " + " | ".join(f"**{sum(table[c].values()):.1f}**" for c in cases) + " |")


if __name__ == "__main__":
    main()
