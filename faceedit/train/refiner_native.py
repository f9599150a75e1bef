"""Train a method's *native* region refiner (:class:`faceedit.models.refine.RefinerConfig` with
``native``): its generator runs on the stage's open mouth at the photo's own pixels and gives a
high-passed luma gain (grain, texture, focus at edges; the same factor for R, G and B, so no hue
changes), trained SimGAN-style against real mouths at the same scale.

    python -m faceedit.train.refiner_native prepare --data ../shared/data -o runs/native/crops.npz
    python -m faceedit.train.refiner_native train --crops runs/native/crops.npz --method reggan \\
        --minutes 10 -o runs/native/reggan      # or eggan, legan, lssl, secgan
    python -m faceedit.train.refiner_native train --crops runs/native/crops.npz --method reggan \\
        --minutes 15 --critic context --calm 1.0 -o runs/native/reggan_ctx   # the critic told the place
    python -m faceedit.train.refiner ship runs/native/reggan/reggan_refiner.safetensors --description "..." \
        --license "$(python -c 'from faceedit.train.refiner_native import LICENCE_TERMS; print(LICENCE_TERMS)')"

**Crops** (``prepare``; cached in the ignored ``runs/``), :data:`SIDE` px squares at the photo's
own pixels (no resize), held-out London ids (:func:`faceedit.data.holdout_subjects`) left out:

* *fakes*: the stage's surprised, fearful and happy edits of London HD's training faces (neutral
  and smiling photos), centred on the region the stage invented, with its feathered weight
  (:func:`faceedit.models.refine.weight_image`);
* *reals*: London HD's training smiles showing teeth, centred on the inner lips, with the inner
  lips' polygon (68 points 60-67) grown by :data:`GROW` px: teeth, the dark gaps between and
  beside them, the lips' inner rims.

**Training** (:func:`train`): random ``--patch`` px patches (centred where the mask is over 0.5)
of both. The critic (a PatchGAN of small receptive field, hinge loss, SimGAN's history buffer)
sees :func:`texture`: the log luma less its Gaussian blur of the refiner's ``highpass`` px, so
neither exposure, nor colour, nor the shapes the stage drew at low frequency are its cue; its
scores are weighted by the patch's mask. With ``--critic context`` (:func:`critic_input`) it also
reads where in the mouth each pixel is: the log luma blurred by :data:`CONTEXT_SIGMAS` px (teeth,
the cavity's shadow, a lip rim), and real and fake patches are drawn alike from :data:`BINS` bins
of their centre's blurred light (:func:`_binned_centres`), so the two sets show the critic the
same mix of places and it scores texture given the place, not which place. With ``--critic masked``
it reads the texture inside the patch's mask (over 0.5) alone, 0 outside it: what lies around
the region (an open eye beside real lid skin, a closed lash line beside the stage's lid) is no
cue. The refiner's loss: the
critic's hinge term plus ``--content`` times the L1 between the Gaussian blurs (``highpass`` px)
of the refined and the stage's luma (the refiner changes how the mouth looks, not what it does),
plus ``--calm`` times the mask-weighted mean |exponent| of its gain (a gain it does not need is a
glint) and ``--peak`` times the mask-weighted mean of its square in stops (a few pixels changed a
lot, a bright line or streak, cost more than grain spread thin).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from faceedit.data import holdout_subjects
from faceedit.log import logger, setup_logging
from faceedit.models.layers import MultiScaleDiscriminator
from faceedit.models.refine import RefinerConfig, RegionRefiner, blur_tensor, save_refiner, weight_image
from faceedit.models.request import EditRequest
from faceedit.pixels import luma_tensor
from faceedit.train.refiner import _largest, _read, inner_gap

#: The side (px of the photo) of every cached crop.
SIDE = 256
#: px the real mouths' inner-lip polygon is grown by (the lips' inner rims).
GROW = 4
#: The stage's edits whose invented mouths are the fakes.
TARGETS = ("surprised", "fearful", "happy")
#: The floor (luma 0..1) under the log of :func:`texture` (a black cavity's noise is not blown up).
LOG_FLOOR = 4.0 / 255.0
#: Sigmas (px of the photo) of the log-luma blurs the context critic reads beside the texture.
CONTEXT_SIGMAS = (4.0, 12.0)
#: Bins (quantiles of the real patches' centre light) real and fake patches are drawn from alike.
BINS = 6
#: The critics :func:`train` knows: the texture alone, or the texture given its place in the mouth.
CRITICS = ("texture", "context", "masked")
TRAINING_DATA = ("fakes: the stage's surprised/fearful/happy edits of London HD training faces (neutral and "
                 "smiling), at the photo's pixels; reals: London HD training smiles' teeth, gaps and inner lip rims "
                 "at the photo's pixels (held-out ids left out)")
LICENCE = "CC BY 4.0 attribution (London Face Research Lab set, DeBruine & Jones 2017)"
#: The licence a shipped native refiner's manifest entry states (``ship --license``).
LICENCE_TERMS = ("CC BY 4.0 attribution (trained on the stage's edits of London HD faces and London HD smiles: "
                 "DeBruine & Jones 2017)")


def _square(image: np.ndarray, cx: float, cy: float, side: int = SIDE) -> np.ndarray:
    """The ``side`` px square of ``image`` centred on (cx, cy), edge pixels repeated past the image."""
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = image.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    return np.ascontiguousarray(src[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side])


def prepare(data: Path, out: Path, cfg: RefinerConfig) -> None:
    """Cut the real and the fake crops once and save them (npz; never a pickle)."""
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model

    detector = get_detector("mediapipe", device="cpu")
    stage: Any = load_model("stage").model
    held = holdout_subjects({f"london-{p.stem}" for p in (data / "london_hd" / "neutral").glob("*.jpg")})
    reals, real_masks, real_src, fakes, fake_masks, fake_src = [], [], [], [], [], []
    t = time.time()
    for p in sorted((data / "london_hd" / "smiling").glob("*.jpg")):
        if f"london-{p.stem}" in held:
            continue
        rgb = _read(p)
        face = _largest(detector, rgb)
        if face is None or inner_gap(face.landmarks) < 0.05:
            continue
        poly = np.zeros(rgb.shape[:2], np.uint8)
        cv2.fillPoly(poly, [np.round(np.asarray(face.landmarks)[60:68]).astype(np.int32)], 1)
        inner = np.asarray(cv2.dilate(poly, np.ones((2 * GROW + 1, 2 * GROW + 1), np.uint8)))
        cx, cy = np.asarray(face.landmarks)[60:68].mean(0)
        reals.append(_square(rgb, cx, cy))
        real_masks.append(_square(inner, cx, cy))
        real_src.append(f"london_hd/smiling/{p.stem}")
    logger.info("reals: %d crops (%.0f s)", len(reals), time.time() - t)
    photos = [p for d in ("neutral", "smiling") for p in sorted((data / "london_hd" / d).glob("*.jpg"))
              if f"london-{p.stem}" not in held]
    for n, p in enumerate(photos):
        rgb = _read(p)
        face = _largest(detector, rgb)
        if face is None:
            continue
        for target in TARGETS:
            img, edits = stage.edit_photo(rgb, [face], EditRequest.of(target, 1.0))
            e = edits[0]
            if e.invented is None or float(e.invented[1].max()) <= 0.5:
                continue
            full = weight_image(rgb.shape[:2], e.landmarks, e.invented, cfg)
            ys, xs = np.nonzero(full > 0.5)
            if len(xs) < 16:  # a sliver
                continue
            cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
            fakes.append(_square(img, cx, cy))
            fake_masks.append(_square(full, cx, cy).astype(np.float16))
            fake_src.append(f"{p.parent.name}/{p.name}:{target}")
        if n % 20 == 0:
            logger.info("fakes: %d photos, %d crops (%.0f s)", n + 1, len(fakes), time.time() - t)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, reals=np.stack(reals), real_masks=np.stack(real_masks), real_sources=np.array(real_src),
                        fakes=np.stack(fakes), masks=np.stack(fake_masks), fake_sources=np.array(fake_src),
                        config=np.array(json.dumps(cfg.to_dict())))


def texture(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """What the critic sees of (B, 3, H, W) in [-1, 1]: log2 of the luma (floored at
    :data:`LOG_FLOOR`) less its Gaussian blur of ``sigma`` px: the texture in stops, free of
    exposure, colour and the low-frequency shapes."""
    y = _log_luma(x)
    return y - blur_tensor(y, sigma)


def _log_luma(x: torch.Tensor) -> torch.Tensor:
    return torch.log2((luma_tensor(x) + 1.0) / 2.0 + LOG_FLOOR)


def critic_input(x: torch.Tensor, sigma: float, critic: str = "texture") -> torch.Tensor:
    """What the critic reads of (B, 3, H, W) in [-1, 1]: :func:`texture` alone (``texture``), or
    (``context``) 4x the texture beside the log2 luma blurred by each of :data:`CONTEXT_SIGMAS`
    px (over 4, plus 1: about -1..1): the texture and the place it is in (teeth, shadow, rim)."""
    if critic == "texture":
        return texture(x, sigma)
    y = _log_luma(x)
    return torch.cat([4.0 * (y - blur_tensor(y, sigma)), *(blur_tensor(y, s) / 4.0 + 1.0 for s in CONTEXT_SIGMAS)], 1)


def critic_view(x: torch.Tensor, m: torch.Tensor, sigma: float, critic: str) -> torch.Tensor:
    """What the critic reads of patches ``x`` with masks ``m`` (B, 1, H, W): :func:`critic_input`,
    or (``masked``) :func:`texture` where the mask is over 0.5 and 0 elsewhere."""
    if critic == "masked":
        return texture(x, sigma) * (m > 0.5)
    return critic_input(x, sigma, critic)


def content_loss(refined: torch.Tensor, staged: torch.Tensor, sigma: float) -> torch.Tensor:
    """L1 (0..1 luma) between the Gaussian blurs of ``sigma`` px of the refined and the stage's
    luma: what the mouth does at low frequency must stay the stage's."""
    return F.l1_loss(blur_tensor(luma_tensor(refined), sigma), blur_tensor(luma_tensor(staged), sigma)) / 2.0


