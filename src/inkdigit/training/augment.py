"""Training-time augmentation shared by the neural families (PyTorch).

Preprocessing removes position, size and most slant; what is left to learn is the residual:
rotation, proportions, shear, a pixel or two of offset, and how heavily a pen draws.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment(x: torch.Tensor, generator: torch.Generator, rotate: float = 12.0,
            scale: tuple[float, float] = (0.85, 1.1), shear: float = 0.25, shift: float = 2.5,
            thickness_p: float = 0.2) -> torch.Tensor:
    """Random affine (rotation, anisotropic scale, shear, shift) and stroke thickness on a batch.

    These are the variations preprocessing cannot remove: residual slant and size error, and how
    heavily a pen or brush draws. One ``affine_grid`` call for the whole batch keeps it cheap.
    """
    n = x.shape[0]

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (hi - lo) + lo

    angle = u(-rotate, rotate) * math.pi / 180
    sx, sy = u(*scale), u(*scale)
    sh = u(-shear, shear)
    tx, ty = u(-shift, shift) * 2 / 28, u(-shift, shift) * 2 / 28
    cos, sin = torch.cos(angle), torch.sin(angle)
    # inverse map: output coords → input coords (affine_grid's convention)
    a = torch.stack([
        torch.stack([cos / sx, (-sin + sh * cos) / sx, tx], 1),
        torch.stack([sin / sy, (cos + sh * sin) / sy, ty], 1),
    ], 1)
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    r = torch.rand(n, generator=generator)
    thick = (r < thickness_p / 2).view(n, 1, 1, 1)
    thin = ((r >= thickness_p / 2) & (r < thickness_p)).view(n, 1, 1, 1)
    dil = F.max_pool2d(out, 3, 1, 1)
    ero = -F.max_pool2d(-out, 3, 1, 1)
    out = torch.where(thick, 0.5 * out + 0.5 * dil, out)
    out = torch.where(thin, 0.5 * out + 0.5 * ero, out)
    return out
