"""A contact sheet of what the project's expression classifier reads: held-out London faces, real
and edited by the stage to every basic expression, each crop captioned with the class read and
its probability (and the target's, where another class won).

    OMP_NUM_THREADS=1 python bench/bench_classifier_sheet.py -o weights/expression.png

Rows: held-out London subjects (the trainers' split, ``--faces``), their neutral and smiling
photos at 1350 px, then the neutral photo edited (``faceedit.api.Editor``, model ``stage``) to
happy, surprised, sad, angry, disgusted and fearful. Each cell is the classifier's own input
crop (the analysis template, shown at ``--cell`` px; the network sees it at 48 px luma). Only
London crops appear: no JAFFE or Yale image may ship (their held-out figures are in the card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from faceedit.analysis.classify import load_classifier
from faceedit.analysis.measure import ANALYSIS_TEMPLATE
from faceedit.api import Editor
from faceedit.faces.align import align_face
from faceedit.pixels import levels_to_signed

TARGETS = ("happy", "surprised", "sad", "angry", "disgusted", "fearful")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--faces", default="014,022,061,097,131,144", help="held-out London ids")
    ap.add_argument("--cell", type=int, default=184)
    ap.add_argument("-o", "--out", type=Path, required=True)
    a = ap.parse_args(argv)
    ed = Editor.from_pretrained("stage", allow_download=False)
    clf = load_classifier("expression")
    header = ["neutral (real)", "smiling (real)"] + [f"-t {t}" for t in TARGETS]
    rows = []
    for sid in a.faces.split(","):
        neutral = np.asarray(Image.open(a.data / "neutral" / f"{sid}.jpg").convert("RGB"))
        smiling = np.asarray(Image.open(a.data / "smiling" / f"{sid}.jpg").convert("RGB"))
        face = max(ed.detector.detect(neutral), key=lambda f: f.area)
        cells = []
        for label, img in zip(["neutral", "happy"] + list(TARGETS),
                              [neutral, smiling] + [ed.edit(neutral, t, face="largest") for t in TARGETS], strict=True):
            f = face if img is not smiling else max(ed.detector.detect(img), key=lambda f: f.area)
            crop = align_face(img, f, ANALYSIS_TEMPLATE).crop
            with torch.no_grad():
                p = clf.probs(levels_to_signed(crop).permute(2, 0, 1)[None])[0].float().numpy()
            top = clf.labels[int(np.argmax(p))]
            cell = cv2.resize(crop, (a.cell, a.cell), interpolation=cv2.INTER_AREA)
            cell = np.vstack([cell, np.full((34, a.cell, 3), 255, np.uint8)])
            ok = top == label
            text = f"{top} {p.max():.2f}" + ("" if ok else f" ({label} {p[clf.index(label)]:.2f})")
            cv2.putText(cell, text, (4, a.cell + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.36,
                        (20, 120, 20) if ok else (170, 30, 30), 1, cv2.LINE_AA)
            cv2.putText(cell, f"london-{sid}" if not cells else "", (4, a.cell + 29), cv2.FONT_HERSHEY_SIMPLEX,
                        0.34, (90, 90, 90), 1, cv2.LINE_AA)
            cells.append(cell)
        rows.append(np.hstack(cells))
    head = np.full((22, rows[0].shape[1], 3), 255, np.uint8)
    for k, h in enumerate(header):
        cv2.putText(head, h, (4 + k * a.cell, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    Image.fromarray(np.vstack([head] + rows)).save(a.out)
    print(f"sheet: {a.out} (green: the class the column names read; red: another, the column's own in brackets)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
