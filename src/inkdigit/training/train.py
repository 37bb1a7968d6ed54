"""Train one model family, export it to ONNX and write its model card.

Read top to bottom: prepare data → fit (neural families checkpoint every epoch) → calibrate
confidences on USPS train → write the ONNX weights → measure them as serving runs them → write the
model card, once. ``--dry-run`` runs one batch of each step, for tests and for checking a setup.
Nothing here imports PyTorch unless the family is a neural one, so kNN and SVM train without it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inkdigit.engine.modelcard import ModelCard, Training
from inkdigit.engine.pieces import piece_config
from inkdigit.engine.preprocess import DEFAULT_CONFIG, VERSION, VERSIONS, PreprocessConfig
from inkdigit.engine.recognizer import Recognizer
from inkdigit.training import data
from inkdigit.training.dataset import prepare, preprocess_parallel
from inkdigit.training.evaluate import evaluate_prepared
from inkdigit.training.families import family_class
from inkdigit.training.families.base import NOT_A_DIGIT, DigitEstimator, Progress, fit_temperature
from inkdigit.training.negatives import make_negatives

__all__ = ["TrainConfig", "fit_temperature", "train"]

#: how many MNIST images a dry run trains on
DRY_RUN_IMAGES = 512
#: USPS train images kept out of training (for calibration) when training on USPS
USPS_CALIBRATION = 1000


@dataclass
class TrainConfig:
    # not a shipped model's name: a run installed under it would shadow that model
    name: str = "cnn-trained"
    out_dir: str = "runs/cnn-trained"
    family: str = "cnn"
    # hyper-parameters of the family, overriding its defaults (e.g. {"epochs": 30}, {"k": 3})
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 1
    threads: int = 0  # neural families: PyTorch threads (0: every core)
    limit: int | None = None  # train on the first N MNIST images only
    # Outlier Exposure with synthetic non-digits (neural families; 0: off). Off by default: full
    # CNN runs with 20,000 (an eighth of each batch) rejected every held-out non-digit, but at
    # weight 0.5 MNIST fell 99.67 -> 99.35 % and USPS 97.46 -> 96.46 %, and at weight 0.1 to
    # 99.55 % and 97.11 % with 5.8 % of MNIST digits under the rejection threshold.
    negatives: int = 0
    # training data beyond MNIST train (see training/realistic.py): USPS train too (its last
    # USPS_CALIBRATION images are then kept out, for calibration), training digits rendered as the
    # robustness suite renders test digits, and writing-style variants (flagged 1s, crossed 7s, ...)
    usps: bool = False
    # USPS train is a sixteenth of MNIST's size but its writers and scanner are the closest public
    # match to scanned forms; repeating it weighs it more without new data
    usps_copies: int = 1
    rendered: int = 0
    # the share of the rendered digits drawn from USPS train (None: every training digit alike, so
    # about a tenth). USPS's writers are the harder ones: its canvas renderings and 8×8 thumbnails
    # were the suite's weakest digits (95-96 % against MNIST's 97.7-99)
    usps_rendered: float | None = None
    styles: int = 0
    style_set: int = 1  # realistic.STYLE_SETS: 2 adds open 4s, straight 9s, looped 2s; 3, 4 long-flagged 1s
    # the share of rendered canvas digits and style variants drawn with pen lifts, and of style
    # variants drawn as scans and thumbnails instead (realistic.Variation says why; 0: neither)
    pen_lifts: float = 0.0
    style_scans: float = 0.0
    # train the gate and the piece scorer on the digits drawn without those variations only. Why:
    # cnn-v7 (lifts 0.5, scans 0.3, its gates trained on every digit) rejected 94.7 % of the
    # public non-digits against cnn-v6's 96.0 % (noise 85.3 -> 80.6 %): broken and blurred digits
    # among the gate's positives taught it to let broken and noisy shapes through
    gate_plain: bool = False
    # whether --pen-lifts applies to the style variants too. Why off: cnn-v7 (lifts on both, style
    # scans 0.3) read 30 of the test fonts' 3,000 digits' 1s as 7 against cnn-v6's 9: lifted and
    # scanned flagged 1s left fewer whole ones to learn from
    style_lifts: bool = True
    # digits in the *train* split of the handwriting fonts (training/fonts.py): their own images, and
    # this many renderings of them as the suite renders test digits (0: no fonts)
    fonts: int = 0
    keep: float = 0.995  # the rejection threshold keeps this fraction of correct calibration answers
    # with a gate, a digit of a number is rejected only below the score that keeps this fraction of
    # the calibration digits (modelcard.Rejection.number_min_score says why it is more lenient)
    number_keep: float = 0.999
    # the calibration digits (USPS train's held-out tail) rendered this many times more, as canvas
    # drawings, photos, resizes and scans: a threshold set on clean scans alone rejected 1-3 % of the
    # robustness suite's renderings of real digits
    calibration_rendered: int = 0
    # a digit-or-not gate (training/gate.py) trained against this many synthetic non-digits (0: none);
    # with it, ``keep`` is the fraction of *all* calibration digits the gate lets through
    gate: int = 0
    gate_epochs: int = 4
    # a piece scorer for reading numbers (0: none): a second gate, trained against the gate's
    # non-digits and this many pieces of lines that are not one digit (training/fragments.py: halves
    # of digits, touching pairs), so a number's reader neither splits one digit nor keeps two as one
    piece_gate: int = 0
    # and this many halves of touching pairs cut where the reader tries to cut them, each kind
    # (training/fragments.py: those that are one whole digit are digits to the scorer, those
    # holding parts of both digits are not), so it tells the right cut from a wrong one (0: none)
    pair_cuts: int = 0
    # the pair cuts also cut along the pairs' strokes (engine/strokesplit.py), as the reader cuts the
    # pieces its scorer doubts: the scorer then judges those halves having seen their kind
    pair_cut_strokes: bool = False
    # the preprocessing version every image goes through, in training, calibration and the card
    # (serving reads the card). v4 differs from v3 on thumbnails only (8×8 scans, enlarged or not):
    # a model trained through it learns them as serving through v4 shows them
    preprocessing: str = VERSION
    eval_limit: int | None = None
    data_dir: str | None = None
    dry_run: bool = False
    resume: bool = True


def build(cfg: TrainConfig) -> DigitEstimator:
    """The unfitted estimator ``cfg`` describes. The run options (threads, checkpoint, dry run) go
    to the families whose constructor takes them; ``cfg.params`` may override them."""
    cls = family_class(cfg.family)
    run = {"seed": cfg.seed, "threads": cfg.threads, "dry_run": cfg.dry_run,
           "checkpoint": str(Path(cfg.out_dir) / "checkpoint.pt") if cfg.resume else None}
    accepted = set(cls.param_names())
    model = cls(**{**{k: v for k, v in run.items() if k in accepted}, **cfg.params})
    if cfg.negatives and not cls.supports_negatives:
        raise ValueError(f"Outlier Exposure (negatives) needs a neural family, not {cfg.family}.")
    if cfg.gate and not hasattr(cls, "fit_gate"):
        raise ValueError(f"the digit-or-not gate needs a neural family, not {cfg.family}.")
    if cfg.piece_gate and not cfg.gate:
        raise ValueError("--piece-gate trains a second gate beside the digit-or-not gate: it needs --gate too.")
    if cfg.pair_cuts and not cfg.piece_gate:
        raise ValueError("--pair-cuts teaches the piece scorer: it needs --piece-gate too.")
    if cfg.pair_cut_strokes and not cfg.pair_cuts:
        raise ValueError("--pair-cut-strokes says how the pair cuts are made: it needs --pair-cuts too.")
    if cfg.preprocessing not in VERSIONS:
        raise ValueError(f"preprocessing v{cfg.preprocessing} does not exist (there are "
                         f"{', '.join('v' + v for v in VERSIONS)}).")
    if cfg.usps_copies > 1 and not cfg.usps:
        raise ValueError("--usps-copies needs --usps: it is how often USPS train is shown per epoch.")
    if cfg.usps_rendered is not None and not 0.0 <= cfg.usps_rendered <= 1.0:
        raise ValueError(f"--usps-rendered is a share, from 0 to 1 (not {cfg.usps_rendered}).")
    if cfg.usps_rendered is not None and not (cfg.usps and cfg.rendered):
        raise ValueError("--usps-rendered needs --usps and --rendered: it is the share of the rendered "
                         "digits drawn from USPS train.")
    return model


def train(cfg: TrainConfig, progress: Progress | None = None) -> ModelCard:
    """Run the whole pipeline of the module docstring; returns the written card."""
    started = time.time()
    np.random.seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = build(cfg)

    # 1. data: every image through the serving preprocessing
    limit = min(cfg.limit or DRY_RUN_IMAGES, DRY_RUN_IMAGES) if cfg.dry_run else cfg.limit
    pre = replace(DEFAULT_CONFIG, version=cfg.preprocessing)
    train_set = prepare("mnist", "train", cfg.data_dir, pre, limit)
    test_set = prepare("mnist", "test", cfg.data_dir, pre, cfg.eval_limit)
    usps_cal = prepare("usps", "train", cfg.data_dir, pre, cfg.eval_limit)
    usps_test = prepare("usps", "test", cfg.data_dir, pre, cfg.eval_limit)
    x_train, y_train = train_set.images.astype(np.float32) / 255.0, train_set.labels
    calibration_source = "usps/train"
    extra_data: dict[str, Any] = {}
    if cfg.usps:  # train on USPS train but its tail, which calibrates
        cut = usps_training_part(len(usps_cal.labels))
        usps_part = usps_cal.images[:cut].astype(np.float32) / 255.0
        x_train = np.concatenate([x_train, *[usps_part] * cfg.usps_copies])
        y_train = np.concatenate([y_train, *[usps_cal.labels[:cut]] * cfg.usps_copies])
        usps_cal = usps_cal.subset_from(cut)
        calibration_source = f"usps/train[{cut}:]"
        extra_data["usps_train"] = cut
    x_train, y_train, plain = _with_realistic(cfg, x_train, y_train, extra_data, pre)
    held_out_neg = None
    n_neg = min(cfg.negatives, 256) if cfg.dry_run else cfg.negatives
    if n_neg or cfg.gate:  # raw MNIST digits supply the two-digits-side-by-side kind of non-digit
        mnist_raw = data.load("mnist", "train", cfg.data_dir).images
        raw_digits = mnist_raw[:10000]
        held_out_neg = make_negatives(300 if cfg.dry_run else 2000, cfg.seed + 1000, raw_digits, pre)
    if n_neg:
        x_neg = make_negatives(n_neg, cfg.seed, raw_digits, pre).astype(np.float32) / 255.0
        x_train = np.concatenate([x_train, x_neg])
        y_train = np.concatenate([y_train, np.full(len(x_neg), NOT_A_DIGIT, dtype=np.int64)])
        plain = np.concatenate([plain, np.ones(len(x_neg), bool)])

    # 2. fit (a neural family resumes from the last epoch's checkpoint if one matches)
    model.fit(x_train, y_train, progress=progress)

    # 3. the digit-or-not gate, against synthetic non-digits (its own seeds)
    if cfg.gate:  # build() has refused a family without one
        gate_digits = x_train[(y_train != NOT_A_DIGIT) & (plain | (not cfg.gate_plain))]
        if cfg.gate_plain:
            extra_data["gate_positives"] = {"plain_only": True, "n": int(len(gate_digits))}
        x_gate_neg = make_negatives(min(cfg.gate, 512) if cfg.dry_run else cfg.gate, cfg.seed + 2000, raw_digits, pre)
        model.fit_gate(gate_digits, x_gate_neg,  # type: ignore[attr-defined]
                       epochs=cfg.gate_epochs, progress=progress)
        if cfg.piece_gate:  # and the piece scorer: the same non-digits, and pieces that are not one digit
            from inkdigit.training.fragments import make_fragments, make_pair_cuts

            n_piece = min(cfg.piece_gate, 256) if cfg.dry_run else cfg.piece_gate
            # pieces of a line, read as serving reads them (pieces.piece_config: v3 for a v4 card)
            pieces = make_fragments(n_piece, cfg.seed + 3000, mnist_raw, piece_config(pre))
            whole = not_whole = np.zeros((0, 28, 28), np.uint8)
            if cfg.pair_cuts:
                n_cuts = min(cfg.pair_cuts, 64) if cfg.dry_run else cfg.pair_cuts
                whole, not_whole = make_pair_cuts(n_cuts, cfg.seed + 4000, mnist_raw, piece_config(pre),
                                                   strokes=cfg.pair_cut_strokes)
            model.fit_piece_gate(np.concatenate([gate_digits, whole.astype(np.float32) / 255.0]),  # type: ignore[attr-defined]
                                 np.concatenate([x_gate_neg, pieces, not_whole]), epochs=cfg.gate_epochs,
                                 progress=progress)
            # fragments: every piece of a line that is not one digit, the pair cuts' among them
            extra_data["piece_gate"] = {"fragments": int(len(pieces) + len(not_whole)),
                                        "non_digits": int(len(x_gate_neg))}
            if cfg.pair_cuts:
                # "strokes" only with --pair-cut-strokes: a card of --pair-cuts alone is as it was
                extra_data["piece_gate"]["pair_cuts"] = {"whole": int(len(whole)), "not_whole": int(len(not_whole)),
                                                         **({"strokes": True} if cfg.pair_cut_strokes else {})}

    # 4. calibrate on USPS train: other writers, other scanner, never trained on
    x_cal, y_cal = usps_cal.images.astype(np.float32) / 255.0, usps_cal.labels
    if cfg.calibration_rendered:
        x_cal, y_cal, calibration_source = _rendered_calibration(cfg, x_cal, y_cal, calibration_source, extra_data,
                                                                 pre)
    model.calibrate(x_cal, y_cal, keep=cfg.keep, source=calibration_source)
    if cfg.gate:
        model.calibrate_gate(x_cal, keep=cfg.keep, source=calibration_source,  # type: ignore[attr-defined]
                             number_keep=cfg.number_keep)

    # 5. write the weights, then measure them as serving runs them, then write the card once
    weights = model.write_weights(out, cfg.name)
    font_checksums = extra_data.get("fonts", {}).pop("checksums", {})  # the card's data section holds them
    training = Training(command=command_line(), config=asdict(cfg), seed=cfg.seed, epochs_run=model.epochs_run_,
                        train_images=int(np.sum(y_train != NOT_A_DIGIT)), train_seconds=round(model.train_seconds_, 1),
                        machine=_machine(), extra={"family": cfg.family, **extra_data})
    checksums = {**train_set.checksums, **test_set.checksums, **usps_cal.checksums, **usps_test.checksums,
                 **font_checksums}
    card = model.card(cfg.name, preprocessing=pre, training=training, data=checksums)
    rec = Recognizer(card, weights=weights)
    card.metrics = {"mnist_test": evaluate_prepared(rec, test_set),
                    "usps_test": evaluate_prepared(rec, usps_test)}
    if held_out_neg is not None:  # other seeds than training's: how many non-digits are rejected
        neg_images = held_out_neg.astype(np.float32) / 255.0
        probs, gate = rec.scores(neg_images)
        card.metrics["synthetic_non_digits"] = {
            "n": int(len(probs)), "rejected": round(float((~rec.accepts(probs, gate, images=neg_images)).mean()), 5),
            "kinds": "scribbles, shapes, letters and symbols, blobs, digit pairs, noise, textures, faces"}
    card.training.total_seconds = round(time.time() - started, 1)
    card.save(out / f"{cfg.name}.json")
    (out / "metrics.json").write_text(json.dumps(card.metrics, indent=2))
    return card


def usps_training_part(n: int) -> int:
    """How many of ``n`` USPS train images are trained on: all but the calibration tail (at most
    half of them, for the small subsets of dry runs)."""
    return n - min(USPS_CALIBRATION, n // 2)


def _with_realistic(cfg: TrainConfig, x: np.ndarray, y: np.ndarray, record: dict[str, Any],
                    pre: PreprocessConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x``/``y`` plus ``cfg.rendered`` rendered and ``cfg.styles`` style-variant training images,
    made from the raw MNIST (and, with ``cfg.usps``, USPS) training digits and preprocessed with
    ``pre``; and which of all the images were drawn without a variation (``realistic.Variation``)."""
    plain = np.ones(len(y), bool)
    if not cfg.rendered and not cfg.styles and not cfg.fonts:
        return x, y, plain
    from inkdigit.training import realistic

    mnist = data.load("mnist", "train", cfg.data_dir)
    raw, labels, checksums = mnist.images, mnist.labels, dict(mnist.checksums)
    if cfg.usps:  # USPS's 16×16 digits enlarged to MNIST's size, the calibration tail left out
        usps = data.load("usps", "train", cfg.data_dir)
        cut = usps_training_part(len(usps.labels))
        big = np.stack([np.asarray(Image.fromarray(a).resize((28, 28), Image.Resampling.BICUBIC))
                        for a in usps.images[:cut]])
        raw, labels = np.concatenate([raw, big]), np.concatenate([labels, usps.labels[:cut]])
        checksums.update(usps.checksums)
    scale = 0.02 if cfg.dry_run else 1.0
    for kind, n in (("rendered", cfg.rendered), ("styles", cfg.styles)):
        n = max(1, int(n * scale)) if n else 0
        lifts = cfg.pen_lifts if kind == "rendered" or cfg.style_lifts else 0.0
        variation = realistic.Variation(lifts=lifts, scans=cfg.style_scans)
        weights = None
        if kind == "rendered" and cfg.usps_rendered is not None:
            weights = _source_weights(len(mnist.labels), len(raw) - len(mnist.labels), cfg.usps_rendered)
        extra = realistic.make(kind, raw, labels, n, cfg.seed, checksums, cfg=pre, style_set=cfg.style_set,
                               variation=variation, weights=weights)
        if len(extra.labels):
            x = np.concatenate([x, extra.images.astype(np.float32) / 255.0])
            y = np.concatenate([y, extra.labels])
            plain = np.concatenate([plain, extra.plain])
        record[kind] = {"n": int(len(extra.labels)), "by_kind": extra.kinds}
        if kind == "styles":
            record[kind]["set"] = cfg.style_set
        if weights is not None:
            record[kind]["usps_share"] = cfg.usps_rendered
        if used := variation.used_by(kind):  # under the options' names
            record[kind]["variation"] = {{"lifts": "pen_lifts", "scans": "style_scans"}[k]: v for k, v in used.items()}
    if cfg.fonts:  # the train fonts' digits as they are, and rendered (never a test font)
        from inkdigit.training.fonts import FONTS

        typed = data.load("fonts", "train", cfg.data_dir)
        clean = preprocess_parallel(typed.images)  # 3,000 images: seconds, not worth a cache
        n = max(1, int(cfg.fonts * scale))
        extra = realistic.make("rendered", typed.images, typed.labels, n, cfg.seed + 17, dict(typed.checksums))
        x = np.concatenate([x, clean.astype(np.float32) / 255.0, extra.images.astype(np.float32) / 255.0])
        y = np.concatenate([y, typed.labels, extra.labels])
        plain = np.concatenate([plain, np.ones(len(typed.labels) + len(extra.labels), bool)])
        record["fonts"] = {"clean": int(len(typed.labels)), "rendered": int(len(extra.labels)),
                           "by_kind": extra.kinds, "fonts": [f.package for f in FONTS if f.split == "train"],
                           "checksums": dict(typed.checksums)}
    return x, y, plain


