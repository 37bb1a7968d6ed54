"""``inkdigit compare``: train every family on the same data, measure them the same way, report.

Each family goes through the same pipeline as ``inkdigit train`` (same preprocessing cache, same
calibration, the saved ONNX artefact measured by the same evaluation), so the figures compare
models, not code paths. Latency is measured on the served artefact through ONNX Runtime on one
thread: per image one at a time, and per image in batches. Preprocessing is the same for every
family and is left out of the latency (``benchmarks/bench_predict.py`` measures it).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inkdigit.engine.recognizer import Recognizer
from inkdigit.training.dataset import prepare
from inkdigit.training.families.base import Progress, quiet
from inkdigit.training.report import write_report
from inkdigit.training.robustness import suite
from inkdigit.training.small_digits import small_digits_knn
from inkdigit.training.train import TrainConfig, train

ALL_FAMILIES = ("knn", "svm", "mlp", "cnn")
#: the same classifier on all 784 pixels, to show what the served PCA features cost in accuracy
RAW_BASELINES = {"knn-raw": ("knn", {"n_components": None}), "svm-raw": ("svm", {"n_components": None})}
TARGETS = {"knn": 0.970, "svm": 0.983, "mlp": 0.980, "cnn": 0.996}


@dataclass
class CompareConfig:
    out: str = "docs/comparison"  # the report folder
    work_dir: str = "runs/compare"  # the trained models, one sub-directory each
    families: tuple[str, ...] = ALL_FAMILIES
    raw_baselines: bool = True
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-family overrides
    limit: int | None = None  # train on the first N MNIST images
    eval_limit: int | None = None  # evaluate on the first N test images
    latency_images: int = 300
    robustness_limit: int = 300  # test digits per robustness-suite rendering (0: skip the suite)
    seed: int = 1
    data_dir: str | None = None
    command: str = ""


def measure_latency(card: Path, images: np.ndarray, batch: int = 256) -> dict[str, float]:
    """Milliseconds per image through ONNX Runtime on one thread: one at a time (median) and batched."""
    rec = Recognizer(card, threads=1)
    x = images.astype(np.float32) / 255.0
    rec.probabilities(x[:2])  # warm-up: the first run allocates
    single = []
    for i in range(len(x)):
        t0 = time.perf_counter()
        rec.probabilities(x[i: i + 1])
        single.append(time.perf_counter() - t0)
    reps = max(1, (4 * batch) // len(x))
    stacked = np.resize(x, (batch, *x.shape[1:]))
    t0 = time.perf_counter()
    for _ in range(reps):
        rec.probabilities(stacked)
    batched = (time.perf_counter() - t0) / (reps * batch)
    return {"single_ms": round(float(np.median(single)) * 1000, 4),
            "single_p95_ms": round(float(np.quantile(single, 0.95)) * 1000, 4),
            "batched_ms": round(batched * 1000, 4), "batch_size": batch}


def compare(cfg: CompareConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train and measure every family (and the raw-pixel baselines), write the report; returns its data."""
    report = progress or quiet
    started = time.time()
    runs = {f: (f, cfg.params.get(f, {})) for f in cfg.families}
    if cfg.raw_baselines:
        runs.update({k: v for k, v in RAW_BASELINES.items() if v[0] in cfg.families})
    latency_set = prepare("mnist", "test", cfg.data_dir, limit=cfg.latency_images).images
    results: dict[str, Any] = {}
    for i, (key, (family, params)) in enumerate(runs.items(), 1):
        def step(stage: str, done: int, total: int, info: dict[str, float], _key: str = key, _i: int = i) -> None:
            report(f"[{_i}/{len(runs)}] {_key}: {stage}", done, total, info)

        out = Path(cfg.work_dir) / key
        card = train(TrainConfig(name=f"{key}-v1", out_dir=str(out), family=family, params=params,
                                 seed=cfg.seed, limit=cfg.limit, eval_limit=cfg.eval_limit,
                                 data_dir=cfg.data_dir), step)
        step("measuring latency", 0, 1, {})
        card_path = out / f"{key}-v1.json"
        sections = card.to_dict()  # the card's JSON form: the report reads the same fields as the file
        results[key] = {
            "family": family, "baseline": key in RAW_BASELINES, "card": str(card_path),
            **{k: sections[k] for k in ("architecture", "training", "metrics", "rejection", "calibration")},
            "latency": measure_latency(card_path, latency_set),
            "size_bytes": (out / f"{key}-v1.onnx").stat().st_size,
            "target": None if key in RAW_BASELINES else TARGETS.get(family),
        }
        step("done", 1, 1, {})
    if cfg.robustness_limit:  # every model reads the same rendered images, rendered once for all
        cards = [Path(r["card"]) for r in results.values()]

        def suite_step(name: str, done: int, total: int) -> None:
            report(f"robustness suite, {len(cards)} models: {name}", done, total, {})

        measured = suite.run_models(cards, "mnist", limit=cfg.robustness_limit, seed=cfg.seed, root=cfg.data_dir,
                                    progress=suite_step)
        for r, figures in zip(results.values(), measured, strict=True):
            r["robustness"] = figures.summary()["renderings"]
    report("8×8 digits kNN", 0, 1, {})
    small = small_digits_knn(cfg.seed)
    report("writing the report", 0, 1, {})
    data = {"command": cfg.command, "config": {k: v for k, v in cfg.__dict__.items() if k != "params"},
            "params": cfg.params, "machine": {"platform": platform.platform(), "cpus": os.cpu_count() or 1},
            "models": results, "small_digits": small,
            "total_seconds": round(time.time() - started, 1),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    write_report(data, Path(cfg.out))
    data["total_seconds"] = round(time.time() - started, 1)
    write_report(data, Path(cfg.out))  # again, so the stated time includes the report itself
    report("done", 1, 1, {})
    return data

