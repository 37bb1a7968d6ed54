"""Fine-tune a served model on users' corrections, with replay, and judge it against its parent.

Read top to bottom: corrections from the history database → split by user (or, for a personal
model, by reading) → the parent rebuilt in PyTorch from its ONNX file (``onnxnet``) → the digit
classifier tuned on the corrections mixed with replayed training digits (so it does not forget
MNIST while it learns a writer's 1s) → its weights mixed with the parent's → the new graph and card
written → parent and candidate measured side by side (``verdict``) → the verdict recorded in the card.

Only the digit classifier changes. The digit-or-not gate, the piece scorer, the calibration
temperature and the rejection threshold are the parent's, so what the card says about them still
holds (and rejection of non-digits is measured anyway). Every correction image goes through the
preprocessing the parent's card names, as serving will read it.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sqlalchemy import Engine

from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.modelcard import ModelCard, owner_tag
from inkdigit.engine.preprocess import PreprocessConfig
from inkdigit.engine.recognizer import Recognizer
from inkdigit.training import corrections, onnxnet
from inkdigit.training.augment import augment
from inkdigit.training.corrections import Correction, CorrectionsError, Split
from inkdigit.training.families.base import Progress, quiet
from inkdigit.training.verdict import Measures, Verdict, judge


@dataclass
class FinetuneConfig:
    parent: Path  # the card of the model to tune (the live one, unless the operator names another)
    name: str = ""  # "" → "<parent>-ft-<UTC time>" (a personal model: "<parent>-u<owner>-<time>")
    out_dir: str = ""  # "" → runs/<name>
    since: datetime | None = None
    user: str | None = None  # an e-mail: that user's own model, split within their readings
    user_id: str | None = None  # their id (for the card's owner tag), filled in by the caller
    min_corrections: int = 20
    confirmed: bool = False  # also learn from answers their owners confirmed
    held_out: float = 0.3  # share of corrections (whole users, or one user's readings) held out
    steps: int = 200
    batch_size: int = 128
    lr: float = 1e-4  # peak of a one-cycle schedule; 2e-4 and 300 steps flipped more MNIST answers
    correction_share: float = 0.25  # of each batch; the rest is replayed training data
    # weight of the parent's own answers on the replayed digits (distillation, as in "Learning
    # without Forgetting", Li & Hoiem 2016), softened by a temperature. Replaying labels alone moved
    # the MNIST suite by -0.7 points. Measured on a writer's 40 long-flag 1s (the 12 canvas and photo
    # renderings of 500 MNIST test digits; 10,000 rendered training digits replayed): weight 1, T 1:
    # -0.28 points; weight 2, T 2: -0.18; weight 5, T 2: -0.10 (USPS renderings +0.17); weight 10: -0.12
    distill: float = 5.0
    distill_temperature: float = 2.0
    # the candidate's weights are the parent's moved this far toward the tuned ones (weight-space
    # ensembling, "WiSE-FT", Wortsman et al. 2022): the tuned model alone still cost the MNIST canvas
    # and photo renderings 0.15 points. Same writer, same measures: 0.5 reads 95 % of the writer's
    # later 1s (the parent 4 %, fully tuned 100 %), MNIST renderings -0.05, USPS renderings +0.07;
    # 0.7 reads 99 % at -0.10
    interpolate: float = 0.5
    replay: int = 20000  # MNIST train digits replayed (and a tenth as many USPS train digits)
    replay_rendered: int = 0  # training digits rendered as canvas / photo / scan (cached by seed)
    seed: int = 0
    threads: int = 0
    command: str = ""
    measures: Measures = field(default_factory=Measures)
    data_dir: str | None = None


@dataclass
class Outcome:
    card_path: Path
    card: ModelCard
    verdict: Verdict
    split: Split
    skipped: dict[str, int]


def _images(rec: Recognizer, items: Sequence[Correction]) -> tuple[np.ndarray, np.ndarray, int]:
    """The corrections as the parent's preprocessing makes them: (N, 28, 28) in [0, 1], labels,
    and how many could not be used (unreadable or blank after preprocessing)."""
    images, labels, unusable = [], [], 0
    for c in items:
        try:
            pre = rec.preprocess(c.image)
        except ImageInputError:
            unusable += 1
            continue
        if pre.is_empty:
            unusable += 1
            continue
        images.append(pre.image)
        labels.append(c.label)
    if not images:
        raise CorrectionsError("no correction image could be read to tune on")
    return np.stack(images).astype(np.float32), np.array(labels, dtype=np.int64), unusable


def _replay(cfg: FinetuneConfig, pre: PreprocessConfig, parent: ModelCard,
            record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Training digits to replay, through the parent's preprocessing (cached on disk)."""
    from inkdigit.training import train
    from inkdigit.training.dataset import prepare

    mnist = prepare("mnist", "train", cfg.data_dir, pre, cfg.replay)
    usps = prepare("usps", "train", cfg.data_dir, pre, None)
    n_usps = min(max(1, cfg.replay // 10), train.usps_training_part(len(usps.labels)))
    x = np.concatenate([mnist.images, usps.images[:n_usps]]).astype(np.float32) / 255.0
    y = np.concatenate([mnist.labels, usps.labels[:n_usps]]).astype(np.int64)
    record.update({"mnist_train": int(len(mnist.labels)), "usps_train": int(n_usps), "rendered": 0,
                   "checksums": {**mnist.checksums, **usps.checksums}})
    if cfg.replay_rendered:  # the parent's own recipe and seed, so its training cache is reused
        seed = int(parent.training.config.get("seed", cfg.seed)) if parent.training.config else cfg.seed
        rcfg = train.TrainConfig(usps=True, rendered=cfg.replay_rendered, seed=seed, data_dir=cfg.data_dir)
        empty = np.zeros((0, pre.size, pre.size), np.float32)
        xr, yr, _ = train._with_realistic(rcfg, empty, np.zeros(0, np.int64), {}, pre)
        x, y = np.concatenate([x, xr]), np.concatenate([y, yr])
        record["rendered"] = int(len(yr))
    return x, y


def tune(model: torch.nn.Module, x_corr: np.ndarray, y_corr: np.ndarray, x_replay: np.ndarray,
         y_replay: np.ndarray, cfg: FinetuneConfig, progress: Progress = quiet) -> float:
    """Tune ``model`` in place: each batch holds ``correction_share`` corrections (drawn again and
    again, augmented as training digits are) and replayed digits, on which the model is also held
    to its own answers before tuning (``distill``); returns the seconds it took."""
    started = time.time()
    teacher = copy.deepcopy(model).eval()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    gen = torch.Generator().manual_seed(cfg.seed)
    xc, yc = torch.from_numpy(x_corr).unsqueeze(1), torch.from_numpy(y_corr)
    xr, yr = torch.from_numpy(x_replay).unsqueeze(1), torch.from_numpy(y_replay)
    k = max(1, round(cfg.batch_size * cfg.correction_share))
    # no weight decay: the folded network has no batch norm to undo a pull of every weight to zero
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(1, cfg.steps), pct_start=0.1)
    model.train()
    loss_sum = 0.0
    for step in range(cfg.steps):
        ic = torch.randint(len(xc), (k,), generator=gen)
        ir = torch.randint(len(xr), (cfg.batch_size - k,), generator=gen)
        xb = augment(torch.cat([xc[ic], xr[ir]]), gen)
        yb = torch.cat([yc[ic], yr[ir]])
        opt.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, label_smoothing=0.05)
        if cfg.distill:
            t = cfg.distill_temperature
            with torch.no_grad():
                target = F.softmax(teacher(xb[k:]) / t, dim=1)
            kl = F.kl_div(F.log_softmax(logits[k:] / t, dim=1), target, reduction="batchmean")
            loss = loss + cfg.distill * t * t * kl
        loss.backward()
        opt.step()
        sched.step()
        loss_sum += loss.item()
        progress("tune", step + 1, cfg.steps, {"loss": loss_sum / (step + 1)})
    model.eval()
    _interpolate(model, teacher, cfg.interpolate)
    return time.time() - started