def _centres(masks: np.ndarray, patch: int) -> list[np.ndarray]:
    """Per crop, the (y, x) where a ``patch`` px patch centred there fits and the mask is over 0.5."""
    half = patch // 2
    out = []
    for m in masks:
        inner = np.zeros(m.shape, bool)
        inner[half:m.shape[0] - half, half:m.shape[1] - half] = True
        out.append(np.argwhere((np.asarray(m, np.float32) > 0.5) & inner))
    return out


def _light(images: np.ndarray) -> np.ndarray:
    """Per crop (N, S, S, 3 uint8), its log2 luma blurred by the first of :data:`CONTEXT_SIGMAS` px."""
    y = np.log2(images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0 + LOG_FLOOR)
    return np.stack([cv2.GaussianBlur(c, (0, 0), CONTEXT_SIGMAS[0]) for c in y])


def _binned_centres(light: np.ndarray, centres: list[np.ndarray], edges: np.ndarray) -> list[np.ndarray]:
    """Per bin of the centre's light (``edges``: the inner bin edges), the (crop, y, x) rows of
    ``centres`` (per crop, its (y, x) rows) whose light falls in it."""
    rows = np.concatenate([np.c_[np.full(len(c), i), c] for i, c in enumerate(centres) if len(c)])
    value = light[rows[:, 0], rows[:, 1], rows[:, 2]]
    b = np.searchsorted(edges, value)
    return [rows[b == k] for k in range(len(edges) + 1)]


