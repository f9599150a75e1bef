"""Train a method's region refiner (:mod:`faceedit.models.refine`): its generator learns to make
the open mouths the stage paints look photographed (SimGAN: Shrivastava, Pfister, Tuzel, Susskind,
Wang, Webb, "Learning from simulated and unsupervised images through adversarial training",
CVPR 2017).

    python -m faceedit.train.refiner prepare --data ../shared/data -o runs/refiner/crops.npz
    python -m faceedit.train.refiner train --crops runs/refiner/crops.npz --method reggan \\
        --minutes 15 -o runs/refiner/reggan      # or eggan, legan, lssl, secgan
    python -m faceedit.train.refiner ship runs/refiner/reggan/reggan_refiner.safetensors \\
        --description "what it adds, measured" [--default-on]

**Crops** (``prepare``; cached in the ignored ``runs/``, never committed), every one cut by
:func:`faceedit.models.refine.region_box` around the mouth, as the refiner sees it at inference:

* *fakes*: the stage's own open mouths: surprised, fearful, ``aaa`` (1 and 0.6), ``eee`` and
  ``woo`` edits of the training faces of London HD (neutral and smiling photos; the held-out
  20 %, :func:`faceedit.data.holdout_subjects`, left out) and of JAFFE's neutrals (grey), with the
  mask of the opening the stage painted (:attr:`faceedit.stage.records.StageEdit.invented`);
* *reals*: open mouths photographed: GRID's talking clips (colour; frames whose inner lips are
  apart by at least :data:`OPEN_GAP` of the mouth's width), London HD's training smiles showing
  teeth, JAFFE's surprised and fearful, Yale's surprised (grey: the discriminator sees luma);
  drawn by source as :data:`REAL_WEIGHTS` says (``--real-weights``).

**Losses** (:func:`train`): the discriminator is a PatchGAN of RegGAN's (hinge loss), one scale
of small receptive field (SimGAN's local adversarial loss), its scores weighted by where the
openings lie (:func:`where_opened`), on luma divided by the crop's median luma (the light of a
photo is not what makes a mouth look real), warmed up ``--warmup`` steps first; it sees refined crops drawn half from the current batch and half from a history buffer of
earlier refined crops (SimGAN's). The refiner's change is a light gain whose exponent is
multiplied by the mask (:meth:`~faceedit.models.refine.RegionRefiner.composite`), so it can only
change what the stage invented; its loss is the hinge adversarial term plus the self-regularisation that keeps the
stage's content: L1 between the refined and the stage's crop, both average-pooled by
:data:`CONTENT_POOL` (the refiner may change texture and grain, not where the mouth's dark, teeth
and lips are) with weight ``--content``, and the total variation of the gain's exponent inside
the mask with weight ``--smooth`` (without it RegGAN's refiner draws barcode stripes across the cavity
within 400 steps; at 60 or 150 SeCGAN's learns no change at all: ``weights/secgan_refiner.md``). RegGAN's pixel, feature-matching and perceptual terms
need a paired target (or VGG, which this machine cannot fetch) and are not used.

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
#: How often the discriminator sees each source of real crops (by its folder). What the stage
#: invents in an opening is its dark inside (the teeth are the face's own or the bank's real
#: London teeth): JAFFE's and Yale's open mouths show that. GRID's talking mouths mostly show
#: teeth (their inner lips' median luma is 0.54 of the cheeks', JAFFE's 0.12, Yale's 0.05) and
#: London's smiles only teeth: with them the refiner learnt to stripe the cavity like rows of
#: teeth (the card's runs A-C), so they are kept (``--real-weights``) but not drawn by default.
REAL_WEIGHTS = {"jaffe": 0.6, "yale": 0.4, "grid": 0.0, "london_hd": 0.0}
#: The stage's London edits are of the HD photos: their mouths are the size a user's photo has.
LICENCE = ("CC BY 4.0 attribution (London Face Research Lab set, DeBruine & Jones 2017; GRID corpus) "
           "+ non-commercial research (JAFFE, Yale: trained on)")
#: The licence a shipped refiner's manifest entry states.
LICENCE_TERMS = ("non-commercial research use (trained on JAFFE: cite Lyons et al., see its DATASET_README; Yale Face "
                 "Database: research use with citation) + CC BY 4.0 attribution (the stage's London edits: DeBruine "
                 "& Jones 2017; GRID corpus crops prepared, not drawn by default)")
TRAINING_DATA = ("fakes: the stage's surprised/fearful/aaa/eee/woo edits of London HD training faces and JAFFE "
                 "neutrals; reals: GRID talking frames with open mouths, London HD training smiles, JAFFE SU/FE, "
                 "Yale surprised (grey: luma only)")


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


def real_crops(data: Path, cfg: RefinerConfig, detector, held: set[str]) -> tuple[list, list[str]]:
    """Open mouths photographed, as (crop uint8 (S, S, 3), source) lists (see the module docstring)."""
    crops, sources = [], []

    def add(rgb: np.ndarray, source: str, need_gap: float = OPEN_GAP) -> None:
        face = _largest(detector, rgb)
        if face is None or inner_gap(face.landmarks) < need_gap:
            return
        crops.append(np.clip(np.round(cut_box(rgb, region_box(face.landmarks, cfg.crop_scale), cfg.crop)), 0, 255)
                     .astype(np.uint8))
        sources.append(source)

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
    return crops, sources


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
    reals, real_src = real_crops(data, cfg, detector, held)
    logger.info("reals: %d crops (%.0f s)", len(reals), time.time() - t)
    fakes, masks, fake_src = fake_crops(data, cfg, detector, stage, held)
    logger.info("fakes: %d crops (%.0f s)", len(fakes), time.time() - t)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, reals=np.stack(reals), real_sources=np.array(real_src),
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


def _scores(disc, x: torch.Tensor) -> torch.Tensor:
    return disc(relative_luma(x))[0][-1]


def relative_luma(x: torch.Tensor) -> torch.Tensor:
    """What the discriminator sees: the luma of crops (B, 3, S, S) in [-1, 1] over each crop's
    median luma (detached), less 1: a photo's exposure is not what makes a mouth look real."""
    y = (luma_tensor(x) + 1.0) / 2.0
    med = y.flatten(1).median(1).values.detach().clamp_min(0.05)[:, None, None, None]
    return y / med - 1.0


