"""A tiny but real conditional WGAN-GP trainer on the shared loop, for loop/DDP/eval tests.

G: a residual 3x3-conv generator conditioned on a one-hot expression; D: a ClassCritic. Losses:
WGAN-GP + classification + cycle reconstruction, two critic steps per G step. Registered arch
``test-tiny-gan`` (imported through FACEEDIT_PLUGINS in subprocess tests).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.models.base import EditModel
from faceedit.models.layers import ClassCritic, broadcast_condition
from faceedit.models.registry import ARCHS, register_arch
from faceedit.train.losses import gradient_penalty, masked_cross_entropy, wgan_discriminator_loss, wgan_generator_loss
from faceedit.train.trainer import MethodTrainer


class TinyG(nn.Module):
    def __init__(self, n: int, width: int = 8) -> None:
        super().__init__()
        self.n = n
        self.body = nn.Sequential(nn.Conv2d(3 + n, width, 3, 1, 1), nn.ReLU(), nn.Conv2d(width, 3, 3, 1, 1))

    def forward(self, x, c):
        return (x + self.body(broadcast_condition(x, F.one_hot(c, self.n).float()))).clamp(-1, 1)


class TinyGanModel(EditModel):
    def __init__(self, config: dict) -> None:
        super().__init__()
        self.names = list(config["targets"])
        self.G = TinyG(len(self.names), config.get("width", 8))

    def targets(self):
        return self.names

    @torch.no_grad()
    def edit(self, x, target, strength=1.0, **options):
        c = torch.full((x.shape[0],), self.names.index(self.check_target(target)), dtype=torch.long, device=x.device)
        return self.G(x, c)


if "test-tiny-gan" not in ARCHS:
    register_arch("test-tiny-gan")(TinyGanModel)


class TinyGanTrainer(MethodTrainer):
    method = "tiny test GAN"
    arch = "test-tiny-gan"
    label_keys = ("expression",)
    needs_labels = ("expression",)
    default_config = {"width": 8}
    default_batch_size = 4

    def build(self):
        n = len(self.data.vocab["expression"])
        self.nets = {"G": TinyG(n, self.config["width"]), "D": ClassCritic(self.data.size, 3, 8, 3, n)}
        self.opts = {k: torch.optim.Adam(m.parameters(), 1e-3, betas=(0.5, 0.999)) for k, m in self.nets.items()}

    def train_step(self, batch, step):
        G, D = self.nets["G"], self.nets["D"]
        x, y = batch["image"], batch["expression"]
        n = len(self.data.vocab["expression"])
        trg = torch.randint(0, n, y.shape, device=x.device)
        for _ in range(2):
            with self.autocast():
                fake = G(x, trg).detach()
                rs, rl = D(x)
                fs, _ = D(fake)
                d = wgan_discriminator_loss(rs, fs) + masked_cross_entropy(rl, y)
            d = d + 10 * gradient_penalty(D, x, fake)
            self.optimize("D", d)
        with self.autocast():
            fake = G(x, trg)
            fs, fl = D(fake)
            rec = (G(fake, y.clamp(min=0)) - x).abs().mean()
            g = wgan_generator_loss(fs) + F.cross_entropy(fl, trg) + 10 * rec
        self.optimize("G", g)
        return {"d": d.item(), "g": g.item(), "rec": rec.item()}

    def samples(self, batch):
        G = self.net("G")
        x = batch["image"]
        cols = [x] + [G(x, torch.full((x.shape[0],), i, dtype=torch.long, device=x.device))
                      for i in range(len(self.data.vocab["expression"]))]
        return torch.cat(cols, -1)

    def generator(self):
        m = TinyGanModel({"targets": self.data.vocab["expression"], "width": self.config["width"]})
        m.G.load_state_dict(self.net("G").state_dict())
        return m.eval()

    def export_info(self):
        return {"config": {"targets": self.data.vocab["expression"], "width": self.config["width"]},
                "targets": self.data.vocab["expression"],
                "conditions": {"expression": self.data.vocab["expression"]}}
