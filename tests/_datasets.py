"""Small prepared datasets written directly (no detector), for training-loop and eval tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from faceedit.faces.types import MEAN_FIVE_POINTS


def mean_landmarks(size: int) -> list[list[float]]:
    """68 plausible points: a ring (jaw/face) around the template's eyes, nose and mouth."""
    rng = np.random.default_rng(0)
    centre = np.array([0.5, 0.55]) * size
    ang = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    pts = centre + np.stack([np.cos(ang) * 0.3, np.sin(ang) * 0.35], 1) * size
    return (pts + rng.normal(0, 0.2, pts.shape)).round(2).tolist()


def make_dataset(root: Path, *, subjects: int = 6, labels=("neutral", "happy"), size: int = 32,
                 key: str = "expression", grey: bool = False, seed: int = 0, paired: bool = False) -> Path:
    """Write ``root/dataset.json``, ``index.jsonl`` and PNG crops: one crop per (subject, label),
    a smooth random face-like blob per subject, brighter for the second label."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows, counts = [], {}
    yy, xx = np.mgrid[0:size, 0:size] / size
    for s in range(subjects):
        base = rng.uniform(60, 190, 3)
        for li, lab in enumerate(labels):
            blob = np.exp(-(((xx - 0.5) ** 2) / 0.08 + ((yy - 0.55) ** 2) / 0.12))
            img = base[None, None] * (0.5 + 0.5 * blob[..., None]) + li * 30 + rng.normal(0, 4, (size, size, 3))
            img = np.clip(img, 0, 255).astype(np.uint8)
            if grey:
                img = img.mean(2).astype(np.uint8)
            rel = f"images/s{s}-{lab}.png"
            Image.fromarray(img).save(root / rel)
            rows.append({"file": rel, "source": f"raw/s{s}-{lab}.png", "subject": f"s{s}",
                         "labels": {key: lab}, "pair": f"s{s}" if paired else None,
                         "role": ("source" if li == 0 else "target") if paired else None,
                         "grey": grey, "landmarks": mean_landmarks(size)})
            counts[lab] = counts.get(lab, 0) + 1
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"format": 1, "preset": "custom", "raw": "synthetic", "size": size,
            "template": {"size": size, "eye_dist": 0.3, "eye_y": 0.42}, "detector": "none",
            "count": len(rows), "subjects": subjects, "labels": {key: counts}}
    (root / "dataset.json").write_text(json.dumps(meta))
    assert MEAN_FIVE_POINTS is not None
    return root
