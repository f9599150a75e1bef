"""Expression / lighting classifiers: API, checkpoint round trip, metrics, the input
normalisation and the trainer's defences against a data-set shortcut, the trainer on toy data
sets, and (with the prepared data) the shipped expression classifier on held-out faces."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit.analysis.classify import Classifier, build_classifier, classification_metrics, load_classifier
from faceedit.analysis.nets import NormalisedResNet, SmallResNet, face_window, normalise_input
from faceedit.analysis.store import analysis_available, save_analysis
from faceedit.errors import CheckpointError
from faceedit.pixels import levels_to_signed
from faceedit.train.analysis.classifier import reverse_gradient, with_flips
from faceedit.train.analysis.common import photo_look, swap_frames
from faceedit.train.analysis.kinds import analysis_trainer
from faceedit.train.loop import LoopConfig, train_and_export

ROOT = Path(__file__).resolve().parents[1]
CFG = {"out_dim": 3, "size": 32, "channels": 1, "widths": [4, 8], "dropout": 0.0}
LABELS = ["neutral", "happy", "sad"]


def _tiny(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    return Classifier(build_classifier(CFG).eval(), LABELS, "expression")


def test_shapes_probs_predict_and_gradient_to_input():
    clf = _tiny()
    for shape in [(2, 3, 128, 128), (3, 1, 64, 64)]:
        x = torch.rand(shape) * 2 - 1
        assert clf.logits(x).shape == (shape[0], 3)
        assert torch.allclose(clf.probs(x).sum(1), torch.ones(shape[0]))
        assert all(p in LABELS for p in clf.predict(x))
    x = (torch.rand(2, 3, 128, 128) * 2 - 1).requires_grad_()
    torch.nn.functional.cross_entropy(clf.logits(x), clf.targets(["happy", "sad"])).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert clf.index("sad") == 2
    with pytest.raises(ValueError, match="known: neutral, happy, sad"):
        clf.index("wink")


def test_colour_input_equals_its_luma():
    clf = _tiny()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    from faceedit.pixels import luma_tensor

    luma = luma_tensor(x)
    assert torch.allclose(clf.logits(x), clf.logits(luma), atol=1e-5)


def test_checkpoint_round_trip_labels_and_determinism(tmp_path):
    clf = _tiny()
    path = tmp_path / "expr.safetensors"
    save_analysis(path, clf.net, kind="expression", config=CFG, labels=LABELS, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={"accuracy": 0.5})
    loaded = load_classifier(path)
    assert loaded.labels == LABELS and loaded.kind == "expression"
    x = torch.rand(4, 1, 128, 128) * 2 - 1
    assert torch.allclose(loaded.logits(x), clf.logits(x), atol=2e-2)  # fp16 storage
    assert torch.equal(loaded.logits(x), loaded.logits(x))
    assert not any(p.requires_grad for p in loaded.net.parameters())
    xg = x.clone().requires_grad_()
    loaded.logits(xg).sum().backward()  # frozen weights, but gradients still reach the input
    assert xg.grad.abs().sum() > 0


def _face(size: int = 64) -> torch.Tensor:
    """A grey crop with a face's dark features (brows, eyes, mouth) on a lit oval and noise."""
    g = torch.Generator().manual_seed(1)
    u = (torch.arange(size) + 0.5) / size
    y, x = u[:, None], u[None, :]
    img = torch.where(((x - 0.5) / 0.35) ** 2 + ((y - 0.55) / 0.45) ** 2 < 1, 0.4, -0.3)
    for cx in (0.35, 0.65):
        img = img - 0.8 * ((((x - cx) / 0.06) ** 2 + ((y - 0.42) / 0.025) ** 2) < 1)
        img = img - 0.5 * ((((x - cx) / 0.08) ** 2 + ((y - 0.33) / 0.015) ** 2) < 1)
    img = img - 0.7 * ((((x - 0.5) / 0.12) ** 2 + ((y - 0.75) / 0.03) ** 2) < 1)
    return (img + 0.05 * torch.randn(size, size, generator=g)).clamp(-1, 1)[None, None]


