"""What a method's region refiner (:mod:`faceedit.models.refine`) adds to the stage's open mouths,
on the held-out London HD faces, beside real open mouths (GRID's talking frames in colour; JAFFE's
surprise and fear and Yale's surprised as statistics only).

    OMP_NUM_THREADS=1 python bench/bench_refiner.py --method reggan [--weights PATH] [--data ../shared/data] \\
        [--crops out/refiner] [--json out/refiner.json]

Per face and target (surprised, fearful; ``--targets`` others), four outputs: the stage alone, the stage + refiner, and
the method's whole edit (its network after the stage) without and with the refiner. Measured:

* ``dark``: the median luma inside the inner lips (68 points 60-67, the moved ones) over the
  median luma of the cheeks (discs of 0.15 eye distances midway between points 2 and 31, 14 and
  35): how dark the open mouth is for the face's light;
* ``grain``: the standard deviation of the luma's high-pass (less its Gaussian blur of 1 px) in
  the inner lips, over the cheeks' luma, on the mouth's box resized as the refiner sees it
  (:func:`faceedit.models.refine.region_box`, the crop side): the texture of the opening at one
  scale for every source;
* ``chroma``: the mean |Cb| + |Cr| (BT.601, levels) inside the inner lips;
* ``shadow_cr`` / ``shadow_cb``: the colour of the opening's shadow: the median Cr and Cb over luma
  of the pixels inside the inner lips darker than :data:`SHADOW` of the cheeks (a dark red
  cavity has Cr/Y above 0 and Cb/Y under 0; neutral black has both 0). Its real reference is
  London HD's training smiles at full resolution (the shadow beside and between their teeth):
  GRID's shadows are a few MPEG pixels whose 4:2:0 chroma mixes in the lips' red;
* ``inside`` / ``outside``: the mean absolute change (levels) the refiner makes inside the
  stage's opening (coverage above 0.5) and outside its feathered mask (must be 0);
* ``peak``: the 99.5th percentile of the refiner's |luma change| (levels) inside the opening (a
  glint, a bright line: a few pixels changed a lot); ``streak``: log2 of the mean |vertical| over
  the mean |horizontal| difference of neighbours of that change (:func:`streaks`: about 0 for
  grain, above 0 for horizontal streaks, below 0 for vertical stripes);
  ``method_outside``: the same outside the mask for the method's whole edit (its network, after
  the stage, sees the refined mouth, so its own change elsewhere moves a little).

Real mouths are measured the same way on their own landmarks (open when the inner lips are apart
by at least :data:`faceedit.train.refiner.OPEN_GAP` of the mouth's width). ``--crops`` writes per
face and target a 3-panel PNG at the photo's own pixels (stage | stage + refiner | a GRID frame; with
``--london-only`` or a native refiner the widest London HD training smile at its photo's pixels) and one
enlarged 3x with nearest-neighbour (a lid refiner on the stage's closed lids:
``bench/bench_refiner_lids.py``). ``grain_px``, ``grain_shadow`` and ``grain_skin`` measure texture
at the photo's own pixels (:func:`native_grain`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from faceedit import flow as F
from faceedit.api import Editor
from faceedit.data import holdout_subjects
from faceedit.faces.landmarks import eye_distance
from faceedit.models.refine import load_refiner, region_box, weight_image
from faceedit.models.request import EditRequest
from faceedit.train.refiner import OPEN_GAP, inner_gap

TARGETS = ("surprised", "fearful")
#: The share of the cheeks' luma under which a pixel inside the inner lips is the opening's shadow.
SHADOW = 0.35
#: Sigma (px of the photo) of the blur whose difference is the native grain (:func:`native_grain`).
NATIVE_SIGMA = 1.5


def luma(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32) if rgb.ndim == 3 else rgb


def inner_mask(shape, lm: np.ndarray) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(lm)[60:68] * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return m.astype(bool)


def cheeks(shape, lm: np.ndarray) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    r = max(int(round(0.15 * eye_distance(lm))), 2)
    for a, b in ((2, 31), (14, 35)):
        c = (np.asarray(lm[a]) + np.asarray(lm[b])) / 2
        cv2.circle(m, (int(round(c[0])), int(round(c[1]))), r, 1, -1)
    return m.astype(bool)


def measure(rgb: np.ndarray, lm: np.ndarray, crop: int, crop_scale: float) -> dict:
    """``dark``, ``grain`` and ``chroma`` of the open mouth at ``lm`` (see the module docstring)."""
    y = luma(rgb)
    inside, cheek = inner_mask(rgb.shape, lm), cheeks(rgb.shape, lm)
    ref = float(np.median(y[cheek]))
    from faceedit.models.refine import cut_box

    box = region_box(lm, crop_scale)
    yc = cut_box(y, box, crop)
    mc = cut_box(inside.astype(np.float32), box, crop) > 0.5
    hp = yc - cv2.GaussianBlur(yc, (0, 0), 1.0)
    out = {"dark": float(np.median(y[inside])) / ref, "grain": float(hp[mc].std()) / ref if mc.sum() > 4 else float("nan")}
    out.update(native_grain(y, inside, cheek, ref))
    if rgb.ndim == 3:
        f = np.asarray(rgb, np.float32)
        cb = -0.168736 * f[..., 0] - 0.331264 * f[..., 1] + 0.5 * f[..., 2]
        cr = 0.5 * f[..., 0] - 0.418688 * f[..., 1] - 0.081312 * f[..., 2]
        out["chroma"] = float(np.mean(np.abs(cb[inside]) + np.abs(cr[inside])))
        shade = inside & (y < SHADOW * ref)
        if shade.sum() >= 6:
            yy = np.maximum(y[shade], 1.0)
            out["shadow_cr"], out["shadow_cb"] = float(np.median(cr[shade] / yy)), float(np.median(cb[shade] / yy))
        else:
            out["shadow_cr"] = out["shadow_cb"] = float("nan")
    return out


def native_grain(y: np.ndarray, inside: np.ndarray, cheek: np.ndarray, ref: float) -> dict:
    """Texture at the photo's own pixels, over the cheeks' luma: the std of the luma's high-pass
    (less its Gaussian blur of :data:`NATIVE_SIGMA` px) inside the inner lips eroded by 2 px
    (``grain_px``), in their shadow (darker than :data:`SHADOW` of the cheeks, eroded alike:
    ``grain_shadow``, where the stage paints a flat black) and on the cheeks (``grain_skin``: the
    photo's own grain)."""
    hp = y - cv2.GaussianBlur(y, (0, 0), NATIVE_SIGMA)
    core = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    shade = cv2.erode((inside & (y < SHADOW * ref)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    nan = float("nan")
    return {"grain_px": float(hp[core].std()) / ref if core.sum() > 8 else nan,
            "grain_shadow": float(hp[shade].std()) / ref if shade.sum() > 8 else nan,
            "grain_skin": float(hp[cheek].std()) / ref}


def streaks(d: np.ndarray, core: np.ndarray) -> tuple[float, float]:
    """``peak`` and ``streak`` (see the module docstring) of the change ``d`` (luma, levels) on ``core``."""
    if core.sum() < 16:
        return float("nan"), float("nan")
    peak = float(np.percentile(np.abs(d[core]), 99.5))
    dy = np.abs(np.diff(d, axis=0))[core[1:] & core[:-1]]
    dx = np.abs(np.diff(d, axis=1))[core[:, 1:] & core[:, :-1]]
    return peak, float(np.log2((dy.mean() + 1e-6) / (dx.mean() + 1e-6)))


def reals(data: Path, detector, crop: int, crop_scale: float, held: set[str],
          london_only: bool = False) -> dict[str, list]:
    """Measures of real open mouths per source, and the GRID frames (for the crops)."""
    import av

    out: dict[str, list] = {"grid": [], "jaffe": [], "yale": [], "london_smiles": [], "grid_frames": [],
                            "london_frames": []}
    for p in sorted((data / "london_hd" / "smiling").glob("*.jpg")):
        if f"london-{p.stem}" in held:
            continue
        with Image.open(p) as im:
            rgb = np.asarray(im.convert("RGB"))
        faces = [f for f in detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
        if faces and inner_gap(faces[0].landmarks) >= 0.05:  # showing teeth
            out["london_smiles"].append(measure(rgb, faces[0].landmarks, crop, crop_scale))
            out["london_frames"].append((inner_gap(faces[0].landmarks), p.stem, faces[0].landmarks))
    if london_only:
        return out
    for clip in sorted((data / "grid").glob("*.mpg")):
        with av.open(str(clip)) as c:
            for frame in c.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                faces = [f for f in detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
                if faces and inner_gap(faces[0].landmarks) >= OPEN_GAP:
                    out["grid"].append(measure(rgb, faces[0].landmarks, crop, crop_scale))
                    out["grid_frames"].append((inner_gap(faces[0].landmarks), rgb, faces[0].landmarks))
    for name, pattern in (("jaffe", "*.SU*"), ("jaffe", "*.FE*"), ("yale", "*surprised*")):
        for p in sorted((data / name).glob(pattern)):
            with Image.open(p) as im:
                rgb = np.asarray(im.convert("RGB"))
            faces = [f for f in detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
            if faces and inner_gap(faces[0].landmarks) >= OPEN_GAP:
                out[name].append(measure(rgb[..., 0], faces[0].landmarks, crop, crop_scale))
    return out


def panel(images: list[np.ndarray], height: int) -> np.ndarray:
    """Images side by side at their own pixels, each padded (white) to ``height``."""
    cols = []
    for im in images:
        pad = np.full((height, im.shape[1] + 6, 3), 255, np.uint8)
        pad[: im.shape[0], : im.shape[1]] = im[:height]
        cols.append(pad)
    return np.concatenate(cols, 1)


def contact_sheet(panels: list[Path], out: Path) -> None:
    """The 3-panel PNGs (stage | stage + refiner | GRID) one under another, at their own pixels,
    8 white px apart."""
    rows = [np.asarray(Image.open(p).convert("RGB")) for p in panels]
    width = max(r.shape[1] for r in rows)
    sheet = [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(sheet, 0)).save(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="reggan")
    ap.add_argument("--weights", type=Path, default=None, help="a refiner checkpoint (default: the shipped one)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help="comma-separated targets whose invented regions are refined (default: %(default)s)")
    ap.add_argument("--faces", default="", help="comma-separated London ids (default: the held-out ones)")
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--london-only", action="store_true",
                    help="real mouths: London HD's training smiles only (not GRID, JAFFE, Yale)")
    ap.add_argument("--no-method", action="store_true",
                    help="measure the stage alone and the stage + refiner only (not the method's whole edit)")
    ap.add_argument("--sheet", type=Path, default=None,
                    help="with --crops: the faces' panels, surprised then fearful, stacked into one contact sheet (PNG)")
    a = ap.parse_args()
    targets = tuple(t for t in a.targets.split(",") if t)
    editor = Editor.from_pretrained(a.method, device="cpu", detector="mediapipe")
    if a.weights is not None:
        editor.refiner = load_refiner(a.weights)
    if editor.refiner is None:
        raise SystemExit(f"{a.method}: no refiner (give --weights)")
    cfg = editor.refiner.cfg
    hd = a.data / "london_hd" / "neutral"
    held = holdout_subjects({f"london-{p.stem}" for p in hd.glob("*.jpg")})
    ids = a.faces.split(",") if a.faces else sorted(s[7:] for s in held)
    real = reals(a.data, editor.detector, cfg.crop, cfg.crop_scale, held, a.london_only)
    grid_frames, london_frames = real.pop("grid_frames"), real.pop("london_frames")
    if a.london_only or cfg.native:  # the widest London smile, at its photo's own pixels
        _, stem, glm = max(london_frames, key=lambda t: t[0])
        with Image.open(a.data / "london_hd" / "smiling" / f"{stem}.jpg") as im:
            grid_frame = (0.0, np.asarray(im.convert("RGB")), glm)
    else:
        grid_frame = max(grid_frames, key=lambda t: t[0])  # the widest-open GRID mouth
    rows = []
    if a.crops:
        a.crops.mkdir(parents=True, exist_ok=True)
    for i in ids:
        with Image.open(hd / f"{i}.jpg") as im:
            img = np.asarray(im.convert("RGB"))
        faces = F.select_faces(editor.detector.detect(img), "largest")
        for target in targets:
            req = {r: editor.check_request(EditRequest.of(target, settings={"refine": r})) for r in ("off", "on")}
            staged = {r: F.prepare_photo(editor, img, faces, req[r]) for r in req}
            e = staged["off"].edits[0]
            lm = e.landmarks
            row = {"face": i, "target": target}
            stage_px = {r: staged[r].pixels.copy() for r in req}  # the network pastes into the staged photo
            method_px = {} if a.no_method else {r: F.finish_photo(editor, staged[r], req[r]) for r in req}
            for r in req:
                row[f"stage_{r}"] = measure(stage_px[r], lm, cfg.crop, cfg.crop_scale)
                if method_px:
                    row[f"method_{r}"] = measure(method_px[r], lm, cfg.crop, cfg.crop_scale)
            if e.invented is not None:
                (x0, y0, x1, y1), cov = e.invented
                w = weight_image(img.shape[:2], lm, e.invented, cfg)
                core = np.zeros(img.shape[:2], bool)
                core[y0:y1, x0:x1] = cov > 0.5
                d = np.abs(stage_px["on"].astype(np.float32) - stage_px["off"].astype(np.float32)).mean(-1)
                row["inside"], row["outside"] = float(d[core].mean()), float(d[w == 0].mean())
                row["peak"], row["streak"] = streaks(luma(stage_px["on"]) - luma(stage_px["off"]), core)
                if method_px:
                    dm = np.abs(method_px["on"].astype(np.float32) - method_px["off"].astype(np.float32)).mean(-1)
                    row["method_outside"] = float(dm[w == 0].mean())
            rows.append(row)
            print(json.dumps(row), flush=True)
            if a.crops:
                x0, y0, side = region_box(lm, cfg.crop_scale)
                x0, y0 = max(x0, 0), max(y0, 0)
                cut = [stage_px[r][y0:y0 + side, x0:x0 + side] for r in ("off", "on")]
                _, g, glm = grid_frame
                gx, gy, gs = region_box(glm, cfg.crop_scale)
                cut.append(g[max(gy, 0):gy + gs, max(gx, 0):gx + gs])
                sheet = panel(cut, max(c.shape[0] for c in cut))
                Image.fromarray(sheet).save(a.crops / f"{i}_{target}.png")
                Image.fromarray(cv2.resize(sheet, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)).save(
                    a.crops / f"{i}_{target}_3x.png")
    if a.crops and a.sheet:
        contact_sheet([a.crops / f"{i}_{t}.png" for t in targets for i in ids], a.sheet)
    summary: dict[str, Any] = {"faces": len(ids), "real": {k: {m: float(np.nanmedian([r.get(m, np.nan) for r in v])) for m in v[0]} | {"n": len(v)}
                                           for k, v in real.items() if v}}
    for t in targets:
        sub: list[dict[str, Any]] = [r for r in rows if r["target"] == t]
        summary[t] = {k: {m: float(np.nanmedian([r[k][m] for r in sub])) for m in sub[0][k]}
                      for k in ("stage_off", "stage_on", "method_off", "method_on") if k in sub[0]}
        summary[t]["inside"] = float(np.median([r["inside"] for r in sub if "inside" in r]))
        summary[t]["outside"] = float(np.max([r["outside"] for r in sub if "outside" in r]))
        for k in ("peak", "streak"):
            summary[t][k] = float(np.nanmedian([r.get(k, np.nan) for r in sub]))
        ref = summary["real"].get("london_smiles", {}).get("grain_px", np.nan)
        summary[t]["faces_nearer_real_grain_px"] = sum(
            abs(r["stage_on"]["grain_px"] - ref) < abs(r["stage_off"]["grain_px"] - ref) for r in sub)
        if not a.no_method:
            summary[t]["method_outside"] = float(np.median([r["method_outside"] for r in sub if "method_outside" in r]))
        summary[t]["faces_darker_with_refiner"] = sum(r["stage_on"]["dark"] < r["stage_off"]["dark"] for r in sub)
        summary[t]["faces_grainier_with_refiner"] = sum(r["stage_on"]["grain"] > r["stage_off"]["grain"] for r in sub)
        summary[t]["faces_grainier_px_with_refiner"] = sum(
            r["stage_on"]["grain_px"] > r["stage_off"]["grain_px"] for r in sub)
    print(json.dumps(summary, indent=1))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
