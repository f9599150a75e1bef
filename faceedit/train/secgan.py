"""SeCGAN trainer (secgan.txt sec. 3 and appendix A.1): an RGB branch and a semantic-mask branch,
StarGAN backbone, trained in parallel on the same batches and tied by the semantic consistency
loss.

Per branch (eq. 1-10): WGAN-GP critic with a class head; the generator's adversarial loss, the
classification loss of its output under the target labels, and the reconstruction loss of an
edit with a zero label difference (L1 for images, cross-entropy for masks). Consistency
(eq. 11-12), with ``P`` the face parser, ``x_out = G_rgb(x, y_diff)``, ``s_out = G_seg(s, y_diff)``::

    L_sc^rgb = CE(onehot(argmax s_out) -> P(x_out))      (updates G_rgb through P)
    L_sc^seg = CE(onehot(argmax P(x_out)) -> s_out)      (updates G_seg)

each weighed by ``lambda_sc`` (paper: 0.01) in its generator's loss (eq. 14, 16).

Schedule: one loop step = ``n_critic`` (5) updates of both critics, then one update of each
generator, all on the step's batch (Algorithm 1 computes the generator losses "with the same
mini-batch"). As in LSSL's trainer, the generators' outputs for the critic updates are computed
once per step (they do not change in between) with fresh gradient-penalty interpolates per
update; the generator update draws new targets. The critic update itself, the critics' depth,
the parser loading and the optimisers are those every StarGAN-family trainer shares
(:mod:`faceedit.train.critic`).

What stands in for what the paper uses:

* **Real masks** ``s_in``: :func:`faceedit.faces.parsing.parse_from_landmarks` of the batch's
  landmarks (drawn from the 68 points, one-hot), not the parser's masks of the real image; the
  parser (``faceedit.analysis.parser``, trained on such masks) parses the *generated* images.
  Without parser weights (or without ``faceedit.faces.parsing``) the consistency term is off with
  one warning, and since the mask branch would then not influence the RGB generator at all, it is
  not trained: the run is the baseline.
* **Classes**: expressions are exclusive, so their classification loss is a cross-entropy over the
  expression block; glasses is a binary cross-entropy (the paper: binary cross-entropy per
  attribute). The mask branch's critic classifies expressions only: masks drawn from landmarks
  cannot show glasses.
* ``semantic=False`` (CLI ``--no-semantic``) trains the plain baseline on the same budget: no mask
  branch, no consistency term, everything else identical, so the term's effect can be measured.
* The source-attribute classifier exported with the model (``source_net``, see
  :mod:`faceedit.models.secgan`) is fitted on the same real batches, once per step.
* Learning rate constant (the paper decays it after 100 K iterations); no augmentation (the
  paper names none, and a flip would have to swap the masks' left / right classes).

``task="attributes"`` (``--set task=attributes``) trains it on the attributes instead, as the
paper edits CelebA's, on what the stage renders (:mod:`faceedit.train.secgan_attributes`: the
data, the labels read off the photos, the renders):

* **Condition**: hair colour (black, brown, blond, red, grey), skin (pale, medium, tan), brows
  (thin, medium, bushy), glasses; colour crops (``channels`` 3).
* **RGB branch**: each example changes one attribute whose label is known; the generator's input
  is the stage's render of that change (``x_in``), its condition ``y_diff``; its output
  ``x_out = G(x_in, y_diff)`` is scored by the critic (real photos, their labels) and its class
  head (the target labels), reconstructs the real crop at ``y_diff = 0`` and keeps to the render
  by ``lambda_stage``: what it learns is what the stage's render lacks of a real photo with the
  attribute.
* **Mask branch**: real masks from the landmarks, the photo's hair matte and its brow matte
  (:func:`faceedit.faces.parsing.parse_with_mattes`, 11 classes with hair); its critic
  classifies the brows (the one attribute a mask shows). The consistency terms compare the
  parser's reading of ``x_out`` with the mask branch's output over the parser's 10 classes, the
  mask branch's hair counted as background (the parser was trained on landmark-drawn masks,
  where hair is background).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from faceedit.log import logger
from faceedit.models.base import ConfigError
from faceedit.models.layers import ClassCritic, zero_heads
from faceedit.models.secgan import SeCGAN, SeCGANConfig, StarGenerator, build_rgb_generator, build_source_net
from faceedit.models.stargan import KEEP, AttributeSpace
from faceedit.pixels import unit_to_signed
from faceedit.train.critic import adam, critic_layers, critic_step, load_parser_or_warn
from faceedit.train.losses import wgan_generator_loss
from faceedit.train.trainer import MethodTrainer

if TYPE_CHECKING:
    from faceedit.train.secgan_attributes import AttributeData

MODEL_DEFAULTS = SeCGANConfig.defaults()
MODEL_KEYS = tuple(k for k in MODEL_DEFAULTS if k != "attributes")


def landmark_masks(landmarks: torch.Tensor, size: int) -> torch.Tensor:
    """One-hot semantic masks (B, K, size, size) drawn from (B, 68, 2) crop-pixel landmarks by
    :func:`faceedit.faces.parsing.parse_from_landmarks`, one-hot as the paper's ``s_in``."""
    from faceedit.faces.parsing import one_hot, parse_from_landmarks

    lm = landmarks.detach().cpu().numpy()
    maps = np.stack([parse_from_landmarks(p, size) for p in lm])
    return one_hot(maps).to(landmarks.device)


