"""Time RegGAN's closed-form expression-layer fit (stage 1) on random image pairs.

    python bench/bench_reggan_fit.py --pairs 1000 --size 128 --r 5

Prints the wall time of ``fit_expression_layer`` for N pairs of S x S images (the data are
random: the cost does not depend on the values) and of one inference pass over a batch of 16.
The fit is memory-bound: on a 2-core machine shared with other jobs, ``--threads 1`` is the
steadier figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout too
from faceedit.train.reggan import fit_expression_layer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000, help="number of training pairs N")
    parser.add_argument("--size", type=int, default=128, help="crop side S in pixels")
    parser.add_argument("--r", type=int, default=5, help="receptive field r")
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--lam", type=float, default=1.0, help="ridge parameter")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    generator = torch.Generator().manual_seed(args.seed)
    shape = (args.pairs, args.channels, args.size, args.size)
    src = torch.rand(shape, generator=generator) * 2 - 1
    dst = torch.rand(shape, generator=generator) * 2 - 1

    start = time.perf_counter()
    layer = fit_expression_layer(src, dst, r=args.r, lam=args.lam)
    fit_s = time.perf_counter() - start

    with torch.inference_mode():
        start = time.perf_counter()
        layer(src[:16])
        apply_s = time.perf_counter() - start

    print(
        f"fit_expression_layer: {args.pairs} pairs, {args.channels}x{args.size}x{args.size}, "
        f"r={args.r}: {fit_s:.2f} s on {torch.get_num_threads()} threads; "
        f"inference on 16 crops: {1000 * apply_s:.1f} ms"
    )


if __name__ == "__main__":
    main()
