"""Image similarity metrics on batches of images in [-1, 1] (B, C, H, W)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per image, in [0, 255] grey levels."""
    return (x - y).abs().flatten(1).mean(1) * 127.5


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """The normalised 2-D Gaussian window (size x size, standard deviation ``sigma``) of SSIM and
    MS-SSIM."""
    g = torch.exp(-((torch.arange(size) - size // 2) ** 2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)




def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5,
    K1 0.01, K2 0.03, data range 2 for [-1, 1]), averaged over channels and positions."""
    c = x.shape[1]
    w = gaussian_window().to(x).expand(c, 1, 11, 11)
    conv = lambda t: F.conv2d(t, w, groups=c)  # noqa: E731
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    mx, my = conv(x), conv(y)
    sxx = conv(x * x) - mx**2
    syy = conv(y * y) - my**2
    sxy = conv(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)
