"""EGGAN training on the shared loop (paper: ``shared/papers/eggan.txt``, eq. 1-7, section 4.1).

Networks (``build``): ``G`` = :class:`~faceedit.models.eggan.EGGANNet` (encoder E with its AU
regression head + generator; exported), ``Dz`` = the latent discriminator (6 FC layers 256, 128,
64, 32, 16, 1; LeakyReLU 0.2), ``D`` = the image discriminator, a
:class:`~faceedit.models.layers.ClassCritic` of stride-2 convolutions (6 at 128 px, 5 at 64 px:
down to a 2x2 map) whose class head outputs ``17 x 6`` AU-level logits (C_exp) followed by one
logit per subject (C_id).

One ``train_step`` (``step`` counts generator updates):

1. **Critic**, ``n_critic`` updates (default 5, WGAN-GP's usual schedule; the paper gives none).
   They reuse the step's batch: the same real crops and the same fakes ``G(E(x) | u_t)``
   (generated once, without gradient), with fresh gradient-penalty interpolates each time.
   Loss: ``D(fake) - D(real) + lambda_gp GP`` (eq. 2 in its WGAN-GP form, lambda_gp 20) plus
   ``d_cls`` x (AU-level cross-entropy + identity cross-entropy) on the *real* crops: the
   classifier heads learn from real faces only, as StarGAN's does. The paper trains C_exp
   jointly (lr 2e-4) and pre-trains C_id on the training identities; here both are heads of the
   critic trained from scratch with it (its learning rate, 1e-4). The update is the shared
   :func:`faceedit.train.critic.critic_step` with real and fakes through the critic as one batch;
   its depth the shared :func:`~faceedit.train.critic.critic_layers`.
2. **Encoder + generator**, one update of
   ``L_adv^z + L_adv^img + 100 L_au + 60 L_id + 20 L_per + 100 L_rec`` (eq. 7 with the paper's
   lambda_au = 100, lambda_id = 60, lambda_per = 20, lambda_rec = 100):

   * ``L_adv^z`` (eq. 1, AAE): the encoder's non-saturating GAN loss ``-log D_z(E(x))``.
     **Prior: standard normal N(0, I)** (the paper writes N(mu_z, sigma_z) without values).
   * ``L_adv^img``: ``-D(G(E(x) | u_t))``.
   * ``L_au`` (eq. 3): cross-entropy of the critic's AU heads on the fake against the target
     levels ``round(u_t)`` in 0..5, averaged over the (row, AU) entries whose target intensity
     is known: NaN (not estimable) entries are masked out.
   * ``L_id`` (eq. 4): cross-entropy of the critic's identity head on the fake against the
     source subject.
   * ``L_per`` (eq. 5): ``per(x, x_tilde) + per(x, x_hat)``. With VGG-19 weights
     (``config["vgg19"]``: a torchvision-layout .safetensors or ``hf://`` reference) it is the
     shared :class:`~faceedit.train.losses.PerceptualLoss` on relu3_1 (the paper's phi_3; L1
     per element instead of the paper's L2 norm / CHW). Without them (faceedit ships none)
     it is **replaced by an identity-feature loss** ``(1 - cos(f(x), f(x_tilde))) + (1 -
     cos(f(x), f(x_hat)))`` through the project's identity network
     (``faceedit.analysis.identity``, when ``weights/identity.safetensors`` exists), else
     switched off; one warning says which.
   * ``L_rec`` (eq. 6): ``|x_hat - x|_1 + (1 - MS-SSIM(x_hat, x))`` with ``x_hat = G(E(x) |
     u_s)``, ``u_s`` the source AUs (NaN -> 0). MS-SSIM: :func:`faceedit.eval.metrics.ms_ssim`.

3. **Latent discriminator**: ``-log D_z(z) - log(1 - D_z(E(x)))``, z ~ N(0, I) (eq. 1).
4. **AU regression head** (not in the paper; how the exported model estimates ``u_s`` for eq. 8):
   masked MSE between its prediction on the real crops (from detached encoder features, so it
   does not shape the encoder) and their AU estimates; added to step 2's loss with weight 1 and
   stepped by the same Adam in its own parameter group at lr 2e-4 (the paper's C_exp rate).

Conditions: ``batch["aus"]`` holds each crop's 17 AU intensities
(``faceedit.faces.au.dataset_aus``, NaN = not estimable). The source condition ``u_s`` is that
vector with NaN set to 0; the target ``u_t`` is another training crop's ``u_s``, drawn by
shuffling the batch (the paper uses real target images' AUs). AUs never estimable anywhere in
the training data are stored in the exported config (``estimable_aus`` lists the others).

Adam (beta1 0.5, beta2 0.999) at 1e-4 for E, G, D_z and D (the paper's rate; its betas are not
given). The paper's linear learning-rate decay over the second half of training is not applied
(the shared loop does not tell a trainer the run's length).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.eval.metrics import ms_ssim
from faceedit.log import logger
from faceedit.models.base import EditModel
from faceedit.models.eggan import EGGAN, EGGANConfig, EGGANNet
from faceedit.models.layers import ClassCritic
from faceedit.pixels import luma_tensor
from faceedit.train.critic import critic_layers, critic_step, load_frozen_or_warn
from faceedit.train.losses import build_perceptual_loss, masked_cross_entropy, wgan_generator_loss
from faceedit.train.trainer import MethodTrainer

MODEL_DEFAULTS = EGGANConfig.defaults()
SAMPLE_TARGETS = ("happy", "surprised", "sad", "angry")


# ----------------------------------------------------------------------------------------------
# Latent discriminator and helpers
# ----------------------------------------------------------------------------------------------


class LatentDiscriminator(nn.Module):
    """D_z: 6 fully connected layers with 256, 128, 64, 32, 16 and 1 outputs (LeakyReLU 0.2)."""

    def __init__(self, latent_dim: int, widths: tuple[int, ...] = (256, 128, 64, 32, 16)) -> None:
        super().__init__()
        layers, cin = [], latent_dim
        for w in widths:
            layers += [nn.Linear(cin, w), nn.LeakyReLU(0.2, inplace=True)]
            cin = w
        layers.append(nn.Linear(cin, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(1)


def au_levels(aus: torch.Tensor, au_max: int) -> torch.Tensor:
    """Intensity levels ``round(u)`` clamped to 0..au_max (long); NaN -> -1 (masked)."""
    known = aus.isfinite()
    levels = torch.nan_to_num(aus, nan=0.0).round().clamp(0, au_max).long()
    return torch.where(known, levels, torch.full_like(levels, -1))


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE over the finite entries of ``target``; zero (with a graph) when none is."""
    known = target.isfinite()
    if not bool(known.any()):
        return pred.sum() * 0.0
    return F.mse_loss(pred[known], target[known])


