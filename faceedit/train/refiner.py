"""Train a method's region refiner (:mod:`faceedit.models.refine`): its generator learns to make
the open mouths the stage paints look photographed (SimGAN: Shrivastava, Pfister, Tuzel, Susskind,
Wang, Webb, "Learning from simulated and unsupervised images through adversarial training",
CVPR 2017).

    python -m faceedit.train.refiner prepare --data ../shared/data -o runs/refiner3/crops.npz
    python -m faceedit.train.refiner train --crops runs/refiner3/crops.npz --method reggan \\
        --minutes 13 -o runs/refiner3/reggan      # or eggan, legan, lssl, secgan
    python -m faceedit.train.refiner ship runs/refiner3/reggan/reggan_refiner.safetensors \\
        --description "what it adds, measured" [--default-on]

**Crops** (``prepare``; cached in the ignored ``runs/``, never committed), every one cut by
:func:`faceedit.models.refine.region_box` around the mouth, as the refiner sees it at inference:

* *fakes*: the stage's own open mouths: surprised, fearful, ``aaa`` (1 and 0.6), ``eee`` and
  ``woo`` edits of the training faces of London HD (neutral and smiling photos; the held-out
  20 %, :func:`faceedit.data.holdout_subjects`, left out) and of JAFFE's neutrals (grey), with the
  mask of the opening the stage painted (:attr:`faceedit.stage.records.StageEdit.invented`);
* *reals*: open mouths photographed, each with its :func:`dark_ratio`: GRID's talking clips
  (colour; frames whose inner lips are apart by at least :data:`OPEN_GAP` of the mouth's width),
  London HD's training smiles showing teeth (colour), JAFFE's surprised and fearful and Yale's
  surprised (grey).

**Critics** (:func:`train`): two PatchGANs of RegGAN's (hinge loss), one scale of small receptive
field (SimGAN's local adversarial loss), their scores weighted by where the openings lie
(:func:`where_opened`), warmed up ``--warmup`` steps first, shown refined crops drawn half from
the current batch and half from a history buffer of earlier ones (SimGAN's). The *luma critic*
sees luma over the crop's median (:func:`relative_luma`: exposure is not the cue) of every
source, drawn as :data:`REAL_WEIGHTS` says (``--real-weights``), grey JAFFE and Yale included as
structure; the *chroma critic* sees Cb and Cr less the crop's median (:func:`relative_chroma`)
of the colour reals only (:data:`CHROMA_WEIGHTS`) against the stage's colour (London) fakes only,
so neither can tell grey from colour. Both see crops blurred by :data:`CRITIC_BLUR` px so that
GRID's soft 360x288 frames and London's sharp downsampled 1350-px photos are not told apart by
sharpness.

**The refiner's loss**: the two critics' hinge terms (the chroma one times ``--chroma``) plus the
self-regularisation that keeps the stage's content: L1 between the refined and the stage's crop,
both average-pooled by :data:`CONTENT_POOL` (the refiner may change texture and grain, not where
the mouth's dark, teeth and lips are), weight ``--content``; the total variation inside the mask
of the gain's exponent (``--smooth``: without it RegGAN's refiner draws barcode stripes across
the cavity) and of the RGB residual (``--smooth-residual``). The refiner's output (the gain and
an RGB residual of at most ``--residual`` levels, with ``--residual-below`` only in the
stage's shadow: the cavity, not its lit teeth and lips) is multiplied by the mask
(:meth:`~faceedit.models.refine.RegionRefiner.composite`), so it changes only what the stage
invented. RegGAN's pixel, feature-matching and perceptual terms need a paired target (or VGG,
which this machine cannot fetch) and are not used.

Checkpoints (safetensors) are written every ``--save-every`` steps and at the end, so a run cut
short still leaves weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from faceedit.data import holdout_subjects
from faceedit.log import logger, setup_logging
from faceedit.models.layers import MultiScaleDiscriminator
from faceedit.models.refine import (
    RefinerConfig,
    RegionRefiner,
    cut_box,
    load_refiner,
    region_box,
    save_refiner,
    weight_image,
)
from faceedit.models.request import EditRequest
from faceedit.pixels import luma_tensor
from faceedit.train.losses import total_variation

#: The smallest inner-lip gap (mean of the 61-67, 62-66, 63-65 distances over the outer corners'
#: distance 48-54) of a real crop's mouth: open.
OPEN_GAP = 0.12
#: The stage's open-mouth edits of the training faces: (target, controls).
FAKE_EDITS = (("surprised", None), ("fearful", None), ("keep", {"aaa": 1.0}), ("keep", {"aaa": 0.6}),
              ("keep", {"eee": 1.0}), ("keep", {"woo": 1.0}))
#: The average pool the content term compares the refined and the stage's crops at.
CONTENT_POOL = 2
#: How often the luma critic sees each source of real crops (by its folder): GRID's talking
#: mouths and London's smiles in colour, JAFFE's and Yale's open mouths in grey (their structure:
#: this critic sees luma over the crop's median only). GRID's open frames are talking mouths
#: showing teeth and lips (their inner lips' median luma 0.43-1.0 of the cheeks', none under 0.3),
#: London's smiles teeth (0.58-1.17); JAFFE's surprise and fear (median 0.12) and Yale's
#: surprised (0.055) show the dark inside a wide-open mouth, which is what the stage paints: they
#: get three quarters of the draws (a critic of teeth teaches a refiner to stripe the cavity).
REAL_WEIGHTS = {"grid": 0.2, "london_hd": 0.05, "jaffe": 0.45, "yale": 0.3}
#: How often the chroma critic sees each source of colour reals (grey ones it never sees; nor
#: the stage's JAFFE fakes): London's smiles only. The shadow inside a real open mouth, measured
#: at full resolution beside and between London's teeth, is a dim dark red (Cr/Y 0.26, Cb/Y -0.10:
#: ``bench/bench_refiner.py``'s ``shadow``); GRID's dark pixels are a few MPEG pixels whose 4:2:0
#: chroma mixes in the lips' red (0.75, -0.54), and a critic of them paints the cavity wine red.
CHROMA_WEIGHTS = {"london_hd": 1.0}
#: A GRID frame whose inner lips' median luma is under DARK_SPLIT of its cheeks' shows a dark
#: interior (else mostly teeth); GRID_DARK of GRID's draws are of those (GRID's open frames are
#: mostly teeth, and a critic of teeth teaches a refiner to stripe the cavity like teeth). Of the five
#: clips in ../shared/data/grid none has such a frame (inner lips 0.43-1.0 of the cheeks'): GRID's
#: frames are then drawn evenly.
DARK_SPLIT, GRID_DARK = 0.3, 0.6
#: Sigma (px of the crop) of the blur every crop gets before a critic sees it: GRID's frames are
#: 360x288 MPEG (its mouths' boxes about the crop's size, soft), London's are cut from 1350-px
#: photos (boxes of about 400 px averaged down to the crop: sharp); blurred alike, sharpness is no
#: cue to tell them apart.
CRITIC_BLUR = 0.8
#: The stage's London edits are of the HD photos: their mouths are the size a user's photo has.
LICENCE = ("CC BY 4.0 attribution (London Face Research Lab set, DeBruine & Jones 2017; GRID corpus) "
           "+ non-commercial research (JAFFE, Yale: trained on)")
#: The licence a shipped refiner's manifest entry states.
LICENCE_TERMS = ("non-commercial research use (trained on JAFFE: cite Lyons et al., see its DATASET_README; Yale Face "
                 "Database: research use with citation) + CC BY 4.0 attribution (the stage's London edits and London "
                 "smiles: DeBruine & Jones 2017; GRID corpus: Cooke et al. 2006)")
TRAINING_DATA = ("fakes: the stage's surprised/fearful/aaa/eee/woo edits of London HD training faces and JAFFE "
                 "neutrals; reals: GRID talking frames with open mouths (colour: luma critic) and London HD training "
                 "smiles (colour: luma and chroma critics), JAFFE SU/FE and Yale surprised (grey: luma critic only)")


def inner_gap(lm: np.ndarray) -> float:
    """The inner lips' mean opening over the mouth's width (68 points)."""
    lm = np.asarray(lm, np.float64)
    gap = np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    return float(gap / max(np.linalg.norm(lm[54] - lm[48]), 1e-6))


# -- crops -----------------------------------------------------------------------------------------
def _largest(detector, rgb: np.ndarray):
    faces = [f for f in detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
    return max(faces, key=lambda f: f.area) if faces else None


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def dark_ratio(rgb: np.ndarray, lm: np.ndarray) -> float:
    """The median luma inside the inner lips (68 points 60-67) over the cheeks' (discs of 0.15
    eye distances midway between points 2 and 31, 14 and 35): how dark an open mouth is."""
    import cv2

    from faceedit.faces.landmarks import eye_distance

    y = np.asarray(rgb, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    inner, cheek = np.zeros(y.shape, np.uint8), np.zeros(y.shape, np.uint8)
    cv2.fillPoly(inner, [np.round(np.asarray(lm)[60:68]).astype(np.int32)], 1)
    r = max(int(round(0.15 * eye_distance(lm))), 2)
    for a, b in ((2, 31), (14, 35)):
        c = (np.asarray(lm[a]) + np.asarray(lm[b])) / 2
        cv2.circle(cheek, (int(round(c[0])), int(round(c[1]))), r, 1, -1)
    if not inner.any() or not cheek.any():
        return float("nan")
    return float(np.median(y[inner > 0]) / max(float(np.median(y[cheek > 0])), 1.0))


def real_crops(data: Path, cfg: RefinerConfig, detector, held: set[str]) -> tuple[list, list[str], list[float]]:
    """Open mouths photographed, as (crop uint8 (S, S, 3), source, :func:`dark_ratio`) lists
    (see the module docstring)."""
    crops, sources, dark = [], [], []

    def add(rgb: np.ndarray, source: str, need_gap: float = OPEN_GAP) -> None:
        face = _largest(detector, rgb)
        if face is None or inner_gap(face.landmarks) < need_gap:
            return
        crops.append(np.clip(np.round(cut_box(rgb, region_box(face.landmarks, cfg.crop_scale), cfg.crop)), 0, 255)
                     .astype(np.uint8))
        sources.append(source)
        dark.append(dark_ratio(rgb, face.landmarks))

    import av

    for clip in sorted((data / "grid").glob("*.mpg")):
        with av.open(str(clip)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                add(frame.to_ndarray(format="rgb24"), f"grid/{clip.stem}/{i}")
    for p in sorted((data / "london_hd" / "smiling").glob("*.jpg")):
        if f"london-{p.stem}" not in held:
            add(_read(p), f"london_hd/smiling/{p.stem}", 0.05)
    for p in sorted((data / "jaffe").glob("*.*")):
        if p.name.split(".")[1][:2] in ("SU", "FE"):
            add(_read(p), f"jaffe/{p.name}")
    for p in sorted((data / "yale").glob("*surprised*")):
        add(_read(p), f"yale/{p.name}")
    return crops, sources, dark


def fake_crops(data: Path, cfg: RefinerConfig, detector, stage, held: set[str]) -> tuple[list, list, list[str]]:
    """The stage's open mouths, as (crop uint8 (S, S, 3), mask float16 (S, S), source) lists."""
    crops, masks, sources = [], [], []
    photos = [p for d in ("neutral", "smiling") for p in sorted((data / "london_hd" / d).glob("*.jpg"))
              if f"london-{p.stem}" not in held]
    photos += [p for p in sorted((data / "jaffe").glob("*.*")) if p.name.split(".")[1][:2] == "NE"]
    for n, p in enumerate(photos):
        rgb = _read(p)
        face = _largest(detector, rgb)
        if face is None:
            continue
        for target, controls in FAKE_EDITS:
            out, edits = stage.edit_photo(rgb, [face], EditRequest.of(target, 1.0, controls=controls))
            e = edits[0]
            if e.invented is None or float(e.invented[1].max()) <= 0:
                continue
            box = region_box(e.landmarks, cfg.crop_scale)
            full = weight_image(rgb.shape[:2], e.landmarks, e.invented, cfg)
            crops.append(np.clip(np.round(cut_box(out, box, cfg.crop)), 0, 255).astype(np.uint8))
            masks.append(np.clip(cut_box(full, box, cfg.crop), 0, 1).astype(np.float16))
            sources.append(f"{p.parent.name}/{p.name}:{target}:{json.dumps(controls)}")
        if n % 20 == 0:
            logger.info("fakes: %d photos, %d crops", n + 1, len(crops))
    return crops, masks, sources