def _interpolate(model: torch.nn.Module, parent: torch.nn.Module, alpha: float) -> None:
    """Set ``model``'s weights to ``parent + alpha * (model - parent)`` in place. Both are the same
    graph with batch norm folded away, so every tensor is a weight and the mix is one network."""
    if alpha == 1.0:
        return
    tuned, before = model.state_dict(), parent.state_dict()
    model.load_state_dict({k: before[k] + alpha * (v - before[k]) if v.is_floating_point() else v
                           for k, v in tuned.items()})


def default_name(parent: str, owner: str | None, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{parent}-u{owner[:8]}-{stamp}" if owner else f"{parent}-ft-{stamp}"


def finetune(cfg: FinetuneConfig, engine: Engine, progress: Progress = quiet,
             say: Any = lambda _: None) -> Outcome:
    """The whole pipeline of the module docstring; the outcome's card holds the verdict (which the
    caller acts on: install or refuse). Raises ``CorrectionsError`` when there is too little to learn from."""
    started = time.time()
    found = corrections.load(engine, since=cfg.since, user_email=cfg.user, confirmed=cfg.confirmed)
    items = found.corrections
    if len(items) < cfg.min_corrections:
        who = f" of {cfg.user}" if cfg.user else ""
        also = f" (also labelled: {found.skipped})" if found.skipped else ""
        raise CorrectionsError(f"{len(items)} usable corrections{who} found, fewer than --min-corrections "
                               f"{cfg.min_corrections}{also}")
    split = (corrections.split_by_reading if cfg.user else corrections.split_by_user)(items, cfg.held_out, cfg.seed)

    parent, network = onnxnet.load(cfg.parent)
    rec = Recognizer(cfg.parent)
    x_corr, y_corr, unusable = _images(rec, split.tune)
    replay_record: dict[str, Any] = {}
    say(f"replaying training digits through preprocessing v{parent.preprocessing.version}")
    x_rep, y_rep = _replay(cfg, rec.preprocess_config, parent, replay_record)
    say(f"tuning {parent.name} on {len(y_corr)} corrections and {len(y_rep)} replayed digits")
    seconds = tune(network.classifier, x_corr, y_corr, x_rep, y_rep, cfg, progress)

    owner = owner_tag(cfg.user_id) if cfg.user else None
    name = cfg.name or default_name(parent.name, owner)
    out = Path(cfg.out_dir or f"runs/{name}")
    out.mkdir(parents=True, exist_ok=True)
    onnxnet.save(network, out / f"{name}.onnx")
    card = ModelCard.from_dict(parent.to_dict())
    card.name, card.weights = name, f"{name}.onnx"
    checksums = replay_record.pop("checksums")
    card.data = {**parent.data, **checksums}
    config = {k: (str(v) if isinstance(v, Path | datetime) else v) for k, v in asdict(cfg).items()
              if k not in ("user_id",)}
    section: dict[str, Any] = {
        "parent": parent.name, "parent_command": parent.training.command,
        "corrections": {**split.summary(), "unusable": unusable, "skipped": found.skipped},
        "replay": replay_record, "steps": cfg.steps,
        "interpolate": cfg.interpolate, "tune_seconds": round(seconds, 1)}
    if owner:
        section["owner"] = owner
    card.training.command, card.training.config, card.training.seed = cfg.command, config, cfg.seed
    card.training.epochs_run, card.training.train_seconds = None, round(seconds, 1)
    card.training.train_images = int(len(y_corr) + len(y_rep))
    card.training.extra = {"family": parent.family, "finetune": section}
    card_path = out / f"{name}.json"
    card.save(card_path)

    details: dict[str, Any] = {}
    verdict = judge(cfg.parent, card_path, split.held_out, cfg.measures, say, details)
    section["gate"] = verdict.to_dict()
    card.metrics = {**details, "held_out_corrections": {
        "n": len(split.held_out), "accuracy": round(verdict.rows[0].after, 5),
        "parent_accuracy": round(verdict.rows[0].before, 5)}}
    card.training.total_seconds = round(time.time() - started, 1)
    card.save(card_path)
    return Outcome(card_path, card, verdict, split, found.skipped)