def mask_picture(masks: torch.Tensor) -> torch.Tensor:
    """Masks (B, K, H, W) as a grey picture in [-1, 1]: class index k -> level k / (K - 1)."""
    k = masks.shape[1]
    return unit_to_signed(masks.argmax(1, keepdim=True).float().div(max(1, k - 1)))


class SeCGANTrainer(MethodTrainer):
    method = "SeCGAN"
    arch = "secgan"
    label_keys = ("expression", "glasses")
    needs_labels = ("expression",)
    uses_stage = True
    config_class = SeCGANConfig
    channels = 1  # luma: see faceedit.models.lssl (only London is colour, and only neutral/happy)
    default_config: dict[str, Any] = {
        **{k: MODEL_DEFAULTS[k] for k in MODEL_KEYS},
        "image_size": 64,  # CPU budget
        "channels": 1,
        # widths a quarter of the paper's (64-128-256) for a CPU budget: G 0.54 M parameters
        "base_channels": 16,
        "max_channels": 64,
        "residual": True,  # not in the paper; see faceedit.models.secgan
        "semantic": True,  # False: the baseline (no mask branch, no consistency loss)
        "seg_base_channels": 16,  # mask generator width (paper: same as the RGB one)
        "d_channels": 16,  # critic width of the first layer (paper: 64)
        "d_layers": None,  # None: down to a 2x2 score map
        "d_max_channels": 256,
        "lr": 1e-4,
        "betas": [0.5, 0.999],
        "source_lr": 1e-3,
        "n_critic": 5,
        "lambda_cls": 1.0,
        "lambda_rec": 10.0,
        "lambda_gp": 10.0,
        "lambda_sc": 0.01,
        "seg_attributes": ["expression"],  # what the mask critic classifies
        # with the stage: L1 between the output and the stage's edit it was given (not in the
        # paper; as LEGAN's, it keeps the class loss from repainting the face)
        "lambda_stage": 50.0,
        # "expressions" (the shipped model) or "attributes" (faceedit.train.secgan_attributes)
        "task": "expressions",
    }
    default_batch_size = 8

    @classmethod
    def load_data(cls, datasets, cfg, config, vocab):
        task = config.get("task", "expressions")
        if task == "attributes":
            from faceedit.train.secgan_attributes import load_attribute_data

            return load_attribute_data(datasets, int(config.get("image_size") or datasets[0].size),
                                       holdout=cfg.holdout, seed=cfg.seed)
        if task != "expressions":
            raise ConfigError(f"SeCGAN config task={task!r}: give 'expressions' or 'attributes'")
        return super().load_data(datasets, cfg, config, vocab)

    @property
    def attribute_task(self) -> bool:
        return self.config["task"] == "attributes"

    @property
    def attribute_data(self) -> AttributeData:
        """The attribute task's data (photos, renders, masks with hair)."""
        from faceedit.train.secgan_attributes import AttributeData

        assert isinstance(self.data, AttributeData), "the attribute task loads AttributeData"
        return self.data

    def build(self) -> None:
        c = self.config
        size = self.data.size
        if self.attribute_task:
            from faceedit.train.secgan_attributes import attribute_space

            self.channels = 3
            self.space = attribute_space()
            self.rng = np.random.default_rng(0)
        else:
            self.space = AttributeSpace.from_vocab(self.data.vocab, self.label_keys)
        self.seg_space = self.space.subset(c["seg_attributes"] if not self.attribute_task else ["brows"])
        self.model_config = SeCGANConfig.from_dict({**{k: c[k] for k in MODEL_KEYS}, "image_size": size,
                                                "channels": self.channels,
                                                "attributes": self.space.to_config()})
        d_layers = critic_layers(size, c["d_layers"])
        self.nets = {
            "G": build_rgb_generator(self.model_config, self.space.dim),
            "D": ClassCritic(size, self.channels, int(c["d_channels"]), d_layers, self.space.dim,
                             int(c["d_max_channels"])),
            "S": build_source_net(self.model_config, self.space.dim),
        }
        self.semantic = bool(c["semantic"]) and self.options.get("semantic", True) is not False
        self.parse = None
        if self.semantic:
            self.parse = load_parser_or_warn(self.device, "SeCGAN semantic consistency (and with it "
                                             "the semantic branch: this run is the baseline)")
            if self.parse is not None:
                try:
                    from faceedit.faces.parsing import CLASSES, CLASSES_HAIR
                except ImportError as e:
                    logger.warning("SeCGAN semantic branch off: cannot import faceedit.faces.parsing "
                                   "(%s); this run is the baseline", e)
                    self.parse = None
            self.semantic = self.parse is not None
        if self.semantic:
            k = len(CLASSES_HAIR if self.attribute_task else CLASSES)
            self.nets["Gs"] = StarGenerator(k, k, self.space.dim, base=int(c["seg_base_channels"]),
                                            max_channels=int(c["max_channels"]), n_down=int(c["n_down"]),
                                            n_res=int(c["n_res"]), norm=c["norm"], output="logits")
            self.nets["Ds"] = ClassCritic(size, k, int(c["d_channels"]), d_layers, self.seg_space.dim,
                                          int(c["d_max_channels"]))
        self.opts = {k: adam(m, float(c["source_lr"] if k == "S" else c["lr"]), c["betas"])
                     for k, m in self.nets.items()}

    def attach_stage(self, name: str) -> None:
        if self.attribute_task:  # the attribute renders are the data's (secgan_attributes)
            self.stage_name = name
            return
        super().attach_stage(name)

    def stage_vocab(self) -> tuple[list[str], list[str]]:
        return (list(self.space.values[self.space.keys.index("expression")])
                if "expression" in self.space.keys else []), []

    def start_as_identity(self) -> None:
        if self.config["residual"]:
            zero_heads(self.net("G"))

    def _staged(self, x: torch.Tensor, batch: dict, eff: dict, src: dict) -> torch.Tensor:
        """The stage's edit of ``x`` towards the expressions ``eff`` shows where it differs from
        the source's (an expression kept is not moved)."""
        if self.training_stage is None or "expression" not in eff:
            return x
        e = torch.where(eff["expression"] != src["expression"], eff["expression"], -1)
        return self.stage_input(x, batch, e)

    # ---- one update ----------------------------------------------------------------------------
    def _difference(self, src: dict, y_src: torch.Tensor) -> tuple[dict, torch.Tensor]:
        """Random targets (as labels the output should show) and ``y_diff = y_trg - y_src``."""
        eff = AttributeSpace.effective(self.space.sample_targets(src), src)
        return eff, self.space.encode(eff) - y_src

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        """One loop step (module doc): ``n_critic`` updates of both critics, then one of each
        generator, on the batch's edits planned twice (the critics' fakes, then the generators'):
        the expression task's random targets through the training stage, or the attribute task's
        stage renders (:meth:`_plan`)."""
        c = self.config
        w_cls, w_gp, w_rec, w_sc = (float(c[k]) for k in ("lambda_cls", "lambda_gp", "lambda_rec", "lambda_sc"))
        G, D = self.nets["G"], self.nets["D"]
        x = batch["image"]
        src = {k: batch[k] for k in self.space.keys}
        y_src = self.space.encode(src)
        masks = None
        if self.semantic:
            masks = (self.attribute_data.mask_batch(batch["index"]) if self.attribute_task
                     else landmark_masks(batch["landmarks"], x.shape[-1]))
        logs: dict[str, float] = {}

        eff, diff, x_in = self._plan(batch, x, src, y_src)
        with torch.no_grad(), self.autocast():
            xf = G(x_in, diff).float()
            sf = self.nets["Gs"](masks, diff).float().softmax(1) if self.semantic else None
        for _ in range(int(c["n_critic"])):
            d = critic_step(self, "D", x, xf, lambda logits: self.space.cls_loss(logits, src), w_gp=w_gp, w_cls=w_cls)
            if masks is not None and sf is not None:  # semantic: the mask critic classifies the seg_attributes only
                ds = critic_step(self, "Ds", masks, sf, lambda logits: self.seg_space.cls_loss(logits, src),
                                 w_gp=w_gp, w_cls=w_cls)
        logs.update({"d_loss": d["loss"].item(), "d_adv": d["adv"].item(), "d_gp": d["gp"].item(),
                     "d_cls_real": d["cls"].item()})
        if self.semantic:
            logs.update({"ds_loss": ds["loss"].item(), "ds_cls_real": ds["cls"].item()})

        eff, diff, x_in = self._plan(batch, x, src, y_src)
        with self.autocast():
            xf = G(x_in, diff)
            scores, logits = D(xf)
            adv = wgan_generator_loss(scores.float())
            cls = self.space.cls_loss(logits, eff)
            rec = F.l1_loss(G(x, torch.zeros_like(diff)).float(), x)
        g_loss = adv + w_cls * cls + w_rec * rec
        # the attribute task learns what the stage's render leaves: always held to it
        g_stage = (xf.float() - x_in).abs().mean() if self.attribute_task else self.stage_l1(xf, x_in)
        if g_stage is not None:
            g_loss = g_loss + float(c["lambda_stage"]) * g_stage
            logs["g_stage"] = g_stage.item()
        if self.semantic:
            assert masks is not None and self.parse is not None  # set with semantic (build)
            Gs, Ds = self.nets["Gs"], self.nets["Ds"]
            with self.autocast():
                s_log = Gs(masks, diff).float().log_softmax(1)
                s_scores, s_logits = Ds(s_log.exp())
                adv_s = wgan_generator_loss(s_scores.float())
                cls_s = self.seg_space.cls_loss(s_logits, eff)
                rec_s = -(masks * Gs(masks, torch.zeros_like(diff)).float().log_softmax(1)).sum(1).mean()
            p = self.parse(xf.float())
            if p.shape[-2:] != masks.shape[-2:]:
                p = F.interpolate(p, size=masks.shape[-2:], mode="bilinear", align_corners=False)
            k = p.shape[1]
            if s_log.shape[1] > k:  # over the parser's classes: the mask branch's hair is its background
                s_log = torch.cat([torch.logsumexp(torch.stack([s_log[:, 0], s_log[:, k]]), 0)[:, None],
                                   s_log[:, 1:k]], 1)
            # eq. 11: G_rgb's parsed output against the mask branch's (one-hot) output
            sc_rgb = -(F.one_hot(s_log.argmax(1), k).permute(0, 3, 1, 2).float()
                       * p.clamp_min(1e-6).log()).sum(1).mean()
            # eq. 12: the mask branch's output against the parsed RGB output (one-hot)
            sc_seg = -(F.one_hot(p.detach().argmax(1), k).permute(0, 3, 1, 2).float() * s_log).sum(1).mean()
            g_loss = g_loss + w_sc * sc_rgb
            gs_loss = adv_s + w_cls * cls_s + w_rec * rec_s + w_sc * sc_seg
        self.optimize("G", g_loss)
        logs.update({"g_loss": g_loss.item(), "g_adv": adv.item(), "g_cls": cls.item(), "g_rec": rec.item()})
        if self.semantic:
            self.optimize("Gs", gs_loss)
            logs.update({"gs_loss": gs_loss.item(), "gs_cls": cls_s.item(), "gs_rec": rec_s.item(),
                         "sc_rgb": sc_rgb.item(), "sc_seg": sc_seg.item()})

        with self.autocast():
            s_loss = self.space.cls_loss(self.nets["S"](x), src)
        self.optimize("S", s_loss)
        logs["source_cls"] = s_loss.item()
        return logs

    def _plan(self, batch: dict[str, Any], x: torch.Tensor, src: dict, y_src: torch.Tensor
              ) -> tuple[dict, torch.Tensor, torch.Tensor]:
        """(the labels the output should show, ``y_diff``, the generator's input) for one draw:
        the attribute task's stage render of one changed attribute per row; the expression
        task's random targets, the training stage's edit towards them."""
        if self.attribute_task:
            eff, x_in = self.attribute_data.staged(batch["index"], src, self.rng)
            return eff, self.space.encode(eff) - y_src, x_in
        eff, diff = self._difference(src, y_src)
        return eff, diff, self._staged(x, batch, eff, src)

    # ---- samples and export ----------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """input | every expression | each attribute on, off (source labels estimated, as at
        inference) | with the mask branch: input mask | mask of the first expression edit.
        The attribute task: input | per attribute value the stage's render, the network's output
        on it | with the mask branch: input mask | its bushy-brows edit."""
        if self.attribute_task:
            return self._attribute_samples(batch)
        model = self.generator().to(self.device)
        x = batch["image"]
        cols = [x]
        first_diff = None
        exprs = self.stage_vocab()[0]
        for t in model.targets():
            if t == KEEP:
                continue
            diff = model.difference(x, t)
            first_diff = diff if first_diff is None else first_diff
            e = torch.full((x.shape[0],), exprs.index(t) if t in exprs else -1, dtype=torch.long, device=x.device)
            cols.append(model.G(self.stage_input(x, batch, e), diff))
        for a in sorted(model.space.binary):  # every channel the network has, glasses included
            for v in (1.0, 0.0):
                cols.append(model.edit(x, KEEP, attrs={a: v}))
        if self.semantic:
            masks = landmark_masks(batch["landmarks"], x.shape[-1])
            cols += [mask_picture(masks).expand_as(x),
                     mask_picture(self.net("Gs")(masks, first_diff)).expand_as(x)]
        return torch.cat(cols, -1)

    def _attribute_samples(self, batch: dict[str, Any]) -> torch.Tensor:
        from faceedit.train.secgan_attributes import SAMPLE_EDITS

        G = self.net("G").eval()
        x = batch["image"]
        src = {k: batch[k] for k in self.space.keys}
        y_src = self.space.encode(src)
        cols = [x]
        rng = np.random.default_rng(0)
        for key, value in SAMPLE_EDITS:
            eff, x_in = self.attribute_data.rendered(batch["index"], src, key, value, rng)
            cols += [x_in, G(x_in, self.space.encode(eff) - y_src)]
        if self.semantic:
            masks = self.attribute_data.mask_batch(batch["index"])
            eff = {k: v.clone() for k, v in src.items()}
            eff["brows"] = torch.where(src["brows"] >= 0, self.space.index("brows", "bushy"), src["brows"])
            cols += [mask_picture(masks).expand_as(x),
                     mask_picture(self.net("Gs")(masks, self.space.encode(eff) - y_src)).expand_as(x)]
        G.train()
        return torch.cat(cols, -1)

    def export(self, path, result, cfg, *, command: str = "", evaluate_after: bool = True, run_dir=None) -> dict:
        if self.attribute_task and evaluate_after:  # faceedit eval measures expressions; see bench/bench_secgan_attributes.py
            logger.info("SeCGAN attributes: no held-out `faceedit eval` after export (it measures expressions)")
            evaluate_after = False
        return super().export(path, result, cfg, command=command, evaluate_after=evaluate_after, run_dir=run_dir)

    def generator(self) -> SeCGAN:
        model = SeCGAN(self.model_config)
        model.G.load_state_dict(self.net("G").state_dict())
        model.source_net.load_state_dict(self.net("S").state_dict())
        return model.cpu().eval()

    def export_info(self) -> dict[str, Any]:
        if self.attribute_task:
            return {"config": self.model_config.to_dict(), "targets": [KEEP], "conditions": self.space.to_config(),
                    "extra": {"color_match": False, "delta_smooth": 1.0, "semantic": self.semantic,
                              "lambda_sc": float(self.config["lambda_sc"]) if self.semantic else 0.0,
                              "task": "attributes",
                              "notes": "RGB model on the stage's attribute renders; edit('keep', attrs={'hair': 'blond', ...})"}}
        targets = list(self.space.values[self.space.keys.index("expression")]) + [KEEP]
        return {
            "config": self.model_config.to_dict(),  # export checks the model's own against it
            "targets": targets,
            "conditions": self.space.to_config(),
            "extra": {"color_match": False, "delta_smooth": 1.0, "semantic": self.semantic, "lambda_sc": float(self.config["lambda_sc"]) if self.semantic else 0.0,
                      "notes": "1-channel (luma) model; edit(target|'keep', attrs={'glasses': 0..1}, source=None)"},
        }
