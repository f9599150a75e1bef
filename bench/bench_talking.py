"""Real talking clips made happy and surprised: does the speech survive the edit, read by dlib?

    OMP_NUM_THREADS=1 python bench/bench_talking.py [--clips ../shared/data/grid | CLIP.mpg] [--targets happy,surprised]
        [--models stage] [--json out.json]

Each GRID clip (25 fps, 3 s, a speaker saying a sentence) is edited whole with
:func:`faceedit.video.runner.edit_video` (default settings: key frames every 8, 2 workers), then
the input and the output are read frame by frame by dlib's 68 points (bench/bench_drive.py's
reader, independent of the tracker the edit used). Per clip and target it prints:

* r: Pearson's r of the inner-lip gap per frame (the mean of the 61-67, 62-66, 63-65 gaps over the
  outer eye corners' distance), output against input;
* closed: of the input's frames with the lips closed (gap under :data:`CLOSED`), the share whose
  output's lips are closed too, and the output's gap there (median) against the input's;
* the output's median gap over the input's (the target's own opening around the speech).

The issue's bar: r at least 0.7, and the lips closing where the input's close.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_drive import Dlib, frames, pearson, series  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "grid"
#: An inner-lip gap (over the eye corners' distance) under which dlib's lips are closed: GRID's
#: speakers between words read 0.00-0.03, their open vowels 0.08-0.25.
CLOSED = 0.04


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=Path, default=GRID, help="a folder of .mpg clips, or one clip")
    ap.add_argument("--targets", default="happy,surprised")
    ap.add_argument("--models", default="stage")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.video.runner import edit_video

    clips = [a.clips] if a.clips.is_file() else sorted(a.clips.glob("*.mpg"))
    if not clips:
        sys.exit(f"{a.clips}: no .mpg clips (GRID: see ../shared/data/README)")
    dl, rows = Dlib(), []
    for model in a.models.split(","):
        editor = Editor.from_pretrained(model, device="cpu")
        with tempfile.TemporaryDirectory() as work:
            for clip in clips:
                src = series(dl, frames(str(clip)))[:, 0]
                for target in a.targets.split(","):
                    out = os.path.join(work, f"{clip.stem}_{target}.mp4")
                    t0 = time.perf_counter()
                    edit_video(editor, str(clip), out, EditRequest(target), progress=False)
                    took = time.perf_counter() - t0
                    got = series(dl, frames(out))[:, 0]
                    closed = (src < CLOSED) & ~np.isnan(got)
                    row = {"model": model, "clip": clip.stem, "target": target, "r": pearson(src, got),
                           "closed_frames": int(closed.sum()),
                           "closed_kept": float(np.mean(got[closed] < CLOSED)) if closed.any() else float("nan"),
                           "closed_gap": [float(np.nanmedian(src[closed])), float(np.nanmedian(got[closed]))]
                           if closed.any() else None,
                           "median_ratio": float(np.nanmedian(got) / max(np.nanmedian(src), 1e-6)),
                           "seconds": round(took, 1), "frames": len(src)}
                    rows.append(row)
                    gap = row["closed_gap"] or [float("nan")] * 2
                    print(f"{model} {clip.stem} {target}: r {row['r']:.3f}; closed {row['closed_frames']} frames, "
                          f"kept closed {row['closed_kept']:.2f} (gap {gap[0]:.3f} -> {gap[1]:.3f}); "
                          f"median gap x{row['median_ratio']:.2f}; {took:.0f} s", flush=True)
    for model in a.models.split(","):
        for target in a.targets.split(","):
            sel = [r for r in rows if r["model"] == model and r["target"] == target]
            rs = [r["r"] for r in sel]
            print(f"{model} {target}: r median {np.median(rs):.3f}, least {min(rs):.3f}; "
                  f"{sum(x >= 0.7 for x in rs)}/{len(rs)} at least 0.7; kept closed median "
                  f"{np.nanmedian([r['closed_kept'] for r in sel]):.2f}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
