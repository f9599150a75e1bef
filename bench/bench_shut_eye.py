"""A small shut eye's redraw (stage.eye_open.open_shut_eye, as eyes._open_shut calls it) on a
512, 1350 and 3840-px photo: the photos converted whole to unit floats first against the photos'
own pixels read only in the boxes it samples (``unit``). CPU time on one thread, median of 7,
the two alternated; the two outputs compared byte for byte.

    OMP_NUM_THREADS=1 python bench/bench_shut_eye.py

The photo is blurred noise (a textured skin) with a lash line 3 px thick and 21 px long at its
middle, the eye (20 px corner to corner, shut) opened by 6.5 px above and 1 px below by the
warp's move, the line smeared down into the opening as the warp draws it.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from faceedit.stage.eye_open import open_shut_eye

LASH = np.array([0.25, 0.17, 0.12])


def _eye(top: float, bottom: float, x0: float, width: float, y: float) -> np.ndarray:
    return np.array([[x0, y], [x0 + width / 3, y - top], [x0 + 2 * width / 3, y - top], [x0 + width, y],
                     [x0 + 2 * width / 3, y + bottom], [x0 + width / 3, y + bottom]], np.float64)


def main() -> None:
    cv2.setNumThreads(1)
    for size in (512, 1350, 3840):
        rng = np.random.default_rng(3)
        noise = cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3)).astype(np.float32), (0, 0), 1.5)
        src = np.clip(noise * 0.6 + 90, 0, 255).astype(np.uint8)
        x0, y = size / 2 - 10.3, size / 2 + 0.4
        src[int(y) - 1:int(y) + 2, int(x0):int(x0) + 21] = (LASH * 255).astype(np.uint8)
        pts, moved = _eye(0.5, 0.5, x0, 20.0, y), _eye(6.5, 1.0, x0, 20.0, y)
        warped = src.copy()
        cv2.fillPoly(warped, [np.round(moved).astype(np.int32)], (LASH * 255).tolist())

        def whole():
            return open_shut_eye(src.astype(np.float32) / 255.0, warped.astype(np.float32) / 255.0, pts, moved)

        def boxes():
            return open_shut_eye(src, warped, pts, moved, unit=255.0)

        a, b = whole(), boxes()
        same = a is not None and b is not None and a[0] == b[0] and np.array_equal(a[1], b[1])
        spent: dict[str, list[float]] = {"whole": [], "boxes": []}
        for _ in range(7):
            for name, f in (("whole", whole), ("boxes", boxes)):
                t0 = time.process_time()
                f()
                spent[name].append(time.process_time() - t0)
        print(f"{size} px: one shut eye, CPU-ms (median of 7): whole photos converted "
              f"{1000 * np.median(spent['whole']):.2f}, the boxes sampled {1000 * np.median(spent['boxes']):.2f}; "
              f"{'the same bytes' if same else 'OUTPUTS DIFFER'}")


if __name__ == "__main__":
    main()
