"""The colour of closed lips' line on small faces: real ones, and the stage's seam (issues 53, 55).

    OMP_NUM_THREADS=1 python bench/measure_small_seam_colour.py --london ../shared/data/london_hd
    OMP_NUM_THREADS=1 python bench/measure_small_seam_colour.py --london ../shared/data/london_hd --edits

Real lips: the training London neutral photos (``--ids``, the first ``--pairs``) cut as the world
set cuts a face (:func:`faceedit.eval.world.small_face`) at 96 and 128 px, read by the editor's
detector. Their line's colour is the median CIE a*, b* (float L*a*b*) of the darker quarter of the
pixels on the inner lips' middle line (60, the pairs 61/67, 62/66, 63/65, 64; 2 px wide); printed:
its median distance in a*, b* from 1.2 times the lips' median a*, b*
(:func:`faceedit.stage.small_seam.own_lips_dark` over all its pixels, the goal times
``MouthTuning.seam_chroma``) and from the lips' darker quarter's (``own_lips_dark`` at
``MouthTuning.seam_own_colour``), and the three chromas.

``--edits``: the world set's faces (:func:`faceedit.eval.world.world_set`, the wheels' photos from
the local cache and London's held-out cuts) made neutral by the stage, where the edit changes the
mouth: the seam's colour (the darker tenth of the pixels in and 1 px about the edit's inner lips,
read again by the detector on the edit) against the photo's own lips in shade, its median and
largest distance in a*, b*, and per face.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import london_ids  # noqa: E402

from faceedit.pixels import LUMA_WEIGHTS  # noqa: E402

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def ab_of(rgb: np.ndarray, quantile: float) -> np.ndarray:
    """The median a*, b* of the pixels ``rgb`` (N, 3 uint8) at or under ``quantile`` (0..1) of their luma."""
    px = np.asarray(rgb, np.float32)
    y = px @ _LUMA
    dark = px[y <= np.quantile(y, quantile)]
    return np.median(cv2.cvtColor(dark[None] / 255.0, cv2.COLOR_RGB2LAB)[0][:, 1:], 0)


def real_lips(london: Path, ids: list[str]) -> None:
    from faceedit.api import Editor
    from faceedit.eval.world import _pupils, read_rgb, small_face
    from faceedit.stage.small_seam import own_lips_dark
    from faceedit.stage.tuning import MouthTuning

    t = MouthTuning()
    ed = Editor.from_pretrained("stage", device="cpu")
    rows = []
    for i in ids:
        rgb, pupils = read_rgb(london / "neutral" / f"{i}.jpg"), _pupils(london / "templates" / f"{i}.tem")
        for side in (96, 128):
            im = small_face(rgb, pupils, side)
            faces = ed.detector.detect(im)
            if not faces:
                continue
            lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
            whole, shade = own_lips_dark(im, lm, t.seam_width), own_lips_dark(im, lm, t.seam_width, t.seam_own_colour)
            if whole is None or whole.ab is None or shade is None or shade.ab is None:
                continue
            on = np.zeros(im.shape[:2], np.uint8)
            line = np.vstack([lm[60], (lm[61:64] + lm[[67, 66, 65]]) / 2, lm[64]])
            cv2.polylines(on, [np.round(line).astype(np.int32)], False, 1, 2)
            ab = ab_of(im[on > 0], 0.25)
            rows.append([np.hypot(*(ab - t.seam_chroma * whole.ab)), np.hypot(*(ab - shade.ab)),
                         np.hypot(*ab), np.hypot(*whole.ab), np.hypot(*shade.ab)])
    r = np.asarray(rows)
    print(f"{len(r)} real closed mouths at 96 and 128 px: the line's a*, b* from {t.seam_chroma} x the lips' "
          f"median {np.median(r[:, 0]):.2f}, from their darker quarter's {np.median(r[:, 1]):.2f}; chroma: "
          f"line {np.median(r[:, 2]):.1f}, lips' median {np.median(r[:, 3]):.1f}, darker quarter "
          f"{np.median(r[:, 4]):.1f} (medians)")


def edits(london: Path) -> None:
    from faceedit.api import Editor
    from faceedit.eval.world import world_set
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.small_seam import own_lips_dark
    from faceedit.stage.tuning import MouthTuning

    t = MouthTuning()
    ed = Editor.from_pretrained("stage", device="cpu")
    off = []
    for photo in world_set(london):
        for k, f in enumerate(sorted(ed.detector.detect(photo.rgb), key=lambda f: -f.area)):
            lm = np.asarray(f.landmarks, np.float64)
            out = edit_faces(ed, photo.rgb, [f], EditRequest.of("neutral", 1.0))
            x0, y0 = np.maximum(lm[48:60].min(0) - 2, 0).astype(int)
            x1, y1 = (lm[48:60].max(0) + 3).astype(int)
            if np.array_equal(out[y0:y1, x0:x1], photo.rgb[y0:y1, x0:x1]):
                continue  # the mouth as it was
            shade = own_lips_dark(photo.rgb, lm, t.seam_width, t.seam_own_colour)
            found = ed.detector.detect(out)
            if shade is None or shade.ab is None or not found:
                continue
            m = np.asarray(min(found, key=lambda g: float(np.linalg.norm(
                np.asarray(g.landmarks)[48:68].mean(0) - lm[48:68].mean(0)))).landmarks, np.float64)
            inner = np.zeros(out.shape[:2], np.uint8)
            cv2.fillPoly(inner, [np.round(m[60:68]).astype(np.int32)], 1)
            cv2.polylines(inner, [np.round(m[60:68]).astype(np.int32)], True, 1, 3)
            ab = ab_of(out[inner > 0], 0.1)
            d = float(np.hypot(*(ab - shade.ab)))
            off.append(d)
            print(f"{photo.name}#{k}: seam a*, b* {ab.round(1).tolist()}, own lips in shade "
                  f"{np.round(shade.ab, 1).tolist()}, {d:.1f} apart", flush=True)
    print(f"{len(off)} neutral edits: the seam's a*, b* from the photo's own lips in shade, median "
          f"{np.median(off):.2f}, largest {max(off):.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, required=True, help="the london_hd folder")
    ap.add_argument("--ids", default="train")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--edits", action="store_true", help="the world set's neutral edits instead")
    a = ap.parse_args(argv)
    if a.edits:
        edits(a.london)
    else:
        real_lips(a.london, london_ids(a.london, a.ids, a.pairs))


if __name__ == "__main__":
    main()