def train(crops: Path, out: Path, method: str, minutes: float, *, batch: int = 8, content: float = 30.0,
          lr: float = 5e-5, lr_d: float = 2e-4, save_every: int = 100, seed: int = 0,
          generator: dict | None = None, real_weights: dict[str, float] | None = None,
          warmup: int = 200, smooth: float = 30.0, init: Path | None = None) -> Path:
    """The SimGAN loop for ``minutes`` of wall time; returns the final checkpoint's path."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    z = np.load(crops, allow_pickle=False)
    cfg = RefinerConfig.from_dict({**json.loads(str(z["config"])), "method": method,
                                   "generator": dict(generator or {})})
    reals = torch.from_numpy(z["reals"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    fakes = torch.from_numpy(z["fakes"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    masks = torch.from_numpy(z["masks"].astype(np.float32))[:, None]
    logger.info("%d real and %d fake crops of %d px", len(reals), len(fakes), cfg.crop)
    groups = [str(s).split("/")[0] for s in z["real_sources"]]
    share = real_weights or REAL_WEIGHTS
    count = {g: groups.count(g) for g in set(groups)}
    pick = [share.get(g, 0.0) / count[g] for g in groups]  # each source its share, its crops alike
    refiner = RegionRefiner(cfg)
    if init is not None:  # go on from a trained refiner of the same method and widths
        refiner.load_state_dict(load_refiner(init).state_dict())
    # SimGAN's local adversarial loss: a PatchGAN of small receptive field (about 26 px of the
    # crop's 64, under half the mouth's width) judges texture and shading, not the whole mouth (a
    # critic that saw it all taught the refiner one mouth's gap between its front teeth)
    disc = MultiScaleDiscriminator(1, n_scales=1, channels=32, n_layers=2, max_channels=128)
    opt_g = torch.optim.Adam(refiner.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=(0.5, 0.999))
    history: list[torch.Tensor] = []  # SimGAN's buffer of earlier refined crops
    where = where_opened(masks, _scores(disc, fakes[:1]).shape[-1]).detach()
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "log.jsonl").open("a")
    start, step = time.time(), 0

    def save(tag: str) -> Path:
        path = out / f"{method}_refiner{tag}.safetensors"
        save_refiner(path, refiner, {"training_data": TRAINING_DATA, "license": LICENCE,
                                     "extra": {"steps": step, "minutes": round((time.time() - start) / 60, 1),
                                               "batch": batch, "content": content, "lr": lr, "lr_d": lr_d,
                                               "real_weights": share, "warmup": warmup, "smooth": smooth,
                                               "content_pool": CONTENT_POOL, "init": str(init or ""),
                                               "threads": torch.get_num_threads()}})
        return path

    def draw() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fi = torch.tensor(rng.sample(range(len(fakes)), batch))
        ri = torch.tensor(rng.choices(range(len(reals)), weights=pick, k=batch))
        x, m, real = fakes[fi], masks[fi], reals[ri]
        if rng.random() < 0.5:  # a mirrored mouth is a mouth
            x, m, real = x.flip(3), m.flip(3), real.flip(3)
        return x, m, real

    # SimGAN's warm-up: the discriminator first learns real openings from the stage's own (the
    # refiner starts as no change), so the refiner's first steps follow a critic that knows them
    for i in range(warmup):
        x, m, real = draw()
        d_loss = (F.relu(1 - _scores(disc, real)) * where).mean() + (F.relu(1 + _scores(disc, x)) * where).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        if (i + 1) % 10 == 0:
            log.write(json.dumps({"warmup": i + 1, "s": round(time.time() - start, 1), "d": round(float(d_loss.detach()), 4)}) + "\n")
            log.flush()
    while time.time() - start < minutes * 60:
        x, m, real = draw()
        # the refiner
        t = refiner(x, m)
        refined = refiner.with_gain(x, m, t)
        adv = -(_scores(disc, refined) * where).mean()
        keep = F.l1_loss(F.avg_pool2d(refined, CONTENT_POOL), F.avg_pool2d(x, CONTENT_POOL))
        opt_g.zero_grad()
        (adv + content * keep + smooth * total_variation(m * t)).backward()
        opt_g.step()
        # the discriminator: half this batch's refined crops, half the history's
        now = refined.detach()
        shown = now
        if len(history) >= batch:
            old = torch.stack(rng.sample(history, batch // 2))
            shown = torch.cat([now[: batch - batch // 2], old])
        for t in now:
            if len(history) < 512:
                history.append(t)
            else:
                history[rng.randrange(512)] = t
        d_loss = (F.relu(1 - _scores(disc, real)) * where).mean() + (F.relu(1 + _scores(disc, shown)) * where).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        step += 1
        if step % 10 == 0:
            row = {"step": step, "s": round(time.time() - start, 1), "adv": round(float(adv.detach()), 4),
                   "content": round(float(keep.detach()), 5), "d": round(float(d_loss.detach()), 4),
                   "change": round(float((now - x).abs().sum() / m.sum().clamp_min(1) / 3 * 127.5), 3)}
            log.write(json.dumps(row) + "\n")
            log.flush()
        if step % save_every == 0:
            save("")
    path = save("")
    logger.info("done: %d steps in %.1f min -> %s", step, (time.time() - start) / 60, path)
    return path


# -- shipping --------------------------------------------------------------------------------------
def ship(trained: Path, description: str, default_on: bool = False, folder: Path | None = None) -> dict:
    """Put a trained refiner in the weights folder as ``METHOD_refiner.safetensors`` (fp16, its
    header's data, licence and training figures kept; ``default_on`` set in its config) and its
    ``files`` entry ``METHOD_refiner`` in the folder's manifest (sha256, card, licence,
    ``description``). Returns the entry."""
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
    entry = {"file": f"{name}.safetensors", "sha256": sha, "card": f"{name}.md", "license": LICENCE_TERMS,
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
    pt.add_argument("--lr-d", type=float, default=2e-4, help="the discriminator's")
    pt.add_argument("--save-every", type=int, default=100)
    pt.add_argument("--generator", default="{}", help="the generator's widths as JSON")
    pt.add_argument("--init", type=Path, default=None, help="a trained refiner of the method to go on from")
    pt.add_argument("--real-weights", default="", help="JSON {source folder: share} of the real crops drawn "
                    f"(default {json.dumps(REAL_WEIGHTS)})")
    pt.add_argument("-o", "--out", type=Path, default=Path("runs/refiner/reggan"))
    ps = sub.add_parser("ship", help="put a trained refiner and its manifest entry in weights/")
    ps.add_argument("weights", type=Path)
    ps.add_argument("--description", required=True, help="what it adds, measured (faceedit models shows it)")
    ps.add_argument("--default-on", action="store_true", help="on without --set refine=on")
    a = p.parse_args(argv)
    setup_logging(0)
    if a.command == "prepare":
        if not (a.data / "london_hd").is_dir():
            print(f"{a.data}: no london_hd/ there (the shared data folder)", file=sys.stderr)
            return 2
        prepare(a.data, a.out, RefinerConfig(crop=a.crop, crop_scale=a.crop_scale))
    elif a.command == "ship":
        print(json.dumps(ship(a.weights, a.description, a.default_on), indent=1))
    else:
        if not a.crops.is_file():
            print(f"{a.crops}: no such crops file (run `prepare` first)", file=sys.stderr)
            return 2
        train(a.crops, a.out, a.method, a.minutes, batch=a.batch, content=a.content, lr=a.lr, lr_d=a.lr_d,
              save_every=a.save_every, generator=json.loads(a.generator), warmup=a.warmup, smooth=a.smooth,
              real_weights=json.loads(a.real_weights) if a.real_weights else None, init=a.init)
    return 0


if __name__ == "__main__":
    sys.exit(main())
