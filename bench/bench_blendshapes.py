"""Fit and check the mapping of ARKit blendshapes to the stage's controls (faceedit.stage.blendshapes).

    OMP_NUM_THREADS=1 python bench/bench_blendshapes.py sweep [--out runs/blendshapes_sweep.json]
    OMP_NUM_THREADS=1 python bench/bench_blendshapes.py check [--target keep|neutral]
    OMP_NUM_THREADS=1 python bench/bench_blendshapes.py drive

Faces: skimage's astronaut and London ``london/neutral/{001,002,003,004}.jpg`` (not held out),
each edited by the stage alone (:class:`faceedit.api.Editor`, MediaPipe's detector) and read by
:class:`faceedit.faces.blendshapes.BlendshapeReader` (the largest face).

``sweep``: every control of the stage but the head's, in each direction its range has, at 0.25,
0.5, 0.75 and 1 of it, on each face; all 52 coefficients of each edit (and of the unedited face)
are written to ``--out``. Then per shape: the direction that raises it most (its mean rise at
the full control over the London faces) and, for each shape of MAPPING, its mean reading over
the London faces at each level of its control, as a ``CURVES`` literal for the module (the
astronaut, who smiles, is left out of the fit: the tests check the mapping on her).

``check``: for each shape of MAPPING, set five values alone (``to_controls``) evenly over what the
stage reaches of it (its fitted reading with the control at 0 to at full: beyond that the control
is at its end and the reading stays), edit each face, read the shape back; Pearson r of set
against read per face (the astronaut, who was not fitted, apart) and over all the faces'
readings together (pooled), and the mean readings at the sweep's ends. The markdown table goes
to stdout.

``drive``: a whole reading drives an edit (:func:`drive`): what comes through of a driver's
main move, and what else its reading asks for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from faceedit.api import Editor
from faceedit.edits.controls import CONTROLS, HEAD_POSE, control_range
from faceedit.faces.blendshapes import BlendshapeReader
from faceedit.io.decode import read_image
from faceedit.stage.blendshapes import ARKIT, CURVES, LEVELS, MAPPING, to_controls

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT.parent / "shared" / "data" / "london" / "neutral"


def faces() -> dict[str, np.ndarray]:
    from skimage import data

    out = {"astronaut": data.astronaut()}
    for i in ("001", "002", "003", "004"):
        p = LONDON / f"{i}.jpg"
        if p.is_file():
            out[f"london{i}"] = read_image(str(p)).rgb8()
    return out


def directions() -> list[tuple[str, int]]:
    out = []
    for name in CONTROLS:
        if name in HEAD_POSE:
            continue
        lo, hi = control_range(name)
        out += [(name, 1)] + ([(name, -1)] if lo < 0 else [])
    return out


def read(editor: Editor, reader: BlendshapeReader, img: np.ndarray, controls: dict,
         target: str = "keep") -> dict[str, float] | None:
    if target != "keep":
        out = editor.edit(img, target, controls=controls or None)
    else:
        out = editor.edit(img, "keep", controls=controls) if any(controls.values()) else img
    found = editor.detector.detect(out)
    if not found:
        return None
    return reader.read(out, [max(found, key=lambda f: f.area)])[0]


def sweep(args) -> None:
    editor, reader = Editor.from_pretrained("stage", detector="mediapipe"), BlendshapeReader()
    result: dict = {"levels": LEVELS, "faces": {}}
    for fname, img in faces().items():
        rec = {"base": read(editor, reader, img, {}), "edits": {}}
        for control, d in directions():
            lo, hi = control_range(control)
            rec["edits"][f"{control}{'+' if d > 0 else '-'}"] = [
                read(editor, reader, img, {control: round(level * (hi if d > 0 else lo), 3)}) for level in LEVELS[1:]]
        result["faces"][fname] = rec
        print("swept", fname, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result))
    summarise(result)


def curve(result: dict, shape: str, key: str) -> list[float]:
    """The shape's mean reading over the fitting faces (London's, not the astronaut, who is
    left for checking) at each level of direction ``key``."""
    rows = []
    for rec in fitting(result):
        rows.append([rec["base"][shape]] + [r[shape] if r else np.nan for r in rec["edits"][key]])
    return [float(v) for v in np.nanmean(np.array(rows), 0)]


def fitting(result: dict) -> list[dict]:
    return [rec for name, rec in result["faces"].items() if name != "astronaut"]


def summarise(result: dict) -> None:
    keys = list(next(iter(result["faces"].values()))["edits"])
    print("\nshape: best direction (mean rise at the full control), second best")
    for shape in ARKIT:
        rises = sorted(((curve(result, shape, k)[-1] - curve(result, shape, k)[0], k) for k in keys), reverse=True)
        print(f"  {shape:20s} {rises[0][1]:12s} {rises[0][0]:+.3f}   {rises[1][1]:12s} {rises[1][0]:+.3f}")
    print("\nCURVES = {")
    for shape, (control, d) in MAPPING.items():
        c = curve(result, shape, f"{control}{'+' if d > 0 else '-'}")
        print(f'    "{shape}": ({", ".join(f"{v:.3f}" for v in c)}),')
    print("}")
    rows = []
    for rec in fitting(result):
        rows.append([(b["eyeBlinkLeft"] + b["eyeBlinkRight"]) / 2 if b else np.nan
                     for b in [rec["base"], *rec["edits"]["blink+"]]])
    print(f"BLINK_CURVE = ({', '.join(f'{v:.3f}' for v in np.nanmean(np.array(rows), 0))})")


def set_values(shape: str) -> list[float]:
    """The sweep of ``shape`` the check sets: five values evenly over what the stage reaches of
    it (its fitted reading with the control at 0 to at full, :data:`CURVES`)."""
    lo, hi = CURVES[shape][0], max(CURVES[shape])
    return [round(lo + (hi - lo) * k / 4, 4) for k in range(5)]


def check(args) -> None:
    editor, reader = Editor.from_pretrained("stage", detector="mediapipe"), BlendshapeReader()
    imgs = faces()
    print("| shape | control | swept (set) | r astronaut | r London (min .. max) | r pooled | read at the ends (mean) |")
    print("|---|---|---|---|---|---|---|")
    for shape, (control, d) in MAPPING.items():
        values = set_values(shape)
        per, pooled_set, pooled_read, ends = {}, [], [], []
        for fname, img in imgs.items():
            got = []
            for v in values:
                b = read(editor, reader, img, to_controls({shape: v}), args.target)
                got.append(np.nan if b is None else b[shape])
            g = np.array(got)
            ok = ~np.isnan(g)
            per[fname] = float(np.corrcoef(np.array(values)[ok], g[ok])[0, 1]) if ok.sum() > 2 else np.nan
            pooled_set += list(np.array(values)[ok])
            pooled_read += list(g[ok])
            ends.append((g[0], g[-1]))
        r = float(np.corrcoef(pooled_set, pooled_read)[0, 1])
        e = np.nanmean(np.array(ends), 0)
        london = [v for k, v in per.items() if k != "astronaut"]
        print(f"| {shape} | {control}{'+' if d > 0 else '-'} | {values[0]:.2f} .. {values[-1]:.2f} | "
              f"{per.get('astronaut', np.nan):.2f} | {np.nanmin(london):.2f} .. {np.nanmax(london):.2f} | "
              f"{r:.2f} | {e[0]:.2f} .. {e[1]:.2f} |", flush=True)


DRIVERS = {"smile": "mouthSmileLeft", "brows": "browInnerUp", "blink": "eyeBlinkLeft", "wink_left": "eyeBlinkLeft",
           "woo": "mouthPucker", "aaa": "jawOpen", "gaze_x": "eyeLookOutLeft", "grin": "mouthUpperUpLeft"}


def drive(args) -> None:
    """A whole reading as a driver: the astronaut made neutral with one control at 1, read
    (all 51 shapes, as ``au --blendshapes`` writes them), translated as ``apply --blendshapes
    FILE`` does (``controls_spec``: inexpressible shapes left out, readings at or below NOISE as
    0), applied to each London face on the neutral target; the driver's main shape read on the
    driver, on the faces before and after (means)."""
    from faceedit.stage.blendshapes import INEXPRESSIBLE, NOISE

    editor, reader = Editor.from_pretrained("stage", detector="mediapipe"), BlendshapeReader()
    imgs = {k: v for k, v in faces().items() if k != "astronaut"}
    astronaut = faces()["astronaut"]
    print("| driver | its shape | on the driver | controls from its whole reading | faces before | faces after (mean) |")
    print("|---|---|---|---|---|---|")
    for control, shape in DRIVERS.items():
        b = read(editor, reader, astronaut, {control: 1.0}, "neutral")
        given = {k: (v if v > NOISE else 0.0) for k, v in b.items() if k not in INEXPRESSIBLE}
        controls = to_controls(given)
        before = np.mean([read(editor, reader, img, {})[shape] for img in imgs.values()])
        after = np.mean([read(editor, reader, img, controls, "neutral")[shape] for img in imgs.values()])
        text = ", ".join(f"{k}={v:g}" for k, v in controls.items())
        print(f"| {control}=1 | {shape} | {b[shape]:.2f} | {text} | {before:.2f} | {after:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sweep")
    s.add_argument("--out", default=str(ROOT / "runs" / "blendshapes_sweep.json"))
    c = sub.add_parser("check")
    c.add_argument("--target", default="keep", help="The edit's target under the controls (neutral: the "
                   "shapes set on a neutral face, ARKit's meaning of a coefficient; keep: on the face's own).")
    s2 = sub.add_parser("summary")
    s2.add_argument("--sweep", default=str(ROOT / "runs" / "blendshapes_sweep.json"))
    sub.add_parser("drive")
    args = ap.parse_args()
    if args.cmd == "drive":
        drive(args)
    elif args.cmd == "sweep":
        sweep(args)
    elif args.cmd == "summary":
        summarise(json.loads(Path(args.sweep).read_text()))
    else:
        assert CURVES, "CURVES is empty: run the sweep and fill it in"
        check(args)


if __name__ == "__main__":
    main()
