"""The HTTP/1.1 protocol every worker serves with: Uvicorn's httptools one, held to limits.

Uvicorn holds a connection for as long as the client likes: one that never sends a byte, a head
sent a byte a second (slowloris), a body shorter than its Content-Length; and httptools buffers a
head of any size. Each costs a file descriptor and memory, so a few thousand such sockets starve a
worker. ``inkdigit serve`` names this class as Uvicorn's ``http`` protocol on both of its paths
(one worker, or several behind ``inkdigit.service.workers``); it adds, with the settings of
``inkdigit.service.config`` (reasons and proxy settings: docs/security.md):

- a head timeout: a request line and its headers must arrive within ``head_timeout_s`` of the
  connection's opening (its first request) or of their first byte (later ones: between requests
  an idle connection is closed after ``keepalive_timeout_s``, by Uvicorn). A connection that sent
  nothing is closed; one part-way through a head is answered 408.
- a body timeout: a body may go ``body_timeout_s`` without a byte, and once that long has passed
  must average ``body_min_rate`` bytes a second (Apache's mod_reqtimeout rule), or it is answered
  408 (and the app, still reading it, sees the client gone).
- a head size limit: more than ``max_header_bytes`` of head or ``max_headers`` fields is answered
  431 (a URL alone past the limit: 414) as soon as it is seen, before the rest is buffered.
- a connection cap: past ``max_connections`` open in this worker, a new connection closes the one
  that has held no request longest (waiting for one, or for the rest of its head), as nginx reuses
  its idle connections; with none such, the new one is closed at once. A flood of silent
  connections so pushes out its own oldest, and a client that sends its request promptly is served.
- keep-alive recycling: after ``keepalive_max_requests`` requests or ``keepalive_max_age_s`` on a
  connection, its next response says ``Connection: close``; the client reconnects and the parent
  hands the new connection to the least busy worker, a restarted one included.

An early answer has the service's error shape and ``Connection: close``, and lingers: the server
stops sending, drops whatever still arrives for up to ``LINGER_S``, then closes; closing at once
would make the client's kernel, still sending, answer a reset that can destroy the answer unread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from typing import Any, cast

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from inkdigit.service.config import get_settings
from inkdigit.service.errors import error_body
from inkdigit.service.observability import ANSWERED, count_refused

log = logging.getLogger("inkdigit.service")

LINGER_S = 2.0  # how long an early answer waits for the client to stop sending before closing


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that has been answered already."""


class _Throttled:
    """A warning at most once per ``every`` seconds, with how often it happened meanwhile: a flood
    of refused connections must not become a flood of log lines."""

    def __init__(self, every: float) -> None:
        self.every, self.count, self.last = every, 0, -math.inf

    def warn(self, message: str, *args: object) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            log.warning(message + " (%d time(s) since the last such line)", *args, self.count)
            self.last, self.count = now, 0


_full = _Throttled(10.0)
# this worker's connections that hold no request (waiting for one, or for the rest of its head),
# longest idle first: the first closed when the cap is reached
_idle: OrderedDict[GuardedProtocol, None] = OrderedDict()


class GuardedProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol with the timeouts, size limits, connection cap and keep-alive
    recycling described in this module's docstring; everything else is Uvicorn's."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = get_settings()
        self.timeout_keep_alive = self.limits.keepalive_timeout_s  # type: ignore[assignment]
        self._opened = self._head_started = 0.0
        self._requests = 0
        self._in_head = False  # between a request's first byte and the end of its head
        self._head_raw = 0  # bytes of the reads that fell wholly inside the current head
        self._began = False  # a request began in the read being parsed
        self._fields = self._field_bytes = 0  # header fields of the current head, and their bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_pending = False  # a request's head is in, not yet all of its body
        self._body_start = self._body_last = 0.0
        self._body_bytes = 0
        self._body_timer: asyncio.TimerHandle | None = None
        self._refused = False  # answered early: lingering, whatever arrives is dropped
        self._linger: asyncio.TimerHandle | None = None

    # connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            _full.warn("%d connections open in this worker, the most allowed (INKDIGIT_MAX_CONNECTIONS): "
                       "closing the longest idle, or the new one", self.limits.max_connections)
            if not _idle:  # every connection is in the middle of a request: the new one is refused
                transport.close()
                return
            _idle.popitem(last=False)[0].transport.close()
        _idle[self] = None
        self._opened = self._head_started = self.loop.time()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        _idle.pop(self, None)
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Uvicorn's, plus the head's byte count and the lazily armed head and body timers (a
        request that arrives in one read, the usual case, arms neither)."""
        if self._refused:
            return
        self._unset_keepalive_if_required()
        was_in_head, self._began = self._in_head, False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._cancel_timers()
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self._refused:  # a malformed request, not one of ours: Uvicorn's answer
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        if self._in_head:
            if was_in_head and not self._began:  # all of this read is head: count it, a field
                # still incomplete included
                self._head_raw += len(data)
                if self._head_raw > self.limits.max_header_bytes:
                    self._refuse_head(431, "headers_too_large", self._too_large())
                    return
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)
        elif self._body_pending and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._check_body)

    # parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = self._began = True
        self._head_raw = self._fields = self._field_bytes = 0
        self._head_started = self.loop.time()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_header_bytes:
            self._refuse_head(414, "uri_too_long", f"The URL is longer than {self.limits.max_header_bytes:,} bytes.")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._field_bytes += len(name) + len(value) + 4
        if self._fields > self.limits.max_headers:
            self._refuse_head(431, "headers_too_large",
                              f"The request has more than {self.limits.max_headers} header fields.")
            raise _Refused
        if len(self.url) + self._field_bytes > self.limits.max_header_bytes:
            self._refuse_head(431, "headers_too_large", self._too_large())
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        _idle.pop(self, None)  # a request in progress: not to be closed for room
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is previous:  # an upgrade: the WebSocket protocol takes the connection
            return
        self._requests += 1
        now = self.loop.time()
        if (self._requests >= self.limits.keepalive_max_requests
                or now - self._opened >= self.limits.keepalive_max_age_s):
            self.cycle.keep_alive = False  # its response says Connection: close, then it closes
        self._body_pending = True  # until on_message_complete, which comes at once without a body
        self._body_bytes = 0
        self._body_start = self._body_last = now

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        self._body_last = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._body_pending = False
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:  # no pipelined request next
            _idle[self] = None

    # timeouts and early answers

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._refused:
            return
        if not self._in_head:  # not a byte of a request yet
            self.transport.close()
            return
        self._refuse_head(408, "request_timeout",
                          f"The request head did not arrive within {self.limits.head_timeout_s:g} s.")

    def _check_body(self) -> None:
        """Time the body out, or look again when it next could be: it may go ``body_timeout_s``
        without a byte, and after that long must average ``body_min_rate`` bytes a second."""
        self._body_timer = None
        if not self._body_pending or self.transport.is_closing() or self._refused:
            return
        limits, now = self.limits, self.loop.time()
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            # the app is behind, not the client (it has not read what came, or not asked for more)
            self._body_last = now
            self._body_start = now - self._body_bytes / limits.body_min_rate
        deadline = min(self._body_last + limits.body_timeout_s,
                       self._body_start + limits.body_timeout_s + self._body_bytes / limits.body_min_rate)
        if now < deadline:
            self._body_timer = self.loop.call_later(deadline - now, self._check_body)
            return
        self._body_pending = False
        cycle = self.cycle
        if cycle.response_started:  # answered without the rest of the body: close once that is sent
            if cycle.response_complete:
                self.transport.close()
            else:
                cycle.keep_alive = False
                self._refused = True
            return
        cast(dict[str, Any], cycle.scope)[ANSWERED] = 408  # the app logs this status, not 499
        cycle.disconnected = True  # its next receive() says the client left; what it sends is dropped
        cycle.message_event.set()
        self._answer(408, "request_timeout",
                     f"The request body stalled: no byte for {limits.body_timeout_s:g} s, or under "
                     f"{limits.body_min_rate:,} bytes a second.")

    def _too_large(self) -> str:
        return f"The request head is larger than {self.limits.max_header_bytes:,} bytes."

    def _refuse_head(self, status: int, code: str, message: str) -> None:
        """Answer a request whose head is not (and will not be) complete, log it, and linger."""
        url = getattr(self, "url", b"")
        method = self.parser.get_method().decode("latin-1") if url else "-"
        path = url.split(b"?", 1)[0][:200].decode("latin-1") or "-"
        count_refused(method, path, status, self.loop.time() - self._head_started, self.limits.access_log)
        if self.cycle is not None and not self.cycle.response_complete:
            # an earlier request on this connection is still being answered (pipelining): the
            # connection closes after that answer, and this request gets none
            self.cycle.keep_alive = False
            self._refused = True
            self._cancel_timers()
            return
        self._answer(status, code, message)

    def _answer(self, status: int, code: str, message: str) -> None:
        """Send an error answer outside any request cycle, then linger and close."""
        body = json.dumps(error_body(code, message)).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.write(b"".join(head) + body)
        self._refused = True
        self._cancel_timers()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()  # to drop what still comes, up to the client's end or LINGER_S
        self._linger = self.loop.call_later(LINGER_S, self.transport.close)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer, self._linger):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._linger = None
