"""The edit stage as a training-time operator: networks learn appearance on stage-edited crops.

At inference every method's network sees a face the stage (:mod:`faceedit.stage.model`) has
already edited: moved by the target's landmark displacement, its mouth painted, relit. Trained on
unedited crops, a network learns the whole edit again and, run on the stage's output, applies it a
second time (the blotches and halos of the first round). :class:`StageOnCrops` gives a trainer the
same stage edit of its training crops, so it learns only what the stage leaves: texture.

For a crop and a target the stage's edit is linear in the pixels once its maps are known: a
sampling map (the fold-free thin-plate-spline warp), a per-pixel gain and bias (the mouth map of
the target), a per-pixel luma gain (the smile map, where the target takes a smile away or adds
one) and a per-pixel log gain (the stage's relighting to the named direction). The maps depend only on
the crop's landmarks and the target, so they are computed once per (face, target), on the
trainer's crop grid, and applied in torch to any image of that face: to the real crop (the
network's input) and to the network's own output (the cycle's way back). That keeps every
method's own losses: the input changes, not the objective.

* ``forward(x, index, expr, light)``: the stage's edit of crops ``x`` towards the expression
  indices ``expr`` (-1: no move) and lighting indices ``light`` (-1 / None: as lit);
  ``moved_landmarks`` their landmarks after it.
* ``back(x, index, expr)``: crops that show the face at its moved landmarks warped back to the
  face's own landmarks (a generated face's way back to the source in a cycle loss).

Faces that differ only in lighting (Extended Yale B: one subject, one pose, 64 lights; its crops
are pixel-registered) share their pair group's geometry, so their maps are computed once.

It renders the stage's edit with the stage's own statistics and decisions (:meth:`Stage.plan`,
:func:`faceedit.stage.smile.smile_taken`, :func:`~faceedit.stage.smile.smile_skin`, the appearance
maps of :mod:`faceedit.stage.appearance`, the relighting) but not
with its steps (:mod:`faceedit.stage.steps`): those edit one whole photo in numpy, non-linearly
(cuts found from the photo's colour, a mouth painted from the mouth bank, irises found and
repainted), and a cycle loss needs the edit as a map it can apply to a network's output and
undo, in torch, on a batch of crops. Inside the mouth the two differ: this operator warps with
the smooth spline and paints the target's mean mouth map where the stage cuts the lips and paints
a real mouth (the stage's card, "Training on the stage's edits"). :func:`paired_inputs` (paired
training on real target geometry, no cycle) uses the stage's warp step itself.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from faceedit.log import logger
from faceedit.pixels import (
    RGB_TO_YCC,
    YCC_TO_RGB,
    levels_to_signed,
    luma_tensor,
    signed_to_unit,
    unit_to_signed,
)
from faceedit.stage.appearance import appearance_maps, paint_target
from faceedit.stage.model import Stage
from faceedit.stage.paint import canonical_maps
from faceedit.stage.records import FaceEdit, StageRequest
from faceedit.stage.shading import load_shading, parse_light
from faceedit.stage.smile import paint_smile, smile_map, smile_skin, smile_taken
from faceedit.stage.steps import warp
from faceedit.stage.tuning_face import WarpTuning
from faceedit.stage.warp import backward_field, face_grid


def dense_sampling(shape: tuple[int, int], lm_from: np.ndarray, lm_to: np.ndarray,
                   tuning: WarpTuning | None = None) -> tuple[np.ndarray, float]:
    """(H, W, 2) pixel positions to sample so that a face at ``lm_from`` shows at ``lm_to``
    (the stage's fold-free warp, identity beyond the face region), in grid_sample's [-1, 1]
    coordinates (align_corners False). Also returns the scale the warp was held to. ``tuning``:
    the warp's region (the stage's ``tuning.warp``; default its defaults)."""
    h, w = shape
    tn = tuning if tuning is not None else WarpTuning()
    grid = face_grid(lm_from, tn.region_outer)
    field, scale = backward_field(lm_from, lm_to, grid, tuning=tn)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pos = np.stack([xs, ys], -1)
    roi = grid.roi((h, w))
    x0, y0, x1, y1 = roi
    if x1 > x0 and y1 > y0:
        pos[y0:y1, x0:x1] += grid.sample(field, roi)
    norm = np.array([w, h], np.float32)
    return (2 * pos + 1) / norm - 1, scale


class StageOnCrops:
    """The stage's edit of one crop set's faces, as torch operators (see the module docstring).

    ``landmarks``: (N, 68, 2) crop-pixel landmarks of the rows, ``rows``: their index rows (for
    pair groups), ``size`` the crop size, ``expressions`` / ``lighting`` the trainer's
    vocabularies (names the stage does not know get no move / no relighting)."""

    def __init__(self, stage: Stage, rows: list[dict], landmarks: torch.Tensor, size: int,
                 expressions: list[str], lighting: list[str] | None = None):
        self.stage = stage
        self.size = int(size)
        self.expressions = list(expressions)
        self.lighting = list(lighting or [])
        lm = landmarks.detach().cpu().numpy().astype(np.float64)
        self.key_of_row, self.key_landmarks = self._keys(rows, lm)
        self._maps: dict[tuple[int, int], dict | None] = {}
        self._shades: dict[tuple[int, int], torch.Tensor | None] = {}
        known = [e for e in self.expressions if e in stage.expressions]
        logger.info("training stage: %d faces (%d rows), expressions %s, lighting %s",
                    len(self.key_landmarks), len(rows), ",".join(known),
                    ",".join(c for c in self.lighting if c in stage.lighting) or "-")

    @staticmethod
    def _keys(rows: list[dict], lm: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            if r.get("pair"):
                groups.setdefault(r["pair"], []).append(i)
        shared: dict[int, int] = {}  # row -> row whose geometry it shares
        for members in groups.values():
            exprs = {rows[i]["labels"].get("expression") for i in members}
            lights = {rows[i]["labels"].get("lighting") for i in members}
            if len(members) > 1 and len(exprs) == 1 and len(lights) > 1:  # lighting-only group
                src = next((i for i in members if rows[i].get("role") == "source"), members[0])
                for i in members:
                    shared[i] = src
        key_of_row = np.zeros(len(rows), np.int64)
        keys: dict[int, int] = {}
        out: list[np.ndarray] = []
        for i in range(len(rows)):
            owner = shared.get(i, i)
            if owner not in keys:
                keys[owner] = len(out)
                out.append(lm[owner])
            key_of_row[i] = keys[owner]
        return key_of_row, out

    # -- maps ------------------------------------------------------------------------------------
    def maps(self, key: int, e: int) -> dict | None:
        """The warp (both ways) and mouth map of face ``key`` towards expression index ``e``;
        None where the stage does not move it."""
        if (key, e) in self._maps:
            return self._maps[(key, e)]
        out = None
        target = self.expressions[e] if 0 <= e < len(self.expressions) else None
        lm = self.key_landmarks[key]
        if target in self.stage.expressions and np.isfinite(lm).all():
            s = self.size
            moved = self.stage.move(lm, target)
            region = self.stage.tuning.warp.paint_region  # where the stage lays its maps
            fwd, scale = dense_sampling((s, s), lm, moved, self.stage.tuning.warp)
            moved = lm + scale * (moved - lm)
            back, _ = dense_sampling((s, s), moved, lm, self.stage.tuning.warp)
            out = {"fwd": torch.from_numpy(fwd), "back": torch.from_numpy(back),
                   "landmarks": torch.from_numpy(moved.astype(np.float32))}
            # the smile map the stage paints first (a smile taken away, or added by happy)
            skin = smile_skin(smile_taken(self.stage, *self.stage.plan(lm, target)), target)
            if skin != 0:
                g = smile_map(self.stage, skin > 0)[..., 0]
                neutral_frame = self.stage.get_buffer("mean_shape").double().numpy()
                out["smile"], = self._on_crop(moved, neutral_frame, [g[None] - 1.0], region, abs(skin) * scale)
            if target in self.stage.appearance:  # (gain - 1) * w and bias * w, (C, S, S) each
                frame, gain, bias = appearance_maps(self.stage, target)
                out["gain"], out["bias"] = self._on_crop(moved, frame, [gain - 1.0, bias], region, scale)
        self._maps[(key, e)] = out
        return out

    def shade(self, key: int, light: int) -> torch.Tensor | None:
        """(S, S) log gain of lighting index ``light`` on face ``key`` (at its own landmarks): the
        stage's whole-head relighting to that named direction (multiplying R, G and B alike here,
        the luma there)."""
        if (key, light) in self._shades:
            return self._shades[(key, light)]
        out = None
        name = self.lighting[light] if 0 <= light < len(self.lighting) else None
        lm = self.key_landmarks[key]
        if name in self.stage.lighting and np.isfinite(lm).all():
            # the stage's relighting (faceedit.stage.shading) at the named direction's default
            # strength, as a log gain on the crop grid (no scene to keep on a tight crop)
            s = self.size
            (x0, y0, x1, y1), f = load_shading().factor(np.zeros((s, s, 3), np.uint8), lm, parse_light(name),
                                                         scene=False, tuning=self.stage.tuning.light)
            full = np.zeros((s, s), np.float32)
            full[y0:y1, x0:x1] = np.log(f)
            out = torch.from_numpy(full)
        self._shades[(key, light)] = out
        return out

    def _on_crop(self, lm: np.ndarray, frame: np.ndarray, maps: list[np.ndarray],
                 region: tuple[float, float], scale: float = 1.0) -> list[torch.Tensor]:
        """Canonical-frame maps ((C, S', S') each) laid onto the face at ``lm`` on the crop grid,
        times the region weight and ``scale``, zero beyond the region: (C, S, S) tensors."""
        s = self.size
        roi, sampled, w = canonical_maps((s, s), lm, frame, [np.moveaxis(m, 0, -1) for m in maps], region)
        x0, y0, x1, y1 = roi
        out = []
        for m, v in zip(maps, sampled):
            full = np.zeros((s, s, m.shape[0]), np.float32)
            full[y0:y1, x0:x1] = v.reshape(v.shape[:2] + (m.shape[0],)) * (w * scale)[..., None]
            out.append(torch.from_numpy(np.moveaxis(full, -1, 0).copy()))
        return out

    # -- applying ----------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, index: torch.Tensor, expr: torch.Tensor,
                light: torch.Tensor | None = None, grey: torch.Tensor | None = None) -> torch.Tensor:
        """The stage's edit of crops ``x`` ((B, C, S, S) in [-1, 1]) of rows ``index`` towards
        expression indices ``expr`` and lighting indices ``light`` (grey: rows whose colour crops
        are greyscale photos, painted in luma only)."""
        out = []
        for i in range(x.shape[0]):
            key = int(self.key_of_row[int(index[i])])
            m = self.maps(key, int(expr[i]))
            xi = x[i:i + 1]
            if m is not None:
                xi = F.grid_sample(xi, m["fwd"].to(xi)[None], mode="bilinear", padding_mode="border",
                                   align_corners=False)
                g = bool(grey[i]) if grey is not None else False
                if "smile" in m:
                    xi = _paint(xi, m["smile"].to(xi), torch.zeros_like(m["smile"]).to(xi), g)
                if "gain" in m:
                    xi = _paint(xi, m["gain"].to(xi), m["bias"].to(xi), g)
            if light is not None:
                r = self.shade(key, int(light[i]))
                if r is not None:
                    xi = ((xi + 1) * torch.exp(r.to(xi))[None, None] - 1).clamp(-1, 1)
            out.append(xi)
        return torch.cat(out)

    def moved_landmarks(self, index: torch.Tensor, expr: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
        """(B, 68, 2) landmarks of rows ``index`` after the stage's move towards ``expr``."""
        out = []
        for i in range(landmarks.shape[0]):
            m = self.maps(int(self.key_of_row[int(index[i])]), int(expr[i]))
            out.append(m["landmarks"].to(landmarks) if m is not None else landmarks[i])
        return torch.stack(out)

    def back(self, x: torch.Tensor, index: torch.Tensor, expr: torch.Tensor) -> torch.Tensor:
        """Crops showing the faces of rows ``index`` moved towards ``expr``, warped back to the
        faces' own landmarks."""
        out = []
        for i in range(x.shape[0]):
            m = self.maps(int(self.key_of_row[int(index[i])]), int(expr[i]))
            xi = x[i:i + 1]
            if m is not None:
                xi = F.grid_sample(xi, m["back"].to(xi)[None], mode="bilinear", padding_mode="border",
                                   align_corners=False)
            out.append(xi)
        return torch.cat(out)


