"""A sheet of the expression classifier's moved expressions, to look at: real expressive crops of
one set moved onto other sets' neutral faces, as the trainer makes them.

    OMP_NUM_THREADS=1 python bench/bench_classifier_transfer.py -o /tmp/sheet.png [--scale 4]
        [--blur SIGMA] [--neutral-base mean|nearest]

Per row: the expressive crop, its subject's neutral (``--neutral-base``: the mean of its neutral
photos or the one nearest in pose), the other set's neutral face, then that
face with the expression's shape (``warp``: the face warped by the landmark move), with the shape
and the warped appearance change (``warp`` + ``warp_appearance``, the change low-passed by
``--blur``, ``warp_appearance_blur``), and with the luma difference
added by one affine map (``transfer``). Crops at the trainer's working size (48 px) shown
``--scale`` times larger, nearest-neighbour. The prepared sets' training subjects only; JAFFE and
Yale crops appear, so the sheet is for looking, never to ship.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceedit.analysis.nets import face_window  # noqa: E402
from faceedit.data import dataset_name, open_datasets  # noqa: E402
from faceedit.pixels import levels_to_signed  # noqa: E402
from faceedit.train.analysis.classifier import ExpressionTrainer  # noqa: E402
from faceedit.train.loop import LoopConfig  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[ROOT / "data" / n for n in ("london", "jaffe", "yale")])
    ap.add_argument("--classes", default="angry,disgusted,fearful,surprised,happy,sad")
    ap.add_argument("--onto", default="london", help="the data set whose neutral faces take the expressions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--blur", type=float, default=ExpressionTrainer.training.get("warp_appearance_blur", 0.0),
                    help="warp_appearance_blur: the appearance change's Gaussian sigma, px of the working crop")
    ap.add_argument("--neutral-base", choices=("mean", "nearest"),
                    default=ExpressionTrainer.training.get("neutral_base", "mean"))
    ap.add_argument("-o", "--out", type=Path, required=True)
    a = ap.parse_args(argv)
    datasets = open_datasets(a.data)
    training = {**ExpressionTrainer.training, "warp": 1.0, "transfer": 0.0, "warp_appearance_blur": a.blur,
                "neutral_base": a.neutral_base}
    ExpressionTrainer.training = training
    data = ExpressionTrainer.load_data(datasets, LoopConfig(steps=1), dict(ExpressionTrainer.default_config), None)
    trainer = ExpressionTrainer(data, {}, torch.device("cpu"), {})
    train = data.train
    names = [dataset_name(d) for d in datasets]
    onto = names.index(a.onto)
    g = torch.Generator().manual_seed(a.seed)
    rows = []
    targets = trainer.pool[onto]
    s = train.images.shape[-1]
    w = face_window(s)
    for cls in a.classes.split(","):
        c = trainer.labels.index(cls)
        cands = torch.nonzero((train.labels["target"] == c) & train.fields["has_base"]
                              & (train.labels["set"] != onto)).flatten()
        for _ in range(2):
            src = int(cands[int(torch.randint(len(cands), (1,), generator=g))])
            j = int(targets[int(torch.randint(len(targets), (1,), generator=g))])
            crop = levels_to_signed(train.images[src : src + 1])
            face = levels_to_signed(train.images[j : j + 1])
            cells = [crop, train.fields["base"][src : src + 1], face]
            trainer.training = {**training, "warp_appearance": 0.0}
            cells.append(trainer.moved(crop, src, face, j, w))
            trainer.training = {**training, "warp_appearance": 1.0}
            cells.append(trainer.moved(crop, src, face, j, w))
            cells.append(trainer.added(crop, src, face, j, w))
            rows.append(torch.cat([x.clamp(-1, 1)[0, 0] for x in cells], 1))
    sheet = ((torch.cat(rows, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    sheet = np.kron(sheet, np.ones((a.scale, a.scale), np.uint8))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(a.out)
    print(f"{a.out}: {len(rows)} rows (crop | neutral | face | shape | shape + appearance | affine difference)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
