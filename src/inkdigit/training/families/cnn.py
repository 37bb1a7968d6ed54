"""The convolutional network: the family inkdigit ships.

Small on purpose: it must train to MNIST ≥ 99.6 % in minutes on two CPU cores and answer in well
under a millisecond through ONNX Runtime. Batch norm makes it train fast at a high learning rate;
dropout before the classifier keeps it from memorising MNIST's particular writers.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inkdigit.training.families.torchnet import TorchDigits


class DigitCNN(nn.Module):
    """conv32 → pool → conv64 → pool → conv128 → fc128 → fc10, each conv with BN and ReLU
    (``outputs`` other than 10: the same network for another head, e.g. the digit-or-not gate)."""

    def __init__(self, width: int = 32, hidden: int = 128, dropout: float = 0.3, outputs: int = 10) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * w)
        self.conv3 = nn.Conv2d(2 * w, 4 * w, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * w)
        self.fc1 = nn.Linear(4 * w * 7 * 7, hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [0, 1] → (N, outputs) logits."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class CNNDigits(TorchDigits):
    family = "cnn"

    def __init__(self, width: int = 32, hidden: int = 128, dropout: float = 0.3, epochs: int = 30,
                 batch_size: int = 128, lr: float = 3e-3, weight_decay: float = 5e-4,
                 label_smoothing: float = 0.05, negative_fraction: float = 0.125,
                 negative_weight: float = 0.5, seed: int = 1, threads: int = 0,
                 checkpoint: str | None = None, dry_run: bool = False) -> None:
        self.width = width
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr  # peak of the one-cycle schedule
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.negative_fraction = negative_fraction  # non-digits per batch, as a fraction of it
        self.negative_weight = negative_weight  # weight of their uniform-target loss
        self.seed = seed
        self.threads = threads  # 0: every core
        self.checkpoint = checkpoint
        self.dry_run = dry_run

    def network(self) -> nn.Module:
        return DigitCNN(self.width, self.hidden, self.dropout)

    def architecture(self) -> dict[str, Any]:
        return {"width": self.width, "hidden": self.hidden, "dropout": self.dropout,
                **self._torch_architecture()}
