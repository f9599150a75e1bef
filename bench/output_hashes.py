"""Hash every output of `faceedit apply` over a grid of models, targets and options: the check that a
change of structure changes no byte a user sees.

    python bench/output_hashes.py -o before.json                  # on the commit compared with
    python bench/output_hashes.py -o after.json --compare before.json

The photos: scikit-image's astronaut (PNG) and two full-resolution London faces (one neutral, one
smiling, JPEG; from ../shared/data/london_hd, left out with a note when absent). Each model runs
every target it lists at strength 1, then a second run with strengths 0.5 and its maximum on two
targets, then one run each for the conditions (--lighting, --light with --light-strength, --au,
--control, --attr, --like, --face largest, and the model's --phase / --set where it has them).
Every run is a `python -m faceedit apply ... --json` in a subprocess; the file written is hashed
under its name (the run's temporary folder, which an output's metadata names where it records the
--like photo, written as ``{work}``, a PNG's chunks hashed without their CRCs), and the JSON records are hashed with their timings left out. ``--models`` narrows
the grid (``--models stage,reggan`` for a quick check). ``--exact``: every run inside
:func:`faceedit.stage.precision.exact_render` (the stage's exact render, which a change to the
fast one must leave byte for byte as it was).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"
MODELS = ("stage", "reggan", "eggan", "legan", "lssl", "secgan")
TARGETS = {
    "stage": "neutral,happy,sad,surprised,angry,disgusted,fearful,sleepy,wink",
    "default": "neutral,happy,sad,surprised,angry,disgusted,fearful,sleepy,wink",
}
#: Conditions every model takes (the stage's), one run each.
CONDITIONS = (
    ("lighting", ["--lighting", "left"]),
    ("lighting_keep_happy", ["-t", "happy", "--lighting", "right"]),
    ("light", ["--light", "35,15", "--light-strength", "0.8"]),
    ("au", ["--au", "12=3,6=2"]),
    ("au_on_target", ["-t", "sad", "--au", "4=2"]),
    ("control", ["-t", "happy", "--control", "smile=0.5,brows=-0.3,eyes=0.4,mouth=0.2"]),
    ("attr", ["--attr", "glasses=on"]),
    ("face_largest", ["-t", "surprised", "--face", "largest"]),
    ("like", ["--like", "{like}"]),
)
#: A model's own options, one run each.
OWN = {
    "reggan": [("phase_expression", ["-t", "happy", "--phase", "expression"])],
    "eggan": [("custom", ["-t", "custom", "--au", "12=4"])],
    "secgan": [("set_refine", ["-t", "surprised", "--set", "refine=on"])],
}
TIMING_KEYS = {"seconds", "elapsed", "time", "timings", "duration"}


def make_photos(folder: Path) -> list[str]:
    """The photos the grid edits, written into ``folder``; a note on stderr for what is absent."""
    from PIL import Image
    from skimage.data import astronaut

    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(astronaut()).save(folder / "astronaut.png")
    names = ["astronaut.png"]
    for kind, stem in (("neutral", "019"), ("smiling", "142")):
        src = SHARED / kind / f"{stem}.jpg"
        if src.exists():
            (folder / f"london_{kind}_{stem}.jpg").write_bytes(src.read_bytes())
            names.append(f"london_{kind}_{stem}.jpg")
        else:
            print(f"note: {src} absent, left out", file=sys.stderr)
    return names


def runs(model: str) -> list[tuple[str, list[str]]]:
    targets = TARGETS.get(model, TARGETS["default"])
    out = [("targets", ["-t", targets]),
           ("strengths", ["-t", "happy,surprised", "-s", "0.5", "-s", "1.5"])]
    out += list(CONDITIONS) + OWN.get(model, [])
    return out


def strip_timings(record: dict) -> dict:
    return {k: (strip_timings(v) if isinstance(v, dict) else v) for k, v in record.items()
            if k not in TIMING_KEYS and not k.endswith("_s") and k not in ("output", "input")}


PNG = b"\x89PNG\r\n\x1a\n"


def without_folder(data: bytes, folder: bytes) -> bytes:
    """A file's bytes with ``folder`` written as ``{work}``; a PNG's chunks without their CRCs
    (a chunk of text naming the folder has another CRC on every run)."""
    if not data.startswith(PNG):
        return data.replace(folder, b"{work}")
    out, i = [PNG], len(PNG)
    while i + 8 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        out.append(data[i + 4:i + 8] + data[i + 8:i + 8 + n].replace(folder, b"{work}"))
        i += 12 + n
    return b"".join(out)


#: ``python -c`` program running the CLI inside the stage's exact render (``--exact``).
EXACT_MAIN = ("from faceedit.stage.precision import exact_render\nfrom faceedit.cli import main\n"
              "with exact_render():\n    main()\n")


def run_grid(models: list[str], work: Path, exact: bool = False) -> dict[str, str]:
    photos = work / "photos"
    make_photos(photos)
    like = work / "like.png"
    like.write_bytes((photos / "astronaut.png").read_bytes())
    hashes: dict[str, str] = {}
    # One thread: a float sum's order depends on the thread count (EGGAN's outputs differ by a level
    # between one and two threads), so runs compare on any machine.
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for model in models:
        for label, args in runs(model):
            out = work / "out" / model / label
            args = [str(like) if a == "{like}" else a for a in args]
            entry = ["-c", EXACT_MAIN] if exact else ["-m", "faceedit"]
            cmd = [sys.executable, *entry, "-q", "apply", str(photos), "-m", model,
                   "-o", str(out), "--json", *args]
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            key = f"{model}/{label}"
            hashes[f"{key}/exit"] = str(res.returncode)
            recs = []
            for line in res.stdout.replace(str(work), "{work}").splitlines():
                try:
                    recs.append(strip_timings(json.loads(line)))
                except json.JSONDecodeError:
                    recs.append({"line": line})
            recs.sort(key=lambda r: json.dumps(r, sort_keys=True))
            hashes[f"{key}/records"] = hashlib.sha256(json.dumps(recs, sort_keys=True).encode()).hexdigest()
            if res.returncode not in (0, 1):
                print(f"{key}: exit {res.returncode}: {res.stderr.strip()[-400:]}", file=sys.stderr)
            for f in sorted(out.rglob("*")) if out.exists() else []:
                if f.is_file():  # an output's metadata names the --like photo by its path, in this run's folder
                    data = without_folder(f.read_bytes(), str(work).encode())
                    hashes[f"{key}/{f.relative_to(out)}"] = hashlib.sha256(data).hexdigest()
            print(f"{key}: exit {res.returncode}, {sum(1 for k in hashes if k.startswith(key + '/')) - 2} files",
                  file=sys.stderr)
    return hashes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, required=True, help="JSON file of {output: sha256}")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated (default: all)")
    ap.add_argument("--compare", type=Path, help="a JSON file from an earlier run: print what differs")
    ap.add_argument("--exact", action="store_true", help="run the stage's exact render (faceedit.stage.precision)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hashes = run_grid([m for m in args.models.split(",") if m], Path(tmp), args.exact)
    args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True))
    print(f"{len(hashes)} entries -> {args.out}")
    if args.compare:
        models = tuple(f"{m}/" for m in args.models.split(",") if m)
        before = {k: v for k, v in json.loads(args.compare.read_text()).items() if k.startswith(models)}
        keys = sorted(set(before) | set(hashes))
        shared = [k for k in keys if k in before and k in hashes]
        differ = [k for k in shared if before[k] != hashes[k]]
        only = [k for k in keys if (k in before) != (k in hashes)]
        print(f"compared {len(shared)}: {len(differ)} differ, {len(only)} in one run only")
        for k in differ + only:
            print(f"  {k}: {before.get(k, '-')[:12]} -> {hashes.get(k, '-')[:12]}")
        if differ or only:
            sys.exit(1)


if __name__ == "__main__":
    main()
