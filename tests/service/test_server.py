"""A real ``inkdigit serve`` on loopback: what only sockets and the CLI can show."""

from __future__ import annotations

import httpx

from tests.service.test_api import PNG_HEADER


def test_concurrent_requests_each_get_their_own_answer(server: str, mnist_test) -> None:
    """Requests arriving together are read together (micro-batching); no answer may cross over, and a
    bad image among them fails alone."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import png_bytes, render

    cases = [(png_bytes(render(mnist_test.images[i])), int(mnist_test.labels[i])) for i in range(12)]
    jobs = [cases[i % 12] for i in range(48)]
    jobs[17] = (b"\x89PNG\r\n\x1a\n truncated", -1)

    def send(job: tuple[bytes, int]) -> tuple[int, httpx.Response]:
        with httpx.Client(base_url=server, timeout=30) as c:
            return job[1], c.post("/api/v1/predict", content=job[0], headers=PNG_HEADER)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, jobs))
    for expected, r in answers:
        if expected < 0:
            assert r.status_code == 422 and r.json()["error"]["code"] == "corrupt_image"
        else:
            assert r.status_code == 200 and r.json()["digit"] == expected


def test_serve_refuses_a_busy_port_in_one_sentence() -> None:
    import socket
    import subprocess

    from tests.service.conftest import BIN

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([str(BIN), "serve", "--port", str(port), "--workers", "2"], capture_output=True,
                           text=True, timeout=60)
    assert r.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in r.stdout + r.stderr

