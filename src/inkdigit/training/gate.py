"""The digit-or-not gate: a small network that says whether a preprocessed image is a digit at all.

Why a second network: a classifier trained on digits alone answers every input with some digit,
and its confidence is a poor judge of "is this a digit". Measured on cnn-v3 with 600 synthetic
non-digits: its threshold (0.631) rejected 30 % of them, and a threshold low enough to reject no
more than 1 % of the suite's real digits (about 0.35) rejected 3 %. Teaching the classifier itself
to be unsure of non-digits (Outlier Exposure) cost 0.3 points on MNIST and 1 on USPS. A separate
binary network, trained on the same digits against synthetic non-digits (``negatives.py``), leaves
the digit classifier exactly as it was; the two are exported as one ONNX graph with two outputs
(``logits`` and ``digit_score``), so serving still makes one call. Its threshold is set from
held-out real digits (see ``train.py``) and recorded in the model card.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inkdigit.training.augment import augment
from inkdigit.training.families.base import Progress, quiet
from inkdigit.training.families.cnn import DigitCNN

#: the ONNX output holding the gate's score (a logit: above the card's threshold means "a digit")
SCORE_OUTPUT = "digit_score"
#: the ONNX output of the piece scorer, a second gate that reading a number uses to decide where
#: one digit ends (its logit: "this piece of a line is one whole digit", not half of one or two)
PIECE_OUTPUT = "piece_score"


class DigitGate(DigitCNN):
    """The classifier's network, narrower (conv16 → conv32 → conv64 → fc32) with one logit out."""

    def __init__(self, width: int = 16, hidden: int = 32) -> None:
        super().__init__(width, hidden, dropout=0.0, outputs=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [0, 1] → (N,) logits of "this is a digit"."""
        return super().forward(x).squeeze(1)


class Gated(nn.Module):
    """A digit classifier and its gate as one graph: ``(logits (N, 10), digit_score (N,))``, and
    with a piece scorer ``piece_score (N,)`` as a third output."""

    def __init__(self, classifier: nn.Module, gate: nn.Module, piece: nn.Module | None = None) -> None:
        super().__init__()
        self.classifier = classifier
        self.gate = gate
        self.piece = piece

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.piece is None:
            return self.classifier(x), self.gate(x)
        return self.classifier(x), self.gate(x), self.piece(x)


def _tensor(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(x, dtype=np.float32))
    return (t / 255.0 if np.asarray(x).dtype == np.uint8 else t).reshape(len(x), 1, *x.shape[-2:])


def fit_gate(digits: np.ndarray, non_digits: np.ndarray, *, epochs: int = 4, batch_size: int = 256,
             lr: float = 3e-3, seed: int = 1, threads: int = 0, dry_run: bool = False,
             progress: Progress | None = None) -> DigitGate:
    """Train a gate on ``digits`` against ``non_digits`` ((N, 28, 28), uint8 or [0, 1]).

    Each batch is half digits, half non-digits (there are fewer non-digits: they are drawn again),
    both augmented as the classifier's training images are, so the gate cannot tell the two apart
    by augmentation. One epoch is one pass over the digits."""
    report = progress or quiet
    if not len(digits) or not len(non_digits):
        raise ValueError("the gate needs digits and non-digits to learn from")
    torch.manual_seed(seed)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    gen = torch.Generator().manual_seed(seed)
    pos, neg = _tensor(digits), _tensor(non_digits)
    half = batch_size // 2
    steps = 1 if dry_run else max(1, len(pos) // half)
    epochs = 1 if dry_run else epochs
    gate = DigitGate()
    opt = torch.optim.AdamW(gate.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps, pct_start=0.2)
    for epoch in range(epochs):
        gate.train()
        order = torch.randperm(len(pos), generator=gen)
        loss_sum = 0.0
        for step in range(steps):
            xp = pos[order[step * half: (step + 1) * half]]  # fewer than half when there are few digits
            xb = augment(torch.cat([xp, neg[torch.randint(len(neg), (half,), generator=gen)]]), gen)
            target = torch.cat([torch.ones(len(xp)), torch.zeros(half)])
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(gate(xb), target)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
            report("gate", epoch * steps + step + 1, epochs * steps,
                   {"epoch": epoch + 1, "loss": loss_sum / (step + 1)})
    return gate.eval()


def gate_scores(gate: nn.Module, x: np.ndarray) -> np.ndarray:
    """The gate's logits for preprocessed images (N, 28, 28)."""
    with torch.no_grad():
        return torch.cat([gate(_tensor(x[i: i + 1000])) for i in range(0, len(x), 1000)]).numpy()