class EGGANTrainer(MethodTrainer):
    method = "EGGAN"
    arch = "eggan"
    label_keys: tuple[str, ...] = ()
    needs_labels: tuple[str, ...] = ()
    needs_aus = True
    uses_stage = True
    channels = 3
    config_class = EGGANConfig
    default_config: dict[str, Any] = {
        **{k: v for k, v in MODEL_DEFAULTS.items() if k not in ("estimable_aus",)},
        "d_channels": 32,  # critic width after its first conv (doubles per layer)
        "d_max_channels": 256,
        "d_layers": None,  # stride-2 convs of the critic; None = log2(image_size) - 1 (6 at 128)
        "n_critic": 5,  # critic updates per G update (0: no critic update; tests)
        "lr": 1e-4,  # E, G, D_z, D (paper)
        "au_head_lr": 2e-4,
        "betas": [0.5, 0.999],
        "lambda_au": 100.0,
        "lambda_id": 60.0,
        "lambda_per": 20.0,
        "lambda_rec": 100.0,
        "lambda_gp": 20.0,
        "lambda_adv": 1.0,  # image adversarial (eq. 7: weight 1)
        "lambda_z": 1.0,  # latent adversarial (eq. 7: weight 1)
        "d_cls": 1.0,  # weight of the critic's own AU/identity classification on real crops
        "perceptual": "auto",  # auto (vgg19 if given, else identity, else off) | vgg | identity | off
        "vgg19": None,  # VGG-19 weights for the perceptual loss
        "msssim_scales": None,  # None = as many as fit (3 at 64 px, 4 at 128 px)
        # with the stage: L1 between the edit and the stage's edit it was given, weighted as
        # the reconstruction (not in the paper; as LEGAN's and SeCGAN's, it keeps the AU and
        # identity heads from repainting what the stage did)
        "lambda_stage": 100.0,
    }
    default_batch_size = 8  # the paper's

    # ---- setup ------------------------------------------------------------------------------
    def model_config(self) -> EGGANConfig:
        """The exported generator's config: the model keys of ``self.config``, with the AUs that
        the training data could estimate."""
        cfg = EGGANConfig.from_dict({k: self.config[k] for k in MODEL_DEFAULTS if k in self.config})
        aus = self.data.train.aus
        if aus is not None and len(aus):
            seen = aus.isfinite().any(0).tolist()
            assert cfg.au_ids is not None  # filled by validate()
            cfg = cfg.replace(estimable_aus=[a for a, s in zip(cfg.au_ids, seen) if s])
        return cfg

    def build(self) -> None:
        c = self.config
        self.mcfg = self.model_config()
        assert self.mcfg.au_ids is not None  # filled by validate()
        size = self.mcfg.image_size
        if size != self.data.size:
            raise ValueError(f"EGGAN config image_size {size} but the crops are {self.data.size} px")
        self.n_aus, self.au_max = len(self.mcfg.au_ids), int(self.mcfg.au_max)
        if self.data.train.aus is not None and self.data.train.aus.shape[1] != self.n_aus:
            raise ValueError(f"the data has {self.data.train.aus.shape[1]} AUs, the model {self.n_aus}")
        subjects = [s.subjects for s in (self.data.train, self.data.held) if len(s) and s.subjects is not None]
        self.n_ids = int(max(int(s.max()) for s in subjects)) + 1
        g = EGGANNet(self.mcfg)
        self.nets = {
            "G": g,
            "Dz": LatentDiscriminator(self.mcfg.latent_dim),
            "D": ClassCritic(size, self.mcfg.channels, int(c["d_channels"]),
                             critic_layers(size, c["d_layers"]),
                             self.n_aus * (self.au_max + 1) + self.n_ids, int(c["d_max_channels"])),
        }
        head = set(map(id, g.encoder.au_head.parameters()))
        betas = tuple(c["betas"])
        self.opts = {
            # one optimiser for E, G and the AU head (one backward per step; DDP needs every
            # parameter of a module to receive its gradient in the same backward)
            "G": torch.optim.Adam([
                {"params": [p for p in g.parameters() if id(p) not in head], "lr": c["lr"]},
                {"params": list(g.encoder.au_head.parameters()), "lr": c["au_head_lr"]},
            ], betas=betas),
            "Dz": torch.optim.Adam(self.nets["Dz"].parameters(), c["lr"], betas=betas),
            "D": torch.optim.Adam(self.nets["D"].parameters(), c["lr"], betas=betas),
        }
        self.per_kind, self.per_fn = self._perceptual()

    def _perceptual(self):
        """(kind, loss(x, y) -> scalar) or ("off", None); logs once what stands in for VGG."""
        kind = self.config["perceptual"]
        if kind not in ("auto", "vgg", "identity", "off"):
            raise ValueError(f"perceptual must be auto, vgg, identity or off, got {kind!r}")
        if kind == "off" or not self.config["lambda_per"]:
            return "off", None
        if kind == "vgg" or (kind == "auto" and self.config["vgg19"]):
            loss = build_perceptual_loss(self.config["vgg19"], layers=("relu3_1",))
            if loss is None:  # build_perceptual_loss has warned
                return "off", None
            loss = loss.to(self.device)
            return "vgg", loss
        net = load_frozen_or_warn("identity", "EGGAN perceptual loss (no VGG-19 weights in config vgg19, "
                                  "and no identity network to stand in for them)", device=self.device)
        if net is None:
            return "off", None
        if kind == "auto":
            logger.warning("EGGAN perceptual loss: no VGG-19 weights (config vgg19); using the "
                           "identity-feature loss of weights/identity.safetensors in its place")
        return "identity", lambda a, b: (1 - (net.embed(a) * net.embed(b)).sum(1)).mean()

    def stage_vocab(self) -> tuple[list[str], list[str]]:
        """Every expression label of the rows (EGGAN's own conditions are AUs)."""
        rows = self.data.train.rows + self.data.held.rows
        return sorted({str(r["labels"]["expression"]) for r in rows if r["labels"].get("expression")}), []

    def _stage_targets(self, batch: dict[str, Any], perm: torch.Tensor) -> torch.Tensor:
        """Expression index of the row each AU target comes from, -1 where it is the row's own."""
        if not hasattr(self, "_row_expr"):
            vocab = self.stage_vocab()[0]
            rows = self.data.train.rows + self.data.held.rows
            self._row_expr = torch.tensor([vocab.index(str(r["labels"]["expression"]))
                                           if r["labels"].get("expression") else -1 for r in rows])
        e = self._row_expr.to(batch["index"].device)[batch["index"]]
        return torch.where(e[perm] != e, e[perm], -1)

    # ---- one step ---------------------------------------------------------------------------
    def _au_ids(self) -> list[int]:
        assert self.mcfg.au_ids is not None  # filled by validate()
        return self.mcfg.au_ids

    def _targets(self) -> list[str]:
        assert self.mcfg.targets is not None  # filled by validate()
        return self.mcfg.targets

    def _net_g(self) -> EGGANNet:
        g = self.net("G")
        assert isinstance(g, EGGANNet)
        return g

    def _split_logits(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.n_aus * (self.au_max + 1)
        return logits[:, :k].reshape(-1, self.au_max + 1), logits[:, k:]

    def _image(self, batch: dict[str, Any]) -> torch.Tensor:
        x = batch["image"]
        if self.mcfg.channels == 1 and x.shape[1] == 3:
            x = luma_tensor(x)
        return x

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        c = self.config
        G, Dz, D = self.nets["G"], self.nets["Dz"], self.nets["D"]
        x = self._image(batch)
        b = x.shape[0]
        estimable, au_ids = self.mcfg.estimable_aus, self._au_ids()
        mask = torch.tensor([estimable is None or a in estimable for a in au_ids], device=x.device)
        aus = batch["aus"].float().masked_fill(~mask, float("nan"))
        u_s = torch.nan_to_num(aus, nan=0.0)
        perm = torch.randperm(b, device=x.device)
        u_t, aus_t = u_s[perm], aus[perm]
        lv_s, lv_t = au_levels(aus, self.au_max).flatten(), au_levels(aus_t, self.au_max).flatten()
        subject = batch["subject"]
        # the network sees the stage's move towards the expression of the row u_t comes from
        x_in = self.stage_input(x, batch, self._stage_targets(batch, perm)) if self.training_stage is not None else x

        # 1. critic: n_critic updates on this batch's real crops and fakes
        d_adv = gp = d_cls = x.new_zeros(())
        if c["n_critic"]:
            with torch.no_grad(), self.autocast():
                fake = G(x_in, u_t)[2][0].float()

        def real_classes(logits: torch.Tensor) -> torch.Tensor:  # C_exp (AU levels) + C_id (subject)
            r_au, r_id = self._split_logits(logits.float())
            return masked_cross_entropy(r_au, lv_s) + masked_cross_entropy(r_id, subject)

        for _ in range(int(c["n_critic"])):
            d = critic_step(self, "D", x, fake, real_classes, w_gp=c["lambda_gp"], w_cls=c["d_cls"],
                            joint=True)
            d_adv, gp, d_cls = d["adv"], d["gp"], d["cls"]

        # 2. encoder + generator (+ the AU head, on detached features)
        with self.autocast():
            if self.training_stage is None:
                latent, au_pred, (fake, rec) = G(x, u_t, u_s)
            else:  # fake from the stage's edit, reconstruction from the source (one encoder batch)
                latent, au_pred, (both,) = G(torch.cat([x_in, x]), torch.cat([u_t, u_s]))
                fake, rec, au_pred = both[:b], both[b:], au_pred[b:]
            fake, rec = fake.float(), rec.float()
            fs, fl = D(fake)
            f_au, f_id = self._split_logits(fl.float())
            l_adv = wgan_generator_loss(fs.float())
            l_z = F.binary_cross_entropy_with_logits(Dz(latent).float(), torch.ones(len(latent), device=x.device))
            l_au = masked_cross_entropy(f_au, lv_t)
            l_id = masked_cross_entropy(f_id, subject)
        l_rec = (rec - x).abs().mean() + (1 - ms_ssim(rec, x, c["msssim_scales"]).mean())
        l_per = (self.per_fn(x, fake) + self.per_fn(x, rec)) if self.per_fn is not None else x.new_zeros(())
        l_head = masked_mse(au_pred.float(), aus)
        loss = (c["lambda_adv"] * l_adv + c["lambda_z"] * l_z + c["lambda_au"] * l_au + c["lambda_id"] * l_id
                + c["lambda_per"] * l_per + c["lambda_rec"] * l_rec)
        l_stage = self.stage_l1(fake, x_in)
        if l_stage is not None:
            loss = loss + c["lambda_stage"] * l_stage
        self.optimize("G", loss + l_head)

        # 3. latent discriminator: prior N(0, I) vs codes
        latent = latent.detach()
        with self.autocast():
            logits_z = Dz(torch.cat([torch.randn_like(latent), latent])).float()
            n = len(latent)
            l_dz = F.binary_cross_entropy_with_logits(
                logits_z, torch.cat([torch.ones(n, device=x.device), torch.zeros(n, device=x.device)])) * 2
        self.optimize("Dz", l_dz)
        return {"d_adv": d_adv.item(), "gp": gp.item(), "d_cls": d_cls.item(), "g": loss.item(),
                "g_adv": l_adv.item(), "z_adv": l_z.item(), "dz": l_dz.item(), "au": l_au.item(),
                "id": l_id.item(), "per": float(l_per.detach()), "rec": l_rec.item(), "au_head": l_head.item(),
                "stage": 0.0 if l_stage is None else l_stage.item()}

    # ---- outputs ----------------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """input | reconstruction (alpha 0, direct) | a few expression targets (alpha 1, direct)."""
        x = self._image(batch)
        m = EGGAN(self.mcfg, net=self._net_g()).to(x.device)
        cols = [x, m.edit(x, m.names[0], 0.0, mode="direct")]
        exprs = self.stage_vocab()[0]

        def staged(t: str) -> torch.Tensor:
            e = torch.full((x.shape[0],), exprs.index(t) if t in exprs else -1, dtype=torch.long, device=x.device)
            return self.stage_input(x, batch, e)

        cols += [m.edit(staged(t), t, 1.0, mode="direct") for t in SAMPLE_TARGETS if t in m.names]
        return torch.cat(cols, -1)

    def generator(self) -> EditModel:
        model = EGGAN(self.mcfg)
        model.G.load_state_dict({k: v.detach().cpu() for k, v in self.net("G").state_dict().items()})
        return model.eval()

    def export_info(self) -> dict[str, Any]:
        return {
            "config": self.mcfg.to_dict(),  # export checks the model's own against it
            "targets": list(self._targets()),
            "conditions": {"aus": list(self._au_ids())},
            "extra": {"method": "EGGAN", "paper": "eggan.txt", "color_match": True, "delta_smooth": 4.0,
                      "description": "EGGAN: AU-conditioned expression editing",
                      "perceptual": self.per_kind},
        }
