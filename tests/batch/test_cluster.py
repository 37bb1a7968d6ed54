"""The same run on a real Dask cluster: a scheduler and two workers on loopback, started here.

Each test gets a cluster of its own (one test kills a worker). The processes are started in
sessions of their own, so that killing one kills its nanny and its worker process together, as a
machine that dies would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.batch.conftest import BIN, Digit, Mixed, jsonl, run

distributed = pytest.importorskip("distributed")


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def workers_alive(self) -> int:
        with distributed.Client(self.address, timeout=10, set_as_default=False) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"])

    def busy(self, name: str) -> bool:
        """Whether worker ``name`` is reading a chunk now."""
        with distributed.Client(self.address, timeout=10, set_as_default=False) as client:
            found = [a for a, w in client.scheduler_info(n_workers=-1)["workers"].items() if w["name"] == name]
            return bool(found) and bool(client.processing(workers=found)[found[0]])


def _start(module: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as f:
        return subprocess.Popen([sys.executable, "-m", f"distributed.cli.{module}", *args], stdout=f,
                                stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_start("dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(file),
                            "--no-dashboard", log=tmp_path / "scheduler.log"))
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for i in range(2):
            procs.append(_start("dask_worker", "--scheduler-file", str(file), "--nworkers", "1", "--nthreads", "1",
                                "--no-dashboard", "--name", f"w{i}", "--local-directory", str(tmp_path / f"w{i}"),
                                log=tmp_path / f"worker{i}.log"))
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=90)
        yield Cluster(address, procs[0], procs[1:])
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_a_cluster_gives_the_rows_a_local_run_gives(tmp_path: Path, cluster: Cluster, mixed: Mixed,
                                                    digits: list[Digit]) -> None:
    import zipfile

    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, d in enumerate(digits[:3]):
            zf.writestr(f"{i}.png", d.png)
    sources = [str(mixed.root), str(archive)]
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert run("batch", *sources, "--out", str(local), "--chunk-size", "3").returncode == 0
    res = run("batch", *sources, "--out", str(remote), "--chunk-size", "3", "--scheduler", cluster.address)
    assert res.returncode == 0, res.stderr
    assert remote.read_text() == local.read_text() and len(jsonl(remote)) == 14 + 3
    # the model reached each worker once, through its plugin, into the worker's own directory
    assert len(list(tmp_path.glob("w*/**/inkdigit-models/*/*.onnx"))) == 2


def test_a_worker_killed_mid_run_loses_and_duplicates_no_row(tmp_path: Path, cluster: Cluster,
                                                             digits: list[Digit]) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    n = 800
    for i in range(n):
        (folder / f"{i:04d}.png").write_bytes(digits[i % len(digits)].png)
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert run("batch", str(folder), "--out", str(local), "--chunk-size", "8").returncode == 0
    proc = subprocess.Popen([str(BIN), "batch", str(folder), "--out", str(remote), "--chunk-size", "8",
                             "--scheduler", cluster.address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        # the first rows are written, and the victim holds a chunk it has not finished
        while not (remote.exists() and remote.read_text().count("\n") >= 40 and cluster.busy("w0")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.05)
        victim = cluster.workers[0]
        os.killpg(victim.pid, signal.SIGKILL)
        written_at_kill = remote.read_text().count("\n")
        assert proc.poll() is None and written_at_kill < n  # the kill fell in the middle of the run
        victim.wait(10)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert cluster.workers_alive() == 1
    rows = jsonl(remote)
    assert len(rows) == n and len({r["path"] for r in rows}) == n
    assert remote.read_text() == local.read_text()
