"""Data sets run through the serving preprocessing, cached on disk.

Training never sees raw MNIST: it sees exactly what :func:`inkdigit.engine.preprocess.preprocess`
makes of each image, so whatever serving does to a user's drawing, training did to its examples.
The cache key holds the preprocessing version, parameters and source code and the data checksums,
so a change to any of them rebuilds the cache instead of silently reusing stale arrays.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkdigit.engine import data
from inkdigit.engine import preprocess as preprocess_module
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess_many
from inkdigit.paths import cache_dir


@dataclass(frozen=True)
class Prepared:
    """Preprocessed images (N, 28, 28) uint8 and labels (N,), with the raw files' checksums."""

    images: np.ndarray
    labels: np.ndarray
    checksums: dict[str, str]

    def subset(self, n: int | None) -> Prepared:
        if n is None or n >= len(self.labels):
            return self
        return Prepared(self.images[:n], self.labels[:n], self.checksums)


def _work(args: tuple[np.ndarray, PreprocessConfig]) -> np.ndarray:
    images, cfg = args
    return (preprocess_many(images, cfg) * 255).round().astype(np.uint8)


def preprocess_parallel(images: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                        workers: int | None = None) -> np.ndarray:
    """Preprocess a stack of images on every core; returns (N, size, size) uint8."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(images) < 2000:
        return _work((images, cfg))
    chunks = np.array_split(images, workers * 4)
    # spawn, not fork: a forked child of a process that has started OpenMP threads can stall
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return np.concatenate(list(pool.map(_work, [(c, cfg) for c in chunks])))


def prepare(dataset: data.DatasetName, split: data.Split, root: str | None = None,
            cfg: PreprocessConfig = DEFAULT_CONFIG, limit: int | None = None) -> Prepared:
    """Load ``dataset``/``split`` and preprocess it (cached); ``limit`` keeps the first N."""
    raw = data.load(dataset, split, root)
    # the source of the preprocessing module is part of the key: an edit that forgot to bump
    # VERSION still cannot reuse arrays made by the old code
    code = hashlib.sha256(Path(preprocess_module.__file__).read_bytes()).hexdigest()
    key = hashlib.sha256(json.dumps([cfg.to_dict(), raw.checksums, code], sort_keys=True).encode())
    n = len(raw) if limit is None else min(limit, len(raw))
    path = cache_dir() / "prepared" / f"{dataset}-{split}-{key.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path) as z:
            if len(z["labels"]) >= n:
                return Prepared(z["images"][:n], z["labels"][:n], raw.checksums)
    images = preprocess_parallel(raw.images[:n], cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, labels=raw.labels[:n])
    tmp.replace(path)
    return Prepared(images, raw.labels[:n], raw.checksums)
