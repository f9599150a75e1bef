"""Crops for a lid refiner: a method's native region refiner (:mod:`faceedit.train.refiner_native`)
on the closed lids the stage draws (:func:`faceedit.models.refine_regions.lid_region`), trained
against real lid and under-eye skin at the photo's own pixels.

    python -m faceedit.train.refiner_lids prepare --data ../shared/data -o runs/lids/crops.npz
    python -m faceedit.train.refiner_native train --crops runs/lids/crops.npz --method reggan \\
        --minutes 15 --critic context --calm 1.0 -o runs/lids/reggan

:data:`SIDE` px squares at the photo's own pixels, one per eye, held-out London ids
(:func:`faceedit.data.holdout_subjects`) left out:

* *fakes*: the stage's ``blink=1`` of London HD's training faces (neutral photos), centred on
  each closed eye, with the lid region's feathered weight (:func:`faceedit.models.refine.weight_image`
  of the region, :data:`FEATHER` of the mouth's box: about 1-2 px);
* *reals*: the same photos before the edit, centred on each eye, with the real skin around its
  lids (:func:`faceedit.models.refine_regions.skin_regions`: the open upper lid between lashes and
  crease, the skin under the eye).

The crops file names its data (``training_data``), which the trained checkpoint's header keeps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from faceedit.data import holdout_subjects
from faceedit.log import logger, setup_logging
from faceedit.models.refine import RefinerConfig, weight_image
from faceedit.models.refine_regions import EYES, lid_region, region_mask, skin_regions
from faceedit.models.request import EditRequest
from faceedit.train.refiner import _largest, _read
from faceedit.train.refiner_native import _square

#: The side (px of the photo) of every cached crop.
SIDE = 128
#: A lid refiner's feather (a share of the mouth's box side: about 1-2 px on a 1350 px portrait).
FEATHER = 0.005
#: The edit whose closed lids are the fakes.
CONTROLS = {"blink": 1.0}
TRAINING_DATA = ("fakes: the stage's blink=1 of London HD training faces (neutral), its closed lids at the photo's "
                 "pixels; reals: the same photos' open upper lids (between lashes and crease) and skin under the "
                 "eyes at the photo's pixels (held-out ids left out)")


def lid_config() -> RefinerConfig:
    """A lid refiner's config before training sets its method and gain."""
    return RefinerConfig(region="lids", native=True, feather=FEATHER)


def prepare(data: Path, out: Path, cfg: RefinerConfig, limit: int = 0) -> None:
    """Cut the real and the fake crops once and save them (npz; never a pickle)."""
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model

    detector = get_detector("mediapipe", device="cpu")
    stage: Any = load_model("stage").model
    held = holdout_subjects({f"london-{p.stem}" for p in (data / "london_hd" / "neutral").glob("*.jpg")})
    photos = [p for p in sorted((data / "london_hd" / "neutral").glob("*.jpg")) if f"london-{p.stem}" not in held]
    photos = photos[:limit] if limit else photos
    reals, real_m, fakes, fake_m, src = [], [], [], [], []
    t = time.time()
    for n, p in enumerate(photos):
        rgb = _read(p)
        face = _largest(detector, rgb)
        if face is None:
            continue
        before = np.asarray(face.landmarks, np.float64)
        img, edits = stage.edit_photo(rgb, [face], EditRequest.of("keep", 1.0, controls=CONTROLS))
        region = lid_region(before, edits[0].landmarks, rgb.shape)
        skin = region_mask(rgb.shape, skin_regions(before, rgb.shape))
        full = None if region is None else weight_image(rgb.shape[:2], edits[0].landmarks, region, cfg)
        for up, _ in EYES:
            cx, cy = before[list(up)].mean(0)
            reals.append(_square(rgb, cx, cy, SIDE))
            real_m.append(_square(skin, cx, cy, SIDE).astype(np.float16))
            if full is not None and float(_square(full, cx, cy, SIDE).max()) > 0.5:
                fakes.append(_square(img, cx, cy, SIDE))
                fake_m.append(_square(full, cx, cy, SIDE).astype(np.float16))
                src.append(f"london_hd/neutral/{p.stem}:{up[0]}")
        if n % 10 == 0:
            logger.info("%d photos: %d real, %d fake crops (%.0f s)", n + 1, len(reals), len(fakes), time.time() - t)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, reals=np.stack(reals), real_masks=np.stack(real_m), fakes=np.stack(fakes),
                        masks=np.stack(fake_m), fake_sources=np.array(src), config=np.array(json.dumps(cfg.to_dict())),
                        training_data=np.array(TRAINING_DATA))
    logger.info("%d real, %d fake crops -> %s (%.0f s)", len(reals), len(fakes), out, time.time() - t)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faceedit.train.refiner_lids", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare", help="cut and cache the real and the fake lid crops at the photos' pixels")
    pp.add_argument("--data", type=Path, default=Path("../shared/data"))
    pp.add_argument("--limit", type=int, default=0, help="at most this many training photos (0: all)")
    pp.add_argument("-o", "--out", type=Path, default=Path("runs/lids/crops.npz"))
    a = p.parse_args(argv)
    setup_logging(0)
    prepare(a.data, a.out, lid_config(), a.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
