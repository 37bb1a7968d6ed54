"""Throughput and latency of POST /api/v1/predict under load, against a live server on 127.0.0.1.

Starts ``inkdigit serve`` (each requested worker count in turn), drives it with wrk (a C load
generator: ``apt-get install wrk``) over 64 connections, and prints one row per configuration.
The requests cycle through 32 different 280×280 digits drawn and PNG-encoded by Chromium's canvas
(``benchmarks/data/canvas``, made by ``make_canvas_pngs.py``): what the web app sends, and no two
consecutive requests alike. ``--png FILE`` posts one file of your own instead. Traffic stays on
loopback and each run is bounded by ``--seconds``.

    python benchmarks/bench_http.py --workers 1 2 --seconds 30 --connections 64

``--servers`` serves the same app through other process managers in turn with ``inkdigit serve``
(which passes each connection to the least busy worker, see ``inkdigit.service.workers``), with
the same settings (uvloop, httptools, no access log, no server header):
``uvicorn`` is ``uvicorn --workers N``, ``gunicorn`` is gunicorn with Uvicorn workers
(``pip install -e ".[bench]"``). Every server runs the package that this interpreter imports
(put a checkout's ``src`` first with ``PYTHONPATH``). Each row shows how many connections each
worker held halfway through (``conns``) and its share of the server CPU (``CPU %``); the ratios
compare the first server with each other one. ``other load``: CPU that went to neither the server
nor wrk during the run, in cores (other work on a shared machine skews that row).

    python benchmarks/bench_http.py --workers 2 --servers inkdigit,uvicorn,gunicorn --rounds 4

A shared VM's speed drifts by tens of percent within minutes, so a change is best judged against
the code before it in the same run: ``--baseline DIR`` (a checkout of that code, for example
``git worktree add /tmp/base HEAD~3``) serves DIR/src with ``inkdigit serve`` as one more server.
The servers take turns, round by round (A B C A B C ...), ``--rounds`` times; then the medians.

    python benchmarks/bench_http.py --workers 2 --baseline /tmp/base --rounds 3

``signed-in`` is ``inkdigit serve`` again, with every request sent with a bearer token of an
account, so that each reading is kept in the history (SQLite, the default database): what
keeping history costs, against the anonymous ``inkdigit`` in the same rounds.

    python benchmarks/bench_http.py --workers 2 --servers inkdigit,signed-in --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
CANVAS = HERE / "data" / "canvas"
SERVERS = ("inkdigit", "signed-in", "uvicorn", "gunicorn")
BENCH_EMAIL, BENCH_PASSWORD = "bench@example.com", "benchmark password"
WARMUP_SECONDS = 3


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_cpu_seconds(root: int) -> dict[int, float]:
    """User + system CPU time of ``root`` and of each of its descendants (Linux /proc; {} elsewhere)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return {pid: times[pid] for pid in tree if pid in times}