def _paint(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor, grey: bool) -> torch.Tensor:
    """The stage's mouth map on a (1, C, S, S) crop in [-1, 1] (as
    :func:`faceedit.stage.appearance.paint_target`): a luma map darkens R, G, B by one ratio and
    brightens them by one amount; a Y, Cb, Cr map changes a colour crop in Y, Cb, Cr and a grey or
    1-channel crop in Y only."""
    u = signed_to_unit(x)
    c = u.shape[1]
    if gain.shape[0] == 3 and (c == 1 or grey):
        gain, bias = gain[:1], bias[:1]
    if gain.shape[0] == 1:  # as faceedit.stage.paint.luma_change
        y = u if c == 1 else luma_tensor(u)
        dy = gain[None] * y + bias[None]
        ratio = ((y + dy) / y.clamp_min(1e-3)).clamp(0, 1)
        u = torch.where(dy < 0, u * ratio, u + dy)
    else:
        to_ycc = torch.as_tensor(RGB_TO_YCC, dtype=u.dtype, device=u.device)
        to_rgb = torch.as_tensor(YCC_TO_RGB, dtype=u.dtype, device=u.device)
        ycc = torch.einsum("kc,bchw->bkhw", to_ycc, u)
        ycc = ycc + gain[None] * ycc + bias[None]
        u = torch.einsum("kc,bchw->bkhw", to_rgb, ycc)
    return unit_to_signed(u).clamp(-1, 1)


