"""How much tooth a neutral London face made happy shows, how bright and of what colour, against
the same person's real smile (London HD has each person neutral and smiling: the real smile is
the truth for neutral -> happy). Per face, input (the neutral photo), real (the smiling photo) and
edit (the neutral photo made happy), then the medians over the faces whose real smile shows teeth.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/bench_teeth_truth.py [--ids 008,014,...]
        [--data ../shared/data] [--model stage] [--save DIR] [--load DIR]

The measure (:func:`truth`), the same on all three photos: Face Mesh's inner-lip loop
(:func:`bench_mouth_luma.opening_mask`, eroded by 2 % of its corner distance ``w``); the teeth are
its pixels brighter than 1.15 times the lips' luma (the ring 2-7 % of ``w`` outside the loop,
:func:`faceedit.stage.mouth.ring_stats`; the mouth bank's rule for a smile showing teeth) and
than half the opening's 95th percentile. Printed: ``area`` the teeth's pixels over ``w``
squared; ``open`` the opening's mean height over ``w``; ``side`` the
75th-percentile luma of the opening within :data:`SIDE` of ``w`` from either corner over that of
its middle 0.4 (the side teeth in the mouth's shadow); ``t/ck`` the opening's 75th-percentile
luma (the bank's ``teeth_luma``) over the cheeks' median (:func:`bench_mouth_luma.cheek_mask`);
``t/eye`` the same over the eye whites' luma (:func:`faceedit.stage.mouth.sclera_colour`, as the
stage's :func:`~faceedit.stage.teeth_look.teeth_cap` reads them); ``tb/eye`` the teeth's
brightest quarter's median colour's luma over the eye whites' (their brightness, whatever their
share of the opening); ``cb`` that colour's BT.601 Cb over luma and ``dcb`` that less the eye whites'.
A real smile with fewer teeth pixels than 0.2 % of ``w`` squared shows none and is left out of
the medians. ``--save DIR`` writes each edit as DIR/NNN.png; ``--load DIR`` reads them instead
of editing (the mouth crops beside the real smile come from the same files); ``--fer`` prints
FER's read of each edit (``bench_independent.FerClassifier`` on the face its own detector finds)
and how many it reads happy, with the mean happy share, over all the faces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mouth_luma import cheek_mask, largest, luma, opening_mask  # noqa: E402
from london_ids import HELD_OUT_CSV  # noqa: E402

from faceedit.stage.cut_curves import resample_by_length  # noqa: E402
from faceedit.stage.lips import MESH_INNER_LOWER, MESH_INNER_UPPER, opening_aspect  # noqa: E402
from faceedit.stage.mouth import ring_stats, sclera_colour  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])
CB = np.array([-0.168736, -0.331264, 0.5])
#: The share of the opening's width from each corner whose luma ``side`` reads.
SIDE = 0.2
KEYS = ("area", "open", "side", "t/ck", "t/eye", "tb/eye", "cb", "dcb")


def truth(img: np.ndarray, face) -> dict | None:
    """The figures :data:`KEYS` of a detected face's mouth (None where it has no mesh or eye
    whites); ``teeth`` False where its opening shows none."""
    if face is None or face.dense is None:
        return None
    sc = sclera_colour(img, face.landmarks)
    if sc is None:
        return None
    d = np.asarray(face.dense, np.float64)[:, :2]
    up, lo = (resample_by_length(d[k], 41) for k in (MESH_INNER_UPPER, MESH_INNER_LOWER))
    aspect, w = opening_aspect(up, lo)
    inside, _ = opening_mask(img.shape, face.dense)
    y = luma(img) / 255.0
    lip = float(ring_stats(img, up, lo)["lip"] @ LUMA)
    cheek = float(np.median(y[cheek_mask(img.shape, face.landmarks)]))
    eye = float(np.asarray(sc, np.float64) @ LUMA)
    c_s = np.asarray(sc, np.float64) / max(eye, 1e-6)
    out = {"open": float(aspect), "area": 0.0, "t/ck": float("nan"), "t/eye": float("nan"), "tb/eye": float("nan"),
           "side": float("nan"), "cb": float("nan"), "dcb": float("nan"), "teeth": False}
    if inside.sum() < 30:
        return out
    yi = y[inside]
    teeth = inside & (y > 1.15 * lip) & (y > 0.5 * float(np.percentile(yi, 95)))
    out["area"] = float(teeth.sum()) / (w * w)
    out["teeth"] = out["area"] >= 0.002
    t75 = float(np.percentile(yi, 75))
    # across the mouth: u from the left inner corner (0) to the right (1)
    yy, xx = np.nonzero(inside)
    axis = up[-1] - up[0]
    u = ((np.stack([xx, yy], 1) - up[0]) @ axis) / float(axis @ axis)
    sides, mid = yi[(u < SIDE) | (u > 1 - SIDE)], yi[np.abs(u - 0.5) < 0.2]
    if sides.size >= 8 and mid.size >= 8:
        out["side"] = float(np.percentile(sides, 75) / max(np.percentile(mid, 75), 1e-6))
    out["t/ck"], out["t/eye"] = t75 / max(cheek, 1e-6), t75 / max(eye, 1e-6)
    if teeth.sum() >= 8:
        yt = y[teeth]
        c = np.median(img[..., :3][teeth][yt >= np.percentile(yt, 75)].astype(np.float64) / 255.0, 0)
        out["tb/eye"] = float(c @ LUMA) / max(eye, 1e-6)
        c = c / max(float(c @ LUMA), 1e-6)
        out["cb"], out["dcb"] = float(c @ CB), float(c @ CB - c_s @ CB)
    return out


def happy_edit(ed, neutral: np.ndarray, i: str, load: Path | None, save: Path | None) -> np.ndarray:
    """London ``i``'s neutral photo made happy by ``ed``, or read from ``load`` (``i``.png); written
    to ``save`` too when given."""
    if load is not None:
        return np.asarray(Image.open(load / f"{i}.png").convert("RGB"))
    assert ed is not None
    out = ed.edit(neutral, "happy", face="largest")
    if save:
        Image.fromarray(out).save(save / f"{i}.png")
    return out


def quantile(v, q: float = 50.0) -> float:
    """The ``q``-th percentile of ``v``'s numbers (NaN where it has none)."""
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size else float("nan")


