"""Contact sheets for people to look at: held-out pairs (input | stages... | real target) and
photos (input | one column per target)."""

from __future__ import annotations

import numpy as np
import torch

from faceedit.api import Editor


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    a = t.float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    a = a.expand(3, -1, -1) if a.shape[0] == 1 else a
    return a.permute(1, 2, 0).cpu().numpy()


def grid(rows: list[list[np.ndarray]], pad: int = 2) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into one image with white gutters."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, r in enumerate(rows):
        for j, img in enumerate(r):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y : y + h, x : x + w] = img
    return out


def pair_sheet(editor: Editor, pairs: list[tuple[torch.Tensor, torch.Tensor]], target: str,
               stages: list[str | None]) -> np.ndarray:
    """One row per (source crop, real target crop): source | model output per stage | real."""
    model = editor.loaded.model
    rows = []
    for src, real in pairs:
        row = [_to_uint8(src)]
        for stage in stages:
            opts = {"stage": stage} if stage else {}
            with torch.inference_mode():
                out = model.edit(src[None].to(editor.device), target, 1.0, **opts)[0]
            row.append(_to_uint8(out))
        row.append(_to_uint8(real))
        rows.append(row)
    return grid(rows)


def photo_sheet(editor: Editor, photos: list[np.ndarray], targets: list[str], height: int = 256,
                **edit_options) -> np.ndarray:
    """One row per photo: the photo | the photo edited to each target (every face), all resized
    to ``height`` px (width kept proportional to the first photo)."""
    import cv2

    rows = []
    for rgb in photos:
        scale = height / rgb.shape[0]
        size = (max(1, round(rgb.shape[1] * scale)), height)
        row = [cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)]
        for t in targets:
            out = editor.edit(rgb, t, **edit_options)
            row.append(cv2.resize(out, size, interpolation=cv2.INTER_AREA))
        rows.append(row)
    width = min(r[0].shape[1] for r in rows)
    return grid([[img[:, :width] for img in r] for r in rows])