def prepare(data: Path, out: Path, cfg: RefinerConfig) -> None:
    """Cut the real and the fake crops once and save them (npz; never a pickle)."""
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model

    detector = get_detector("auto", device="cpu")
    stage = load_model("stage").model
    held = holdout_subjects({f"london-{p.stem}" for p in (data / "london_hd" / "neutral").glob("*.jpg")})
    t = time.time()
    reals, real_src, real_dark = real_crops(data, cfg, detector, held)
    logger.info("reals: %d crops (%.0f s)", len(reals), time.time() - t)
    fakes, masks, fake_src = fake_crops(data, cfg, detector, stage, held)
    logger.info("fakes: %d crops (%.0f s)", len(fakes), time.time() - t)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, reals=np.stack(reals), real_sources=np.array(real_src),
                        real_dark=np.array(real_dark, np.float32),
                        fakes=np.stack(fakes), masks=np.stack(masks), fake_sources=np.array(fake_src),
                        config=np.array(json.dumps(cfg.to_dict())))


# -- training --------------------------------------------------------------------------------------
def where_opened(masks: torch.Tensor, size: int) -> torch.Tensor:
    """The mean of the stage's opening masks (N, 1, S, S) pooled to the critic's score map
    (1, 1, size, size), over its mean: where in a crop the openings lie. The critic's hinge
    terms are weighted by it on real and refined crops alike, so it judges the opening (for a
    real crop, where openings lie), not the lips and skin around it that the refiner may not
    change (there colour photos differ from the grey reals in luma, and a critic that learns
    that gives the refiner no direction)."""
    w = F.adaptive_avg_pool2d(masks.mean(0, keepdim=True), size)
    return w / w.mean().clamp_min(1e-6)


