"""How smooth each model's relighting is on held-out London faces at the photos' native 1350 px.

    OMP_NUM_THREADS=1 python bench/bench_relight_texture.py --models stage,legan,lssl
    python bench/bench_relight_texture.py --models legan --ids london-008 --crops /tmp/legan_light

For every held-out London subject (the trainers' split: seed 0, 20 %: 18 people), every model
named and every light of ``--lights`` (default ``left,right``), the neutral photo is edited
through :class:`faceedit.api.Editor` with ``lighting=LIGHT`` and the target ``keep`` where the
model's network runs for it (and for the stage alone), else ``neutral`` (``--target``
overrides): a network with a lighting condition then runs and relights on top of the stage
(``-t keep`` is the stage's relighting alone for every network but LSSL's).

Measure, inside the face (the outline of jaw, brows and a forehead 0.3 eye distances above them,
:func:`faceedit.eval.light_truth.face_mask`, of the largest face found in the input):

* ``d = log(Y_edit + 1) - log(Y_input + 1)``, the change of log-luminance (BT.601 luma in 8-bit
  levels): a change of light multiplies the luminance, so it is an image of the light alone;
* ``hf = sum(h**2) / sum(d**2)`` over the face, ``h = d - G_sigma * d`` the change less its
  Gaussian blur at ``sigma = 0.1`` eye distances (about 2 pixels of the 64-px crop the networks
  edit: finer than any shading of the face's shape): the **high-frequency share** of the change. A change of light is smooth (it keeps this at or under 0.15); a change that
  follows the skin's pores, hairs and lashes raises it;
* ``net_hf``: the same share for the change the model makes beyond the stage alone with the same
  target and light: the network's own change.

Printed per model and light: the mean and highest ``hf`` over the people, the mean ``net_hf``,
and the mean lit-minus-dark log change in percent (the lit half of the face, split at the nose
ridge, minus the other half: that the light still moves). ``--crops DIR`` writes, per model,
light and person, ``DIR/ID_MODEL_LIGHT.png``: input | edit | the log change (grey = none) |
the network's own log change (x4), a crop around the face at the photo's own pixels (no
resizing).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.api import Editor
from faceedit.data import holdout_subjects
from faceedit.eval.light_truth import face_mask
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import NOSE_BRIDGE, eye_distance
from faceedit.pixels import luma
from faceedit.stage.shading import NAMED_DIRECTIONS

#: Blur scale of the high-frequency split, in eye distances.
SIGMA_EYE_DISTS = 0.1


def log_luma(rgb: np.ndarray) -> np.ndarray:
    return np.log1p(luma(rgb.astype(np.float32)))


def texture_share(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """(high-frequency share of the log-luminance change inside the face, the change's mean
    over the image-left half of the face minus the right half, in percent)."""
    d = log_luma(after) - log_luma(before)
    m = face_mask(d.shape, landmarks)
    sigma = SIGMA_EYE_DISTS * eye_distance(landmarks)
    h = d - cv2.GaussianBlur(d, (0, 0), sigma)
    hf = float((h[m] ** 2).sum() / max(float((d[m] ** 2).sum()), 1e-12))
    xs = np.arange(d.shape[1])[None, :]
    left = np.broadcast_to(xs < np.asarray(landmarks)[NOSE_BRIDGE, 0].mean(), d.shape)
    side = float(d[m & left].mean() - d[m & ~left].mean()) * 100.0
    return hf, side


def crop_sheet(before: np.ndarray, reference: np.ndarray | None, after: np.ndarray,
               landmarks: np.ndarray) -> np.ndarray:
    """input | edit | its log-luminance change (x1) | the change beyond ``reference`` (the stage
    alone; x4), grey 128 = no change, around the face at the photo's own pixels."""
    lm = np.asarray(landmarks, np.float64)
    iod = eye_distance(lm)
    c = lm[NOSE_BRIDGE].mean(0)
    x0, x1 = int(max(c[0] - 1.3 * iod, 0)), int(min(c[0] + 1.3 * iod, before.shape[1]))
    y0, y1 = int(max(c[1] - 1.5 * iod, 0)), int(min(c[1] + 1.9 * iod, before.shape[0]))

    def change(a: np.ndarray, b: np.ndarray, gain: float) -> np.ndarray:
        d = log_luma(b[y0:y1, x0:x1]) - log_luma(a[y0:y1, x0:x1])
        return np.repeat(np.clip(128 + gain * 255 * d, 0, 255).astype(np.uint8)[:, :, None], 3, 2)

    tiles = [before[y0:y1, x0:x1], after[y0:y1, x0:x1], change(before, after, 1.0)]
    if reference is not None:
        tiles.append(change(reference, after, 4.0))
    return np.hstack(tiles)


