"""LEGAN training on the shared loop (legan.txt, sections 4.2 and 5 "Implementation Details").

Networks: the generator ``G`` of :mod:`faceedit.models.legan` and a PatchGAN critic ``D``
(:class:`~faceedit.models.layers.ClassCritic`: 4x4 stride-2 convolutions with LeakyReLU(0.01), a
realness map ``D_src`` and ``n_expr + n_light`` class logits ``D_cls``; the first ``n_expr``
logits classify the expression, the rest the lighting). Auxiliary, frozen: the identity network
``T`` (:mod:`faceedit.analysis.identity`, standing in for LightCNN-29) and the quality estimator
``Q`` (:mod:`faceedit.analysis.quality`, a proxy trained on real vs degraded crops, standing in for
the paper's crowd-rated estimator). A loss whose network's weights are missing is switched off with
one logged warning. The critic's depth and update, and the loading of ``T`` and ``Q``, are those
every StarGAN-family trainer shares (:mod:`faceedit.train.critic`); the class head's loss is the
:class:`~faceedit.models.stargan.AttributeSpace` one over the expression and lighting blocks.

Losses (eq. 2-7), weights from the paper (``lambda_gp`` 10, ``lambda_cls`` 20, ``lambda_rec`` 10,
``lambda_id`` 10, ``lambda_qual`` 0.5, ``lambda_tv`` 1e-7), Adam lr 1e-4, betas (0.5, 0.999):

* D: ``mean D_src(fake) - mean D_src(real) + lambda_gp GP + lambda_cls CE(D_cls(real), f_a)``;
* G: ``-mean D_src(fake) + lambda_cls CE(D_cls(fake), f_b) + lambda_rec |I_a - G(G(I_a, f_b), f_a)|_1
  + lambda_id (1 - cos(T(I_a), T(G(I_a, f_b)))) + lambda_qual L_qual + lambda_tv L_tv``, with
  ``L_qual = |q - Q(fake')| + |Q(I_a') - Q(rec')|`` (q = 8) and ``L_tv`` the total variation of the
  fake and the reconstruction.

Choices (where the paper leaves room or our data differs):

* **Schedule.** ``n_critic`` (5) critic updates per generator update; the loop's ``step`` counts
  generator updates. Every critic update reuses the step's batch of real crops against *fresh*
  fakes (new random targets, ``G`` run without gradient), so the critic sees 5 different fake
  batches per step while the data order stays the loop's (deterministic, resumable).
* **Targets** ``f_b``: expression and lighting drawn independently and uniformly from their
  vocabularies, so every (expression, lighting) pair is trained, including pairs no real photo
  shows (the point of LEGAN's disentangled masks).
* **Missing lighting labels.** London and JAFFE carry no lighting label, nor do Yale's expression
  photos. All three are evenly lit frontal studio photographs, so rows without a lighting label
  are labelled ``unlabelled_lighting`` (default ``front``, the Yale/Yale B class of a light at the
  camera); set it to None to leave them unknown (then they train the critic's realness only and
  skip the class and cycle terms that need the label). Rows without an expression label (none in
  the shared data) likewise get no expression class loss, and the cycle needs both labels.
* **Luminance.** The trainer's ``channels = 1``: colour London crops are reduced to BT.601 luma
  like the greyscale sets (see the model module for why, and how colour photos are edited).
* **Quality mask.** The paper masks images to the landmarks' convex hull before ``Q``. Our ``Q``
  was trained on unmasked crops, so ``quality_mask`` defaults to False; True applies the paper's
  hull mask (from the batch landmarks).
* **Total variation** is summed over each image's pixels (averaged over the batch): the paper's
  tiny weight (1e-7) only means something against a per-image sum.
* **On the stage** (``faceedit train --stage stage``, the default): the generator gets the
  stage's edit of the crop towards its targets (:mod:`faceedit.train.stage_on_crops`) and the cycle goes
  back through the stage's inverse warp; ``lambda_stage`` (50) holds the output near that input,
  so the network adds texture rather than repainting the face.
* **Width.** CPU-sized defaults (``base_channels`` 16 -> 64, critic 32 -> 256, 64-px crops); the
  paper's widths are ``base_channels`` 64, ``max_channels`` 256 at 128 px with a 64 -> 2048 critic.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from faceedit.data import UNLABELLED_LIGHTING
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.models.layers import ClassCritic, InterpUp
from faceedit.models.legan import LEGAN, LEGANConfig, LeganGenerator
from faceedit.models.stargan import KEEP, AttributeSpace, one_hot
from faceedit.train.critic import critic_layers, critic_step, load_frozen_or_warn
from faceedit.train.losses import total_variation, wgan_generator_loss
from faceedit.train.trainer import MethodTrainer

# Keys of the trainer config that are the exported model's architecture (LEGANConfig's names,
# so ``--init`` from a LEGAN checkpoint keeps them).
MODEL_KEYS = ("base_channels", "max_channels", "n_down", "n_res", "norm", "fuse_image", "upsample",
              "residual")


class LEGANTrainer(MethodTrainer):
    method = "LEGAN"
    arch = "legan"
    label_keys = ("expression", "lighting")
    needs_labels = ("expression",)
    uses_stage = True
    channels = 1
    config_class = LEGANConfig
    default_config: dict[str, Any] = {
        "image_size": 64,
        # generator (faceedit.models.legan)
        "base_channels": 16, "max_channels": 64, "n_down": 2, "n_res": 6, "norm": "instance",
        "fuse_image": False, "upsample": "pixelshuffle", "residual": False,
        "default_lighting": "front",
        # critic
        "d_channels": 32, "d_max_channels": 256,
        "d_layers": 0,  # 0: log2(size) - 1 (a 2x2 map, as the paper's)
        # optimisation (paper: Adam 1e-4, (0.5, 0.999), 5 critic steps per G step)
        "lr": 1e-4, "beta1": 0.5, "beta2": 0.999, "n_critic": 5,
        # loss weights (paper: 10, 20, 10, 10, 0.5, 1e-7)
        "lambda_gp": 10.0, "lambda_cls": 20.0, "lambda_rec": 10.0, "lambda_id": 10.0,
        "lambda_qual": 0.5, "lambda_tv": 1e-7,
        "quality_q": 8.0, "quality_mask": False,
        # with the stage: L1 between the output and the stage's edit it was given (not in the
        # paper; without it the class loss paints dataset cues, bright cheek halos, over the edit)
        "lambda_stage": 50.0,
        "unlabelled_lighting": UNLABELLED_LIGHTING,
    }
    default_batch_size = 8

    # ---- build ------------------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        self.expr_vocab = list(self.data.vocab["expression"])
        self.light_vocab = self.data.vocab["lighting"]  # the loop saves this list: filled in place
        fill = c.get("unlabelled_lighting")
        if fill:
            if fill not in self.light_vocab:
                self.light_vocab.append(fill)
            idx = self.light_vocab.index(fill)
            for crops in (self.data.train, self.data.held):
                lab = crops.labels["lighting"]
                lab[lab < 0] = idx
        if not self.expr_vocab or not self.light_vocab:
            raise UsageError("LEGAN needs expression labels and lighting labels (or unlabelled_lighting)")
        self.n_expr, self.n_light = len(self.expr_vocab), len(self.light_vocab)
        # the critic's class head: n_expr expression logits, then n_light lighting logits
        self.space = AttributeSpace(("expression", "lighting"),
                                    (tuple(self.expr_vocab), tuple(self.light_vocab)))
        self.default_lighting = (c["default_lighting"] if c["default_lighting"] in self.light_vocab
                                 else self.light_vocab[0])
        size = self.data.size
        G = LEGAN(self.model_config()).G
        D = ClassCritic(size, self.channels, int(c["d_channels"]), critic_layers(size, c["d_layers"]),
                        self.space.dim, int(c["d_max_channels"]))
        self.nets = {"G": G, "D": D}
        betas = (float(c["beta1"]), float(c["beta2"]))
        self.opts = {k: torch.optim.Adam(m.parameters(), float(c["lr"]), betas=betas)
                     for k, m in self.nets.items()}
        # the frozen auxiliary networks T and Q (None: the term is off, with one warning)
        self.identity = (load_frozen_or_warn("identity", "LEGAN identity loss", device=self.device)
                         if float(c["lambda_id"]) > 0 else None)
        self.quality = (load_frozen_or_warn("quality", "LEGAN quality loss", device=self.device)
                        if float(c["lambda_qual"]) > 0 else None)

    def model_config(self) -> LEGANConfig:
        """The exported model's config."""
        return LEGANConfig.from_dict({
            "image_size": self.data.size, "channels": self.channels, "targets": list(self.expr_vocab),
            "lighting": list(self.light_vocab), "default_lighting": self.default_lighting,
            **{k: self.config[k] for k in MODEL_KEYS}})

    def init_from(self, tensors: dict[str, torch.Tensor], source: str, source_config: dict | None = None) -> None:
        """Fine-tuning; from a pixel-shuffle checkpoint into a bilinear generator, each up-sampling
        kernel becomes the mean of its four sub-pixel kernels (``InterpUp.from_pixel_shuffle_weight``)
        instead of starting fresh; from a non-residual checkpoint (``source_config``) into a residual
        generator, the fusion output is zeroed so the fine-tune starts as the identity."""
        own = self.net("G").state_dict()
        prefix = self.export_prefix()
        converted = dict(tensors)
        n = 0
        for k, v in tensors.items():
            mine = own.get(k[len(prefix):]) if k.startswith(prefix) else None
            if mine is not None and mine.shape != v.shape and v.shape[0] == 4 * mine.shape[0] \
                    and v.shape[1:] == mine.shape[1:]:
                converted[k] = InterpUp.from_pixel_shuffle_weight(v)
                n += 1
        if n:
            logger.info("LEGAN `init`: %d pixel-shuffle kernels tied into bilinear up-sampling kernels", n)
        super().init_from(converted, source, source_config)
        if self.config["residual"] and not (source_config or {}).get("residual", False):
            self._net_g().zero_fusion_output()  # start as the identity; the masks keep what they learnt
            logger.info("LEGAN `init`: residual generator, fusion output zeroed (starts as the identity)")

    def start_as_identity(self) -> None:
        if self.config["residual"]:
            self._net_g().zero_fusion_output()

    def _net_g(self) -> LeganGenerator:
        g = self.net("G")
        assert isinstance(g, LeganGenerator)
        return g

    # ---- one step -----------------------------------------------------------------------------
    def _conditions(self, e: torch.Tensor, l: torch.Tensor, dtype: torch.dtype
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One-hot condition vectors for class indices (B,); -1 gives an all-zero row."""
        return one_hot(e, self.n_expr, dtype), one_hot(l, self.n_light, dtype)

    def _random_targets(self, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.randint(0, self.n_expr, (b,), device=self.device),
                torch.randint(0, self.n_light, (b,), device=self.device))

    def _class_loss(self, logits: torch.Tensor, e: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the expression logits plus that of the lighting logits, each over the
        rows whose label is known."""
        return self.space.cls_loss(logits, {"expression": e, "lighting": l})

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        c = self.config
        G = self.nets["G"]
        g_plain, d_plain = self.net("G"), self.net("D")
        x, e, l = batch["image"], batch["expression"], batch["lighting"]
        b = x.shape[0]

        # -- critic: n_critic updates, the same real crops against fresh fakes each time
        for _ in range(int(c["n_critic"])):
            te, tl = self._random_targets(b)
            with torch.no_grad(), self.autocast():
                fake = g_plain(self.stage_input(x, batch, te, tl), *self._conditions(te, tl, x.dtype))[0]
            d = critic_step(self, "D", x, fake.float(), lambda logits: self._class_loss(logits, e, l),
                            w_gp=c["lambda_gp"], w_cls=c["lambda_cls"])

        # -- generator
        te, tl = self._random_targets(b)
        known = (e >= 0) & (l >= 0)
        with self.autocast():
            x_in = self.stage_input(x, batch, te, tl)
            fake = G(x_in, *self._conditions(te, tl, x.dtype))[0]
            rec = G(self.stage_back(fake, batch, te), *self._conditions(e, l, x.dtype))[0]
            src_fake, cls_fake = d_plain(fake)
            g_adv = wgan_generator_loss(src_fake.float())
            g_cls = self._class_loss(cls_fake, te, tl)
            per_row = (x - rec.float()).abs().flatten(1).mean(1)
            g_rec = (per_row * known).sum() / known.sum().clamp(min=1)
            g_tv = (total_variation(fake.float()) + total_variation(rec.float())) * x[0].numel()
            loss = g_adv + c["lambda_cls"] * g_cls + c["lambda_rec"] * g_rec + c["lambda_tv"] * g_tv
            out = {}
            g_stage = self.stage_l1(fake, x_in)
            if g_stage is not None:
                loss = loss + c["lambda_stage"] * g_stage
                out["g_stage"] = g_stage
            if self.identity is not None:
                g_id = 1 - (self.identity.embed(x).detach() * self.identity.embed(fake)).sum(1).mean()
                loss = loss + c["lambda_id"] * g_id
                out["g_id"] = g_id
            if self.quality is not None:
                g_qual = self._quality_loss(x, fake, rec, batch.get("landmarks"))
                loss = loss + c["lambda_qual"] * g_qual
                out["g_qual"] = g_qual
        self.optimize("G", loss)
        out.update({"d_loss": d["loss"], "d_adv": d["adv"], "d_gp": d["gp"], "d_cls": d["cls"],
                    "g_loss": loss, "g_adv": g_adv, "g_cls": g_cls, "g_rec": g_rec, "g_tv": g_tv})
        return {k: float(v.detach()) for k, v in out.items()}

    def _quality_loss(self, x, fake, rec, landmarks) -> torch.Tensor:
        from faceedit.analysis.quality import quality_loss

        assert self.quality is not None  # called with the quality loss on only
        if self.config["quality_mask"]:
            if landmarks is None:
                raise UsageError("quality_mask needs landmarks in the batch")
            m = hull_masks(landmarks, x.shape[-1]).to(x)
            x, fake, rec = (t * m + (m - 1) for t in (x, fake, rec))  # outside the hull: black (-1)
        with torch.no_grad():
            real_scores = self.quality.score(x)
        return quality_loss(self.quality.score(fake), float(self.config["quality_q"]),
                            real_scores=real_scores, recon_scores=self.quality.score(rec))

    # ---- samples, export ----------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """input | every expression under the default lighting | neutral (or the first
        expression) under every other lighting."""
        G = self.net("G")
        x = batch["image"]
        b = x.shape[0]
        base = self.expr_vocab.index("neutral") if "neutral" in self.expr_vocab else 0
        d = self.light_vocab.index(self.default_lighting)
        pairs = [(i, d) for i in range(self.n_expr)] + [(base, j) for j in range(self.n_light) if j != d]
        cols = [x]
        for i, j in pairs:
            e = torch.full((b,), i, dtype=torch.long, device=x.device)
            l = torch.full((b,), j, dtype=torch.long, device=x.device)
            cols.append(G(self.stage_input(x, batch, e, l), *self._conditions(e, l, x.dtype))[0].float())
        return torch.cat(cols, -1)

    def generator(self) -> LEGAN:
        model = LEGAN(self.model_config())
        model.G.load_state_dict(copy.deepcopy(self.net("G")).cpu().state_dict())
        return model.cpu().eval()

    def export_info(self) -> dict[str, Any]:
        return {
            "config": self.model_config().to_dict(),  # export checks the model's own against it
            "targets": list(self.expr_vocab),
            "conditions": {"expression": list(self.expr_vocab), "lighting": list(self.light_vocab)},
            "channels": self.channels,
            "extra": {
                "method": "LEGAN",
                "paper": "legan.txt",
                "color_match": False, "delta_smooth": 4.0,
                "description": "LEGAN joint expression + lighting editing (luminance model); "
                               f"option lighting={'|'.join(self.light_vocab + [KEEP])}, "
                               f"default {self.default_lighting}",
            },
        }


def hull_masks(landmarks: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 1, size, size) float masks: 1 inside the convex hull of each face's landmarks (crop
    pixel coordinates), 0 outside; all ones for a face without finite landmarks."""
    import cv2

    out = np.zeros((landmarks.shape[0], 1, size, size), np.float32)
    for i, pts in enumerate(landmarks.detach().float().cpu().numpy()):
        pts = pts[np.isfinite(pts).all(1)]
        if len(pts) < 3:
            out[i] = 1.0
            continue
        hull = cv2.convexHull(np.round(pts).astype(np.int32))
        cv2.fillConvexPoly(out[i, 0], hull, 1.0)
    return torch.from_numpy(out)