def _blur(x: torch.Tensor, sigma: float = CRITIC_BLUR) -> torch.Tensor:
    """A separable Gaussian blur of (B, C, S, S) by ``sigma`` px (edges reflected)."""
    r = max(int(np.ceil(3 * sigma)), 1)
    k = torch.exp(-torch.arange(-r, r + 1, dtype=x.dtype) ** 2 / (2 * sigma * sigma))
    k = (k / k.sum()).to(x.device)
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def relative_luma(x: torch.Tensor) -> torch.Tensor:
    """What the luma critic sees: the luma of crops (B, 3, S, S) in [-1, 1] over each crop's
    median luma (detached), less 1 (a photo's exposure is not what makes a mouth look real),
    blurred by :data:`CRITIC_BLUR`."""
    y = (luma_tensor(x) + 1.0) / 2.0
    med = y.flatten(1).median(1).values.detach().clamp_min(0.05)[:, None, None, None]
    return _blur(y / med - 1.0)


def relative_chroma(x: torch.Tensor) -> torch.Tensor:
    """What the chroma critic sees: Cb and Cr (BT.601) of crops (B, 3, S, S) in [-1, 1] less each
    crop's median (detached: the person's skin and the photo's white balance are not the cue), times
    4, blurred by :data:`CRITIC_BLUR`."""
    u = (x + 1.0) / 2.0
    r, g, b = u[:, 0:1], u[:, 1:2], u[:, 2:3]
    cc = torch.cat([-0.168736 * r - 0.331264 * g + 0.5 * b, 0.5 * r - 0.418688 * g - 0.081312 * b], 1)
    med = cc.flatten(2).median(2).values.detach()[:, :, None, None]
    return _blur(4.0 * (cc - med))


