"""The head pose controls (``head_yaw``, ``head_pitch``, ``head_roll``): the head turned by up
to :data:`MAX_DEGREES` at +-1, as a warp on the Face Mesh's depth.

Each pixel of the head gets a depth: inside the face, the Face Mesh's own (MediaPipe's z, the
image's pixel scale, smaller towards the camera), spread by normalised Gaussian splatting from
its 468 points; beyond it (hair, ears, neck) the same spread far, so each takes the depth of the
outline nearest it, with no step at the outline. Every point is turned in 3-D about an axis
through the face's centre, at a depth between the face's mean and its outline's
(``pivot_share`` of :class:`~faceedit.stage.tuning_face.PoseTuning`), by yaw (about the
vertical), then pitch (about the horizontal), then roll (in the image plane), and projected
straight back (orthographic): a nose in front of the axis moves further than the cheeks and the
outline, so the face turns rather than slides. The displacement fades out (``head_reach``,
``falloff``) from an ellipse around the head: hair and neck follow smoothly, the background beyond stays bit for bit.
The photo is sampled backwards (the forward field inverted by fixed-point steps on a coarse
grid), so what the turn uncovers (the near cheek, the side of the nose) is the photo's own
pixels stretched into it.

Signs: ``head_yaw`` +1 turns the face towards the image's right, ``head_pitch`` +1 up (the chin
out), ``head_roll`` +1 clockwise in the image. At 0 nothing moves.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.stage.tuning_face import PoseTuning

#: The turn at +-1, degrees.
MAX_DEGREES = 15.0
#: Grid step of the field, in face widths (the field is smooth: a coarse grid carries it).
GRID = 1 / 48
#: Fixed-point steps inverting the forward field.
INVERSE_STEPS = 6
#: The Face Mesh's outline points at the cheeks' edges (the face's width) and at forehead and chin.
CHEEK_EDGES = (234, 454)
FACE_TOP_BOTTOM = (10, 152)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) the turn for controls ``yaw``, ``pitch``, ``roll`` (-1..1) on (x right, y down, h
    towards the camera) coordinates."""
    a, b, c = np.deg2rad(MAX_DEGREES * np.array([yaw, pitch, roll], np.float64))
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ rx @ ry


