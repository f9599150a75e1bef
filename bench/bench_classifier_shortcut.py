"""Whether an expression classifier reads the expression or the photo set's look.

    python bench/bench_classifier_shortcut.py [--classifier PATH ...] [--data DIR ...] [--json]

The training data hold angry, disgusted and fearful faces only in JAFFE (grey scans), neutral and
happy in London, JAFFE and Yale: a classifier can learn "a London-looking face is neutral or
happy" instead of the expression. On the held-out subjects of the prepared sets (the trainers'
fixed split, ``faceedit.data.split_rows``; default ``data/london``, ``data/jaffe``,
``data/yale``), for each classifier (default: the shipped one):

* ``own``: per data set, per-class accuracy on the crops as they are;
* ``look``: the same crops given another set's look at their own pixels (256 px): the other
  set's grey levels (the tone curve that gives the face the histogram of that set's training
  faces), and towards JAFFE a scan's softness and grain (down- and up-sampling by 2, Gaussian
  grain 0.03). A reading that follows the look, not the face, is the shortcut: London faces
  that turn angry, disgusted, fearful or sad when they look like JAFFE scans, JAFFE expressions
  that turn neutral or happy when they look like London photos;
* ``frame``: each crop's face (inside a generous ellipse around brows, eyes, nose, mouth and
  chin, :func:`face_ellipse`) set into another set's held-out crop (its background, hair,
  ears, neck and clothes), its tones matched to that set first: the same question for
  everything around the face;
* ``probe``: how well the classifier's pooled features tell the data sets apart on neutral and
  happy faces (the classes every set holds): a logistic regression fitted on the training
  subjects' crops, balanced accuracy on the held-out ones (chance 1/3). The faces themselves
  differ between the sets (JAFFE holds only Japanese women), so it is not expected at chance;
  lower means less of the set in the features.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceedit.analysis.classify import Classifier, classification_metrics, load_classifier  # noqa: E402
from faceedit.analysis.nets import predict  # noqa: E402
from faceedit.data import dataset_name, load_crops, open_datasets, split_rows  # noqa: E402
from faceedit.pixels import levels_to_signed  # noqa: E402

ONLY_JAFFE = ("angry", "disgusted", "fearful", "sad")
SHARED = ("neutral", "happy")


def face_ellipse(s: int) -> torch.Tensor:
    """(s, s) weights: 1 inside a generous ellipse around brows, eyes, nose, mouth and chin on
    the aligned crop, fading to 0 over its outer 15 %."""
    u = (torch.arange(s) + 0.5) / s
    r = torch.sqrt(((u[None, :] - 0.5) / 0.34) ** 2 + ((u[:, None] - 0.56) / 0.44) ** 2)
    return 1 - ((r - 0.85) / 0.15).clamp(0, 1)


def grey_histogram(x: torch.Tensor) -> np.ndarray:
    """Pooled 256-bin histogram of uint8 crops ``x`` inside the face ellipse, normalised."""
    inside = (face_ellipse(x.shape[-1]) >= 1).numpy()
    h = np.bincount(x.numpy()[..., inside].ravel(), minlength=256).astype(np.float64)
    return h / h.sum()


def match_histogram(x: torch.Tensor, target: np.ndarray) -> torch.Tensor:
    """Each uint8 crop of ``x`` (N, 1, S, S) mapped through the tone curve that gives its face
    the grey-level distribution ``target``."""
    tc = np.cumsum(target)
    inside = (face_ellipse(x.shape[-1]) >= 1).numpy()
    out = []
    for a in x.numpy():
        h = np.bincount(a[..., inside].ravel(), minlength=256).astype(np.float64)
        c = np.cumsum(h / h.sum())
        lut = np.clip(np.searchsorted(tc, c), 0, 255).astype(np.uint8)
        out.append(lut[a])
    return torch.from_numpy(np.stack(out))


def scan_look(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """uint8 crops softened (half size and back) with Gaussian grain 0.03 in [-1, 1] units."""
    s = x.shape[-1]
    f = levels_to_signed(x)
    f = F.interpolate(F.interpolate(f, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False),
                      size=(s, s), mode="bilinear", align_corners=False)
    f = f + torch.randn(f.shape, generator=torch.Generator().manual_seed(seed)) * 0.03
    return ((f.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def frame_swap(x: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """uint8 crops ``x`` with everything outside a soft face ellipse taken from ``frames``
    (cycled)."""
    w = face_ellipse(x.shape[-1])[None, None]
    f = frames[torch.arange(len(x)) % len(frames)].float()
    return (w * x.float() + (1 - w) * f).round().to(torch.uint8)


def read(clf: Classifier, x: torch.Tensor) -> np.ndarray:
    return predict(clf.net, x).argmax(1).numpy()


def per_class(clf: Classifier, truth: list[str], pred: np.ndarray) -> dict:
    """Balanced and per-class accuracy, confusion, and the share of neutral/happy crops read as a
    class only JAFFE holds (and of those crops read as neutral/happy)."""
    labels = clf.labels
    m = classification_metrics([labels.index(t) for t in truth], pred.tolist(), labels)
    names = [labels[i] for i in pred]

    def share(of, as_):
        hits = [p in as_ for p, t in zip(names, truth) if t in of]
        return round(float(np.mean(hits)), 4) if hits else None

    return {"n": m["n"], "balanced_accuracy": m["balanced_accuracy"], "per_class_accuracy": m["per_class_accuracy"],
            "confusion": m["confusion"], "shared_read_as_jaffe_only": share(SHARED, ONLY_JAFFE),
            "jaffe_only_read_as_shared": share(ONLY_JAFFE, SHARED)}


def probe(clf: Classifier, train: dict[str, torch.Tensor], held: dict[str, torch.Tensor]) -> float:
    """Held-out balanced accuracy of a logistic regression from the pooled features to the data
    set (``train``/``held``: set name -> uint8 crops)."""
    names = sorted(train)

    def feats(x):
        return predict(clf.net, x, fn=lambda net, xb: net.features(xb))

    xs = [feats(train[n]) for n in names]
    mu, sd = torch.cat(xs).mean(0), torch.cat(xs).std(0) + 1e-6
    xt = (torch.cat(xs) - mu) / sd
    yt = torch.cat([torch.full((len(x),), i) for i, x in enumerate(xs)])
    w = torch.tensor([len(yt) / (len(names) * (yt == i).sum()) for i in range(len(names))], dtype=torch.float32)
    lin = torch.nn.Linear(xt.shape[1], len(names))
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=200)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(lin(xt), yt, weight=w) + 1e-3 * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    recalls = []
    with torch.no_grad():
        for i, n in enumerate(names):
            pred = lin((feats(held[n]) - mu) / sd).argmax(1)
            recalls.append(float((pred == i).float().mean()))
    return round(float(np.mean(recalls)), 4)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classifier", action="append", help="weights file (repeatable; default: the shipped one)")
    ap.add_argument("--data", action="append", help="prepared data set (default data/london, data/jaffe, data/yale)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    datasets = open_datasets(a.data or [str(ROOT / "data" / n) for n in ("london", "jaffe", "yale")])
    train_rows, held_rows = split_rows(datasets)
    names = {str(d.root): dataset_name(d) for d in datasets}
    held, truth, train_shared, held_shared, hist = {}, {}, {}, {}, {}
    for root, name in names.items():
        rows = [r for r in held_rows if r["dataset"] == root and r["labels"].get("expression")]
        tr = [r for r in train_rows if r["dataset"] == root and r["labels"].get("expression")]
        held[name], truth[name] = load_crops(rows, 256, 1), [r["labels"]["expression"] for r in rows]
        hist[name] = grey_histogram(load_crops(tr, 256, 1))
        shared = lambda rr: [r for r in rr if r["labels"]["expression"] in SHARED]  # noqa: E731
        train_shared[name], held_shared[name] = load_crops(shared(tr), 64, 1), load_crops(shared(rows), 64, 1)

    report = {}
    for path in a.classifier or ["expression"]:
        clf = load_classifier(path)
        out: dict = {"own": {}, "look": {}, "frame": {}}
        for name, x in held.items():
            out["own"][name] = per_class(clf, truth[name], read(clf, x))
            for other in held:
                if other == name:
                    continue
                y = match_histogram(x, hist[other])
                out["frame"][f"{name} in {other}"] = per_class(clf, truth[name], read(clf, frame_swap(y, held[other])))
                if other == "jaffe":
                    y = scan_look(y)
                out["look"][f"{name} as {other}"] = per_class(clf, truth[name], read(clf, y))
        out["probe_set_from_features"] = probe(clf, train_shared, held_shared)
        report[str(path)] = out

    if a.json:
        print(json.dumps(report, indent=1))
        return 0
    for path, out in report.items():
        print(f"== {path}")
        print(f"  data set told from the features (neutral/happy, held-out balanced accuracy, chance 0.33): "
              f"{out['probe_set_from_features']}")
        print(f"  [a/b]: neutral/happy read as {'/'.join(ONLY_JAFFE)} / those read as neutral/happy")
        for what in ("own", "look", "frame"):
            for key, res in out[what].items():
                extra = f"{res['shared_read_as_jaffe_only']:.2f}"
                if res["jaffe_only_read_as_shared"] is not None:
                    extra += f"/{res['jaffe_only_read_as_shared']:.2f}"
                print(f"  {what:<5} {key:<16} bal {res['balanced_accuracy']:.3f}  " +
                      " ".join(f"{c} {v:.2f}" for c, v in res["per_class_accuracy"].items()) + f"  [{extra}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