def _source_weights(n_mnist: int, n_usps: int, usps_share: float) -> np.ndarray:
    """How likely each training digit (MNIST's, then USPS's) is drawn, so that ``usps_share`` of
    the drawn ones are USPS digits."""
    if n_usps == 0:
        raise ValueError("a share of rendered USPS digits needs USPS train (--usps)")
    return np.concatenate([np.full(n_mnist, (1.0 - usps_share) / max(1, n_mnist)),
                           np.full(n_usps, usps_share / n_usps)])


def _rendered_calibration(cfg: TrainConfig, x: np.ndarray, y: np.ndarray, source: str,
                          record: dict[str, Any], pre: PreprocessConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """The calibration digits ``x``/``y`` (USPS train's held-out tail, preprocessed) plus
    ``cfg.calibration_rendered`` renderings of those same digits as the robustness suite renders
    test digits, through the run's preprocessing ``pre`` (no default: a v4 run calibrated on v3
    renderings would set its threshold on images serving never makes); never trained on, so the
    threshold set on them holds on input that looks real."""
    from inkdigit.training import realistic

    usps = data.load("usps", "train", cfg.data_dir)
    cut = usps_training_part(len(usps.labels)) if cfg.usps else 0
    tail = np.stack([np.asarray(Image.fromarray(a).resize((28, 28), Image.Resampling.BICUBIC))
                     for a in usps.images[cut:]])
    n = max(1, int(cfg.calibration_rendered * 0.02)) if cfg.dry_run else cfg.calibration_rendered
    extra = realistic.make("rendered", tail, usps.labels[cut:], n, cfg.seed + 100, dict(usps.checksums), cfg=pre)
    record["calibration_rendered"] = {"n": int(len(extra.labels)), "by_kind": extra.kinds}
    return (np.concatenate([x, extra.images.astype(np.float32) / 255.0]), np.concatenate([y, extra.labels]),
            f"{source} + {len(extra.labels)} renderings of it")


def command_line() -> str:
    """The command that is running, as a user would type it (recorded in cards and reports)."""
    if Path(sys.argv[0]).name == "inkdigit":
        return " ".join(shlex.quote(a) for a in ["inkdigit", *sys.argv[1:]])
    return " ".join(map(shlex.quote, sys.argv))


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(),
                            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    for package, key in (("torch", "torch"), ("scikit-learn", "scikit_learn")):
        # read from the installed metadata: recording a version must not import PyTorch
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            info[key] = importlib.metadata.version(package)
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
    return info