def row(tag: str, s: dict | None) -> str:
    if s is None:
        return f"{tag:>6} -"
    return f"{tag:>6} " + " ".join(f"{k} {s[k]:6.3f}" for k in KEYS)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default=HELD_OUT_CSV)
    ap.add_argument("--model", default="stage")
    ap.add_argument("--save", type=Path, default=None, help="write each edit as DIR/NNN.png")
    ap.add_argument("--load", type=Path, default=None, help="read the edits from DIR/NNN.png")
    ap.add_argument("--real-only", action="store_true", help="the real smiles alone (no edit)")
    ap.add_argument("--fer", action="store_true", help="FER's read of each edit (its face detector's box)")
    a = ap.parse_args(argv)
    fer = None
    if a.fer:
        from bench_independent import LABELS, FerClassifier

        fer = FerClassifier()
    reads: list[tuple[str | None, float]] = []
    from faceedit.faces.detectors import get_detector

    det = get_detector("mediapipe")
    ed = None
    if not a.real_only and a.load is None:
        from faceedit.api import Editor

        ed = Editor.from_pretrained(a.model, device="cpu")
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
    got: dict[str, list] = {"input": [], "real": [], "edit": []}
    pairs: list[tuple[dict, dict]] = []
    for i in [s.strip() for s in a.ids.split(",") if s.strip()]:
        def read(kind, i=i):
            return np.asarray(Image.open(a.data / "london_hd" / kind / f"{i}.jpg").convert("RGB"))
        neutral, smiling = read("neutral"), read("smiling")
        real = truth(smiling, largest(det, smiling))
        rows = {"input": truth(neutral, largest(det, neutral)), "real": real}
        if not a.real_only:
            out = happy_edit(ed, neutral, i, a.load, a.save)
            rows["edit"] = truth(out, largest(det, out))
            if fer is not None:
                label = fer(out)
                q = fer.net.get_tensor(fer.out["index"])[0].astype(np.float64)
                reads.append((label, float(q[LABELS.index("happy")] / max(q.sum(), 1e-9)) if label else 0.0))
                print(f"  FER reads the edit {label}, happy {reads[-1][1]:.2f}", flush=True)
        shown = real is not None and real["teeth"]
        print(f"{i}" + ("" if shown else " (real smile shows no teeth: left out)"), flush=True)
        for tag, s in rows.items():
            print("  " + row(tag, s), flush=True)
            if shown and s is not None:
                got[tag].append(s)
        edit = rows.get("edit")
        if shown and edit is not None and real is not None:
            pairs.append((edit, real))
    print(f"\nmedians over {len(got['real'])} faces whose real smile shows teeth (e/r25, 50, 75: "
          "the quartiles of each face's edit over its real smile, of cb and dcb their difference)")
    for tag, rs in got.items():
        if rs:
            print("  " + row(tag, {k: quantile([r[k] for r in rs]) for k in KEYS}))
    if reads:
        print(f"  FER: {sum(r[0] == 'happy' for r in reads)} of {len(reads)} edits happy, "
              f"mean happy share {np.mean([r[1] for r in reads]):.3f}")
    if pairs:
        for q in (25.0, 50.0, 75.0):
            rel = {}
            for k in KEYS:
                e, r = np.array([p[0][k] for p in pairs]), np.array([p[1][k] for p in pairs])
                rel[k] = quantile(e - r if k in ("cb", "dcb") else e / r, q)
            print("  " + row(f"e/r{q:.0f}", rel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
