"""What a lid refiner (:mod:`faceedit.models.refine`, region ``lids``) adds to the stage's closed
lids, on held-out London HD faces at 1350 px, beside the same faces' real lid skin.

    OMP_NUM_THREADS=1 python bench/bench_refiner_lids.py --weights runs/lids/reggan/reggan_refiner.safetensors \\
        [--faces 008,014,...] [--kinds neutral] [--crops DIR] [--json FILE]

Per face the stage's ``blink=1`` (MediaPipe's landmarks, the stage alone), then the refiner on
its closed lids (:func:`faceedit.models.refine_regions.lid_region` of the landmarks before and
after). Measured per closed lid, on its region (coverage over 0.5, at the photo's own pixels), as
``bench/bench_blink.py``'s ``lid_texture`` reads a lid: ``grain``, the robust spread (1.4826 x
MAD) of the luma less its Gaussian blur of 1 px, and ``blotch``, the spread of that blur less its
blur of 0.03 of the eye's width (at least 1.5 px): patches a few px across; both in % of the
region's mean luma. The real reference is the same photo before the edit: its open upper lid
between lashes and crease (``lid``) and its skin under the eye (``under``),
:func:`faceedit.models.refine_regions.skin_regions`, read the same way. Also: ``inside``, the
mean |luma change| of the refiner in the region (levels); ``peak``, its 99.5th percentile;
``streak``, log2 of the change's mean |vertical| over |horizontal| neighbour difference (0:
no direction); ``outside``, the largest change of any pixel where the refiner's weight is 0
(must be 0).

``--crops DIR`` writes per face ``DIR/NNN_KIND.png``: both eyes at the photo's own pixels, rows:
the stage alone, the stage + refiner, the photo (real open lids and skin under the eyes), 8x the
luma change (grey 128 = none); and ``DIR/NNN_KIND_3x.png``, its first three rows enlarged 3x
(nearest); ``--sheet FILE`` the faces' panels side by side, enlarged 2x (nearest).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_refiner import streaks  # noqa: E402

from faceedit.models.refine import load_refiner, refine_photo, weight_image  # noqa: E402
from faceedit.models.refine_regions import EYES, lid_region, region_mask, skin_regions  # noqa: E402
from faceedit.models.request import EditRequest  # noqa: E402

FACES = "008,014,022,061,097,114,137,142"
ROOT = Path(__file__).resolve().parents[1]


def luma(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, np.float64) @ np.array([0.299, 0.587, 0.114])


def texture(y: np.ndarray, mask: np.ndarray, width: float) -> tuple[float, float]:
    """(grain, blotch) in % of the mean luma of ``y`` over ``mask`` (see the module docstring)."""
    if mask.sum() < 9:
        return float("nan"), float("nan")
    fine = cv2.GaussianBlur(y, (0, 0), 1.0)
    grain, blotch = y - fine, fine - cv2.GaussianBlur(y, (0, 0), max(1.5, 0.03 * width))
    g, mean = grain[mask], y[mask].mean()
    return (float(100 * 1.4826 * np.median(np.abs(g - np.median(g))) / mean),
            float(100 * blotch[mask].std() / mean))


def eye_masks(shape, before: np.ndarray, after: np.ndarray):
    """Per eye (image left first): its closed lid's region (coverage over 0.5), its real upper lid
    band and its skin under the eye (both on the photo before the edit), and its width."""
    lid = region_mask(shape, lid_region(before, after, shape)) > 0.5
    skin = region_mask(shape, skin_regions(before, shape)) > 0.5
    for up, low in EYES:
        width = float(np.linalg.norm(before[up[3]] - before[up[0]]))
        x0, x1 = int(before[up[0], 0] - 0.1 * width), int(before[up[3], 0] + 0.1 * width)
        y0, y1 = int(before[list(up), 1].min() - 0.7 * width), int(before[list(low), 1].max() + 0.5 * width)
        box = np.zeros(shape[:2], bool)
        box[max(y0, 0):y1, max(x0, 0):x1] = True
        upper_y = before[list(up), 1].max()
        upper = skin & box & (np.arange(shape[0])[:, None] < upper_y)
        under = skin & box & (np.arange(shape[0])[:, None] > upper_y)
        yield lid & box, upper, under, width, (max(x0, 0), max(y0, 0), x1, y1)


def run(weights: Path, faces: list[str], kinds: list[str], data: Path, crops: Path | None) -> dict:
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model
    from faceedit.train.refiner import _largest, _read

    refiner = load_refiner(weights)
    detector = get_detector("mediapipe", device="cpu")
    stage = load_model("stage").model
    rows = []
    for fid in faces:
        for kind in kinds:
            path = data / "london_hd" / kind / f"{fid}.jpg"
            if not path.is_file():
                continue
            rgb = _read(path)
            face = _largest(detector, rgb)
            if face is None:
                continue
            before = np.asarray(face.landmarks, np.float64)
            staged, edits = stage.edit_photo(rgb, [face], EditRequest.of("keep", 1.0, controls={"blink": 1.0}))
            after = edits[0].landmarks
            region = lid_region(before, after, rgb.shape)
            if region is None:
                continue
            refined = refine_photo(refiner, staged, [(after, region)])
            weight = weight_image(rgb.shape[:2], after, region, refiner.cfg)
            ys, yr, yp = luma(staged), luma(refined), luma(rgb)
            d = yr - ys
            outside = float(np.abs(refined.astype(np.int32) - staged)[weight == 0].max(initial=0))
            tiles = []
            for eye, (lid, upper, under, width, (x0, y0, x1, y1)) in enumerate(eye_masks(rgb.shape, before, after)):
                if lid.sum() < 16:
                    continue
                peak, streak = streaks(d, lid)
                row = {"face": fid, "kind": kind, "eye": eye, "outside": outside,
                       "stage": texture(ys, lid, width), "refined": texture(yr, lid, width),
                       "real_lid": texture(yp, upper, width), "real_under": texture(yp, under, width),
                       "inside": float(np.abs(d[lid]).mean()), "peak": peak, "streak": streak}
                rows.append(row)
                print(json.dumps({k: (np.round(v, 3).tolist() if not isinstance(v, str) else v) for k, v in row.items()}))
                change = np.clip(128 + 8 * d[y0:y1, x0:x1], 0, 255).astype(np.uint8)
                tiles.append(np.concatenate([staged[y0:y1, x0:x1], refined[y0:y1, x0:x1], rgb[y0:y1, x0:x1],
                                             np.repeat(change[..., None], 3, -1)], 0))
            if crops is not None and tiles:
                crops.mkdir(parents=True, exist_ok=True)
                h = min(t.shape[0] for t in tiles)
                sheet = np.concatenate([t[:h] for t in tiles[::-1]], 1)  # the image's right eye first: as seen
                Image.fromarray(sheet).save(crops / f"{fid}_{kind}.png")
                three = sheet[: 3 * h // 4]
                Image.fromarray(cv2.resize(three, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)).save(
                    crops / f"{fid}_{kind}_3x.png")
    return {"rows": rows, "summary": summary(rows)}


def summary(rows: list[dict]) -> dict:
    """Medians over the lids, and how many lids the refiner brings nearer the same face's real lid."""
    if not rows:
        return {}
    med = {k: np.nanmedian([r[k] for r in rows], 0).round(3).tolist()
           for k in ("stage", "refined", "real_lid", "real_under", "inside", "peak", "streak", "outside")}
    nearer = [int(sum(abs(r["refined"][i] - r["real_lid"][i]) < abs(r["stage"][i] - r["real_lid"][i]) for r in rows))
              for i in (0, 1)]
    return {**med, "nearer_real_lid_grain": nearer[0], "nearer_real_lid_blotch": nearer[1], "lids": len(rows),
            "outside_max": max(r["outside"] for r in rows)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--faces", default=FACES)
    ap.add_argument("--kinds", default="neutral")
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--sheet", type=Path, default=None,
                    help="with --crops: the faces' panels side by side, enlarged 2x (nearest), one PNG")
    a = ap.parse_args(argv)
    out = run(a.weights, a.faces.split(","), a.kinds.split(","), a.data, a.crops)
    if a.sheet is not None and a.crops is not None:
        panels = [np.asarray(Image.open(p).convert("RGB")) for f in a.faces.split(",") for k in a.kinds.split(",")
                  if (p := a.crops / f"{f}_{k}.png").is_file()]
        h = max(p.shape[0] for p in panels)
        row = np.concatenate([np.pad(p, ((0, h - p.shape[0]), (0, 6), (0, 0)), constant_values=255) for p in panels], 1)
        a.sheet.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(cv2.resize(row, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)).save(a.sheet)
    s = out["summary"]
    print("\nmedians over", s.get("lids", 0), "closed lids: grain %, blotch % (of the region's luma)")
    for k in ("stage", "refined", "real_lid", "real_under"):
        print(f"  {k:11s} {s[k][0]:.2f} {s[k][1]:.2f}" if k in s else "")
    if s:
        print(f"  change inside {s['inside']:.2f} levels, peak {s['peak']:.1f}, streak {s['streak']:.2f}; outside max "
              f"{s['outside_max']:.0f}; nearer the real lid's grain {s['nearer_real_lid_grain']} / blotch "
              f"{s['nearer_real_lid_blotch']} of {s['lids']}")
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