def test_lcn_ignores_brightness_contrast_and_smooth_shading():
    x = _face()
    ref = normalise_input(x)
    assert torch.allclose(normalise_input(0.5 * x - 0.2), ref, atol=1e-4)  # duller, darker: same input
    ramp = 0.3 * (torch.arange(64) / 63.0 - 0.5)[None, None, None, :]  # light from one side
    w = face_window(64) > 0
    shaded = normalise_input(x + ramp)
    assert (shaded - ref)[..., w].abs().mean() < 0.03 * ref[..., w].abs().mean()
    # ... while the features stay: eyes and mouth darker than the skin around them
    assert ref[0, 0, 27, 22] < -0.5 and ref[0, 0, 48, 32] < -0.5


def test_lcn_sees_only_the_face_window_and_passes_gradients():
    x = _face()
    w = face_window(64)
    assert w[36, 32] == 1 and w[0, 0] == 0 and w[0, 32] == 0 and w[36, 0] == 0 and 0 < w[36, 9] < 1
    other = x.clone()
    other[..., w == 0] = torch.rand(int((w == 0).sum())) * 2 - 1  # another background, hair, clothes
    ref, new = normalise_input(x), normalise_input(other)
    assert new[..., w == 0].abs().max() == 0 and ref[..., w == 0].abs().max() == 0
    inner = w == 1
    # inside, only the neighbourhoods that reach past the window's edge see the change (0.18)
    assert (new - ref)[..., inner].abs().mean() < 0.3 * ref[..., inner].abs().mean()
    xg = x.clone().requires_grad_()
    normalise_input(xg).pow(2).sum().backward()
    assert xg.grad.abs().sum() > 0
    assert torch.equal(normalise_input(x, "none"), x)
    with pytest.raises(ValueError, match="unknown input normalisation 'clahe'"):
        normalise_input(x, "clahe")


def test_normalised_classifier_round_trip_keeps_its_normalisation(tmp_path):
    cfg = {**CFG, "input_norm": "lcn"}
    torch.manual_seed(0)
    net = build_classifier(cfg).eval()
    assert isinstance(net, NormalisedResNet) and type(build_classifier(CFG)) is SmallResNet
    assert net.state_dict().keys() == build_classifier(CFG).state_dict().keys()  # same parameters
    path = tmp_path / "expr.safetensors"
    save_analysis(path, net, kind="expression", config=cfg, labels=LABELS, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={})
    loaded = load_classifier(path)
    assert isinstance(loaded.net, NormalisedResNet) and loaded.net.input_norm == "lcn"
    x = _face(128).expand(2, 3, -1, -1)
    assert torch.allclose(loaded.logits(x), net(x), atol=2e-2)
    assert torch.allclose(loaded.logits(x), loaded.logits(0.6 * x + 0.1), atol=1e-3)  # exposure-blind


def test_photo_look_keeps_shape_range_and_is_seeded():
    x = _face().expand(6, 1, -1, -1).contiguous()
    assert torch.equal(photo_look(x, torch.Generator().manual_seed(0), p=0.0), x)
    a = photo_look(x, torch.Generator().manual_seed(3), p=1.0)
    b = photo_look(x, torch.Generator().manual_seed(3), p=1.0)
    assert torch.equal(a, b) and a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    assert all(not torch.allclose(a[i], x[i]) for i in range(6))
    # the face's layout is kept: each output still correlates with its input
    corr = [float(torch.corrcoef(torch.stack([a[i].flatten(), x[i].flatten()]))[0, 1]) for i in range(6)]
    assert min(corr) > 0.8


