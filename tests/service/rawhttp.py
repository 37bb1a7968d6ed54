"""HTTP/1.1 over plain sockets, for what a client library hides: clients that stay silent, send a
byte at a time, send too much, or leave; and what the server answers them before it closes."""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def connect(url: str, timeout: float = 10) -> socket.socket:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def request_head(method: str, path: str, headers: Sequence[tuple[str, str]] = (), *, complete: bool = True) -> bytes:
    """A request line and headers (``Host`` first), ended by the blank line unless not ``complete``."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n" + ("\r\n" if complete else "")).encode("latin-1")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def parse(data: bytes) -> Answer | None:
    """The first whole response in ``data``, or None."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    size = int(headers.get("content-length", "0"))
    return Answer(int(lines[0].split()[1]), headers, rest[:size]) if len(rest) >= size else None


def recv_or_nothing(sock: socket.socket) -> bytes:
    """One read; b"" when the server has closed (a reset included)."""
    try:
        return sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def exchange(sock: socket.socket, data: bytes, timeout: float = 10) -> tuple[Answer | None, bool]:
    """Send ``data`` (from a thread: the server may answer, and stop reading, before it is all
    sent) and read until a whole response came or the server closed: (the response, closed)."""
    def send() -> None:
        with contextlib.suppress(OSError):  # the server answered early and closed: its answer is read below
            sock.sendall(data)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received, deadline = b"", time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = recv_or_nothing(sock)
            except TimeoutError:
                break
            if not chunk:
                return parse(received), True
            received += chunk
            if (answer := parse(received)) is not None:
                return answer, False
        return parse(received), False
    finally:
        sender.join(timeout)


def until_closed(socks: Sequence[socket.socket], timeout: float, trickle: bytes = b"",
                 every: float = 0.1) -> list[tuple[bytes, bool]]:
    """Wait until the server has closed every socket, or ``timeout`` has passed, meanwhile sending
    each open one the next byte of ``trickle`` (repeated) every ``every`` seconds: for each, what
    it received and whether it was closed."""
    received = [b""] * len(socks)
    closed = [False] * len(socks)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    start = time.monotonic()
    sent = 0
    try:
        while not all(closed) and time.monotonic() - start < timeout:
            if trickle and time.monotonic() - start >= sent * every:
                byte = trickle[sent % len(trickle):][:1]
                for i, s in enumerate(socks):
                    if not closed[i]:
                        with contextlib.suppress(OSError):  # closed by the server: the read below sees it
                            s.send(byte)
                sent += 1
            for key, _ in sel.select(0.05):
                i = key.data
                try:
                    chunk = recv_or_nothing(socks[i])
                except BlockingIOError:
                    continue
                if chunk:
                    received[i] += chunk
                else:
                    closed[i] = True
                    sel.unregister(socks[i])
    finally:
        sel.close()
        for s in socks:
            s.setblocking(True)
    return list(zip(received, closed, strict=True))