def _machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy, all cores (Linux /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _worker_shares(root: int, before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """Each worker's share of the server's CPU between two samples: the children's (the parent
    only accepts or supervises), or the one process's when it serves alone."""
    used = {pid: t - before.get(pid, 0.0) for pid, t in after.items()}
    total = sum(used.values()) or 1.0
    children = {pid: u / total for pid, u in used.items() if pid != root and u / total >= 0.02}
    return dict(sorted(children.items())) or {root: used.get(root, 0.0) / total}


def _engine_files(pids: list[int]) -> set[str]:
    """Where the workers loaded the compiled kernels from: which checkout they serve."""
    found = set()
    for pid in pids:
        try:
            found |= {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
                      if "_kernels" in line}
        except OSError:
            continue
    return found or {"(no compiled kernels loaded)"}


def _connections_held(pids: list[int], port: int) -> list[int]:
    """How many established connections to ``port`` each process holds (Linux /proc; IPv4)."""
    established = {line.split()[9] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                   if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "01"}
    held = []
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            links = []
        held.append(sum(link[8:-1] in established for link in links if link.startswith("socket:[")))
    return held


def server_command(server: str, workers: int, port: int) -> list[str]:
    py, bind = sys.executable, ["--host", "127.0.0.1", "--port", str(port)]
    if server in ("inkdigit", "signed-in", "baseline"):  # the CLI of whichever inkdigit PYTHONPATH puts first
        return [py, "-c", "from inkdigit.cli import main; main()", "serve", *bind, "--workers", str(workers),
                "--log-level", "warning"]
    if server == "uvicorn":  # the settings of cli.serve's uvicorn.Config
        return [py, "-m", "uvicorn", "inkdigit.service.app:create_app", "--factory", *bind, "--workers",
                str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-server-header",
                "--log-level", "warning"]
    if server == "gunicorn":  # gunicorn_worker.py: uvicorn_worker.UvicornWorker with those settings
        return [py, "-m", "gunicorn", "inkdigit.service.app:create_app()", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--worker-class", "gunicorn_worker.Worker", "--log-level", "warning"]
    raise ValueError(f"unknown server {server!r}")


def wrk(url: str, seconds: int, connections: int, threads: int, pngs: list[Path],
        midway: Callable[[], object] = lambda: None, token: str = "") -> dict[str, Any]:
    """One wrk run; ``midway`` is called halfway through and its answer returned as ``midway``;
    with ``token`` every request is a signed-in user's (its reading kept in the history)."""
    load = subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
         "-s", str(HERE / "wrk_predict.lua"), url + "/api/v1/predict"],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "INKDIGIT_BENCH_PNGS": ":".join(map(str, pngs)), "INKDIGIT_BENCH_TOKEN": token})
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(seconds / 2)
    seen = midway()
    out, _ = load.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's CPU, once it is reaped
    if load.returncode:
        raise RuntimeError(f"wrk exited with code {load.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["midway"] = seen
    result["wrk_cpu_s"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return result


def run(server: str, workers: int, seconds: int, connections: int, threads: int, pngs: list[Path],
        source: Path | None = None) -> dict[str, Any]:
    """One wrk run against a fresh server; ``source``: serve the package from that ``src`` instead."""
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="inkdigit-bench-metrics-")
    env = {**os.environ, "INKDIGIT_ACCESS_LOG": os.environ.get("INKDIGIT_ACCESS_LOG", "true"),
           "INKDIGIT_LOG_LEVEL": "warning"}
    paths = [str(source) if source else "", str(HERE) if server == "gunicorn" else "", env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    if workers > 1:  # as inkdigit serve does: workers share metrics through a fresh directory
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    home = tempfile.mkdtemp(prefix="inkdigit-bench-home-")  # a fresh database each run
    env["INKDIGIT_HOME"] = home
    if server == "signed-in":
        _confirmed_account(env)
    proc = subprocess.Popen(server_command(server, workers, port), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{server} did not become ready (exit code {proc.poll()})")
            time.sleep(0.2)
        token = _bearer(url) if server == "signed-in" else ""
        # Every worker ready and warm: short wrk runs on fresh connections until one gets no error
        # and each worker served part of it (a worker still loading its model answers 503)
        for _ in range(5):
            before = _tree_cpu_seconds(proc.pid)
            warm = wrk(url, WARMUP_SECONDS, connections, threads, pngs, token=token)
            shares = _worker_shares(proc.pid, before, _tree_cpu_seconds(proc.pid))
            if warm["non_2xx"] == warm["socket_errors"] == 0 and len(shares) >= workers:
                break
        else:
            print(f"  warning: {server}'s warm-up: {warm['non_2xx']} non-2xx, {warm['socket_errors']} socket "
                  f"errors, {len(shares)} of {workers} workers busy", flush=True)
        before, busy = _tree_cpu_seconds(proc.pid), _machine_busy_seconds()
        result = wrk(url, seconds, connections, threads, pngs, lambda: _connections_held(list(shares), port), token)
        if server == "signed-in":
            result["kept"] = _history_total(url, token)
        after, busy = _tree_cpu_seconds(proc.pid), _machine_busy_seconds() - busy
        shares = _worker_shares(proc.pid, before, after)
        result["conns"] = "/".join(map(str, result.pop("midway")))
        cpu = sum(after.values()) - sum(before.values())
        result["cpu_ms_per_request"] = 1000 * cpu / max(1, result["requests"])
        # cores' worth of CPU that went to neither server nor wrk: other work on the machine
        result["other_cores"] = max(0.0, busy - cpu - result["wrk_cpu_s"]) / result["seconds"]
        result["cpu_split"] = "/".join(f"{100 * s:.0f}" for s in shares.values())
        result["engine"] = sorted(_engine_files(list(shares)))
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def _confirmed_account(env: dict[str, str]) -> None:
    """A confirmed account in the run's fresh database (made directly: no mail server here)."""
    script = (
        "import asyncio\n"
        "from inkdigit.service.config import Settings\n"
        "from inkdigit.service.db.migrate import upgrade\n"
        "from inkdigit.service.db.session import Database\n"
        "from inkdigit.service.db.models import User\n"
        "from inkdigit.service.accounts.manager import PASSWORDS\n"
        "s = Settings(); upgrade(s.database)\n"
        "async def main():\n"
        "    db = Database(s.database)\n"
        "    async with db.sessions() as session:\n"
        f"        session.add(User(email={BENCH_EMAIL!r}, hashed_password=PASSWORDS.hash({BENCH_PASSWORD!r}),\n"
        "                         is_verified=True, is_active=True, is_superuser=False))\n"
        "        await session.commit()\n"
        "    await db.dispose()\n"
        "asyncio.run(main())\n")
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


def _bearer(url: str) -> str:
    r = httpx.post(url + "/api/v1/auth/token", data={"username": BENCH_EMAIL, "password": BENCH_PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def _history_total(url: str, token: str) -> int:
    r = httpx.get(url + "/api/v1/history?limit=1", headers={"authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    return int(r.json()["total"])


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200  # a fresh connection each time
    except httpx.TransportError:
        return False


def _row(label: str, r: dict[str, Any]) -> str:
    return (f"{label:<10} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.2f} ms  p90 {r['p90_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:7.2f} ms  requests {r['requests']:6}  "
            f"errors {r['non_2xx'] + r['socket_errors']}  CPU {r['cpu_ms_per_request']:.3f} ms/req  "
            f"conns {r['conns']}  CPU % {r['cpu_split']}  other load {r['other_cores']:.2f} cores"
            + (f"  kept in history {r['kept']}" if "kept" in r else ""))


def _ratios(first: str, other: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    return (f"  {first}/{other}: throughput ×{a['rps'] / b['rps']:.2f}, p50 ×{a['p50_ms'] / b['p50_ms']:.2f}, "
            f"p99 ×{a['p99_ms'] / b['p99_ms']:.2f}, CPU per request "
            f"×{a['cpu_ms_per_request'] / b['cpu_ms_per_request']:.2f}")


def _summary(workers: int, results: dict[str, list[dict[str, Any]]]) -> None:
    print(f"medians over {max(map(len, results.values()))} round(s), workers={workers} "
          "(min-max in brackets):")
    for name, rs in results.items():
        def med(key: str, fmt: str, rs: list[dict[str, Any]] = rs) -> str:
            values = [float(r[key]) for r in rs]
            return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"
        errors = sum(int(r["non_2xx"]) + int(r["socket_errors"]) for r in rs)
        print(f"{name:<10} {med('rps', '.0f')} req/s  p50 {med('p50_ms', '.1f')} ms  "
              f"p99 {med('p99_ms', '.1f')} ms  CPU {med('cpu_ms_per_request', '.3f')} ms/req  errors {errors}")
    first, *others = results
    for other in others:
        pairs = list(zip(results[first], results[other], strict=False))
        ratio = {k: [a[k] / b[k] for a, b in pairs] for k in ("rps", "p99_ms")}
        print(f"  {first}/{other} per round: throughput "
              + " ".join(f"×{x:.2f}" for x in ratio["rps"]) + ", p99 " + " ".join(f"×{x:.2f}" for x in ratio["p99_ms"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--servers", default="inkdigit",
                        help=f"comma-separated, served in turn each round: {', '.join(SERVERS)}")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the 2 cores)")
    parser.add_argument("--png", type=Path, help="post this one image instead of the Chromium drawings")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with, served in turn")
    parser.add_argument("--rounds", type=int, default=1, help="turns of each server")
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := set(servers) - set(SERVERS):
        sys.exit(f"unknown server(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVERS)}")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.baseline is not None:
        if not (args.baseline / "src" / "inkdigit").is_dir():
            sys.exit(f"{args.baseline} is not a checkout of inkdigit (no src/inkdigit)")
        servers.append("baseline")
    pngs = [args.png] if args.png else sorted(CANVAS.glob("*.png"))
    what = str(args.png) if args.png else f"{len(pngs)} Chromium canvas drawings (280×280 RGBA PNG)"
    print(f"POST /api/v1/predict, {what}, {args.connections} connections, {args.seconds} s, "
          f"{os.cpu_count()} CPUs (shared with wrk); target ≥ 1500 req/s, p99 < 50 ms, 0 errors", flush=True)
    for w in args.workers:
        results: dict[str, list[dict[str, Any]]] = {s: [] for s in servers}
        engines: set[str] = set()
        for i in range(args.rounds):
            print(f"workers={w}, round {i + 1} of {args.rounds}:", flush=True)
            for s in servers:
                source = args.baseline / "src" if s == "baseline" else None
                r = run(s, w, args.seconds, args.connections, args.threads, pngs, source)
                results[s].append(r)
                engines |= {f"{s}: {e}" for e in r["engine"]}
                print(_row(s, r), flush=True)
            for s in servers[1:]:
                print(_ratios(servers[0], s, results[servers[0]][-1], results[s][-1]), flush=True)
        print("compiled kernels loaded by the workers:", *sorted(engines), sep="\n  ")
        if args.rounds > 1 or len(servers) > 1:
            _summary(w, results)


if __name__ == "__main__":
    main()
