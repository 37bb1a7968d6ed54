"""A multi-layer perceptron: the network that sees pixels without knowing they form an image.

Two hidden layers with batch norm, ReLU and dropout, trained by the same loop and augmentation as
the CNN. Without convolutions it must learn each position separately, which is why centring and
deskewing in preprocessing matter more to it than to the CNN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from inkdigit.training.families.torchnet import TorchDigits


class DigitMLP(nn.Module):
    """784 → hidden… → 10, each hidden layer Linear → BatchNorm → ReLU → Dropout."""

    def __init__(self, hidden: Sequence[int] = (512, 256), dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 28 * 28
        for h in hidden:
            layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [0, 1] → (N, 10) logits."""
        return self.out(self.hidden(torch.flatten(x, 1)))


class MLPDigits(TorchDigits):
    family = "mlp"

    def __init__(self, hidden: Sequence[int] = (512, 256), dropout: float = 0.2, epochs: int = 20,
                 batch_size: int = 128, lr: float = 3e-3, weight_decay: float = 5e-4,
                 label_smoothing: float = 0.05, negative_fraction: float = 0.125,
                 negative_weight: float = 0.5, seed: int = 1, threads: int = 0,
                 checkpoint: str | None = None, dry_run: bool = False) -> None:
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.negative_fraction = negative_fraction
        self.negative_weight = negative_weight
        self.seed = seed
        self.threads = threads
        self.checkpoint = checkpoint
        self.dry_run = dry_run

    def network(self) -> nn.Module:
        return DigitMLP(self.hidden, self.dropout)

    def architecture(self) -> dict[str, Any]:
        return {"hidden": list(self.hidden), "dropout": self.dropout, **self._torch_architecture()}