def _critic(channels: int):
    # SimGAN's local adversarial loss: a PatchGAN of small receptive field (about 26 px of the
    # crop's 64, under half the mouth's width) judges texture and shading, not the whole mouth (a
    # critic that saw it all taught the refiner one mouth's gap between its front teeth)
    return MultiScaleDiscriminator(channels, n_scales=1, channels=32, n_layers=2, max_channels=128)


def _draw_weights(groups: list[str], share: dict[str, float], dark: np.ndarray) -> list[float]:
    """Each real crop's chance of a draw: its source's share over the source's crops; within GRID,
    :data:`GRID_DARK` of the share to frames darker inside than :data:`DARK_SPLIT`."""
    count = {g: groups.count(g) for g in set(groups)}
    is_dark = np.nan_to_num(dark, nan=1.0) < DARK_SPLIT
    n_dark = sum(1 for g, d in zip(groups, is_dark) if g == "grid" and d)
    n_lit = count.get("grid", 0) - n_dark
    out = []
    for g, d in zip(groups, is_dark):
        w = share.get(g, 0.0)
        if g == "grid" and n_dark and n_lit:
            out.append(w * (GRID_DARK / n_dark if d else (1 - GRID_DARK) / n_lit))
        else:
            out.append(w / count[g])
    return out


