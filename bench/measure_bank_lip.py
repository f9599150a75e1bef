"""How much of its own lower lip each mouth-bank exemplar carries inside its interior mask: the
lower lip's inner margin under the teeth, which the filler would paint between the destination's
teeth as a pink blob.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/measure_bank_lip.py [--bank weights/mouths.safetensors]
        [--sheet PNG]

Per exemplar, over its mask's pixels (``masks`` >= 128) below the teeth's lower edge, those that
are lip (:func:`faceedit.train.mouths.lip_under_teeth`, the builder's own test): ``lip`` their
count, ``below`` the share of the pixels below the teeth, ``mask`` the share of the whole mask,
``run`` the tallest column of them (px, bank scale). Then how many exemplars carry lip over 1 %
and 3 % of their mask. ``--sheet`` writes every crop over itself with the teeth tinted blue and
the lip green.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from faceedit.stage.mouth_bank import MouthBank
from faceedit.train.mouths import lip_under_teeth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bank", type=Path, default=None, help="the bank (default: the shipped one)")
    ap.add_argument("--sheet", type=Path, default=None, help="write a contact sheet of what is measured")
    a = ap.parse_args(argv)
    bank = MouthBank.load(a.bank)
    shares, tiles = [], []
    for i, sid in enumerate(bank.subjects):
        mask = bank.masks[i] >= 128
        below, lip = lip_under_teeth(bank.images[i], bank.upper[i].astype(np.float64), bank.lower[i].astype(np.float64))
        below, lip = below & mask, lip & mask
        share = lip.sum() / max(mask.sum(), 1)
        shares.append(share)
        print(f"{sid}: lip {lip.sum():4d} px, below {lip.sum() / max(below.sum(), 1):.2f}, mask {share:.3f}, "
              f"run {lip.sum(0).max():2d} px")
        if a.sheet:
            over = bank.images[i].copy()
            over[below & ~lip] = over[below & ~lip] // 2 + np.array([0, 60, 120], np.uint8)
            over[lip] = (0, 255, 0)
            tiles.append(np.concatenate([bank.images[i], over], 0))
    shares_a = np.array(shares)
    print(f"{len(shares)} exemplars; lip over 1 % of the mask: {(shares_a > 0.01).sum()}, over 3 %: "
          f"{(shares_a > 0.03).sum()}; median {np.median(shares_a):.3f}, max {shares_a.max():.3f} "
          f"({bank.subjects[int(shares_a.argmax())]})")
    if a.sheet:
        while len(tiles) % 4:
            tiles.append(np.zeros_like(tiles[0]))
        rows = [np.concatenate(tiles[r:r + 4], 1) for r in range(0, len(tiles), 4)]
        Image.fromarray(np.concatenate(rows, 0)).save(a.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