def test_swap_frames_keeps_each_face_and_takes_another_crops_surroundings():
    faces = torch.cat([_face(), -_face(), _face().flip(-1) * 0.5, _face() * 0.2 + 0.3])
    assert torch.equal(swap_frames(faces, torch.Generator().manual_seed(0), p=0.0), faces)
    a = swap_frames(faces, torch.Generator().manual_seed(1), p=1.0)
    assert torch.equal(a, swap_frames(faces, torch.Generator().manual_seed(1), p=1.0))
    centre = torch.zeros(64, 64, dtype=torch.bool)
    centre[27:46, 24:40] = True  # eyes to mouth: inside even the smallest kept ellipse
    changed = [not torch.equal(a[i], faces[i]) for i in range(4)]
    assert sum(changed) >= 3  # (a crop drawn to frame itself stays as it is)
    for i in range(4):
        assert torch.equal(a[i][..., centre], faces[i][..., centre])
        if changed[i]:
            assert not torch.allclose(a[i][..., :4, :4], faces[i][..., :4, :4])


def test_reverse_gradient():
    x = torch.ones(3, requires_grad=True)
    (reverse_gradient(x, 0.5) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert torch.equal(x.grad, torch.tensor([-0.5, -1.0, -1.5]))


def test_identity_checkpoint_is_not_a_classifier(tmp_path):
    from faceedit.analysis.identity import build_identity

    path = tmp_path / "id.safetensors"
    save_analysis(path, build_identity({"dim": 8, "size": 32, "widths": [4, 8]}), kind="identity",
                  config={"dim": 8, "size": 32, "widths": [4, 8]}, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={}, extra={"threshold": 0.5})
    with pytest.raises(CheckpointError, match="not a classifier"):
        load_classifier(path)


def test_classification_metrics():
    m = classification_metrics([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 2, 0], ["a", "b", "c", "d"])
    assert m["n"] == 6 and m["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert m["per_class_accuracy"] == {"a": pytest.approx(2 / 3, abs=1e-4), "b": 1.0, "c": 0.5}
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 0.5) / 3, abs=1e-4)
    assert m["counts"] == {"a": 3, "b": 1, "c": 2}
    assert m["confusion"] == {"a": {"a": 2, "b": 1}, "b": {"b": 1}, "c": {"a": 1, "c": 1}}
    assert m["majority_baseline"] == 0.5


def test_lighting_flips_swap_left_and_right():
    x = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    x[:, :, :, :2] = 200  # image-left side lit
    labels = ["front", "left", "right"]
    xf, yf = with_flips(x, torch.tensor([1, 1, 0]), labels, {"left": "right", "right": "left"})
    assert yf.tolist() == [1, 1, 0, 2, 2, 0]
    assert xf[3, 0, 0, 3] == 200 and xf[3, 0, 0, 0] == 0  # the flipped copy is lit on the right


def _toy_dataset(root: Path, n_subjects: int = 5) -> Path:
    """A prepared-format data set: per subject, crops lit from the left, right and front."""
    rng = np.random.default_rng(0)
    rows = []
    ramp = np.linspace(40, 220, 64)
    shades = {"left": ramp[::-1][None, :], "right": ramp[None, :], "front": np.full((1, 64), 130.0)}
    for s in range(n_subjects):
        for light, shade in shades.items():
            for k in range(3):
                a = np.clip(np.repeat(shade, 64, 0) + rng.normal(0, 12, (64, 64)), 0, 255).astype(np.uint8)
                f = f"images/s{s}/{light}{k}.png"
                (root / f).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(a).save(root / f)
                rows.append({"file": f, "subject": f"toy-{s}", "labels": {"lighting": light}, "grey": True})
    (root / "dataset.json").write_text(json.dumps({"format": 1, "preset": "toy", "size": 64}))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.slow
def test_train_and_export_writes_weights_card_and_metrics(tmp_path):
    from faceedit.data import open_datasets

    data = _toy_dataset(tmp_path / "toy")
    cfg = {"widths": [8, 16], "size": 32}
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.safetensors"
        loop = LoopConfig(steps=4, seed=3, sample_every=0, progress=False)
        m = train_and_export(analysis_trainer("lighting"), open_datasets([data]), tmp_path / f"{name}.run",
                             loop, config=cfg, export=out, command="test")["metrics"]
        outs.append(load_classifier(out))
        assert out.with_suffix(".md").is_file() and "test" in out.with_suffix(".md").read_text()
    assert m["n"] == 9 and set(m) >= {"accuracy", "balanced_accuracy", "per_class_accuracy", "confusion",
                                      "counts", "per_dataset"}
    assert set(m["per_dataset"]) == {"toy"} and m["heldout_subjects"] == 1
    assert outs[0].labels == ["front", "left", "right"]
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    assert torch.equal(outs[0].logits(x), outs[1].logits(x))  # same seed, same steps: same weights


