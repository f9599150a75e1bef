"""The small backbone the analysis networks share, and their input convention.

The code lives in :mod:`faceedit.models.layers` (SeCGAN's source network is one too, and models
sit below analysis); re-exported here.

Inputs are face crops aligned to the default template, ``(B, C, H, W)`` in [-1, 1] at any size
(C = 1 or 3). ``prepare_input`` resizes them to the network's working size and, for
``channels=1`` networks, reduces colour to BT.601 luma, so the same network takes colour photos and
greyscale training sets alike. Everything is differentiable: the GAN losses back-propagate through
these networks.
"""

from faceedit.models.layers import BasicBlock, SmallResNet, prepare_input

__all__ = ["BasicBlock", "SmallResNet", "prepare_input"]
