"""What SeCGAN's attribute network adds over the stage alone, on held-out faces.

For each attribute value the stage renders (hair blond/black, skin pale/tan, brows bushy/thin,
glasses), on the held-out crops of a ``faceedit train -m secgan --set task=attributes`` run's
data (the same split: by subject, 0.2, seed 0): the stage's render of the photo cut to the
network's crop, and the network's output on it. Printed per value: the project's quality score Q
(0..10) of both, the identity cosine of both to the unedited crop, the network's own source
classifier's probability of the asked value on both, and the network's change over the render
(mean absolute levels) inside the attribute's region of the masks and outside it.

``--photos DIR``: for a few held-out London faces at the resolution of ``DIR`` (e.g.
../shared/data/london_hd, 1350 px), the stage's render at the photo's pixels and the same with the
network's change (its crop's difference upsampled through the crop's similarity) added; the hair
and brows written at 1:1 as PNG (stage | stage + network | the network's change x4 about grey).

    OMP_NUM_THREADS=1 python bench/bench_secgan_attributes.py RUN/secgan_attr.safetensors \\
        -d /tmp/data/london256 -d /tmp/data/jaffe256 -d /tmp/data/yale256 \\
        --photos ../shared/data/london_hd --out /tmp/secgan-attr/crops
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from faceedit.analysis.identity import load_identity
from faceedit.analysis.quality import load_quality
from faceedit.data import open_dataset
from faceedit.faces.parsing import CLASS_INDEX, HAIR
from faceedit.models.checkpoint import load_checkpoint
from faceedit.models.secgan import SeCGAN
from faceedit.pixels import levels_to_signed
from faceedit.train.secgan_attributes import SAMPLE_EDITS, VALUES, Photo, cut, load_attribute_data, render


def region(masks: torch.Tensor, key: str) -> torch.Tensor:
    """(B, S, S) bool: where attribute ``key`` lives in the masks (the glasses: the eyes' band)."""
    c = CLASS_INDEX
    if key == "hair":
        return masks == HAIR
    if key == "skin":
        return (masks == c["skin"]) | (masks == c["nose"])
    brows = ((masks == c["l_brow"]) | (masks == c["r_brow"])).float()
    if key == "brows":
        return torch.nn.functional.max_pool2d(brows[:, None], 9, 1, 4)[:, 0] > 0
    eyes = ((masks == c["l_eye"]) | (masks == c["r_eye"]) | (masks == c["nose"])).float()[:, None]
    return torch.nn.functional.max_pool2d(torch.cat([eyes, brows[:, None]], 1).amax(1, keepdim=True), 25, 1, 12)[:, 0] > 0


def network_diff(model: SeCGAN, x: torch.Tensor, key: str, value: str) -> torch.Tensor:
    """``y_diff`` of an edit of crops ``x`` setting ``key`` to ``value`` (sources estimated)."""
    return model.difference(x, "keep", attrs={key: 1.0 if value == "True" else 0.0} if key == "glasses" else {key: value})


def measure(model: SeCGAN, data, q, ident) -> dict:
    held = data.held
    idx = torch.arange(len(held)) + held.offset
    batch = held.batch(torch.arange(len(held)))
    x = batch["image"]
    src = {k: batch[k] for k in VALUES}
    rng = np.random.default_rng(0)
    out: dict = {"real_q": round(float(q.score(x).mean()), 2)}
    sl = model.space.slices()
    for key, value in SAMPLE_EDITS:
        eff, x_in = data.rendered(idx, src, key, value, rng)
        rows = (eff[key] != src[key]).nonzero()[:, 0]
        if not len(rows):
            continue
        xs, xi = x[rows], x_in[rows]
        with torch.no_grad():
            xn = model.G(xi, network_diff(model, xs, key, value))
            p_stage, p_net = model.source_attributes(xi), model.source_attributes(xn)
        col = sl[key].start + (0 if key == "glasses" else VALUES[key].index(value))
        inside = region(data.masks[idx[rows]], key)
        change = (xn - xi).abs().mean(1) * 127.5
        out[f"{key}={value}"] = {
            "n": int(len(rows)),
            "q_stage": round(float(q.score(xi).mean()), 2), "q_net": round(float(q.score(xn).mean()), 2),
            "id_stage": round(float(ident.similarity(xs, xi).mean()), 3),
            "id_net": round(float(ident.similarity(xs, xn).mean()), 3),
            "p_value_stage": round(float(p_stage[:, col].mean()), 3),
            "p_value_net": round(float(p_net[:, col].mean()), 3),
            "change_inside": round(float(change[inside].mean()), 2) if inside.any() else None,
            "change_outside": round(float(change[~inside].mean()), 2),
            "change_p99": round(float(change.flatten().quantile(0.99)), 1),
        }
    return out


def hd_photo(photo: Photo, row: dict, folder: Path) -> Photo | None:
    """The same photo at ``folder``'s resolution (London's layout: neutral/NNN.jpg), its
    landmarks and crop similarity scaled; None where there is none."""
    from PIL import Image

    src = Path(row["source"])
    path = folder / src.parent.name / src.name
    if not path.is_file():
        return None
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB"))
    f = px.shape[1] / photo.pixels.shape[1]
    m = photo.matrix.copy()
    m[:, :2] /= f
    from faceedit.stage.regions import hair_matte

    hd = Photo(px, photo.landmarks * f, m, False)
    hd.regions = hair_matte(px, hd.landmarks)
    return hd


def write_crops(model: SeCGAN, data, folder: Path, out: Path, n: int) -> None:
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    size = data.size
    held = data.held
    rng = np.random.default_rng(0)
    done = 0
    for j, row in enumerate(held.rows):
        if done >= n or not row["subject"].startswith("london-") or row["labels"].get("expression") != "neutral":
            continue
        photo = hd_photo(data.photos[held.offset + j], row, folder)
        if photo is None:
            continue
        done += 1
        x = levels_to_signed(torch.from_numpy(cut(photo, photo.pixels, size)).permute(2, 0, 1)[None])
        lm = photo.landmarks
        d = float(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)))
        for key, value in SAMPLE_EDITS:
            if key == "glasses":
                continue
            staged = render(photo, key, value, rng)
            xi = levels_to_signed(torch.from_numpy(cut(photo, staged, size)).permute(2, 0, 1)[None])
            with torch.no_grad():
                xn = model.G(xi, network_diff(model, x, key, value))
            delta = ((xn - xi)[0].permute(1, 2, 0).numpy() * 127.5).astype(np.float32)
            h, w = staged.shape[:2]
            up = cv2.warpAffine(delta, photo.matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
            inside = cv2.warpAffine(np.ones((size, size), np.float32), photo.matrix, (w, h),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
            with_net = np.clip(staged + up * inside[..., None], 0, 255).astype(np.uint8)
            if key == "hair":  # the head's top and a side: 2.6 x 1.3 eye distances
                cx, cy = lm[27, 0], lm[19:25, 1].min() - 0.75 * d
                box = (int(cx - 1.3 * d), int(cy - 0.6 * d), int(cx + 1.3 * d), int(cy + 0.7 * d))
            elif key == "brows":
                cx, cy = lm[17:27, 0].mean(), lm[17:27, 1].mean()
                box = (int(cx - 1.1 * d), int(cy - 0.35 * d), int(cx + 1.1 * d), int(cy + 0.35 * d))
            else:  # a cheek and the jaw's side
                cx, cy = lm[2, 0] + 0.6 * d, lm[30, 1]
                box = (int(cx - 0.6 * d), int(cy - 0.6 * d), int(cx + 0.6 * d), int(cy + 0.6 * d))
            x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
            amp = np.clip(128 + 4 * up[y0:y1, x0:x1], 0, 255).astype(np.uint8)
            sheet = np.concatenate([staged[y0:y1, x0:x1], with_net[y0:y1, x0:x1], amp], 1)
            Image.fromarray(sheet).save(out / f"{row['subject']}-{key}-{value}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("-d", "--data", action="append", required=True)
    ap.add_argument("--photos", type=Path, help="London photos at full resolution (london_hd) for 1:1 crops")
    ap.add_argument("--out", type=Path, default=Path("/tmp/secgan-attr/crops"))
    ap.add_argument("--faces", type=int, default=4, help="held-out London faces written as crops")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ckpt = load_checkpoint(args.checkpoint)
    model = SeCGAN(ckpt.meta.config)
    model.load_state_dict({k: v.float() for k, v in ckpt.tensors.items()})
    model.eval()
    data = load_attribute_data([open_dataset(d) for d in args.data], int(ckpt.meta.config["image_size"]))
    with torch.no_grad():
        print(json.dumps(measure(model, data, load_quality(), load_identity()), indent=1))
    if args.photos:
        write_crops(model, data, args.photos, args.out, args.faces)
        print(f"crops in {args.out}")


if __name__ == "__main__":
    main()