def load_stage(name: str = "stage") -> Stage:
    """The shipped stage (or a stage checkpoint by path) a trainer trains on."""
    from faceedit.models.loading import load_model

    model = load_model(name).model
    if not isinstance(model, Stage):
        raise ValueError(f"{name} is not a stage model")
    return model


def paired_inputs(stage: Stage, pairs: list[tuple[dict, dict]], channels: int = 3,
                  size: int | None = None) -> torch.Tensor:
    """What a network refines in paired training: each (source row, target row) pair's source
    crop edited by the stage with the real target photo's own geometry (warped to its
    landmarks, with the smile map for the smile it takes away or adds and the target
    expression's mouth map), as (N, channels, size, size) in [-1, 1]."""
    from PIL import Image

    out = []
    for src, dst in pairs:
        with Image.open(f"{src['dataset']}/{src['file']}") as im:
            img = np.asarray(im.convert("RGB"))
        lm_s = np.asarray(src["landmarks"], np.float64).reshape(68, 2)
        lm_d = np.asarray(dst["landmarks"], np.float64).reshape(68, 2)
        target = dst["labels"].get("expression")
        face = FaceEdit(StageRequest("keep", 1.0), lm_s, goal=lm_d)  # the real target's geometry
        img = warp(stage, face, img)
        assert face.warped is not None
        moved, scale = face.warped.landmarks, face.warped.scale
        cur = stage.state(lm_s)
        skin = smile_skin(smile_taken(stage, cur, stage.state(lm_d).expression), target) * scale
        img = paint_smile(stage, img, moved, skin)  # as the stage paints it, before the mouth map
        if target in stage.appearance:
            img = paint_target(stage, img, moved, target, scale)
        pil = Image.fromarray(img).convert("L" if channels == 1 else "RGB")
        if size and size != pil.width:
            pil = pil.resize((size, size), Image.Resampling.BOX)
        arr = np.asarray(pil, np.float32)
        t = levels_to_signed(arr)
        out.append(t[None] if channels == 1 else t.permute(2, 0, 1).contiguous())
    return torch.stack(out) if out else torch.zeros(0, channels, size or 0, size or 0)
