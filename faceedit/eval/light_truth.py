"""How true the relighting is: Extended Yale B's held-out subjects relit from their front-lit
photo to each measured light and compared with the real photo under that light, and the checks
on held-out London photos (lit side, smoothness, colour, neck).

    python -m faceedit.eval.light_truth -d data/yaleb256 [--london ../shared/data/london_hd/neutral
        --london-data data/london256d -m stage -m legan -m lssl] [--sheets DIR]

Yale B (:func:`light_truth`): per held-out subject (:func:`faceedit.data.holdout_subjects`, seed 0,
20 %), the front-lit crop ``P00A+000E+00`` is relit by :mod:`faceedit.stage.shading` at full
strength without exposure correction (the dark-room light the model was fitted on) to every
other direction; luma L1 (8-bit levels) and SSIM against the real crop, inside the face outline
where the photo exists, by azimuth and elevation band, beside the same for the unedited front
photo.

London (:func:`relight_measures`): per photo and light, the mean luma change of the lit half of
the face minus the other half (split at the nose ridge), the high-frequency share of the change
(energy above a Gaussian of a tenth of the eye distance, over its energy, inside the face: as
:func:`faceedit.eval.truth.lighting_truth`), the mean chroma shift (|(dCb, dCr)|, 8-bit levels,
over the face and the neck) and the neck's lit-minus-dark change below the chin as a fraction of
the face's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faceedit.faces.landmarks import CHIN, NOSE_BRIDGE, eye_distance
from faceedit.pixels import luma, rgb_to_ycc
from faceedit.stage.shading import NAMED_DIRECTIONS, ShadingModel, load_shading
from faceedit.stage.warp import region_outline

#: Bands of |azimuth| and of elevation (degrees, inclusive) the Yale B figures are grouped by.
AZIMUTH_BANDS = {"0-10": (0, 10), "15-35": (15, 35), "50-70": (50, 70), "85-130": (85, 130)}
ELEVATION_BANDS = {"below (<= -10)": (-90, -10), "level (0-20)": (0, 20), "above (> 20)": (21, 90)}
#: The sweep drawn on the sheets: (azimuth, elevation) degrees.
SWEEP = [(0, 0), (35, 15), (70, 0), (-35, 15), (-70, 0), (0, 45), (0, -35), (50, -20), (-50, -20)]


# --------------------------------------------------------------------------------------------
# Extended Yale B


@dataclass
class TruthSample:
    """One subject: the front-lit photo (H, W, 3) uint8, its 68 landmarks, the photos under other
    lights {(azimuth, elevation): photo} and where the photos show the subject (H, W) bool."""

    front: np.ndarray
    landmarks: np.ndarray
    lit: dict[tuple[int, int], np.ndarray]
    valid: np.ndarray | None = None
    name: str = ""


def yaleb_samples(dataset, held_out: bool = True) -> Iterable[TruthSample]:
    """The held-out subjects of a prepared Extended Yale B set (``faceedit prepare``; path or
    :class:`faceedit.data.Dataset`) as :class:`TruthSample`, one subject at a time."""
    from PIL import Image

    from faceedit.data import holdout_subjects, open_dataset, valid_area
    from faceedit.train.shading import subject_groups

    d = open_dataset(dataset) if isinstance(dataset, (str, Path)) else dataset
    held = holdout_subjects({r["subject"] for r in d.rows}, 0.2, 0)
    groups = subject_groups(d, subjects=held if held_out else None)

    def read(row: dict) -> np.ndarray:
        with Image.open(f"{row['dataset']}/{row['file']}") as im:
            return np.asarray(im.convert("RGB"))

    for s, (src, lit) in groups.items():
        yield TruthSample(read(src), np.asarray(src["landmarks"], np.float64),
                          {k: read(r) for k, r in lit.items() if k != (0, 0)},
                          valid_area(src, d.size), s)


def _masked_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    _, m = structural_similarity(a, b, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, full=True)
    return float(m[mask].mean())


def face_mask(shape: tuple[int, ...], landmarks: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """The face outline (jaw, brows, a forehead 0.3 eye distances above them) grown by ``grow``
    eye distances, filled, as an (H, W) bool mask."""
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, np.rint(region_outline(landmarks, grow, 0.3)).astype(np.int32), 1)
    return m.astype(bool)


def light_truth(samples: Iterable[TruthSample], model: ShadingModel | None = None, strength: float = 1.0
                ) -> dict:
    """Relight each sample's front photo to each of its measured lights and compare with the real
    photo (see the module's docstring). Returns {"pairs", "relit": {"l1", "ssim"}, "front": {...},
    "azimuth": {band: {...}}, "elevation": {band: {...}}} (L1 in 8-bit luma levels)."""
    model = model if model is not None else load_shading()
    rows = []
    for s in samples:
        mask = face_mask(s.front.shape, s.landmarks)
        if s.valid is not None:
            mask &= s.valid
        yf = luma(s.front.astype(np.float32))
        for (az, el), real in sorted(s.lit.items()):
            relit = model.relight(s.front, s.landmarks, (az, el), strength, keep_exposure=False)
            yo, yr = luma(relit.astype(np.float32)), luma(real.astype(np.float32))
            rows.append({"azimuth": az, "elevation": el,
                         "l1_relit": float(np.abs(yo - yr)[mask].mean()),
                         "l1_front": float(np.abs(yf - yr)[mask].mean()),
                         "ssim_relit": _masked_ssim(yo, yr, mask), "ssim_front": _masked_ssim(yf, yr, mask)})

    def summary(sel: list[dict]) -> dict:
        if not sel:
            return {"pairs": 0}
        return {"pairs": len(sel),
                "relit": {"l1": round(float(np.mean([r["l1_relit"] for r in sel])), 2),
                          "ssim": round(float(np.mean([r["ssim_relit"] for r in sel])), 3)},
                "front": {"l1": round(float(np.mean([r["l1_front"] for r in sel])), 2),
                          "ssim": round(float(np.mean([r["ssim_front"] for r in sel])), 3)}}

    out = summary(rows)
    out["azimuth"] = {b: summary([r for r in rows if lo <= abs(r["azimuth"]) <= hi])
                      for b, (lo, hi) in AZIMUTH_BANDS.items()}
    out["elevation"] = {b: summary([r for r in rows if lo <= r["elevation"] <= hi])
                        for b, (lo, hi) in ELEVATION_BANDS.items()}
    return out


# --------------------------------------------------------------------------------------------
# checks on photos


def relight_measures(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray, lit_left: bool) -> dict:
    """The change ``before`` -> ``after`` of the face at ``landmarks`` lit from the image's left
    (``lit_left``) or right: ``lit_minus_dark`` (mean luma change of the lit half of the face
    minus the other half, 8-bit levels), ``lit_change`` (of the lit half alone),
    ``high_frequency_share``, ``chroma_shift`` (mean |(dCb, dCr)| over the face and neck, levels)
    and ``neck_fraction`` (the neck's lit-minus-dark change below the chin over the face's)."""
    lm = np.asarray(landmarks, np.float64)
    a, b = before.astype(np.float32), after.astype(np.float32)
    d = luma(b) - luma(a)
    face = face_mask(a.shape, lm)
    h, w = d.shape
    xs = np.arange(w)[None, :].repeat(h, 0)
    ys = np.arange(h)[:, None].repeat(w, 1)
    nose = lm[NOSE_BRIDGE, 0].mean()
    left = xs < nose
    lit, dark = (left, ~left) if lit_left else (~left, left)
    face_diff = float(d[face & lit].mean() - d[face & dark].mean())
    iod = eye_distance(lm)
    sigma = 0.1 * iod
    high = d - cv2.GaussianBlur(d, (0, 0), sigma)
    hf = float((high[face] ** 2).sum() / max((d[face] ** 2).sum(), 1e-6))
    chin = lm[CHIN]
    neck = ((xs >= lm[5, 0]) & (xs <= lm[11, 0]) & (ys >= chin[1] + 0.3 * iod) & (ys <= chin[1] + 0.9 * iod))
    nleft = xs < chin[0]
    nlit, ndark = (nleft, ~nleft) if lit_left else (~nleft, nleft)
    neck_diff = float(d[neck & nlit].mean() - d[neck & ndark].mean()) if (neck & nlit).any() and (neck & ndark).any() else float("nan")
    dc = rgb_to_ycc(b)[..., 1:] - rgb_to_ycc(a)[..., 1:]
    region = face | neck
    return {"lit_minus_dark": face_diff, "lit_change": float(d[face & lit].mean()),
            "high_frequency_share": hf,
            "chroma_shift": float(np.sqrt((dc[region] ** 2).sum(-1)).mean()),
            "chroma_shift_mean": [float(v) for v in dc[region].mean(0)],
            "neck_fraction": neck_diff / face_diff if abs(face_diff) > 1e-6 else float("nan")}


def london_checks(edit: Callable[[np.ndarray, str, np.ndarray], np.ndarray], photos: list[str], lights=("left", "right"),
                  detector: str = "auto", reference: Callable | None = None) -> dict:
    """:func:`relight_measures` of ``edit(photo, light, landmarks)`` on each photo, averaged per light, with
    the worst photo of each measure. ``light``: a name of
    :data:`faceedit.stage.shading.NAMED_DIRECTIONS` or ``"AZ,EL"``. With ``reference`` (an edit of
    the same form: the stage alone) also ``network_high_frequency_share``: that of the change
    ``edit`` makes beyond ``reference``'s (a network's own change on top of the stage)."""
    from faceedit.faces.detectors import get_detector
    from faceedit.io.decode import read_image
    from faceedit.stage.shading import parse_light

    azimuths = {}
    for c in lights:
        direction = parse_light(c).direction
        if direction is None:
            raise ValueError(f"light {c!r}: an even (ambient) light has no lit side to measure")
        azimuths[c] = direction[0]
    det = get_detector(detector)
    per: dict[str, list[dict]] = {str(c): [] for c in lights}
    for path in photos:
        img = read_image(path).pixels
        faces = det.detect(img)
        if not faces:
            continue
        lm = max(faces, key=lambda f: f.area).landmarks
        for c in lights:
            az = azimuths[c]
            edited = edit(img, c, lm)
            m = relight_measures(img, edited, lm, az > 0)
            if reference is not None:
                m["network_high_frequency_share"] = relight_measures(reference(img, c, lm), edited, lm, az > 0)[
                    "high_frequency_share"]
            per[str(c)].append(m)
    out = {}
    for c, ms in per.items():
        keys = ("lit_minus_dark", "lit_change", "high_frequency_share", "chroma_shift", "neck_fraction",
                *(["network_high_frequency_share"] if reference is not None else []))
        out[c] = {"photos": len(ms), **{k: round(float(np.nanmean([m[k] for m in ms])), 3) for k in keys},
                  "min_lit_minus_dark": round(float(min(m["lit_minus_dark"] for m in ms)), 2),
                  "max_high_frequency_share": round(float(max(m["high_frequency_share"] for m in ms)), 3),
                  "max_chroma_shift": round(float(max(m["chroma_shift"] for m in ms)), 2),
                  "min_neck_fraction": round(float(np.nanmin([m["neck_fraction"] for m in ms])), 3)}
    return out


def london_heldout_photos(root: str | Path, dataset: str | Path) -> list[str]:
    """The held-out London photos under ``root`` (``NNN.jpg``): the subjects the prepared London
    set ``dataset`` holds out (seed 0, 20 %)."""
    from faceedit.data import holdout_subjects, open_dataset

    d = open_dataset(dataset)
    held = holdout_subjects({r["subject"] for r in d.rows}, 0.2, 0)
    ids = sorted(s.rsplit("-", 1)[-1] for s in held)
    return [str(Path(root) / f"{i}.jpg") for i in ids if (Path(root) / f"{i}.jpg").exists()]


def sweep_sheet(edit: Callable[[np.ndarray, str, np.ndarray], np.ndarray], photo: np.ndarray, landmarks: np.ndarray,
                directions=SWEEP, columns: int = 3) -> np.ndarray:
    """The head of ``photo`` at full resolution (no resampling) under each of ``directions``
    (``edit(photo, "AZ,EL", landmarks)``), the input first, in a grid with the direction written on each."""
    lm = np.asarray(landmarks, np.float64)
    iod = eye_distance(lm)
    c = lm[NOSE_BRIDGE].mean(0)
    x0, x1 = int(max(c[0] - 1.7 * iod, 0)), int(min(c[0] + 1.7 * iod, photo.shape[1]))
    y0, y1 = int(max(c[1] - 2.0 * iod, 0)), int(min(c[1] + 2.6 * iod, photo.shape[0]))
    cells = [("input", photo)] + [(f"{az:g},{el:g}", edit(photo, f"{az},{el}", lm)) for az, el in directions]
    tiles = []
    for label, img in cells:
        t = np.ascontiguousarray(img[y0:y1, x0:x1])
        cv2.putText(t, label, (8, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 0), 3)
        tiles.append(t)
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    return np.vstack([np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)])


# --------------------------------------------------------------------------------------------


def editor_relight(model: str, target: str | None = None, strength: float | None = None):
    """``edit(photo, light, landmarks)`` through :class:`faceedit.api.Editor` for ``model`` (the network's
    lighting class nearest the light goes to the network; the stage gets the light itself)."""
    from faceedit.api import Editor

    editor = Editor.from_pretrained(model)
    t = target or ("keep" if "keep" in editor.targets() else "neutral")

    def edit(photo: np.ndarray, light: str, landmarks=None) -> np.ndarray:
        opts: dict[str, Any] = {"lighting": light} if light in NAMED_DIRECTIONS else {"light": light}
        if strength is not None:
            opts["light_strength"] = strength
        return editor.edit(photo, t, face="largest", **opts)

    return edit


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-d", "--data", help="prepared Extended Yale B set (held-out subjects are relit)")
    p.add_argument("--shading", help="shading model file (default: the shipped one)")
    p.add_argument("--london", help="folder of London photos NNN.jpg (the held-out ones are checked)")
    p.add_argument("--london-data", help="prepared London set whose held-out subjects to check")
    p.add_argument("-m", "--model", action="append", default=[],
                   help="models to check on London (Editor), MODEL or MODEL:TARGET (default target keep, "
                   "else neutral); a network's own change is measured against the stage alone")
    p.add_argument("--sheets", help="write sweep sheets of the first held-out London face here")
    a = p.parse_args(argv)
    model = load_shading(a.shading)
    report: dict = {}
    if a.data:
        report["yaleb"] = light_truth(yaleb_samples(a.data), model)
    if a.london and a.london_data:
        photos = london_heldout_photos(a.london, a.london_data)
        report["london"] = {"direct": london_checks(
            lambda img, c, lm: model.relight(img, lm, c), photos)}
        for m in a.model:
            name, _, target = m.partition(":")
            # the network's own change: against the stage alone with the same target
            stage = None if name == "stage" else editor_relight("stage", target or "keep")
            report["london"][m] = london_checks(editor_relight(name, target or None), photos, reference=stage)
        if a.sheets:
            from faceedit.io.decode import read_image

            Path(a.sheets).mkdir(parents=True, exist_ok=True)
            img = read_image(photos[0]).pixels
            lm = _landmarks(img)
            for m in a.model or ["direct"]:
                name, _, target = m.partition(":")
                edit = ((lambda im, c, f: model.relight(im, f, c)) if m == "direct"
                        else editor_relight(name, target or None))
                sheet = sweep_sheet(edit, img, lm)
                cv2.imwrite(str(Path(a.sheets) / f"sweep_{m.replace(':', '_')}.png"),
                            cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _landmarks(img: np.ndarray) -> np.ndarray:
    """The largest face's 68 landmarks (``auto`` detector)."""
    from faceedit.faces.detectors import get_detector

    return max(get_detector("auto").detect(img), key=lambda f: f.area).landmarks


if __name__ == "__main__":
    raise SystemExit(main())
