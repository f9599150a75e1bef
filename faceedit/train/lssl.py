"""LSSL trainer (lssl.txt sec. 3.1 and 4): WGAN-GP with attribute classification, L1 identity,
face-parsing and bidirectional (image + latent) losses.

One loop step = ``n_critic`` (paper: 5) critic updates, then one generator update, all on the
step's batch (the loop's ``step`` counts generator updates). The generator does not change
during the critic updates, so its outputs for one draw of target attributes are computed once
per step and reused: the ``n_critic`` updates see the step's real crops and one generated batch,
with fresh gradient-penalty interpolates each time. (StarGAN-style code draws a new batch per
critic update; with the small data sets here that would mostly repeat crops anyway, and it would
cost ``n_critic`` generator forwards per step on a CPU.) The generator update draws new targets.

Losses (eq. 1-7), with ``x' , s' = G(x, s, y)``, ``x^, s^ = G(x', s', y_src)``:

* critic: ``D(x', s') - D(x, s) + gp * GP + cls * CE(D_cls(x, s), y_src)``; D sees the image and
  the side image together ("a discriminator's job is to discriminate the realism of synthetic
  pair images");
* generator: ``-D(x', s') + cls * CE(D_cls(x', s'), y) + id * |x' - x| + p * parsing
  + bi * (|x - x^| + |s - s^| + |G_enc(x, s) - G_enc(x', s')|)``.

Notes:

* **Identity loss** (eq. 4) compares the *edited* image with the input, as the equation is
  written (``G_dec(G_enc(x, s), y) - x``), not a same-label reconstruction.
* **Parsing loss** (eq. 5): pixel-wise cross-entropy of the parser's soft masks of ``x'`` against
  the parser's labels (arg-max) of ``x``, over all of the project parser's classes
  (``faceedit.analysis.parser``, trained here on masks drawn from landmarks; the paper's is a
  Helen-trained U-Net on lips, eyes and skin). Without ``weights/parser.safetensors`` the term is
  off, with one warning.
* **Attributes**: categorical groups, cross-entropy per group over rows whose label is known (the
  paper's binary cross-entropy over a multi-label vector does not fit exclusive classes). Targets
  are drawn uniformly per group; with probability ``keep_prob`` a group is left unspecified
  (all-zero block, see :mod:`faceedit.models.lssl`), and always where the row's own label is
  unknown (e.g. lighting for London / JAFFE rows), since such an edit could be neither classified
  nor undone by the bidirectional loss.
* **Augmentation**: horizontal flips (the paper's only augmentation), mirroring the side image and
  swapping ``left`` / ``right`` lighting labels.
* The learning rate is constant (the paper decays it linearly after 100 epochs, far beyond a CPU
  budget).

The critic update, the critic's depth, the parser loading and the optimiser are those every
StarGAN-family trainer shares (:mod:`faceedit.train.critic`). Networks are called through
``forward`` only, so the trainer also runs under DistributedDataParallel.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from faceedit.models.layers import ClassCritic, zero_heads
from faceedit.models.lssl import LSSL, LSSLConfig, LSSLGenerator, side_image
from faceedit.models.stargan import KEEP, AttributeSpace
from faceedit.train.critic import adam, critic_layers, critic_step, load_parser_or_warn
from faceedit.train.losses import wgan_generator_loss
from faceedit.train.trainer import MethodTrainer

MODEL_DEFAULTS = LSSLConfig.defaults()
MODEL_KEYS = tuple(k for k in MODEL_DEFAULTS if k != "attributes")


def flip_batch(images: list[torch.Tensor], labels: dict[str, torch.Tensor],
               vocab: dict[str, list[str]], prob: float = 0.5) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    """Mirror a random half of the rows of every image tensor in ``images`` (same rows in each)
    and swap the labels a mirror changes (``left`` / ``right`` lighting)."""
    from faceedit.analysis.classify import FLIP_SWAPS

    b = images[0].shape[0]
    rows = torch.rand(b, device=images[0].device) < prob
    if not bool(rows.any()):
        return images, labels
    m = rows.view(b, 1, 1, 1)
    images = [torch.where(m, t.flip(-1), t) for t in images]
    labels = dict(labels)
    for key, swaps in FLIP_SWAPS.items():
        if key not in labels or key not in vocab:
            continue
        lab = labels[key].clone()
        for a, c in swaps.items():
            if a in vocab[key] and c in vocab[key]:
                ia, ic = vocab[key].index(a), vocab[key].index(c)
                lab[rows & (labels[key] == ia)] = ic
        labels[key] = lab
    return images, labels


# ----------------------------------------------------------------------------------------------
# LSSL
# ----------------------------------------------------------------------------------------------


class LSSLTrainer(MethodTrainer):
    method = "LSSL"
    arch = "lssl"
    label_keys = ("expression", "lighting")
    needs_labels = ("expression",)
    uses_stage = True
    config_class = LSSLConfig
    channels = 1  # luma: see faceedit.models.lssl (only London is colour, and only neutral/happy)
    default_config: dict[str, Any] = {
        **{k: MODEL_DEFAULTS[k] for k in MODEL_KEYS},
        "image_size": 64,  # CPU budget
        "channels": 1,
        "n_down": 4,  # 4x4 latent = h/16 (sec. 3.1); see faceedit.models.lssl
        "residual": True,  # not in the paper; see faceedit.models.lssl
        # widths (the paper gives none) sized for a CPU: G 0.85 M parameters (1.7 MB in fp16)
        "base_channels": 16,
        "max_channels": 64,
        "d_channels": 16,  # critic width of the first layer (StarGAN: 64)
        "d_layers": None,  # None: down to a 2x2 score map
        "d_max_channels": 256,
        "lr": 1e-4,
        "betas": [0.5, 0.999],
        "n_critic": 5,
        "lambda_bi": 10.0,
        "lambda_id": 10.0,
        "lambda_p": 10.0,
        "lambda_gp": 10.0,
        "lambda_cls": 1.0,
        "keep_prob": 0.2,
        "flip": True,
    }
    default_batch_size = 8

    def build(self) -> None:
        c = self.config
        self.space = AttributeSpace.from_vocab(self.data.vocab, self.label_keys)
        size = self.data.size
        self.model_config = LSSLConfig.from_dict({**{k: c[k] for k in MODEL_KEYS}, "image_size": size,
                                                "channels": self.channels,
                                                "attributes": self.space.to_config()})
        g = LSSLGenerator(self.channels, self.space.dim, base=int(c["base_channels"]),
                          max_channels=int(c["max_channels"]), n_down=int(c["n_down"]),
                          n_res=int(c["n_res"]), norm=c["norm"], residual=bool(c["residual"]))
        d = ClassCritic(size, self.channels + 1, int(c["d_channels"]),
                        critic_layers(size, c["d_layers"]), self.space.dim, int(c["d_max_channels"]))
        self.nets = {"G": g, "D": d}
        self.opts = {k: adam(m, float(c["lr"]), c["betas"]) for k, m in self.nets.items()}
        self.parse = load_parser_or_warn(self.device, "LSSL face-parsing loss") if c["lambda_p"] else None
        lm = self.data.train.landmarks
        self.mean_landmarks = torch.nanmean(lm, 0) if lm is not None and len(lm) else torch.zeros(68, 2)

    def stage_vocab(self) -> tuple[list[str], list[str]]:
        def values(key: str) -> list[str]:
            return list(self.space.values[self.space.keys.index(key)]) if key in self.space.keys else []

        return values("expression"), values("lighting")

    def start_as_identity(self) -> None:
        if self.config["residual"]:
            zero_heads(self.net("G"))

    # ---- one update ----------------------------------------------------------------------------
    def _inputs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        x = batch["image"]
        s = side_image(batch["landmarks"], x.shape[-1], self.config["sigma"]).to(x.dtype)
        labels = {k: batch[k] for k in self.space.keys}
        # mirrored rows would need mirrored stage maps: no flips on the stage's edits
        if self.config["flip"] and self.training_stage is None:
            (x, s), labels = flip_batch([x, s], labels, self.data.vocab)
        return x, s, labels

    def _staged(self, x: torch.Tensor, s: torch.Tensor, batch: dict, trg: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """The stage's edit of (image, side image) towards target labels ``trg`` (-1: kept)."""
        if self.training_stage is None:
            return x, s
        none = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
        e, light = trg.get("expression", none), trg.get("lighting")
        lm = self.stage_landmarks(batch, e)
        return (self.stage_input(x, batch, e, light),
                side_image(lm, x.shape[-1], self.config["sigma"]).to(x.dtype))

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        c = self.config
        G, D = self.nets["G"], self.nets["D"]
        x, s, src = self._inputs(batch)
        real = torch.cat([x, s], 1)
        y_src = self.space.encode(src)
        logs: dict[str, float] = {}
        trg = self.space.sample_targets(src, float(c["keep_prob"]))
        with torch.no_grad(), self.autocast():
            fake = torch.cat(G(*self._staged(x, s, batch, trg), self.space.encode(trg))[:2], 1).float()
        for _ in range(int(c["n_critic"])):
            d = critic_step(self, "D", real, fake, lambda logits: self.space.cls_loss(logits, src),
                            w_gp=c["lambda_gp"], w_cls=c["lambda_cls"])
        logs.update({"d_loss": d["loss"].item(), "d_adv": d["adv"].item(), "d_gp": d["gp"].item(),
                     "d_cls_real": d["cls"].item()})

        trg = self.space.sample_targets(src, float(c["keep_prob"]))
        x_in, s_in = self._staged(x, s, batch, trg)  # the stage's edit (x, s without a stage)
        e_trg = trg.get("expression", torch.full_like(src[self.space.keys[0]], -1))
        with self.autocast():
            xf, sf, z = G(x_in, s_in, self.space.encode(trg))
            scores, logits = D(torch.cat([xf, sf], 1))
            adv = wgan_generator_loss(scores.float())
            cls = self.space.cls_loss(logits, AttributeSpace.effective(trg, src))
            ident = F.l1_loss(xf.float(), x_in)  # eq. 4, against what the generator was given
            # back to the source attributes (through the stage's inverse warp); zf = G_enc(x', s')
            xr, sr, zf = G(self.stage_back(xf, batch, e_trg), self.stage_back(sf, batch, e_trg), y_src)
            bi = (F.l1_loss(xr.float(), x) + F.l1_loss(sr.float(), s)
                  + F.l1_loss(zf.float(), z.float()))
        parse_loss = self.parsing_loss(x_in, xf) if self.parse is not None else None
        g_loss = (adv + float(c["lambda_cls"]) * cls + float(c["lambda_id"]) * ident
                  + float(c["lambda_bi"]) * bi)
        if parse_loss is not None:
            g_loss = g_loss + float(c["lambda_p"]) * parse_loss
        self.optimize("G", g_loss)
        logs.update({"g_loss": g_loss.item(), "g_adv": adv.item(), "g_cls": cls.item(),
                     "g_id": ident.item(), "g_bi": bi.item()})
        if parse_loss is not None:
            logs["g_parse"] = parse_loss.item()
        return logs

    def parsing_loss(self, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Eq. 5: pixel-wise softmax (cross-entropy) loss of P(x') against the labels of P(x)."""
        assert self.parse is not None  # called with the parser loaded only
        with torch.no_grad():
            target = self.parse(x).argmax(1)
        probs = self.parse(fake.float())
        return F.nll_loss(probs.clamp_min(1e-6).log(), target)

    # ---- samples and export ----------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """input | every expression | every lighting (expression kept) | side image in | side
        image of the first expression edit."""
        model = self.generator().to(self.device)
        x = batch["image"]
        side = side_image(batch["landmarks"], x.shape[-1], self.config["sigma"]).to(x.dtype)
        cols = [x]
        first_side = None
        exprs, lights = self.stage_vocab()
        b = x.shape[0]

        def staged(e: int, light: int) -> tuple[torch.Tensor, torch.Tensor]:
            full = lambda v: torch.full((b,), v, dtype=torch.long, device=x.device)  # noqa: E731
            return self._staged(x, side, batch, {"expression": full(e), "lighting": full(light)})

        for t in model.targets():
            if t == KEEP:
                continue
            y = model.condition(t, None, b, x.device)
            out, s_out, _ = model.G(*staged(exprs.index(t) if t in exprs else -1, -1), y)
            cols.append(out)
            first_side = s_out if first_side is None else first_side
        for light in model.lightings:
            xl, sl = staged(-1, lights.index(light) if light in lights else -1)
            cols.append(model.G(xl, sl, model.condition(KEEP, light, b, x.device))[0])
        assert first_side is not None  # the model has two expression targets or more
        cols += [side.expand_as(x), first_side.expand_as(x)]
        return torch.cat(cols, -1)

    def generator(self) -> LSSL:
        model = LSSL(self.model_config)
        model.G.load_state_dict(self.net("G").state_dict())
        model.mean_landmarks.copy_(self.mean_landmarks)
        return model.cpu().eval()

    def export_info(self) -> dict[str, Any]:
        targets = list(self.space.values[self.space.keys.index("expression")]) + [KEEP]
        return {
            "config": self.model_config.to_dict(),  # export checks the model's own against it
            "targets": targets,
            "conditions": self.space.to_config(),
            "extra": {"parsing_loss": self.parse is not None, "color_match": False, "delta_smooth": 4.0,
                      "notes": "1-channel (luma) model; pass crop landmarks as edit(landmarks=...)"},
        }
