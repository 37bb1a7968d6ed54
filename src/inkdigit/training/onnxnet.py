"""A served CNN back in PyTorch, from its ONNX weights, so any installed model can be fine-tuned.

The model card is the only contract between training and serving: a model installed on a server
has its card and its ONNX file, not the PyTorch checkpoint of the machine that trained it. The
exported graph of the ``cnn`` family is small and fixed (``DigitCNN``: three 3×3 convolutions,
each followed by ReLU, the first two by 2×2 max pooling, then two dense layers; the digit-or-not
gate and the piece scorer are narrower copies of it), and the exporter folds each batch norm into
the convolution before it. So the network is rebuilt here without batch norm, each convolution
with the bias the folding produced, and its initializers loaded by name; :func:`load` checks that
the rebuilt network answers as ONNX Runtime does before anything trains on it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inkdigit.engine.modelcard import ModelCard, ModelCardError


class FoldedCNN(nn.Module):
    """``DigitCNN`` with its batch norms folded into the convolutions (what the ONNX file holds)."""

    def __init__(self, width: int, hidden: int, outputs: int, dropout: float = 0.0, squeeze: bool = False) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.conv3 = nn.Conv2d(2 * w, 4 * w, 3, padding=1)
        self.fc1 = nn.Linear(4 * w * 7 * 7, hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, outputs)
        self.squeeze = squeeze  # a gate answers (N,), not (N, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        x = self.fc2(self.dropout(F.relu(self.fc1(torch.flatten(x, 1)))))
        return x.squeeze(1) if self.squeeze else x


@dataclass
class Network:
    """The served graph's parts: the digit classifier, and the gate and piece scorer if it has them."""

    classifier: FoldedCNN
    gate: FoldedCNN | None = None
    piece: FoldedCNN | None = None

    def output_names(self) -> list[str]:
        from inkdigit.training.gate import PIECE_OUTPUT, SCORE_OUTPUT

        names = ["logits"]
        if self.gate is not None:
            names.append(SCORE_OUTPUT)
        if self.piece is not None:
            names.append(PIECE_OUTPUT)
        return names


def _weights(onnx_path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def _part(weights: dict[str, np.ndarray], prefix: str, dropout: float, squeeze: bool) -> FoldedCNN:
    """The sub-network whose initializers start with ``prefix`` (``""``: a graph of the classifier alone)."""
    conv1 = weights[f"{prefix}conv1.weight"]
    fc1, fc2 = weights[f"{prefix}fc1.weight"], weights[f"{prefix}fc2.weight"]
    net = FoldedCNN(int(conv1.shape[0]), int(fc1.shape[0]), int(fc2.shape[0]), dropout, squeeze)
    state = {}
    for name in net.state_dict():
        key = prefix + name
        if key not in weights and name.endswith(".bias") and name.startswith("conv"):
            key = f"{prefix}{name.removesuffix('.bias')}.weight_bias"  # the folded batch norm's bias
        if key not in weights:
            raise ModelCardError(f"the ONNX graph has no weight {key!r}: not a cnn-family graph this can tune")
        state[name] = torch.from_numpy(np.array(weights[key], dtype=np.float32))
    net.load_state_dict(state)
    return net.eval()


def load(card_path: Path, check: bool = True) -> tuple[ModelCard, Network]:
    """The card at ``card_path`` and its network rebuilt in PyTorch (evaluation mode).

    Only the ``cnn`` family can be rebuilt; with ``check`` the rebuilt network's outputs are compared
    with ONNX Runtime's on a few inputs, so a graph of another shape is refused, not trained wrong."""
    card = ModelCard.load(card_path)
    if card.family != "cnn":
        raise ModelCardError(f"{card.name} is a {card.family} model; only cnn models can be fine-tuned")
    onnx_path = Path(card_path).parent / card.weights_file
    weights = _weights(onnx_path)
    dropout = float(card.architecture.get("dropout", 0.0))
    gated = any(k.startswith("classifier.") for k in weights)
    if gated:
        network = Network(_part(weights, "classifier.", dropout, False),
                          _part(weights, "gate.", 0.0, True) if "gate.conv1.weight" in weights else None,
                          _part(weights, "piece.", 0.0, True) if "piece.conv1.weight" in weights else None)
    else:
        network = Network(_part(weights, "", dropout, False))
    if check:
        _check(onnx_path, network)
    return card, network


def outputs(network: Network, x: torch.Tensor) -> list[np.ndarray]:
    """Every output of the rebuilt graph for images ``x`` (N, 1, 28, 28), as ONNX Runtime orders them."""
    with torch.no_grad():
        parts = [network.classifier, network.gate, network.piece]
        return [p.eval()(x).numpy() for p in parts if p is not None]


def _check(onnx_path: Path, network: Network) -> None:
    import onnxruntime as ort

    x = torch.from_numpy(np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    ours = outputs(network, x)
    if len(theirs) != len(ours) or any(np.abs(a - b).max() > 1e-3 for a, b in zip(ours, theirs, strict=True)):
        raise ModelCardError(f"{onnx_path.name}: the rebuilt network does not answer as the ONNX graph does")


class _Graph(nn.Module):
    def __init__(self, network: Network) -> None:
        super().__init__()
        self.classifier = network.classifier
        self.gate = network.gate
        self.piece = network.piece

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        parts = [p for p in (self.classifier, self.gate, self.piece) if p is not None]
        return tuple(p(x) for p in parts)


def export(network: Network) -> bytes:
    """The network as an ONNX graph with the served input and output names (``image`` → ``logits``
    and, if present, ``digit_score`` and ``piece_score``), batch dimension dynamic."""
    from inkdigit.training.families.torchnet import export_onnx

    net: nn.Module = _Graph(network).eval() if network.gate is not None else network.classifier.eval()
    return export_onnx(net, network.output_names())


def save(network: Network, path: Path) -> Path:
    """Write :func:`export`'s graph to ``path`` (through a temporary file, so a reader never sees half)."""
    data = export(network)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".onnx", delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(path)
    return path