def train(crops: Path, out: Path, method: str, minutes: float, *, patch: int = 64, batch: int = 8,
          content: float = 50.0, lr: float = 1e-4, lr_d: float = 2e-4, highpass: float = 2.5, stops: float = 1.0,
          warmup: int = 100, seed: int = 0, generator: dict | None = None, save_every: int = 100,
          critic: str = "texture", calm: float = 0.0, peak: float = 0.0, device: str = "cpu",
          snapshots: int = 0) -> Path:
    """The SimGAN loop for ``minutes`` of wall time on ``device``; returns the final checkpoint's
    path. With ``snapshots`` > 0 every that many steps a copy is kept as ``step_NNNNNN.safetensors``
    beside it (a long run's earlier states, to choose from by eye)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    z = np.load(crops, allow_pickle=False)
    cfg = RefinerConfig.from_dict({**json.loads(str(z["config"])), "method": method, "native": True, "crop": patch,
                                   "highpass": highpass, "stops": stops, "generator": dict(generator or {})})
    reals, fakes = z["reals"], z["fakes"]
    data_note = str(z["training_data"]) if "training_data" in z.files else TRAINING_DATA  # the crops' own, if said
    real_m, fake_m = z["real_masks"].astype(np.float32), z["masks"].astype(np.float32)
    rc, fc = _centres(real_m, patch), _centres(fake_m, patch)
    ri_ok, fi_ok = [i for i, c in enumerate(rc) if len(c)], [i for i, c in enumerate(fc) if len(c)]
    logger.info("%d real and %d fake crops (%d px), patches of %d", len(ri_ok), len(fi_ok), reals.shape[1], patch)
    refiner = RegionRefiner(cfg).to(device)
    if critic not in CRITICS:
        raise ValueError(f"unknown critic {critic!r}; known: {', '.join(CRITICS)}")
    binned: tuple[list[np.ndarray], list[np.ndarray]] | None = None
    if critic == "context":  # real and fake patches drawn alike from bins of their centre's light
        r_light, f_light = _light(reals), _light(fakes)
        r_rows = np.concatenate([np.c_[np.full(len(c), i), c] for i, c in enumerate(rc) if len(c)])
        edges = np.quantile(r_light[r_rows[:, 0], r_rows[:, 1], r_rows[:, 2]], np.arange(1, BINS) / BINS)
        binned = (_binned_centres(r_light, rc, edges), _binned_centres(f_light, fc, edges))
        logger.info("bins of the centre's log2 light %s: real patches %s, fake %s", np.round(edges, 2).tolist(),
                    [len(b) for b in binned[0]], [len(b) for b in binned[1]])
    channels = 1 + (len(CONTEXT_SIGMAS) if critic == "context" else 0)
    disc = MultiScaleDiscriminator(channels, n_scales=1, channels=32, n_layers=2, max_channels=128).to(device)
    opt_g = torch.optim.Adam(refiner.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=(0.5, 0.999))
    history: list[tuple[torch.Tensor, torch.Tensor]] = []
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "log.jsonl").open("a")
    start, step = time.time(), 0
    half = patch // 2

    def cut(images: np.ndarray, masks: np.ndarray, centres: list[np.ndarray], ok: list[int], real: bool,
            bins: list[int]):
        xs, ms = [], []
        for k in range(batch):
            if binned is None:
                i = rng.choice(ok)
                cy, cx = centres[i][rng.randrange(len(centres[i]))]
            else:
                rows = binned[0 if real else 1][bins[k]]
                i, cy, cx = rows[rng.randrange(len(rows))]
            xs.append(images[i, cy - half:cy + half, cx - half:cx + half])
            ms.append(masks[i, cy - half:cy + half, cx - half:cx + half])
        x = torch.from_numpy(np.stack(xs)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        m = torch.from_numpy(np.stack(ms)).to(device)[:, None].clamp(0, 1)
        if rng.random() < 0.5:  # a mirrored mouth is a mouth
            x, m = x.flip(3), m.flip(3)
        return x, m

    def draw() -> list[int]:  # the bins of a batch's patches, both sets alike (bins that hold both)
        if binned is None:
            return [0] * batch
        both = [k for k in range(BINS) if len(binned[0][k]) and len(binned[1][k])]
        return [rng.choice(both) for _ in range(batch)]

    def score(x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = disc(critic_view(x, m, highpass, critic))[0][-1]
        return s, F.adaptive_avg_pool2d(m, s.shape[-2:])

    def hinge(x: torch.Tensor, m: torch.Tensor, sign: float) -> torch.Tensor:
        s, w = score(x, m)
        return (F.relu(1 - sign * s) * w).sum() / w.sum().clamp_min(1e-6)

    def save(name: str = f"{method}_refiner") -> Path:
        path = out / f"{name}.safetensors"
        save_refiner(path, refiner, {"training_data": data_note, "license": LICENCE,
                                     "extra": {"steps": step, "minutes": round((time.time() - start) / 60, 1),
                                               "batch": batch, "patch": patch, "content": content, "lr": lr,
                                               "lr_d": lr_d, "warmup": warmup, "critic": critic, "calm": calm, "peak": peak,
                                               "threads": torch.get_num_threads(), "device": str(device)}})
        return path

    for _ in range(warmup):  # the critic first learns real mouths' texture from the stage's
        bins = draw()
        x, m = cut(fakes, fake_m, fc, fi_ok, False, bins)
        r, rm = cut(reals, real_m, rc, ri_ok, True, bins)
        d_loss = hinge(r, rm, 1.0) + hinge(x, m, -1.0)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
    while time.time() - start < minutes * 60:
        bins = draw()
        x, m = cut(fakes, fake_m, fc, fi_ok, False, bins)
        r, rm = cut(reals, real_m, rc, ri_ok, True, bins)
        t = refiner(x, m)
        refined = refiner.with_gain(x, m, t)
        s, w = score(refined, m)
        adv = -(s * w).sum() / w.sum().clamp_min(1e-6)
        keep = content_loss(refined, x, highpass)
        still = (t[:, :1].abs() * m).sum() / m.sum().clamp_min(1e-6)
        spike = ((stops * t[:, :1]) ** 2 * m).sum() / m.sum().clamp_min(1e-6)
        opt_g.zero_grad()
        (adv + content * keep + calm * still + peak * spike).backward()
        opt_g.step()
        now = refined.detach()
        shown, shown_m = now, m
        if len(history) >= batch:
            old = rng.sample(history, batch // 2)
            shown = torch.cat([now[: batch - batch // 2], torch.stack([o[0] for o in old])])
            shown_m = torch.cat([m[: batch - batch // 2], torch.stack([o[1] for o in old])])
        for k in range(len(now)):
            if len(history) < 512:
                history.append((now[k], m[k]))
            else:
                history[rng.randrange(512)] = (now[k], m[k])
        d_loss = hinge(r, rm, 1.0) + hinge(shown, shown_m, -1.0)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        step += 1
        if step % 10 == 0 or step == 1:  # the first step too: a short run logs one row
            row = {"step": step, "s": round(time.time() - start, 1), "adv": round(float(adv.detach()), 4),
                   "content": round(float(keep.detach()), 5), "d": round(float(d_loss.detach()), 4),
                   "change": round(float((now - x).abs().sum() / m.sum().clamp_min(1) / 3 * 127.5), 3)}
            log.write(json.dumps(row) + "\n")
            log.flush()
        if step % save_every == 0:
            save()
        if snapshots and step % snapshots == 0:
            save(f"step_{step:06d}")
    path = save()
    logger.info("done: %d steps in %.1f min -> %s", step, (time.time() - start) / 60, path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faceedit.train.refiner_native", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="cut and cache the real and the fake crops at the photos' pixels")
    pp.add_argument("--data", type=Path, default=Path("../shared/data"))
    pp.add_argument("-o", "--out", type=Path, default=Path("runs/native/crops.npz"))
    pt = sub.add_parser("train", help="train a method's native refiner on the cached crops")
    pt.add_argument("--crops", type=Path, default=Path("runs/native/crops.npz"))
    pt.add_argument("--method", default="reggan")
    pt.add_argument("--minutes", type=float, default=10.0)
    pt.add_argument("--patch", type=int, default=64)
    pt.add_argument("--batch", type=int, default=8)
    pt.add_argument("--content", type=float, default=50.0)
    pt.add_argument("--lr", type=float, default=1e-4)
    pt.add_argument("--lr-d", type=float, default=2e-4)
    pt.add_argument("--highpass", type=float, default=2.5, help="sigma (px) of the gain's and the critic's high-pass")
    pt.add_argument("--stops", type=float, default=1.0, help="the gain's bound (stops)")
    pt.add_argument("--warmup", type=int, default=100)
    pt.add_argument("--generator", default="{}", help="the generator's widths as JSON")
    pt.add_argument("--critic", choices=CRITICS, default="texture",
                    help="texture: the critic reads the high-pass alone; context: and where in the mouth it is; "
                         "masked: the high-pass inside the mask alone (0 outside it)")
    pt.add_argument("--calm", type=float, default=0.0, help="weight of the mean |exponent| of the gain")
    pt.add_argument("--peak", type=float, default=0.0, help="weight of the mean squared gain (stops)")
    pt.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda, mps)")
    pt.add_argument("--snapshots", type=int, default=0, help="keep a copy every this many steps (0: none)")
    pt.add_argument("--seed", type=int, default=0)
    pt.add_argument("-o", "--out", type=Path, default=Path("runs/native/reggan"))
    a = p.parse_args(argv)
    setup_logging(0)
    if a.command == "prepare":
        prepare(a.data, a.out, RefinerConfig(native=True))
        return 0
    if not a.crops.is_file():
        print(f"{a.crops}: no such crops file (run `prepare` first)", file=sys.stderr)
        return 2
    train(a.crops, a.out, a.method, a.minutes, patch=a.patch, batch=a.batch, content=a.content, lr=a.lr,
          lr_d=a.lr_d, highpass=a.highpass, stops=a.stops, warmup=a.warmup, generator=json.loads(a.generator),
          critic=a.critic, calm=a.calm, peak=a.peak, device=a.device, snapshots=a.snapshots, seed=a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
