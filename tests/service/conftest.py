"""The app in-process or as a real ``inkdigit serve`` process on a loopback port, and the images the tests send it."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import render

BIN = Path(sys.executable).with_name("inkdigit")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(url: str, workers: int, proc: subprocess.Popen[Any], probe: str = "/readyz") -> None:
    """Wait until ``probe`` answers 200 on fresh connections, from every one of ``workers``
    processes: each loads its own models, and the parent sends connections to the warm ones only,
    so a streak of 200s from one process says nothing of the others. Once all are warm, fresh
    connections go round them (a request id's first half names the process)."""
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while len(seen) < 4 * workers or len(set(seen[-4 * workers:])) < workers:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"server exited early:\n{out!r}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server not ready in 60 s on {workers} worker(s)")
        try:
            r = httpx.get(url + probe, timeout=2)
        except httpx.TransportError:
            r = None
        if r is not None and r.status_code == 200:
            seen.append(r.headers["x-request-id"][:16])
        else:
            seen.clear()
            time.sleep(0.1)


@contextmanager
def running_server(env: dict[str, str] | None = None, wait_ready: bool = True,
                   workers: int = 1, port: int | None = None) -> Iterator[str]:
    """Start the CLI's server (on ``port``, or a free one), wait until it answers (and is ready),
    stop it afterwards."""
    port = port or free_port()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, workers, proc, "/readyz" if wait_ready else "/healthz")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture
def client(app_client: httpx.Client) -> httpx.Client:
    """The contract tests' client: the app in-process (``server`` is the real one, for what needs it)."""
    return app_client


def encode(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def digit_images(mnist_test) -> dict[str, tuple[bytes, int]]:
    """Encoded test images of known MNIST test digits, in the formats the API must handle."""
    d, label = mnist_test.images[0], int(mnist_test.labels[0])
    drawn = Image.fromarray(render(d).astype(np.uint8))
    rgba = Image.new("RGBA", drawn.size, (0, 0, 0, 0))
    rgba.putalpha(Image.fromarray((255 - np.asarray(drawn)).astype(np.uint8)))
    frames = [drawn, Image.new("L", drawn.size, 255)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "png": (encode(drawn), label),
        "rgba_png": (encode(rgba), label),
        "animated_gif": (gif.getvalue(), label),
        "cmyk_jpeg": (encode(drawn.convert("CMYK"), "JPEG", quality=92), label),
        "png_16bit": (encode(Image.fromarray(np.asarray(drawn).astype(np.uint16) * 257)), label),
        "exif_rotated_jpeg": (encode(drawn.rotate(90, expand=True), "JPEG", quality=92, exif=exif), label),
    }



@contextmanager
def in_process(env: dict[str, str] | None = None, wait_ready: bool = True) -> Iterator[httpx.Client]:
    """The app built by ``create_app(Settings())`` with ``env`` set, served in-process (no socket):
    a client that talks to it, with its lifespan (model loading, compute thread) running."""
    from starlette.testclient import TestClient

    from inkdigit.service.app import create_app
    from inkdigit.service.config import Settings

    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        app = create_app(Settings())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with TestClient(app, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 60
        while wait_ready and client.get("/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not become ready in 60 s")
            time.sleep(0.05)
        yield client


@pytest.fixture(scope="session")
def app_client() -> Iterator[httpx.Client]:
    """One in-process app for the contract tests."""
    with in_process() as c:
        yield c
