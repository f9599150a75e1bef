"""Contact sheets for people to look at: held-out pairs (input | stages... | real target) and
photos (input | one column per target, cut to the face), with a label over every column and
beside every row."""

from __future__ import annotations

from typing import Any, Protocol

import cv2
import numpy as np
import torch

from faceedit.errors import FaceEditError, NoFaceError, UsageError
from faceedit.faces.types import Face
from faceedit.pixels import signed_to_uint8, to_uint8

_FONT = cv2.FONT_HERSHEY_SIMPLEX


class Editor(Protocol):
    """What the sheets use of an editor: a :class:`faceedit.api.Editor` (a higher layer than
    evaluation: the caller passes it in, this module never imports it)."""

    loaded: Any  # .model: the network (pair_row)
    device: torch.device

    @property
    def detector(self) -> Any: ...

    def edit(self, image: np.ndarray, target: str, strength: float = 1.0, **options) -> np.ndarray: ...


def tensor_image(t: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, 3) uint8 (one channel repeated)."""
    a = signed_to_uint8(t)
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


def _fit(text: str, width: int, scale: float) -> str:
    """``text``, cut at the front ("...name.jpg") to fit ``width`` pixels."""
    if cv2.getTextSize(text, _FONT, scale, 1)[0][0] <= width:
        return text
    while len(text) > 1 and cv2.getTextSize("..." + text, _FONT, scale, 1)[0][0] > width:
        text = text[1:]
    return "..." + text


def labelled_grid(rows: list[list[np.ndarray]], columns: list[str], row_labels: list[str],
                  pad: int = 2) -> np.ndarray:
    """:func:`grid` with ``columns`` written over the columns and ``row_labels`` to the left of
    the rows (labels too long for the space are cut at the front)."""
    body = grid(rows, pad)
    h, w = rows[0][0].shape[:2]
    scale = 0.4 if w < 160 else 0.5
    text_h = cv2.getTextSize("Ag", _FONT, scale, 1)[0][1]
    head = text_h * 2 + 4
    widest = max((cv2.getTextSize(t, _FONT, scale, 1)[0][0] for t in row_labels), default=0)
    left = min(widest, 2 * w) + 2 * pad + 4
    out = np.full((body.shape[0] + head, body.shape[1] + left, 3), 255, np.uint8)
    out[head:, left:] = body
    for j, text in enumerate(columns):
        x = left + pad + j * (w + pad)
        cv2.putText(out, _fit(text, w - 4, scale), (x + 2, head - text_h // 2 - 2), _FONT, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    for i, text in enumerate(row_labels):
        y = head + pad + i * (h + pad) + (h + text_h) // 2
        cv2.putText(out, _fit(text, left - 2 * pad - 4, scale), (pad + 2, y), _FONT, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return out


def pair_row(editor: Editor, src: torch.Tensor, real: torch.Tensor, target: str,
             stages: list[str | None]) -> list[np.ndarray]:
    """One sheet row for a (source crop, real target crop): source | model output per stage |
    real."""
    model = editor.loaded.model
    row = [tensor_image(src)]
    for stage in stages:
        opts = {"phase": stage} if stage else {}
        with torch.inference_mode():
            out = model.edit(src[None].to(editor.device), target, 1.0, **opts)[0]
        row.append(tensor_image(out))
    row.append(tensor_image(real))
    return row


def face_region(face: Face, shape: tuple[int, ...], margin: float = 0.5) -> tuple[slice, slice]:
    """A square around ``face`` (its box grown by ``margin`` of its size on every side), moved
    and if need be shrunk to lie inside an image of ``shape``."""
    x0, y0, x1, y1 = (float(v) for v in face.box)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    side = int(round(min(side, shape[0], shape[1])))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), shape[1] - side)))
    top = int(round(min(max(cy - side / 2, 0), shape[0] - side)))
    return slice(top, top + side), slice(left, left + side)


def photo_sheet(editor: Editor, photos: list[tuple[str, np.ndarray]], targets: list[str],
                height: int = 256, **edit_options) -> tuple[np.ndarray | None, list[tuple[str, str]]]:
    """One row per (label, RGB photo): the photo | the photo edited to each target (every
    face), each cut to the photo's largest face and resized to ``height`` px square.

    Returns (the sheet, or None when no photo could be shown; [(label, reason)] of the photos
    left out: no face, or a failed edit). A usage error (a bad target or option) raises."""
    rows, labels, failed = [], [], []
    for label, rgb in photos:
        try:
            faces = editor.detector.detect(to_uint8(rgb))
            if not faces:
                raise NoFaceError("no face found", label)
            region = face_region(max(faces, key=lambda f: f.area), rgb.shape)

            def cut(img: np.ndarray) -> np.ndarray:
                return cv2.resize(to_uint8(img[region]), (height, height), interpolation=cv2.INTER_AREA)

            row = [cut(rgb)] + [cut(editor.edit(rgb, t, **edit_options)) for t in targets]
        except UsageError:
            raise
        except FaceEditError as e:
            failed.append((label, e.reason))
            continue
        rows.append(row)
        labels.append(label)
    if not rows:
        return None, failed
    return labelled_grid(rows, ["input", *targets], labels), failed
