"""Data sets run through the serving preprocessing, cached on disk.

Training never sees raw MNIST: it sees exactly what :func:`inkdigit.engine.preprocess.preprocess`
makes of each image, so whatever serving does to a user's drawing, training did to its examples.
The cache key holds the preprocessing version, its parameters, the source of every file that
defines its output (:func:`inkdigit.engine.preprocess.source_digest`) and the data checksums, so a
change to any of them rebuilds the cache instead of silently reusing stale arrays.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess_many, source_digest
from inkdigit.paths import cache_dir
from inkdigit.training import data


@dataclass(frozen=True)
class Prepared:
    """Preprocessed images (N, 28, 28) uint8 and labels (N,), with the raw files' checksums."""

    images: np.ndarray
    labels: np.ndarray
    checksums: dict[str, str]

    def subset_from(self, start: int) -> Prepared:
        """The images from ``start`` on."""
        return Prepared(self.images[start:], self.labels[start:], self.checksums)

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
    key = hashlib.sha256(json.dumps([cfg.to_dict(), raw.checksums, source_digest()], sort_keys=True).encode())
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
