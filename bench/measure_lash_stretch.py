"""How far the stage's warp draws out the lashes over each upper lid and the brow above it (issue 53, 55).

    OMP_NUM_THREADS=1 python bench/measure_lash_stretch.py --london ../shared/data/london_hd --ids train --pairs 20
    OMP_NUM_THREADS=1 python bench/measure_lash_stretch.py --london ../shared/data/london_hd --ids none --photos DIR

Each photo's largest face is edited (``--targets``, strength 1) and the 68-point move the stage's warp is given
(:func:`faceedit.stage.cutwarp.cut_warp`, as :mod:`faceedit.stage.steps` calls it) is applied again to a photo
whose pixels say where they are (a ramp of their own rows): as the stage warps it (``carried``: the bands of
:attr:`~faceedit.stage.tuning_face.WarpTuning.carried_bands`, the brows' as deep as the photo's brows reach), with
the brows' band at its default depth (``band``), and without the bands (``without``: the lashes' height 0).
Over each upper lid's middle points (37, 38, 43, 44) it reads how many of the
source's rows the warp shows per row in the band :data:`LASHES` eye widths up from the moved lid point (the lashes
standing off the lid), in the band :data:`BROW` eye widths down from the moved brow point above it, and in the
band of the brow's own hairs (down from that point as deep as :func:`faceedit.stage.brow_band.brow_depths` reads
the photo's brow, what the stage's warp carries whole where there is room): 1 is carried whole, under 1 drawn
out. Printed: the median and the 10th percentile over the points.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import add_photo_args, photo_paths  # noqa: E402

#: The lashes' band read up from each moved upper lid point, and the brow's down from its point (eye widths).
LASHES, BROW = 0.15, 0.2
#: Each upper lid point and the brow point above it.
PAIRS = ((37, 19), (38, 20), (43, 23), (44, 24))


def shown(src: np.ndarray, dst: np.ndarray, shape: tuple[int, int], eyelids: bool, bands,
          brows: np.ndarray | None, hairs: np.ndarray) -> list[tuple[float, float, float]]:
    """(lashes, brow, hairs): rows shown per row over each :data:`PAIRS` point's bands, the warp of ``src`` to
    ``dst`` ((68, 2)) with ``bands`` as its carried bands and ``brows`` as the brows' depths (None: the bands'
    own), the hairs read ``hairs`` deep (each brow's, eye widths)."""
    from faceedit.stage.cutwarp import cut_warp
    from faceedit.stage.tuning_face import WarpTuning

    k = 40.0 if max(shape) * 40 < 65000 else 65000.0 / max(shape)
    yy = np.mgrid[0:shape[0], 0:shape[1]][0].astype(np.float64)
    ramp = np.repeat((yy * k)[..., None], 3, -1).astype(np.uint16)
    at = cut_warp(ramp, src, dst, eyelids=eyelids, tuning=replace(WarpTuning(), carried_bands=bands), brows=brows
                  ).pixels[..., 0].astype(np.float64) / k
    out = []
    for i, j in PAIRS:
        eye = (36, 39) if i < 42 else (42, 45)
        width = float(np.linalg.norm(src[eye[1]] - src[eye[0]]))
        vals = []
        deep = float(hairs[0 if i < 42 else 1])
        for (x, y), h in ((dst[i], -LASHES * width), (dst[j], BROW * width), (dst[j], deep * width)):
            a = (int(round(y)), int(round(x)))
            b = (int(round(y + h)), int(round(x)))
            if not (0 <= min(a[0], b[0]) and max(a[0], b[0]) < shape[0] and 0 <= a[1] < shape[1]):
                vals.append(np.nan)
                continue
            vals.append((at[b] - at[a]) / (b[0] - a[0]))
        out.append((vals[0], vals[1], vals[2]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_photo_args(ap, "surprised,fearful")
    args = ap.parse_args()

    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.brow_band import brow_depths
    from faceedit.stage.tuning_face import WarpTuning

    paths = photo_paths(args)
    ed = Editor.from_pretrained("stage", device="cpu")
    moves: list[tuple[np.ndarray, np.ndarray, bool, np.ndarray | None]] = []
    warp = steps.cut_warp

    def kept(pixels, src, dst, **kw):  # the move the edit's warp is given
        moves.append((np.asarray(src, np.float64), np.asarray(dst, np.float64), bool(kw.get("eyelids", False)),
                      kw.get("brows")))
        return warp(pixels, src, dst, **kw)

    steps.cut_warp = kept
    default = WarpTuning().carried_bands
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for p in paths:
        rgb = read_rgb(p)
        faces = sorted(ed.detector.detect(rgb), key=lambda f: -f.area)
        if not faces:
            print(f"{p.name}: no face", file=sys.stderr)
            continue
        for t in [t for t in args.targets.split(",") if t]:
            moves.clear()
            edit_faces(ed, rgb, [faces[0]], EditRequest.of(t, 1.0))
            if not moves:
                continue
            src, dst, lids, brows = moves[-1]
            hairs = brow_depths(rgb, src) if brows is None else brows
            for name, bands, deep in (("carried", default, brows), ("band", default, None),
                                      ("without", (0.0, *default[1:]), None)):
                rows.setdefault(t, {}).setdefault(name, []).extend(shown(src, dst, rgb.shape[:2], lids, bands, deep,
                                                                         hairs))
    print(f"rows shown per row: lashes {LASHES} eye widths up from each upper lid point, brow {BROW} down from its"
          " point (1 carried whole); median and 10th percentile")
    for t, by in rows.items():
        for name, vals in by.items():
            v = np.array(vals, np.float64)
            print(f"{t:10s} {name:8s} {len(v):3d} points: lashes {np.nanmedian(v[:, 0]):.3f} "
                  f"(p10 {np.nanpercentile(v[:, 0], 10):.3f})  brow {np.nanmedian(v[:, 1]):.3f} "
                  f"(p10 {np.nanpercentile(v[:, 1], 10):.3f})  hairs {np.nanmedian(v[:, 2]):.3f} "
                  f"(p10 {np.nanpercentile(v[:, 2], 10):.3f})")


if __name__ == "__main__":
    main()
