"""Throughput and latency of POST /api/v1/predict under load, against a live server on 127.0.0.1.

Starts ``inkdigit serve`` (each requested worker count in turn), drives it with wrk (a C load
generator: ``apt-get install wrk``) over 64 connections, and prints one row per configuration.
The requests cycle through 32 different 280×280 digits drawn and PNG-encoded by Chromium's canvas
(``benchmarks/data/canvas``, made by ``make_canvas_pngs.py``): what the web app sends, and no two
consecutive requests alike. ``--png FILE`` posts one file of your own instead. Traffic stays on
loopback and each run is bounded by ``--seconds``.

    python benchmarks/bench_http.py --workers 1 2 --seconds 30 --connections 64

A shared VM's speed drifts by tens of percent within minutes, so a change is best judged against
the code before it in the same run: ``--baseline DIR`` (a checkout of that code, for example
``git worktree add /tmp/base HEAD~3``) serves DIR/src in turn with the working tree, ``--rounds``
times, and prints each pair's ratio.

    python benchmarks/bench_http.py --workers 2 --baseline /tmp/base --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
CANVAS = HERE / "data" / "canvas"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of ``root`` and its descendants (Linux /proc; 0 elsewhere)."""
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
    return sum(times.get(pid, 0.0) for pid in tree)


def run(workers: int, seconds: int, connections: int, threads: int, pngs: list[Path],
        source: Path | None = None) -> dict[str, float]:
    """One wrk run against a fresh server; ``source``: serve the package from that ``src`` instead."""
    port = free_port()
    env = {**os.environ, "INKDIGIT_ACCESS_LOG": os.environ.get("INKDIGIT_ACCESS_LOG", "true")}
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), *filter(None, [os.environ.get("PYTHONPATH")])])
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("inkdigit")), "serve", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=url) as c:  # warm every worker's code paths
            for i in range(50 * workers):
                c.post("/api/v1/predict", content=pngs[i % len(pngs)].read_bytes(),
                       headers={"content-type": "image/png"})
        cpu_before = _tree_cpu_seconds(server.pid)
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
             "-s", str(HERE / "wrk_predict.lua"), url + "/api/v1/predict"],
            capture_output=True, text=True, check=True,
            env={**os.environ, "INKDIGIT_BENCH_PNGS": ":".join(str(p) for p in pngs)})
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        result["cpu_ms_per_request"] = 1000 * (_tree_cpu_seconds(server.pid) - cpu_before) / max(1, result["requests"])
        return result
    finally:
        server.terminate()
        server.wait(timeout=15)


def _row(label: str, r: dict[str, float]) -> str:
    return (f"{label}: {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.2f} ms  p90 {r['p90_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:7.2f} ms  requests {r['requests']}  "
            f"non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}  "
            f"server CPU {r['cpu_ms_per_request']:.2f} ms/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the 2 cores)")
    parser.add_argument("--png", type=Path, help="post this one image instead of the Chromium drawings")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with, served in turn")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each configuration (with --baseline, pairs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.baseline is not None and not (args.baseline / "src" / "inkdigit").is_dir():
        sys.exit(f"{args.baseline} is not a checkout of inkdigit (no src/inkdigit)")
    pngs = [args.png] if args.png else sorted(CANVAS.glob("*.png"))
    what = str(args.png) if args.png else f"{len(pngs)} Chromium canvas drawings (280×280 RGBA PNG)"
    print(f"POST /api/v1/predict, {what}, {args.connections} connections, {args.seconds} s, "
          f"{os.cpu_count()} CPUs (shared with wrk); target ≥ 1500 req/s, p99 < 50 ms, 0 errors")
    for w in args.workers:
        for _ in range(args.rounds):
            r = run(w, args.seconds, args.connections, args.threads, pngs)
            print(_row(f"workers={w}", r))
            if args.baseline is None:
                continue
            b = run(w, args.seconds, args.connections, args.threads, pngs, args.baseline / "src")
            print(_row("  baseline", b))
            print(f"  this/baseline: throughput ×{r['rps'] / b['rps']:.2f}, p99 ×{r['p99_ms'] / b['p99_ms']:.2f}, "
                  f"server CPU per request ×{r['cpu_ms_per_request'] / b['cpu_ms_per_request']:.2f}")


if __name__ == "__main__":
    main()
