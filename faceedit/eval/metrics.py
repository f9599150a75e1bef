"""Image similarity metrics on batches of images in [-1, 1] (B, C, H, W).

SSIM is torchmetrics' (Gaussian window 11 x 11, sigma 1.5, K1 0.01, K2 0.03, data range 2),
averaged, as in Wang et al. 2004, over the windows that lie inside the image: torchmetrics' own
mean also counts the 5-px border, computed from reflection-padded pixels, which moves a 128-px
face crop's SSIM by up to 0.08 (0.32 -> 0.38 on London neutral/smiling pairs). MS-SSIM stays
ours: torchmetrics' takes its coarsest scale's SSIM over that padded border too (up to 0.11 off,
and the coarsest scale of a 128-px crop is 16 px wide) and accepts no other convention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

WINDOW, SIGMA, K1, K2, DATA_RANGE = 11, 1.5, 0.01, 0.03, 2.0
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, 5 scales


def l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per image, in [0, 255] grey levels."""
    return (x - y).abs().flatten(1).mean(1) * 127.5


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5,
    K1 0.01, K2 0.03, data range 2 for [-1, 1]), averaged over channels and over the window
    positions inside the image (torchmetrics' SSIM map without its padded border)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    _, full = structural_similarity_index_measure(
        x, y, gaussian_kernel=True, sigma=SIGMA, kernel_size=WINDOW, data_range=DATA_RANGE, k1=K1, k2=K2,
        reduction="none", return_full_image=True,
    )
    r = WINDOW // 2
    return full[..., r:-r, r:-r].flatten(1).mean(1)


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """The normalised 2-D Gaussian window (size x size, standard deviation ``sigma``) of
    :func:`ms_ssim`."""
    g = torch.exp(-((torch.arange(size) - size // 2) ** 2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def ms_ssim(x: torch.Tensor, y: torch.Tensor, scales: int | None = None, window: int = WINDOW,
            sigma: float = SIGMA) -> torch.Tensor:
    """Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) per image, images in [-1, 1];
    differentiable (EGGAN's reconstruction loss).

    At each scale the contrast-structure term ``cs`` (Gaussian window, K1 0.01, K2 0.03, data
    range 2) is averaged over positions and channels; the luminance term enters at the coarsest
    scale only; between scales the images are 2x2 average-pooled. The exponents are the paper's
    five weights, the first ``scales`` of them renormalised to sum to 1. ``scales=None`` takes as
    many as keep the coarsest image at least 16 px (3 at 64 px, 4 at 128 px, the full 5 from
    256 px): the 11-px window needs room. Negative ``cs`` values are clipped to 0 (as
    pytorch-msssim does) so the fractional powers stay real. Computed in float32.
    """
    x, y = x.float(), y.float()
    side = min(x.shape[-2:])
    if scales is None:
        scales = max(1, min(len(MS_SSIM_WEIGHTS), int(math.log2(side / 16)) + 1))
    if side // 2 ** (scales - 1) < window:
        raise ValueError(f"{scales} MS-SSIM scales need images of at least {window * 2 ** (scales - 1)} px")
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], device=x.device)
    weights = weights / weights.sum()
    c = x.shape[1]
    w = gaussian_window(window, sigma).to(x).expand(c, 1, window, window)
    c1, c2 = (K1 * DATA_RANGE) ** 2, (K2 * DATA_RANGE) ** 2
    values = []
    for i in range(scales):
        if i:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        mx, my = F.conv2d(x, w, groups=c), F.conv2d(y, w, groups=c)
        sxx = F.conv2d(x * x, w, groups=c) - mx**2
        syy = F.conv2d(y * y, w, groups=c) - my**2
        sxy = F.conv2d(x * y, w, groups=c) - mx * my
        cs = (2 * sxy + c2) / (sxx + syy + c2)
        if i == scales - 1:
            cs = cs * (2 * mx * my + c1) / (mx**2 + my**2 + c1)
        values.append(cs.flatten(1).mean(1).clamp(min=0))
    return torch.stack(values, 1).pow(weights).prod(1)
