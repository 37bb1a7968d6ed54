"""A card whose classifier is the mean of several cards' classifiers (their logits averaged), with
the gate, piece scorer, calibration and thresholds of the first card.

python docs/experiments/ensemble/build.py OUT_DIR BASE_CARD MEMBER_CARD...

Writes OUT_DIR/<name>.onnx and OUT_DIR/<name>.json (name: OUT_DIR's), which serve and measure as any
card does (``inkdigit evaluate --model OUT_DIR/<name>.json``). The members must be cnn-family cards
(``training.onnxnet`` rebuilds them from their ONNX files).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

from inkdigit.training import onnxnet
from inkdigit.training.families.torchnet import export_onnx


class Mean(nn.Module):
    """The members' logits, averaged."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


class Served(nn.Module):
    """The served graph's three outputs: logits, digit_score, piece_score."""

    def __init__(self, classifier: nn.Module, gate: nn.Module, piece: nn.Module) -> None:
        super().__init__()
        self.classifier, self.gate, self.piece = classifier, gate, piece

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.classifier(x), self.gate(x), self.piece(x)


def main() -> None:
    out, base, members = Path(sys.argv[1]), Path(sys.argv[2]), [Path(m) for m in sys.argv[3:]]
    out.mkdir(parents=True, exist_ok=True)
    _, first = onnxnet.load(base)
    assert first.gate is not None and first.piece is not None, "the base card needs a gate and a piece scorer"
    net = Served(Mean([onnxnet.load(m)[1].classifier for m in members]), first.gate, first.piece).eval()
    (out / f"{out.name}.onnx").write_bytes(export_onnx(net, ["logits", "digit_score", "piece_score"]))
    card = json.loads(base.read_text())
    card["name"], card["weights"] = out.name, f"{out.name}.onnx"
    (out / f"{out.name}.json").write_text(json.dumps(card, indent=2))
    print(out / f"{out.name}.json")


if __name__ == "__main__":
    main()