class HeadTurn:
    """The turn of one face: its forward displacement field over the head's box on a coarse grid.

    ``mesh``: (468, 3) Face Mesh points (x, y image px, z MediaPipe's depth) where the photo is
    as it is now; ``shape``: the photo's (H, W); ``tuning``: the head region and the pivot
    (:class:`~faceedit.stage.tuning_face.PoseTuning`, default its defaults)."""

    def __init__(self, mesh: np.ndarray, shape: tuple[int, int], yaw: float, pitch: float, roll: float,
                 tuning: PoseTuning | None = None):
        self.tuning = tn = tuning if tuning is not None else PoseTuning()
        mesh = np.asarray(mesh, np.float64)
        xy, z = mesh[:, :2], mesh[:, 2]
        self.width = float(np.linalg.norm(xy[CHEEK_EDGES[1]] - xy[CHEEK_EDGES[0]]))
        self.height = float(np.linalg.norm(xy[FACE_TOP_BOTTOM[1]] - xy[FACE_TOP_BOTTOM[0]]))
        lo, hi = xy.min(0), xy.max(0)
        self.centre = (lo + hi) / 2
        self.axes = (hi - lo) / 2
        edge_depth = float(z[list(CHEEK_EDGES)].mean())
        self.pivot = float(z.mean()) + tn.pivot_share * (edge_depth - float(z.mean()))
        self.edge_depth = edge_depth
        self.r = rotation(yaw, pitch, roll)
        # the head's box: the fade's outer ellipse
        mid = self.centre - [0.0, tn.hair_raise * self.height]
        reach = tn.falloff * tn.head_reach * self.axes
        h, w = shape
        self.box = (int(max(np.floor(mid[0] - reach[0]), 0)), int(max(np.floor(mid[1] - reach[1]), 0)),
                    int(min(np.ceil(mid[0] + reach[0]) + 1, w)), int(min(np.ceil(mid[1] + reach[1]) + 1, h)))
        self.mid = mid
        self.step = max(1.0, GRID * self.width)
        x0, y0, x1, y1 = self.box
        gx = np.arange(x0, x1 + self.step, self.step)
        gy = np.arange(y0, y1 + self.step, self.step)
        self.gx, self.gy = gx, gy
        px, py = np.meshgrid(gx, gy)
        depth = self._depth(xy, z, px, py)
        self.forward = self._displacement(px, py, depth)  # (gh, gw, 2)

    def _depth(self, xy: np.ndarray, z: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Depth on the grid: the mesh's own inside the face (normalised Gaussian splatting), and
        beyond it the same spread far (``depth_reach``): hair and neck take the depth of
        the face's outline nearest them, with no step at the outline."""
        gh, gw = px.shape
        count = np.zeros((gh, gw), np.float64)
        total = np.zeros((gh, gw), np.float64)
        ix = np.clip(np.round((xy[:, 0] - self.gx[0]) / self.step).astype(int), 0, gw - 1)
        iy = np.clip(np.round((xy[:, 1] - self.gy[0]) / self.step).astype(int), 0, gh - 1)
        np.add.at(total, (iy, ix), z)
        np.add.at(count, (iy, ix), 1.0)

        def spread(sigma: float) -> tuple[np.ndarray, np.ndarray]:
            s = sigma * self.width / self.step
            return cv2.GaussianBlur(total, (0, 0), s), cv2.GaussianBlur(count, (0, 0), s)

        num, den = spread(self.tuning.depth_near)
        fnum, fden = spread(self.tuning.depth_reach)
        far = np.where(fden > 1e-12, fnum / np.maximum(fden, 1e-300), self.edge_depth)
        own = np.where(den > 1e-3 * den.max(), num / np.maximum(den, 1e-300), far)
        inside = np.zeros((gh, gw), np.uint8)
        hull = np.stack([(xy[:, 0] - self.gx[0]) / self.step, (xy[:, 1] - self.gy[0]) / self.step], 1)
        cv2.fillConvexPoly(inside, np.round(cv2.convexHull(hull.astype(np.float32))).astype(np.int32), 1)
        cover = cv2.GaussianBlur(inside.astype(np.float64), (0, 0), self.tuning.depth_blend * self.width / self.step)
        return cover * own + (1 - cover) * far

    def _displacement(self, px: np.ndarray, py: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Forward displacement (image px) at grid points, faded out beyond the head."""
        p = np.stack([px - self.centre[0], py - self.centre[1], self.pivot - depth], -1)
        q = p @ self.r.T
        d = q[..., :2] - p[..., :2]
        e = np.hypot((px - self.mid[0]) / (self.tuning.head_reach * self.axes[0]),
                     (py - self.mid[1]) / (self.tuning.head_reach * self.axes[1]))
        t = np.clip((e - 1.0) / (self.tuning.falloff - 1.0), 0.0, 1.0)
        fade = 1.0 - t * t * (3 - 2 * t)
        return d * fade[..., None]

    def move_points(self, pts: np.ndarray) -> np.ndarray:
        """Photo points ``pts`` ((N, 2)) where the turn takes them (the forward field)."""
        pts = np.asarray(pts, np.float64)
        g = ((pts - [self.gx[0], self.gy[0]]) / self.step).astype(np.float32)
        d = cv2.remap(self.forward.astype(np.float32), g[:, 0].reshape(-1, 1), g[:, 1].reshape(-1, 1),
                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0).reshape(-1, 2)
        return pts + d

    def backward(self) -> np.ndarray:
        """(gh, gw, 2) backward displacement on the grid: output point q shows the photo at
        q + backward(q) (the forward field inverted by fixed-point steps)."""
        f = self.forward.astype(np.float32)
        gh, gw = f.shape[:2]
        gxg, gyg = np.meshgrid(np.arange(gw, dtype=np.float32), np.arange(gh, dtype=np.float32))
        b = -f.copy()
        for _ in range(INVERSE_STEPS):
            sx, sy = gxg + b[..., 0] / self.step, gyg + b[..., 1] / self.step
            b = -cv2.remap(f, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return b

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        """The photo with the head turned (a copy; pixels beyond the head's box, and those the
        faded field leaves still, keep their values bit for bit)."""
        x0, y0, x1, y1 = self.box
        if x1 - x0 < 2 or y1 - y0 < 2:
            return pixels
        b = self.backward()
        w, h = x1 - x0, y1 - y0
        # full-resolution backward map of the box from the grid (grid point i sits at box px i*step)
        gx = ((np.arange(w) + x0 - self.gx[0]) / self.step).astype(np.float32)
        gy = ((np.arange(h) + y0 - self.gy[0]) / self.step).astype(np.float32)
        mx, my = np.meshgrid(gx, gy)
        full = cv2.remap(b, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        still = np.abs(full).max(-1) < 1e-3
        xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        src = pixels if pixels.dtype == np.uint8 else pixels.astype(np.float32)
        warped = cv2.remap(src, xs + full[..., 0], ys + full[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        if warped.dtype != pixels.dtype:
            warped = np.clip(np.rint(warped), 0, np.iinfo(pixels.dtype).max).astype(pixels.dtype)
        out = pixels.copy()
        region = out[y0:y1, x0:x1]
        region[~still] = warped[~still]
        return out


def turn_head(pixels: np.ndarray, mesh: np.ndarray, yaw: float, pitch: float, roll: float,
              tuning: PoseTuning | None = None) -> tuple[np.ndarray, HeadTurn | None]:
    """``pixels`` with the head of the face whose Face Mesh is ``mesh`` ((468, 3)) turned by the
    controls (-1..1 each, see the module notes), and the turn (None, and ``pixels`` itself, when
    all three are 0); ``tuning``: :class:`~faceedit.stage.tuning_face.PoseTuning`."""
    if yaw == 0 and pitch == 0 and roll == 0:
        return pixels, None
    turn = HeadTurn(mesh, pixels.shape[:2], yaw, pitch, roll, tuning)
    return turn.apply(pixels), turn
