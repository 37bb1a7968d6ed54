"""What a decompression bomb costs: one read, and everyone else's latency while bombs arrive.

Part 1, **one bomb**: each hostile file below is read by ``Recognizer.predict`` in a fresh process
(so its peak memory is its own), ``--repeat`` times; the table gives the median wall time and the
median growth of peak RSS over a process that read one ordinary canvas PNG. The files: the
issue's 3.9 KB canvas JPEG whose start-of-frame says 6000×6000, and real 6000×6000 images (PNG
gray and RGBA, GIF, TIFF, WebP, JPEG) of a few kilobytes each.

Part 2, **bystanders**: ``inkdigit serve --workers 2`` on loopback; ``--clients`` closed-loop
clients post canvas PNGs to /api/v1/predict for ``--seconds`` (quiet), then again while 40 JPEG
bombs are posted 8 at a time (under attack). Prints the clients' p50/p99 in each phase, their
ratio, and the workers' RSS before and after the bombs.

``--baseline DIR`` runs both parts on DIR/src too (a checkout of older code, e.g.
``git worktree add /tmp/base HEAD~5``), alternating with this checkout, and prints the ratios:
this machine's speed drifts, so only a comparison made in the same run means much.

    python benchmarks/bench_bombs.py --repeat 3 --seconds 15 [--baseline /tmp/base]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tests.hostile.corpus import patch_jpeg  # noqa: E402

CANVAS = sorted((HERE / "data" / "canvas").glob("*.png"))


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def bombs() -> dict[str, bytes]:
    canvas = Image.open(CANVAS[0]).convert("RGB")
    jpeg = _encode(canvas, "JPEG", quality=50)
    big = (6000, 6000)
    return {
        "jpeg-sof-6000x6000": patch_jpeg(jpeg, *big),
        "jpeg-6000x6000": _encode(Image.new("RGB", big, "white"), "JPEG", quality=10),
        "png-gray-6000x6000": _encode(Image.new("L", big, 255), "PNG", optimize=True),
        "png-rgba-6000x6000": _encode(Image.new("RGBA", big, (0, 0, 0, 0)), "PNG"),
        "gif-6000x6000": _encode(Image.new("L", big, 255), "GIF"),
        "tiff-6000x6000": _encode(Image.new("L", big, 255), "TIFF", compression="tiff_deflate"),
        "webp-6000x6000": _encode(Image.new("RGB", big, "white"), "WEBP", lossless=True),
    }


_ONE = """
import resource, sys, time
from inkdigit.engine.imageio import ImageInputError
from inkdigit.library import load_recognizer
rec = load_recognizer()
rec.predict(open(sys.argv[2], "rb").read())  # warm: an ordinary canvas
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
data = open(sys.argv[1], "rb").read()
t = time.perf_counter()
try:
    rec.predict(data)
    outcome = "read"
except ImageInputError as exc:
    outcome = exc.code
ms = (time.perf_counter() - t) * 1000
print(ms, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024, outcome)
"""


def one_bomb(src: Path, path: Path) -> tuple[float, float, str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _ONE, str(path), str(CANVAS[0])], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), out[2]


def part_one(sources: dict[str, Path], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, data in bombs().items():
            files[name] = Path(tmp) / name
            files[name].write_bytes(data)
        print(f"\n## One bomb read by Recognizer.predict, fresh process, median of {repeat}\n")
        print("| file | bytes | " + " | ".join(f"{s} ms | {s} +MB | {s} outcome" for s in sources) + " |")
        print("|---|---:|" + "---:|---:|---|" * len(sources))
        for name, path in files.items():
            cells = []
            for _label, src in sources.items():
                runs = [one_bomb(src, path) for _ in range(repeat)]
                cells += [f"{statistics.median(r[0] for r in runs):,.0f}",
                          f"{statistics.median(r[1] for r in runs):,.0f}",
                          runs[-1][2]]
            print(f"| {name} | {path.stat().st_size:,} | " + " | ".join(cells) + " |")


def _rss_mb(root: int) -> list[float]:
    """RSS of each child process of ``root`` (the workers), MB."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == root and "VmRSS" in fields:
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(out)


async def _clients(url: str, n: int, seconds: float, payloads: list[bytes]) -> list[float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def one(k: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            i = k
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = await c.post("/api/v1/predict", content=payloads[i % len(payloads)],
                                 headers={"content-type": "image/png"})
                latencies.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
                i += n

    await asyncio.gather(*(one(k) for k in range(n)))
    return latencies


async def _attack(url: str, bomb: bytes, total: int = 40, at_once: int = 8) -> list[int]:
    sem = asyncio.Semaphore(at_once)
    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        async def one() -> int:
            async with sem:
                r = await c.post("/api/v1/predict", content=bomb, headers={"content-type": "image/jpeg"})
                return r.status_code
        return list(await asyncio.gather(*(one() for _ in range(total))))


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def part_two(label: str, src: Path, clients: int, seconds: float) -> dict[str, float]:
    with socket_port() as port:
        env = {**os.environ, "PYTHONPATH": str(src), "INKDIGIT_ACCESS_LOG": "false"}
        proc = subprocess.Popen([sys.executable, "-c", "from inkdigit.cli import main; main()", "serve", "--port",
                                 str(port), "--workers", "2", "--log-level", "warning"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            payloads = [p.read_bytes() for p in CANVAS]
            asyncio.run(_clients(url, clients, 3, payloads))  # warm every worker
            quiet = asyncio.run(_clients(url, clients, seconds, payloads))
            rss_before = _rss_mb(proc.pid)
            bomb = bombs()["jpeg-sof-6000x6000"]

            async def both() -> tuple[list[float], list[int]]:
                lat, codes = await asyncio.gather(_clients(url, clients, seconds, payloads), _attack(url, bomb))
                return lat, codes

            loud, codes = asyncio.run(both())
            time.sleep(1)
            rss_after = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    row = {"quiet p50": statistics.median(quiet), "quiet p99": _pct(quiet, 99),
           "attack p50": statistics.median(loud), "attack p99": _pct(loud, 99),
           "rss before": max(rss_before or [0]), "rss after": max(rss_after or [0])}
    row["p99 ratio"] = row["attack p99"] / row["quiet p99"]
    print(f"| {label} | " + " | ".join(f"{row[k]:,.1f}" for k in row) + f" | {sorted(set(codes))} |", flush=True)
    return row


class socket_port:
    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--baseline", type=Path, help="a checkout of older code to compare with")
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    sources = {"this": ROOT / "src"}
    if args.baseline:
        sources["baseline"] = args.baseline / "src"
    part_one(sources, args.repeat)
    if args.skip_http:
        return 0
    print(f"\n## {args.clients} clients' latency (ms) on 2 workers, quiet, then while 40 JPEG bombs "
          "arrive 8 at a time\n")
    print("| code | quiet p50 | quiet p99 | attack p50 | attack p99 | worker RSS before (MB) | after | "
          "p99 ratio | bomb statuses |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    results = {label: part_two(label, src, args.clients, args.seconds) for label, src in sources.items()}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
