"""What the neural families share: the training loop, inference and ONNX export (PyTorch).

The loop reads top to bottom like PyTorch's MNIST example: shuffle, augment, forward, loss,
backward, step, with a one-cycle AdamW schedule and label smoothing. It saves a checkpoint after
every epoch (to the ``checkpoint`` file given to the constructor) and resumes from it when the
same fit is started again. Optionally (Outlier Exposure, experimental) each batch carries a few
non-digits (training images labelled ``NOT_A_DIGIT``) whose target is the uniform distribution.
"""

from __future__ import annotations

import os
import tempfile
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inkdigit.engine.modelcard import ModelCard, Rejection
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig
from inkdigit.training.augment import augment
from inkdigit.training.families.base import NOT_A_DIGIT, DigitEstimator, Progress, quiet


def _images(x: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) in [0, 1] (or uint8 0..255) as a (N, 1, 28, 28) float tensor in [0, 1]."""
    t = torch.from_numpy(np.asarray(x, dtype=np.float32))
    return (t / 255.0 if np.asarray(x).dtype == np.uint8 else t).reshape(len(x), 1, *x.shape[-2:])


def export_onnx(net: nn.Module, outputs: list[str]) -> bytes:
    """``net`` (in evaluation mode) as ONNX bytes: input ``image`` (N, 1, 28, 28) with a dynamic
    batch dimension, outputs named ``outputs``. Training and fine-tuning both export through here."""
    example = torch.zeros(2, 1, 28, 28)
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(net, (example,), input_names=["image"], output_names=outputs,
                                dynamic_shapes={"x": {0: batch}}, dynamo=True, verbose=False)
    assert program is not None
    with tempfile.TemporaryDirectory() as tmp:
        program.save(Path(tmp) / "model.onnx", external_data=False)
        return (Path(tmp) / "model.onnx").read_bytes()


class TorchDigits(DigitEstimator):
    """A network (``network()``) trained by the shared loop; learned state in ``model_``."""

    output_kind = "logits"
    onnx_output = "logits"
    supports_negatives = True
    run_options = ("threads", "checkpoint", "dry_run")

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    label_smoothing: float
    negative_fraction: float
    negative_weight: float
    seed: int
    threads: int  # PyTorch threads (0: every core)
    checkpoint: str | None  # a file: the fit saves every epoch there and resumes from it
    dry_run: bool  # one batch of one epoch, to check a setup
    #: the digit-or-not gate (``fit_gate``) and its threshold, when there is one
    gate_: nn.Module | None = None
    gate_epochs_: int = 0
    piece_gate_: nn.Module | None = None
    min_score_: float = 0.0
    number_min_score_: float | None = None
    number_keep_: float | None = None
    gate_source_: str = ""

    @abstractmethod
    def network(self) -> nn.Module:
        """A fresh, untrained network mapping (N, 1, 28, 28) images to (N, 10) logits."""

    def fit(self, x: np.ndarray, y: np.ndarray, *, progress: Progress | None = None) -> Self:
        """Train on ``x``/``y``; images labelled ``NOT_A_DIGIT`` turn on Outlier Exposure."""
        torch.set_flush_denormal(True)  # tiny gradients late in training otherwise cost ~10 %
        try:
            return self._fit(x, y, progress or quiet)
        finally:  # a processor-wide switch: leave the rest of the process with IEEE subnormals
            torch.set_flush_denormal(False)

    def _fit(self, x: np.ndarray, y: np.ndarray, report: Progress) -> Self:
        dry_run = self.dry_run
        torch.manual_seed(self.seed)
        torch.set_num_threads(self.threads or os.cpu_count() or 1)
        labels = np.asarray(y, dtype=np.int64)
        digits = labels != NOT_A_DIGIT
        if digits.all():  # no copy of the training set when there are no non-digits
            x_train, y_train, x_neg = _images(x), torch.from_numpy(labels), None
        else:
            x_train, y_train, x_neg = _images(x[digits]), torch.from_numpy(labels[digits]), _images(x[~digits])

        model = self.network().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        steps_per_epoch = 1 if dry_run else (len(x_train) + self.batch_size - 1) // self.batch_size
        epochs = 1 if dry_run else self.epochs
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, epochs=epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.2)
        gen = torch.Generator().manual_seed(self.seed)
        identity = {**self.hyper_params(), "n": len(x_train),
                    "negatives": 0 if x_neg is None else len(x_neg)}
        ckpt_path = Path(self.checkpoint) if self.checkpoint else None
        first_epoch, self.train_seconds_ = 0, 0.0
        if ckpt_path is not None and ckpt_path.exists() and not dry_run:
            ckpt = torch.load(ckpt_path, weights_only=False)
            if ckpt.get("identity") == identity:
                model.load_state_dict(ckpt["model"])
                opt.load_state_dict(ckpt["optimizer"])
                sched.load_state_dict(ckpt["scheduler"])
                gen.set_state(ckpt["generator"])
                first_epoch, self.train_seconds_ = ckpt["epoch"], ckpt["train_seconds"]

        for epoch in range(first_epoch, epochs):
            model.train()
            t0 = time.time()
            order = torch.randperm(len(x_train), generator=gen)
            total, correct, loss_sum = 0, 0, 0.0
            for step in range(steps_per_epoch):
                idx = order[step * self.batch_size: (step + 1) * self.batch_size]
                xb, yb = x_train[idx], y_train[idx]
                if x_neg is not None:  # Outlier Exposure: a few non-digits per batch, target uniform
                    n_extra = max(1, round(len(idx) * self.negative_fraction))
                    xb = torch.cat([xb, x_neg[torch.randint(len(x_neg), (n_extra,), generator=gen)]])
                xb = augment(xb, gen).contiguous(memory_format=torch.channels_last)
                opt.zero_grad(set_to_none=True)
                scores = model(xb)
                logits = scores[: len(yb)]
                loss = F.cross_entropy(logits, yb, label_smoothing=self.label_smoothing)
                if x_neg is not None:
                    loss = loss - self.negative_weight * F.log_softmax(scores[len(yb):], dim=1).mean()
                loss.backward()
                opt.step()
                sched.step()
                total += len(yb)
                correct += int((logits.argmax(1) == yb).sum())
                loss_sum += loss.item() * len(yb)
                report("train", epoch * steps_per_epoch + step + 1, epochs * steps_per_epoch,
                       {"epoch": epoch + 1, "loss": loss_sum / total, "acc": correct / total})
            self.train_seconds_ += time.time() - t0
            if ckpt_path is not None:
                ckpt_path.parent.mkdir(parents=True, exist_ok=True)
                torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                            "scheduler": sched.state_dict(), "generator": gen.get_state(),
                            "epoch": epoch + 1, "train_seconds": self.train_seconds_,
                            "identity": identity}, ckpt_path)
        self.model_ = model.eval()
        self.epochs_run_ = epochs
        return self

    def fit_gate(self, digits: np.ndarray, non_digits: np.ndarray, *, epochs: int = 4,
                 progress: Progress | None = None) -> Self:
        """Train the digit-or-not gate (``training/gate.py``) beside the fitted network; it is
        exported with it, as a second output."""
        from inkdigit.training.gate import fit_gate

        self.gate_ = fit_gate(digits, non_digits, epochs=epochs, seed=self.seed, threads=self.threads,
                              dry_run=self.dry_run, progress=progress)
        self.gate_epochs_ = 1 if self.dry_run else epochs
        return self

    def fit_piece_gate(self, digits: np.ndarray, non_digits: np.ndarray, *, epochs: int = 4,
                       progress: Progress | None = None) -> Self:
        """Train the piece scorer: a second gate, for reading numbers only, whose non-digits include
        pieces of a line that are not one digit (``training/fragments.py``). Kept apart from the
        digit-or-not gate: taught that half a digit is no digit, that gate's real digits scored
        lower, its threshold fell, and 4-5 points fewer non-digits were rejected."""
        from inkdigit.training.gate import fit_gate

        if self.gate_ is None:
            raise ValueError("the piece scorer comes with a digit-or-not gate (fit_gate first)")
        self.piece_gate_ = fit_gate(digits, non_digits, epochs=epochs, seed=self.seed, threads=self.threads,
                                    dry_run=self.dry_run, progress=progress)
        return self

    def digit_scores(self, x: np.ndarray) -> np.ndarray:
        """The gate's logits (N,) for preprocessed images; the network must have a gate."""
        from inkdigit.training.gate import gate_scores

        if self.gate_ is None:
            raise ValueError("this model has no digit-or-not gate (fit_gate first)")
        return gate_scores(self.gate_, x)

    def calibrate_gate(self, x: np.ndarray, keep: float, source: str, number_keep: float | None = None) -> Self:
        """Set the gate's threshold to the score that keeps ``keep`` of the held-out real digits
        ``x`` (every one of them, read right or wrong: a misread digit is still a digit), and the
        threshold for a digit of a number to the one that keeps ``number_keep`` of them. The
        gate then decides what is a digit, so the confidence threshold is dropped."""
        scores = self.digit_scores(x)
        self.min_score_ = float(np.quantile(scores, 1 - keep))
        if number_keep is not None:
            self.number_min_score_ = min(self.min_score_, float(np.quantile(scores, 1 - number_keep)))
            self.number_keep_ = number_keep
        self.gate_source_ = source
        self.min_confidence_ = 0.0
        return self

    def card(self, name: str, preprocessing: PreprocessConfig = DEFAULT_CONFIG, **extra: Any) -> ModelCard:
        from inkdigit.training.gate import PIECE_OUTPUT, SCORE_OUTPUT

        card = super().card(name, preprocessing, **extra)
        if self.gate_ is not None:
            card.rejection = Rejection(
                0.0, SCORE_OUTPUT, round(self.min_score_, 4), self.gate_source_,
                PIECE_OUTPUT if self.piece_gate_ is not None else "",
                None if self.number_min_score_ is None else round(self.number_min_score_, 4), self.number_keep_)
        return card

    def scores(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            batches = [self.model_(_images(x[i: i + 1000])) for i in range(0, len(x), 1000)]
        return torch.cat(batches).numpy()

    def to_onnx(self) -> bytes:
        """Export with a dynamic batch dimension; input ``image`` (N, 1, 28, 28), output ``logits``."""
        from inkdigit.training.gate import PIECE_OUTPUT, SCORE_OUTPUT, Gated

        self.model_.eval()
        net: nn.Module = self.model_ if self.gate_ is None else Gated(self.model_, self.gate_, self.piece_gate_).eval()
        outputs = ["logits"] if self.gate_ is None else ["logits", SCORE_OUTPUT]
        if self.piece_gate_ is not None:
            outputs.append(PIECE_OUTPUT)
        return export_onnx(net, outputs)

    def write_weights(self, directory: str | Path, name: str) -> Path:
        """Also keeps the PyTorch ``state_dict`` (``NAME.pt``) for fine-tuning; serving ignores it."""
        path = super().write_weights(directory, name)
        torch.save(self.model_.state_dict(), Path(directory) / f"{name}.pt")
        if self.gate_ is not None:
            torch.save(self.gate_.state_dict(), Path(directory) / f"{name}-gate.pt")
        if self.piece_gate_ is not None:
            torch.save(self.piece_gate_.state_dict(), Path(directory) / f"{name}-piece-gate.pt")
        return path

    def _torch_architecture(self) -> dict[str, Any]:
        arch: dict[str, Any] = {"parameters": sum(p.numel() for p in self.model_.parameters()),
                                "input": "image (N, 1, 28, 28) float32 in [0, 1], ink bright",
                                "output": "logits (N, 10)"}
        if self.gate_ is not None:
            from inkdigit.training.gate import SCORE_OUTPUT

            arch["output"] += f", {SCORE_OUTPUT} (N,): the digit-or-not gate's logit"
            arch["gate"] = {"class": type(self.gate_).__name__, "epochs": self.gate_epochs_,
                            "parameters": sum(p.numel() for p in self.gate_.parameters())}
        if self.piece_gate_ is not None:
            from inkdigit.training.gate import PIECE_OUTPUT

            arch["output"] += f", {PIECE_OUTPUT} (N,): the piece scorer's logit (reading numbers)"
            arch["piece_gate"] = {"class": type(self.piece_gate_).__name__, "epochs": self.gate_epochs_,
                                  "parameters": sum(p.numel() for p in self.piece_gate_.parameters())}
        return arch