def largest(det, rgb: np.ndarray):
    faces = det.detect(rgb)
    return max(faces, key=lambda f: f.area) if faces else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--models", default="stage,legan,lssl", help="comma-separated model names")
    ap.add_argument("--lights", default="left,right", help="comma-separated --lighting classes")
    ap.add_argument("--target", default="", help="edit target (default: keep where the network runs for it, else neutral)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many held-out people (0: all 18)")
    ap.add_argument("--ids", default="", help="only these held-out ids (e.g. london-008,london-094)")
    ap.add_argument("--crops", type=Path, default=None, help="write input | edit | change crops here")
    a = ap.parse_args(argv)
    lights = [x.strip() for x in a.lights.split(",") if x.strip()]
    unknown = [x for x in lights if x not in NAMED_DIRECTIONS]
    if unknown:
        ap.error(f"not lighting classes: {', '.join(unknown)}")
    files = sorted((a.data / "neutral").glob("*.jpg"))
    held = sorted(holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    if a.ids:
        wanted = [i.strip() for i in a.ids.split(",") if i.strip()]
        bad = [i for i in wanted if i not in held]
        if bad:
            ap.error(f"not held-out London ids: {', '.join(bad)}")
        held = wanted
    if a.limit:
        held = held[: a.limit]
    det = get_detector("auto")
    people = []
    for sid in held:
        img = np.asarray(Image.open(a.data / "neutral" / f"{sid.split('-')[1]}.jpg").convert("RGB"))
        f = largest(det, img)
        if f is None:
            print(f"{sid}: no face found, skipped")
            continue
        people.append((sid, img, np.asarray(f.landmarks, np.float64)))
    print(f"{len(people)} held-out London people at {people[0][1].shape[1]} px; "
          f"hf = high-frequency share of the log-luminance change inside the face (sigma {SIGMA_EYE_DISTS} eye distances)")
    if a.crops:
        a.crops.mkdir(parents=True, exist_ok=True)
    stage = Editor.from_pretrained("stage")
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        editor = Editor.from_pretrained(name)
        target = a.target or ("keep" if editor.uses_network("keep") or not editor.has_network else "neutral")
        for light in lights:
            t0 = time.perf_counter()
            hfs, nets, sides = [], [], []
            for sid, img, lm in people:
                out = editor.edit(img, target, face="largest", lighting=light)
                hf, side = texture_share(img, out, lm)
                hfs.append(hf)
                sides.append(side)
                ref = None
                if editor.has_network:
                    ref = stage.edit(img, target, face="largest", lighting=light)
                    nets.append(texture_share(ref, out, lm)[0])
                if a.crops:
                    Image.fromarray(crop_sheet(img, ref, out, lm)).save(a.crops / f"{sid}_{name}_{light}.png")
            net = f"{np.mean(nets):.3f}" if nets else "-"
            print(f"{name:7s} -t {target:8s} --lighting {light:6s}: hf {np.mean(hfs):.3f} (highest {max(hfs):.3f}), "
                  f"network's own change hf {net}, left-minus-right {np.mean(sides):+.1f} % "
                  f"({len(people)} faces, {time.perf_counter() - t0:.0f} s)")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
