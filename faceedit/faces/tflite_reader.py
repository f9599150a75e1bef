"""A minimal reader for TFLite model files (FlatBuffers), enough to convert MediaPipe's face models.

Reads the first subgraph: tensors (name, shape, dtype, constant data) and operators (builtin
name, inputs, outputs and the few options the conversion needs). No dependency beyond numpy;
used at conversion time only (``python -m faceedit.faces.convert_mediapipe``).

FlatBuffers in brief: a table starts with an int32 offset back to its vtable, whose uint16
entries give each field's offset inside the table (0 = absent, default value). References
(tables, vectors, strings) are uint32 offsets relative to where they are stored; a vector is a
uint32 length followed by its elements. Field numbers below follow TensorFlow Lite's schema.fbs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

# TensorType -> numpy dtype (schema.fbs order; only the types these models use matter)
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}

# BuiltinOperator codes of the operators found in MediaPipe's face models.
OPS = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 22: "RESHAPE",
    23: "RESIZE_BILINEAR", 34: "PAD", 54: "PRELU",
}


class _Table:
    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt, self.vt_len = vt, struct.unpack_from("<H", buf, vt)[0]

    def _field(self, i: int) -> int:
        o = 4 + 2 * i
        if o >= self.vt_len:
            return 0
        off = struct.unpack_from("<H", self.buf, self.vt + o)[0]
        return self.pos + off if off else 0

    def scalar(self, i: int, fmt: str, default=0):
        p = self._field(i)
        return struct.unpack_from("<" + fmt, self.buf, p)[0] if p else default

    def _ref(self, i: int) -> int:
        p = self._field(i)
        return p + struct.unpack_from("<I", self.buf, p)[0] if p else 0

    def table(self, i: int) -> _Table | None:
        p = self._ref(i)
        return _Table(self.buf, p) if p else None

    def string(self, i: int) -> str:
        p = self._ref(i)
        if not p:
            return ""
        n = struct.unpack_from("<I", self.buf, p)[0]
        return self.buf[p + 4:p + 4 + n].decode("utf-8", "replace")

    def vector(self, i: int, dtype) -> np.ndarray:
        p = self._ref(i)
        if not p:
            return np.zeros(0, dtype)
        n = struct.unpack_from("<I", self.buf, p)[0]
        return np.frombuffer(self.buf, dtype=dtype, count=n, offset=p + 4)

    def tables(self, i: int) -> list[_Table]:
        p = self._ref(i)
        if not p:
            return []
        n = struct.unpack_from("<I", self.buf, p)[0]
        out = []
        for k in range(n):
            q = p + 4 + 4 * k
            out.append(_Table(self.buf, q + struct.unpack_from("<I", self.buf, q)[0]))
        return out


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type
    data: np.ndarray | None  # constant contents (weights), None for activations


@dataclass
class Operator:
    index: int
    op: str  # builtin name, e.g. "CONV_2D" (or "OP_<code>" for ones not in OPS)
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class TFLiteModel:
    description: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]


def _options(op: str, t: _Table | None) -> dict:
    if t is None:
        return {}
    if op == "CONV_2D":  # Conv2DOptions: padding, stride_w, stride_h, fused_activation_function
        return {"padding": "SAME" if t.scalar(0, "b") == 0 else "VALID",
                "stride": (t.scalar(2, "i"), t.scalar(1, "i")), "activation": t.scalar(3, "b")}
    if op == "DEPTHWISE_CONV_2D":  # ... depth_multiplier, fused_activation_function
        return {"padding": "SAME" if t.scalar(0, "b") == 0 else "VALID",
                "stride": (t.scalar(2, "i"), t.scalar(1, "i")), "depth_multiplier": t.scalar(3, "i"),
                "activation": t.scalar(4, "b")}
    if op in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):  # padding, stride_w, stride_h, filter_w, filter_h
        return {"padding": "SAME" if t.scalar(0, "b") == 0 else "VALID",
                "stride": (t.scalar(2, "i"), t.scalar(1, "i")),
                "filter": (t.scalar(4, "i"), t.scalar(3, "i"))}
    if op == "RESIZE_BILINEAR":  # new_height, new_width (deprecated), align_corners, half_pixel
        return {"align_corners": bool(t.scalar(2, "b")), "half_pixel_centers": bool(t.scalar(3, "b"))}
    return {}


def read_tflite(path_or_bytes) -> TFLiteModel:
    """Parse a .tflite file (path or bytes): subgraph 0's tensors and operators."""
    buf = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else open(path_or_bytes, "rb").read()
    buf = bytes(buf)
    model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
    if buf[4:8] != b"TFL3":
        raise ValueError("not a TFLite flatbuffer (file identifier TFL3 missing)")
    buffers = [b.vector(0, np.uint8) if b is not None else None for b in model.tables(4)]
    codes = []
    for oc in model.tables(1):  # OperatorCode: deprecated_builtin_code (byte), ..., builtin_code
        codes.append(max(oc.scalar(0, "b"), oc.scalar(3, "i")))
    sg = model.tables(2)[0]
    tensors = []
    for i, t in enumerate(sg.tables(0)):
        shape = tuple(int(v) for v in t.vector(0, np.int32))
        dtype = _DTYPES.get(t.scalar(1, "b"), np.uint8)
        raw = buffers[t.scalar(2, "I")] if t.scalar(2, "I") < len(buffers) else None
        data = None
        if raw is not None and raw.size:
            data = np.frombuffer(raw.tobytes(), dtype=dtype).reshape(shape)
        tensors.append(Tensor(i, t.string(3), shape, dtype, data))
    operators = []
    for i, o in enumerate(sg.tables(3)):
        code = codes[o.scalar(0, "I")]
        name = OPS.get(code, f"OP_{code}")
        operators.append(Operator(i, name, [int(v) for v in o.vector(1, np.int32)],
                                  [int(v) for v in o.vector(2, np.int32)], _options(name, o.table(4))))
    return TFLiteModel(model.string(3), tensors, operators,
                       [int(v) for v in sg.vector(1, np.int32)], [int(v) for v in sg.vector(2, np.int32)])
