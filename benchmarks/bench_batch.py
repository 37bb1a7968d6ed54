"""Images per second of ``inkdigit batch``: one process, two processes and a two-worker Dask cluster,
beside the baseline a user would write first, a plain Python loop over ``Recognizer.predict``.

Two collections, made once and cached (``--data``, default the user cache): 20,000 canvas drawings
(PNG; MNIST test digits traced and redrawn as a browser canvas draws them, the robustness suite's
``canvas/*`` renderings in turn) and 2,000 phone photos (JPEG, 640×480, ``photo/*``). Each file's
name ends in its label, so every run's rows are also checked for accuracy: a fast run that reads
wrong would show.

Every configuration reads the same files in the same run, one after another (this machine's speed
drifts, so compare ratios within a run, not figures across runs). ``inkdigit batch`` is timed as a
command, start-up included (Python, the model, for Dask the connection and the model shipped to
the workers), because that is what its user waits for; the loop is timed from the first read.

    python benchmarks/bench_batch.py                    # everything (about 15 minutes on 2 cores)
    python benchmarks/bench_batch.py --canvas 2000 --photos 500 --repeat 3
    python benchmarks/bench_batch.py --only Dask         # the loop and the cluster only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from platformdirs import user_cache_dir

BIN = Path(sys.executable).parent / "inkdigit"
DASK = Path(sys.executable).parent / "dask"


def _render_part(family: str, start: int, stop: int, folder: str, seed: int) -> int:
    """Render files ``start`` … ``stop - 1`` of a collection (in a pool process)."""
    from inkdigit.training.robustness import suite

    names = suite.select([family])
    images, labels = suite.sample("mnist", None, seed)
    table = suite.renderings()
    for i in range(start, stop):
        rng = np.random.default_rng([seed, i])
        data = table[names[i % len(names)]](images[i % len(labels)], rng)
        suffix = ".jpg" if data[:2] == b"\xff\xd8" else ".png"
        (Path(folder) / f"{i:06d}_{labels[i % len(labels)]}{suffix}").write_bytes(data)
    return stop - start


def collection(root: Path, family: str, n: int, seed: int) -> Path:
    """The folder of ``n`` rendered files of ``family`` (made once; a partial folder is remade)."""
    folder = root / f"{family}-{n}-seed{seed}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    step = 500
    with ProcessPoolExecutor(os.cpu_count(), mp_context=get_context("spawn")) as pool:
        made = sum(pool.map(_render_part, [family] * len(range(0, n, step)), range(0, n, step),
                            [min(n, s + step) for s in range(0, n, step)], [str(folder)] * len(range(0, n, step)),
                            [seed] * len(range(0, n, step))))
    (folder / "done").write_text(str(made))
    print(f"rendered {made} {family} files into {folder}", flush=True)
    return folder


def _label(path: str) -> int:
    return int(Path(path.split("!")[-1]).stem.rsplit("_", 1)[1])


def loop(folder: Path) -> tuple[float, float]:
    """The baseline: seconds for ``predict`` on each file in turn, and the accuracy."""
    from inkdigit.library import load_recognizer

    rec = load_recognizer(None)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg"))
    started = time.perf_counter()
    right = sum(rec.predict(p).digit == _label(str(p)) for p in files)
    return time.perf_counter() - started, right / len(files)


def batch(folder: Path, *options: str) -> tuple[float, float]:
    """Seconds for the whole ``inkdigit batch`` command, and the accuracy of its rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.jsonl"
        started = time.perf_counter()
        subprocess.run([str(BIN), "batch", str(folder), "--out", str(out), *options], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    return seconds, sum(r["digit"] == _label(r["path"]) for r in rows) / len(rows)


@contextmanager
def cluster(workers: int) -> Iterator[str]:
    """A Dask scheduler and ``workers`` single-threaded workers on loopback, stopped afterwards."""
    tmp = Path(tempfile.mkdtemp())
    scheduler_file = tmp / "scheduler.json"
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        while not scheduler_file.exists():
            time.sleep(0.2)
        for _ in range(workers):
            procs.append(subprocess.Popen(
                [str(DASK), "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--local-directory", str(tmp)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvas", type=int, default=20000)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (median shown)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="only the configurations whose name holds WORD (repeatable; the loop always runs)")
    parser.add_argument("--data", type=Path, default=Path(user_cache_dir("inkdigit")) / "bench-batch")
    args = parser.parse_args()
    sets = {"canvas PNG": collection(args.data, "canvas", args.canvas, args.seed),
            "photo JPEG": collection(args.data, "photo", args.photos, args.seed)}
    print(f"{os.cpu_count()} cores; images per second (median of {args.repeat}); accuracy of the rows")
    print("| collection | configuration | images/s | × loop | accuracy |")
    print("| --- | --- | --- | --- | --- |")
    with cluster(2) as address:
        configs = {"Python loop over Recognizer.predict": lambda f: loop(f),
                   "inkdigit batch --workers 1": lambda f: batch(f),
                   "inkdigit batch --workers 2": lambda f: batch(f, "--workers", "2"),
                   "inkdigit batch on a 2-worker Dask cluster": lambda f: batch(f, "--scheduler", address)}
        configs = {k: v for i, (k, v) in enumerate(configs.items())
                   if i == 0 or not args.only or any(w in k for w in args.only)}
        for label, folder in sets.items():
            n = sum(1 for p in folder.iterdir() if p.suffix in (".png", ".jpg"))
            base = 0.0
            for name, run in configs.items():
                timings = [run(folder) for _ in range(args.repeat)]
                rate = n / statistics.median(t for t, _ in timings)
                base = base or rate
                print(f"| {label} ({n:,}) | {name} | {rate:,.0f} | {rate / base:.2f} | {timings[0][1]:.2%} |",
                      flush=True)


if __name__ == "__main__":
    main()
