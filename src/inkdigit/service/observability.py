"""Request ids, access logging and Prometheus metrics, as one pure ASGI middleware.

Pure ASGI rather than ``BaseHTTPMiddleware``: it adds no task or stream copy per request, which
matters at thousands of requests a second. With several worker processes the metrics are shared
through ``PROMETHEUS_MULTIPROC_DIR`` (set by ``inkdigit serve``).

Logs go to the process's own streams and never to a file the server writes: the access log (one
line a request, on by default, ``INKDIGIT_ACCESS_LOG=false`` turns it off) to stdout, everything
else to stderr, each line stamped with its UTC time and process id; keeping, rotating and
shipping them is the process manager's job (docs/security.md).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from pathlib import Path
from typing import TextIO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inkdigit.engine.recognizer import Prediction

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access = logging.getLogger("inkdigit.access")

REQUESTS = Counter("inkdigit_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("inkdigit_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["route"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5))
PREDICTIONS = Counter("inkdigit_predictions_total", "Images read", ["model", "outcome"])

#: where in a request's scope the server notes a status it answered itself while the app was still
#: reading the body (one that stopped arriving: 408, see ``inkdigit.service.protocol``), so that
#: the app, which then sees the client as gone, logs and counts that status
ANSWERED = "inkdigit.answered"

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A request id made here: 16 random hex digits for this process, then a 16-digit counter. As
# unique as a uuid4 across processes and restarts, without a getrandom() call per request.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count()


class RequestIdFilter(logging.Filter):
    """Stamp every log record with the id of the request being served ("-" outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class LogFormatter(logging.Formatter):
    """``2026-05-09T07:35:25.123Z INFO 4242 [request id] logger: message``: a line's time in ISO 8601
    UTC to the millisecond, whatever the host's zone, and the process that wrote it (several
    workers share one stream)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(process)d [%(request_id)s] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(LogFormatter())
    return handler


def configure_logging(level: str) -> None:
    """Send this process's lines, Uvicorn's included, to stderr, and the access log to stdout.

    Called by every process of ``inkdigit serve`` before Uvicorn starts (which is then given no
    logging configuration of its own) and again by ``create_app``; it replaces what it set before."""
    diagnostics = _handler(sys.stderr)
    for name in ("inkdigit", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [diagnostics]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.error").handlers[:] = []  # its lines go up to "uvicorn"
    logging.getLogger("uvicorn.error").propagate = True
    access.handlers[:] = [_handler(sys.stdout)]
    access.propagate = False


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = incoming if _VALID_ID.match(incoming) else f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(path).observe(elapsed)
            if self.access_log:
                access.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000)
            request_id.reset(token)


def count_refused(method: str, path: str, status: int, elapsed_s: float, access_log: bool) -> None:
    """Count, and log as the access log would, a request the server refused before the app saw it
    (a request head too large or too slow): its route is "unmatched", its method "-" if unread."""
    REQUESTS.labels(method, "unmatched", str(status)).inc()
    if access_log:
        access.info("%s %s %d %.1fms", method, path, status, elapsed_s * 1000)


def count_prediction(model: str, p: Prediction) -> None:
    """Count one image read, by model and outcome (a digit, rejected as not a digit, or blank)."""
    PREDICTIONS.labels(model, "empty" if p.is_empty else "digit" if p.is_digit else "rejected").inc()


def metrics_payload(shared_dir: Path | None) -> tuple[bytes, str]:
    """The Prometheus exposition of this process, or, given ``shared_dir`` (where several workers
    write their metrics: ``PROMETHEUS_MULTIPROC_DIR``), of all of them."""
    if shared_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(shared_dir))
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