def train(crops: Path, out: Path, method: str, minutes: float, *, batch: int = 8, content: float = 30.0,
          lr: float = 5e-5, lr_d: float = 2e-4, save_every: int = 100, seed: int = 0,
          generator: dict | None = None, real_weights: dict[str, float] | None = None,
          warmup: int = 200, smooth: float = 30.0, init: Path | None = None, residual: float = 24.0,
          chroma: float = 0.5, smooth_residual: float = 3.0, residual_below: float = 0.0,
          chroma_weights: dict[str, float] | None = None) -> Path:
    """The SimGAN loop for ``minutes`` of wall time; returns the final checkpoint's path."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    z = np.load(crops, allow_pickle=False)
    cfg = RefinerConfig.from_dict({**json.loads(str(z["config"])), "method": method, "residual": residual,
                                   "residual_below": residual_below, "generator": dict(generator or {})})
    reals = torch.from_numpy(z["reals"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    fakes = torch.from_numpy(z["fakes"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    masks = torch.from_numpy(z["masks"].astype(np.float32))[:, None]
    # the stage's fakes in colour (London's) and in grey (JAFFE's): only colour is shown the chroma critic
    coloured = torch.tensor([not str(s).startswith("jaffe/") for s in z["fake_sources"]], dtype=torch.float32)
    logger.info("%d real and %d fake crops of %d px", len(reals), len(fakes), cfg.crop)
    groups = [str(s).split("/")[0] for s in z["real_sources"]]
    dark = z["real_dark"] if "real_dark" in z.files else np.full(len(groups), np.nan, np.float32)
    share = real_weights or REAL_WEIGHTS
    pick = _draw_weights(groups, share, dark)
    chroma_share = chroma_weights or CHROMA_WEIGHTS
    pick_c = _draw_weights(groups, chroma_share, dark)
    refiner = RegionRefiner(cfg)
    if init is not None:  # go on from a trained refiner of the same method and widths
        refiner.load_state_dict(load_refiner(init).state_dict())
    disc, disc_c = _critic(1), _critic(2)
    opt_g = torch.optim.Adam(refiner.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*disc.parameters(), *disc_c.parameters()], lr=lr_d, betas=(0.5, 0.999))
    history: list[tuple[torch.Tensor, torch.Tensor]] = []  # SimGAN's buffer of earlier refined crops
    where = where_opened(masks, disc(relative_luma(fakes[:1]))[0][-1].shape[-1]).detach()
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "log.jsonl").open("a")
    start, step = time.time(), 0

    def scores(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return disc(relative_luma(x))[0][-1] * where, disc_c(relative_chroma(x))[0][-1] * where

    def critic_loss(real: torch.Tensor, real_c: torch.Tensor, fake: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
        sl, _ = scores(real)
        _, sc = scores(real_c)
        fl, fc = scores(fake)
        cw = colour[:, None, None, None]
        return (F.relu(1 - sl).mean() + F.relu(1 + fl).mean() + chroma * F.relu(1 - sc).mean()
                + chroma * (F.relu(1 + fc) * cw).sum() / (cw.sum() * fc[0].numel()).clamp_min(1))

    def save(tag: str) -> Path:
        path = out / f"{method}_refiner{tag}.safetensors"
        save_refiner(path, refiner, {"training_data": TRAINING_DATA, "license": LICENCE,
                                     "extra": {"steps": step, "minutes": round((time.time() - start) / 60, 1),
                                               "batch": batch, "content": content, "lr": lr, "lr_d": lr_d,
                                               "real_weights": share, "chroma_weights": chroma_share,
                                               "chroma": chroma, "grid_dark": GRID_DARK, "critic_blur": CRITIC_BLUR,
                                               "warmup": warmup, "smooth": smooth, "smooth_residual": smooth_residual,
                                               "content_pool": CONTENT_POOL, "init": str(init or ""),
                                               "threads": torch.get_num_threads()}})
        return path

    def draw() -> tuple[torch.Tensor, ...]:
        fi = torch.tensor(rng.sample(range(len(fakes)), batch))
        ri = torch.tensor(rng.choices(range(len(reals)), weights=pick, k=batch))
        ci = torch.tensor(rng.choices(range(len(reals)), weights=pick_c, k=batch))
        x, m, real, real_c = fakes[fi], masks[fi], reals[ri], reals[ci]
        if rng.random() < 0.5:  # a mirrored mouth is a mouth
            x, m, real, real_c = x.flip(3), m.flip(3), real.flip(3), real_c.flip(3)
        return x, m, real, real_c, coloured[fi]

    # SimGAN's warm-up: the critics first learn real openings from the stage's own (the refiner
    # starts as no change), so the refiner's first steps follow critics that know them
    for i in range(warmup):
        x, m, real, real_c, colour = draw()
        d_loss = critic_loss(real, real_c, x, colour)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        if (i + 1) % 10 == 0:
            log.write(json.dumps({"warmup": i + 1, "s": round(time.time() - start, 1), "d": round(float(d_loss.detach()), 4)}) + "\n")
            log.flush()
    while time.time() - start < minutes * 60:
        x, m, real, real_c, colour = draw()
        # the refiner
        t = refiner(x, m)
        refined = refiner.with_gain(x, m, t)
        sl, sc = scores(refined)
        cw = colour[:, None, None, None]
        adv_l = -sl.mean()
        adv_c = -(sc * cw).sum() / (cw.sum() * sc[0].numel()).clamp_min(1)
        keep = F.l1_loss(F.avg_pool2d(refined, CONTENT_POOL), F.avg_pool2d(x, CONTENT_POOL))
        reg = smooth * total_variation(m * t[:, :1])
        if t.shape[1] > 1:
            reg = reg + smooth_residual * total_variation(m * t[:, 1:])
        opt_g.zero_grad()
        (adv_l + chroma * adv_c + content * keep + reg).backward()
        opt_g.step()
        # the critics: half this batch's refined crops, half the history's
        now = refined.detach()
        shown, shown_c = now, colour
        if len(history) >= batch:
            old = rng.sample(history, batch // 2)
            shown = torch.cat([now[: batch - batch // 2], torch.stack([o[0] for o in old])])
            shown_c = torch.cat([colour[: batch - batch // 2], torch.stack([o[1] for o in old])])
        for k in range(len(now)):
            if len(history) < 512:
                history.append((now[k], colour[k]))
            else:
                history[rng.randrange(512)] = (now[k], colour[k])
        d_loss = critic_loss(real, real_c, shown, shown_c)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        step += 1
        if step % 10 == 0:
            row = {"step": step, "s": round(time.time() - start, 1), "adv": round(float(adv_l.detach()), 4),
                   "adv_c": round(float(adv_c.detach()), 4), "content": round(float(keep.detach()), 5),
                   "d": round(float(d_loss.detach()), 4),
                   "change": round(float((now - x).abs().sum() / m.sum().clamp_min(1) / 3 * 127.5), 3)}
            log.write(json.dumps(row) + "\n")
            log.flush()
        if step % save_every == 0:
            save("")
    path = save("")
    logger.info("done: %d steps in %.1f min -> %s", step, (time.time() - start) / 60, path)
    return path


# -- shipping --------------------------------------------------------------------------------------
def ship(trained: Path, description: str, default_on: bool = False, folder: Path | None = None,
         licence: str | None = None) -> dict:
    """Put a trained refiner in the weights folder as ``METHOD_refiner.safetensors`` (fp16, its
    header's data, licence and training figures kept; ``default_on`` set in its config) and its
    ``files`` entry ``METHOD_refiner`` in the folder's manifest (sha256, card, licence,
    ``description``; ``licence`` its licence, :data:`LICENCE_TERMS` where not given). Returns the entry."""
    from faceedit.models.checkpoint import load_checkpoint
    from faceedit.weights import MANIFEST_FILE, installed_weights_dir

    folder = folder or installed_weights_dir()
    meta = load_checkpoint(trained).meta
    refiner = load_refiner(trained)
    method = refiner.cfg.method
    refiner.cfg = dataclasses.replace(refiner.cfg, default_on=default_on)
    name = f"{method}_refiner"
    sha = save_refiner(folder / f"{name}.safetensors", refiner,
                       {"training_data": meta.training_data, "license": meta.license, "extra": meta.extra})
    manifest = folder / MANIFEST_FILE
    doc = json.loads(manifest.read_text())
    entry = {"file": f"{name}.safetensors", "sha256": sha, "card": f"{name}.md", "license": licence or LICENCE_TERMS,
             "description": description}
    doc.setdefault("files", {})[name] = entry
    manifest.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return entry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faceedit.train.refiner", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="cut and cache the real and the fake crops")
    pp.add_argument("--data", type=Path, default=Path("../shared/data"))
    pp.add_argument("-o", "--out", type=Path, default=Path("runs/refiner/crops.npz"))
    pp.add_argument("--crop", type=int, default=RefinerConfig.crop)
    pp.add_argument("--crop-scale", type=float, default=RefinerConfig.crop_scale)
    pt = sub.add_parser("train", help="train a method's refiner on the cached crops")
    pt.add_argument("--crops", type=Path, default=Path("runs/refiner/crops.npz"))
    pt.add_argument("--method", default="reggan")
    pt.add_argument("--minutes", type=float, default=45.0)
    pt.add_argument("--batch", type=int, default=8)
    pt.add_argument("--content", type=float, default=30.0)
    pt.add_argument("--lr", type=float, default=5e-5, help="the refiner's learning rate")
    pt.add_argument("--warmup", type=int, default=200, help="discriminator steps before the refiner's first")
    pt.add_argument("--smooth", type=float, default=30.0, help="weight of the gain's total variation")
    pt.add_argument("--smooth-residual", type=float, default=3.0, help="weight of the residual's total variation")
    pt.add_argument("--residual", type=float, default=24.0, help="the RGB residual's bound (levels; 0: gain only)")
    pt.add_argument("--residual-below", type=float, default=0.0,
                    help="the residual only where the stage's light (luma, 0..1) is under this (0: everywhere)")
    pt.add_argument("--chroma", type=float, default=0.5, help="weight of the chroma critic's terms")
    pt.add_argument("--lr-d", type=float, default=2e-4, help="the discriminator's")
    pt.add_argument("--save-every", type=int, default=100)
    pt.add_argument("--generator", default="{}", help="the generator's widths as JSON")
    pt.add_argument("--init", type=Path, default=None, help="a trained refiner of the method to go on from")
    pt.add_argument("--real-weights", default="", help="JSON {source folder: share} of the real crops drawn "
                    f"(default {json.dumps(REAL_WEIGHTS)})")
    pt.add_argument("--chroma-weights", default="", help="JSON {source folder: share} of the colour reals the "
                    f"chroma critic sees (default {json.dumps(CHROMA_WEIGHTS)})")
    pt.add_argument("-o", "--out", type=Path, default=Path("runs/refiner/reggan"))
    ps = sub.add_parser("ship", help="put a trained refiner and its manifest entry in weights/")
    ps.add_argument("weights", type=Path)
    ps.add_argument("--description", required=True, help="what it adds, measured (faceedit models shows it)")
    ps.add_argument("--default-on", action="store_true", help="on without --set refine=on")
    ps.add_argument("--license", default=None, help=f"the manifest entry's licence (default: {LICENCE_TERMS})")
    a = p.parse_args(argv)
    setup_logging(0)
    if a.command == "prepare":
        if not (a.data / "london_hd").is_dir():
            print(f"{a.data}: no london_hd/ there (the shared data folder)", file=sys.stderr)
            return 2
        prepare(a.data, a.out, RefinerConfig(crop=a.crop, crop_scale=a.crop_scale))
    elif a.command == "ship":
        print(json.dumps(ship(a.weights, a.description, a.default_on, licence=a.license), indent=1))
    else:
        if not a.crops.is_file():
            print(f"{a.crops}: no such crops file (run `prepare` first)", file=sys.stderr)
            return 2
        train(a.crops, a.out, a.method, a.minutes, batch=a.batch, content=a.content, lr=a.lr, lr_d=a.lr_d,
              save_every=a.save_every, generator=json.loads(a.generator), warmup=a.warmup, smooth=a.smooth,
              real_weights=json.loads(a.real_weights) if a.real_weights else None, init=a.init,
              residual=a.residual, chroma=a.chroma, smooth_residual=a.smooth_residual,
              residual_below=a.residual_below,
              chroma_weights=json.loads(a.chroma_weights) if a.chroma_weights else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