@pytest.mark.slow
def test_train_analysis_writes_a_run_folder_and_resumes_bit_identically(tmp_path, monkeypatch):
    """`faceedit train-analysis` on the shared loop: a run folder beside the weights (run.json,
    state, log, samples, report), a forgotten --resume refused, and a run killed after its
    step-3 checkpoint that resumes ends as the uninterrupted run (same weights, same losses)."""
    from typer.testing import CliRunner

    from faceedit.cli import app
    from faceedit.models.checkpoint import load_checkpoint
    from faceedit.train.analysis.classifier import LightingTrainer

    data = _toy_dataset(tmp_path / "toy")
    runner = CliRunner()

    def train(name, *extra):
        return runner.invoke(app, ["train-analysis", "lighting", "-d", str(data), "-o",
                                   str(tmp_path / f"{name}.safetensors"), "--steps", "6", "--ckpt-every", "3",
                                   "--sample-every", "3", "--log-every", "1", "--seed", "2", *extra])

    r = train("straight")
    assert r.exit_code == 0, r.output
    run = tmp_path / "straight.run"
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()) == [
        "log.jsonl", "report.json", "run.json", "samples/step-0000003.png", "samples/step-0000006.png",
        "state.safetensors"]
    assert json.loads(r.stdout.splitlines()[-1]) == json.loads((run / "report.json").read_text())["metrics"]

    real_step = LightingTrainer.train_step

    def crash_at_step_3(self, batch, step):
        if step == 3:
            raise RuntimeError("killed")
        return real_step(self, batch, step)

    monkeypatch.setattr(LightingTrainer, "train_step", crash_at_step_3)
    assert train("split").exit_code != 0  # killed after the step-3 checkpoint
    monkeypatch.setattr(LightingTrainer, "train_step", real_step)
    r = train("split")
    assert r.exit_code == 2 and "--resume" in r.stderr and "--overwrite" in r.stderr
    r = train("split", "--resume")
    assert r.exit_code == 0, r.output
    logs = [[json.loads(x) for x in (tmp_path / f"{n}.run" / "log.jsonl").read_text().splitlines()]
            for n in ("straight", "split")]
    assert [x["step"] for x in logs[1]] == list(range(1, 7)) and logs[0] == [
        {**x, "time": y["time"]} for x, y in zip(logs[1], logs[0])]
    a, b = (load_checkpoint(tmp_path / f"{n}.safetensors").tensors for n in ("straight", "split"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    r = train("split", "--resume", "--seed", "3")
    assert r.exit_code == 2 and "seed 3 contradicts" in r.stderr


# -------------------------------------------------------------------- shipped weights, real data


def _prepared(name: str) -> Path:
    path = ROOT / "data" / name
    if not (path / "index.jsonl").is_file():
        pytest.skip(f"needs the prepared data set {path} (faceedit prepare ../shared/data/{name} -o {path})")
    return path


def _shipped(kind: str) -> Classifier:
    if not analysis_available(kind):
        pytest.skip(f"weights/{kind}.safetensors absent")
    return load_classifier(kind)


def _heldout(name: str, kind: str):
    from faceedit.data import load_crops, open_datasets, split_rows
    from faceedit.pixels import levels_to_signed

    _, held = split_rows(open_datasets([_prepared(name)]))
    held = [r for r in held if r["labels"].get(kind)]
    return levels_to_signed(load_crops(held, channels=3)), [r["labels"][kind] for r in held]


@pytest.mark.shared_data
def test_shipped_expression_tells_heldout_london_smiles_from_neutral():
    clf = _shipped("expression")
    x, truth = _heldout("london", "expression")
    assert len(truth) >= 30 and set(truth) == {"neutral", "happy"}
    with torch.no_grad():
        logits = clf.logits(x)
    happy = (logits[:, clf.index("happy")] > logits[:, clf.index("neutral")]).numpy()
    acc = float(np.mean(happy == (np.array(truth) == "happy")))
    print(f"held-out London neutral vs happy: {acc:.3f} on {len(truth)} crops (chance 0.5)")
    assert acc >= 0.75


@pytest.mark.shared_data
def test_shipped_lighting_on_heldout_yaleb():
    clf = _shipped("lighting")
    x, truth = _heldout("yaleb", "lighting")
    with torch.no_grad():
        pred = clf.predict(x)
    side = [t in ("left", "right") for t in truth]
    acc = float(np.mean([p == t for p, t, s in zip(pred, truth, side) if s]))
    print(f"held-out Yale B left/right lighting: {acc:.3f} on {sum(side)} crops")
    assert acc >= 0.9


def _toy_expression_sets(root: Path) -> list[Path]:
    """Two prepared-format sets unlike in look (dark and light backgrounds): ``toya`` holds
    neutral and happy faces, ``toyb`` neutral, happy and angry ones (more neutral than toya);
    the angry mouth is darker than the neutral one. Every crop has the same 68 landmarks; the
    first neutral photo of each subject is its source photo."""
    rng = np.random.default_rng(0)
    landmarks = (rng.uniform(12, 52, (68, 2))).round(2).tolist()
    face = ((_face(64)[0, 0].numpy() + 1) * 127.5)
    paths = []
    for name, bg, labels, n_subjects in (("toya", 40.0, {"neutral": 1, "happy": 1}, 5),
                                         ("toyb", 210.0, {"neutral": 3, "happy": 1, "angry": 1}, 5)):
        rows = []
        window = face_window(64).numpy()
        for s in range(n_subjects):
            for label, takes in labels.items():
                for k in range(takes):
                    a = face.copy()
                    a[44:52, 22:42] += {"neutral": 0, "happy": 60, "angry": -60}[label]
                    a = window * a + (1 - window) * bg + rng.normal(0, 8, a.shape)
                    f = f"images/{name}{s}/{label}{k}.png"
                    (root / name / f).parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(root / name / f)
                    rows.append({"file": f, "subject": f"{name}-{s}", "labels": {"expression": label}, "grey": True,
                                 "landmarks": landmarks,
                                 "role": "source" if label == "neutral" and not k else "target"})
        (root / name / "dataset.json").write_text(json.dumps({"format": 1, "preset": name, "size": 64}))
        (root / name / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        paths.append(root / name)
    return paths


@pytest.mark.slow
def test_expression_trainer_balances_sets_and_trains_a_set_blind_network(tmp_path, monkeypatch):
    import faceedit.train.analysis.classifier as classifier
    from faceedit.data import open_datasets
    from faceedit.train.analysis.classifier import ExpressionTrainer

    datasets = open_datasets(_toy_expression_sets(tmp_path))
    cfg = {"widths": [8, 16], "size": 32}
    data = ExpressionTrainer.load_data(datasets, LoopConfig(steps=4), {**ExpressionTrainer.default_config, **cfg},
                                       None)
    trainer = ExpressionTrainer(data, cfg, torch.device("cpu"), {})
    assert trainer.labels == ["neutral", "happy", "angry"] and set(trainer.nets) == {"net", "adversary"}
    y, sets = data.train.labels["target"], data.train.labels["set"]
    w = trainer.cell_weight[y, sets]
    cell = {(c, s): float(w[(y == c) & (sets == s)].sum()) for c in range(3) for s in range(2)
            if ((y == c) & (sets == s)).any()}
    # every class weighs the same, and within a class every set that holds it
    per_class = [sum(v for (c, _), v in cell.items() if c == k) for k in range(3)]
    assert per_class == pytest.approx([per_class[0]] * 3)
    assert cell[(0, 0)] == pytest.approx(cell[(0, 1)]) and cell[(1, 0)] == pytest.approx(cell[(1, 1)])
    # the data-set head's gradient reaches the features reversed: it pushes the net away from
    # what the head learns, and only for the classes both sets hold
    trainer.fraction = 1.0
    batch = data.train.batch(torch.arange(len(y)))
    f = trainer.net("net").features(batch["image"]).detach().requires_grad_()
    trainer.set_loss(f, y, sets, w).backward()
    reversed_grad, f.grad = f.grad, None
    monkeypatch.setattr(classifier, "reverse_gradient", lambda x, scale: x)
    assert trainer.set_loss(f, y, sets, w).item() > 0
    trainer.set_loss(f, y, sets, w).backward()
    scale = 0.3 * (2 / (1 + np.exp(-10)) - 1)
    assert torch.allclose(reversed_grad, -scale * f.grad, atol=1e-6) and f.grad.abs().sum() > 0
    angry = y == 2
    assert trainer.set_loss(f[angry], y[angry], sets[angry], w[angry]).item() == 0.0
    monkeypatch.undo()

    # an angry crop's expression moved onto the other set's neutral faces: the mouth darkens
    monkeypatch.setattr(ExpressionTrainer, "training", {**ExpressionTrainer.training, "transfer": 1.0})
    angry_rows = torch.nonzero(y == 2).flatten()
    moved = trainer.transfer(data.train.batch(angry_rows), torch.Generator().manual_seed(0))
    monkeypatch.undo()
    assert moved["mixed"].all() and torch.equal(moved["target"], y[angry_rows])
    toya_neutral = levels_to_signed(data.train.images[(sets == 0) & (y == 0)]).mean(0)
    mouth = (slice(None), slice(44 * 32 // 64 + 1, 52 * 32 // 64 - 1), slice(22 * 32 // 64 + 1, 42 * 32 // 64 - 1))
    cheek = (slice(None), slice(30, 32), slice(14, 18))
    assert (moved["image"][(slice(None), *mouth)].mean((1, 2, 3)) < toya_neutral[mouth].mean() - 0.2).all()
    cheeks = float(moved["image"][(slice(None), *cheek)].mean())
    assert cheeks == pytest.approx(float(toya_neutral[cheek].mean()), abs=0.15)

    # moved by its shape instead: every crop has the same landmarks, so the toy anger (a darker
    # mouth, no move) leaves the other set's neutral face as it is; with the appearance change
    # warped onto it too, its mouth darkens
    toya_faces = levels_to_signed(data.train.images[(sets == 0) & (y == 0)])
    for amount in (0.0, 1.0):
        monkeypatch.setattr(ExpressionTrainer, "training", {**ExpressionTrainer.training, "transfer": 0.0,
                                                            "warp": 1.0, "warp_appearance": amount})
        shaped = trainer.transfer(data.train.batch(angry_rows), torch.Generator().manual_seed(0))
        monkeypatch.undo()
        assert shaped["mixed"].all() and torch.equal(shaped["target"], y[angry_rows])
        for img in shaped["image"]:
            gap = (toya_faces - img).abs().amax((1, 2, 3)).min()  # to the nearest toya neutral face
            mouth_change = float((img[mouth] - toya_faces[:, mouth[0], mouth[1], mouth[2]]).mean((1, 2, 3)).max())
            if amount == 0.0:
                assert gap < 1e-5
            else:
                assert gap > 0.2 and mouth_change < -0.2

    out = tmp_path / "expr.safetensors"
    m = train_and_export(ExpressionTrainer, datasets, tmp_path / "run",
                         LoopConfig(steps=4, seed=3, sample_every=0, progress=False), config=cfg, export=out,
                         command="test")["metrics"]
    clf = load_classifier(out)
    assert isinstance(clf.net, NormalisedResNet) and clf.labels == ["neutral", "happy", "angry"]
    assert set(m["per_dataset"]) == {"toya", "toyb"}
    card = out.with_suffix(".md").read_text()
    assert '"balance_sets": true' in card and '"adversary": 0.3' in card and '"transfer": 0.3' in card
