"""Several worker processes behind one listening socket: the parent accepts, the least busy serves.

Why not Uvicorn's ``--workers``, or a socket per worker with SO_REUSEPORT: a worker runs Python on
one core at a time (the GIL), so each of its clients waits in proportion to the connections it
holds, and keep-alive clients hold theirs for good. With one shared socket, whichever worker wakes
first takes a burst; SO_REUSEPORT spreads by a hash of the client's address, which is only even on
average (64 wrk connections over 2 workers split 37/27: the 37 waited 40 % longer, and set p99).
So the parent accepts every connection itself and passes it over a Unix socket pair (SCM_RIGHTS)
to the worker holding the fewest open ones, as Node.js's cluster module does (there round-robin).
A worker counts the connections it has closed in shared memory; the parent, which counts what it
handed over, knows each worker's load exactly. Measured with wrk (64 connections, 2 workers, 30 s):
see the README's Benchmarks section.

The parent binds first, so a busy port fails at once and a port of 0 becomes one concrete port;
it hands nothing to a worker before that worker serves (and, once any worker's app says it is
warm, its models loaded, new connections go to warm workers only), restarts a worker that dies,
gives up if they keep dying at start-up, and stops them all on SIGINT / SIGTERM.

A worker killed outright loses the connections it held, and no others: the parent keeps its own
copy of each connection it hands over until the worker counts it taken (``taken[slot]``, before
reading a byte of it), so one handed to a worker in the instant it died (its socket pair still
open while the kernel tears it down) is handed again, unread, to another worker. Connections then
flow back to the replacement as clients reconnect: ``inkdigit.service.protocol`` closes each
keep-alive connection after a number of requests or seconds, and a reconnection goes, like any
new connection, to the worker holding the fewest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string

log = logging.getLogger("inkdigit.service")

SUPPORTED = hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


TAKING, WARM = 1, 2  # ready[slot]: it takes connections; and its app says it is warm (models loaded)


class _HandedServer(uvicorn.Server):
    """A Uvicorn server with no socket of its own: it serves the connections that arrive on
    ``channel``, flags ``ready[slot]`` while it takes them (TAKING, then WARM once ``warm()`` says
    so), and counts each one it receives in ``taken[slot]`` and each one it closes in ``closed[slot]``."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket, slot: int, closed: Any, ready: Any,
                 taken: Any, warm: Callable[[], bool] | None = None) -> None:
        super().__init__(config)
        self._channel, self._slot, self._closed, self._ready = channel, slot, closed, ready
        self._taken, self._warm = taken, warm
        self._tasks: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        base = self.config.http_protocol_class
        closed, slot = self._closed, self._slot

        class Counted(base):  # type: ignore[valid-type,misc]
            def connection_lost(self, exc: Exception | None) -> None:
                closed[slot] += 1
                super().connection_lost(exc)

        self._protocol = Counted
        self._channel.setblocking(False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._channel.fileno(), self._take)
        self._ready[self._slot] = TAKING
        task = loop.create_task(self._flag_warm())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flag_warm(self) -> None:
        """Say WARM once the app is: the parent then hands new connections to warm workers only,
        so a worker still loading its models (at start-up, or restarted after a crash) answers
        none of them 503 while another could read them."""
        start = time.monotonic()
        while self._warm is not None and not self._warm():  # checked less often after a minute
            await asyncio.sleep(0.05 if time.monotonic() - start < 60 else 1.0)
        if self._ready[self._slot]:  # not if it is shutting down meanwhile
            self._ready[self._slot] = WARM

    def _new_protocol(self) -> asyncio.Protocol:
        return self._protocol(config=self.config, server_state=self.server_state,  # type: ignore[no-any-return]
                              app_state=self.lifespan.state)

    def _take(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(self._channel, 1, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = b"", []
            if not msg and not fds:  # the parent is gone: finish what is in flight and stop
                loop.remove_reader(self._channel.fileno())
                self.should_exit = True
                return
            self._taken[self._slot] += len(fds)  # ours from now on: the parent drops its copies,
            with contextlib.suppress(OSError):  # woken by this at once (else a close waits for it)
                self._channel.send(b"t")
            for fd in fds:
                sock = socket.socket(fileno=fd)
                sock.setblocking(False)
                task = loop.create_task(self._adopt(sock))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _adopt(self, sock: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self._new_protocol, sock)
        except OSError:  # the client left before we took it
            sock.close()
            self._closed[self._slot] += 1

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._ready[self._slot] = 0
        asyncio.get_running_loop().remove_reader(self._channel.fileno())  # False if _take already did
        self._channel.close()  # connections still queued in it are closed with it
        await super().shutdown(sockets)


def _worker(channel: socket.socket, slot: int, closed: Any, ready: Any, taken: Any,
            config: dict[str, Any]) -> None:  # pragma: no cover - child process
    from inkdigit.service.observability import configure_logging

    configure_logging(config["log_level"])
    # Ctrl+C reaches every process of the group, maybe while this one still builds its app; Uvicorn
    # re-raises it after its graceful stop, which is all a worker has to do
    with contextlib.suppress(KeyboardInterrupt):
        app = config["app"]
        if config.get("factory"):  # built here, to learn from it when it is warm
            app = import_from_string(app)()
        warm = getattr(getattr(app, "state", None), "warm", None)  # the app's own contract, if it has one
        _HandedServer(uvicorn.Config(**{**config, "app": app, "factory": False}), channel, slot, closed, ready,
                      taken, warm).run()


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    channel: socket.socket  # the parent's end
    started: float
    handed: int = 0  # connections passed to it; minus closed[slot]: its open connections
    usable: bool = True  # False once its channel fails
    # the parent's copies of the connections passed to it and not yet taken, by their number
    # (handed); closed as taken[slot] reaches them, handed again if it dies first
    pending: deque[tuple[int, socket.socket]] = field(default_factory=deque)


class _Pool:
    """The workers and their loads; ``hand_over`` is called from the accepting thread, the rest
    from the supervising one, hence the lock."""

    def __init__(self, workers: int, config: dict[str, Any]) -> None:
        self._ctx = mp.get_context("spawn")
        self._config = config
        self.closed = self._ctx.Array("q", workers, lock=False)
        self.ready = self._ctx.Array("b", workers, lock=False)
        self.taken = self._ctx.Array("q", workers, lock=False)
        self._lock = threading.Lock()
        self._next = 0
        self.workers = [self._start(i) for i in range(workers)]

    def _start(self, slot: int) -> _Worker:
        self.closed[slot], self.ready[slot], self.taken[slot] = 0, 0, 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        p = self._ctx.Process(target=_worker, args=(theirs, slot, self.closed, self.ready, self.taken,
                                                    self._config), daemon=False)
        p.start()
        theirs.close()  # the child has its own copy now
        ours.setblocking(False)  # a worker whose queue is full is passed over, not waited for
        return _Worker(p, ours, time.monotonic())

    def _release(self, slot: int) -> None:
        """Close the parent's copies of the connections worker ``slot`` has taken."""
        w, taken = self.workers[slot], self.taken[slot]
        while w.pending and w.pending[0][0] <= taken:
            w.pending.popleft()[1].close()

    def release(self) -> None:
        with self._lock:
            for i in range(len(self.workers)):
                self._release(i)

    def channels(self) -> list[socket.socket]:
        """The channels of the workers that take connections: each says "taken" on it."""
        with self._lock:
            return [w.channel for w in self.workers if w.usable]

    def drain(self, channels: list[socket.socket]) -> None:
        """Read the "taken" notes waiting on ``channels``; a channel its worker closed (it died)
        is marked unusable, so it is not waited on again before the worker is restarted."""
        for channel in channels:
            while True:
                try:
                    note = channel.recv(64)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    note = b""
                if not note:
                    with self._lock:
                        for w in self.workers:
                            if w.channel is channel:
                                w.usable = False
                    break

    def restart(self, slot: int) -> None:
        """Replace the dead worker ``slot``; the connections it never took go to the others."""
        with self._lock:
            old = self.workers[slot]
            old.usable = False
            old.channel.close()
            self._release(slot)  # its last count, before the new worker's starts from 0
            orphans = [conn for _, conn in old.pending]
            self.workers[slot] = self._start(slot)
        for conn in orphans:  # never read by the dead worker: another can serve it from the start
            if not self.hand_over(conn):
                conn.close()
        if orphans:
            log.warning("handed %d connection(s) that worker %s never took to another", len(orphans), old.process.pid)

    def any_ready(self) -> bool:
        return any(w.usable and self.ready[i] for i, w in enumerate(self.workers))

    def hand_over(self, conn: socket.socket) -> bool:
        """Pass ``conn`` to the ready worker with the fewest open connections, a warm one if there
        is any (a cold one answers /healthz, and 503 to a reading); False if none took it. Once
        passed, ``conn`` (the parent's copy) is the pool's, until that worker has taken it."""
        with self._lock:
            n = len(self.workers)
            for i in range(n):
                self._release(i)
            self._next = (self._next + 1) % n  # ties go round
            ready = [i for i in range(n) if self.workers[i].usable and self.ready[i]]
            warm = [i for i in ready if self.ready[i] == WARM]
            order = sorted(warm or ready,
                           key=lambda i: (self.workers[i].handed - self.closed[i], (i - self._next) % n))
            for i in order:
                w = self.workers[i]
                try:
                    socket.send_fds(w.channel, [b"c"], [conn.fileno()])
                except (BlockingIOError, InterruptedError):
                    continue  # its queue is full: busy, not gone
                except OSError as exc:
                    log.warning("worker %s cannot take connections (%s)", w.process.pid, exc)
                    w.usable = False
                    continue
                w.handed += 1
                w.pending.append((w.handed, conn))
                return True
            return False

    def stop(self) -> None:
        for w in self.workers:
            if w.process.is_alive():
                w.process.terminate()  # SIGTERM: Uvicorn finishes the requests in flight
        for w in self.workers:
            w.process.join(timeout=15)
            if w.process.is_alive():
                w.process.kill()
            w.channel.close()
            for _, conn in w.pending:
                conn.close()
            w.pending.clear()


def _accept_loop(listener: socket.socket, pool: _Pool, stop: threading.Event) -> None:
    """Accept connections and hand them over; between, close the parent's copies of those the
    workers have taken as soon as they say so (a copy left open would hold back the close the
    worker makes: with a 50 ms poll, every close of a 2-worker server was 50 ms late)."""
    listener.setblocking(False)
    while not stop.is_set():
        if not pool.any_ready():  # leave connections in the backlog until someone can serve them
            time.sleep(0.02)
            continue
        channels = pool.channels()
        try:
            readable, _, _ = select.select([listener, *channels], [], [], 0.5)
        except (OSError, ValueError):  # a channel closed by a restart in the meantime
            continue
        pool.drain([r for r in readable if r is not listener])
        pool.release()
        if listener not in readable:
            continue
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as exc:  # out of file descriptors, or the listener closed at shutdown
            if not stop.is_set():
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
            continue
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.monotonic() + 10
        while not pool.hand_over(conn):
            if time.monotonic() > deadline or stop.is_set():
                conn.close()
                break
            time.sleep(0.02)  # every worker is restarting: hold the client a moment


def serve(host: str, port: int, workers: int, config: dict[str, Any]) -> int:
    """Run ``workers`` Uvicorn servers (``config``: ``uvicorn.Config`` arguments) until signalled;
    the exit status: 0 after a clean stop, 1 if the workers could not be kept running."""
    from inkdigit.service.observability import configure_logging

    configure_logging(config.get("log_level", "info"))  # the parent's lines too: timed, on stderr
    listener = listening_socket(host, port, int(config.get("backlog", 2048)))  # OSError: port taken
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    pool = _Pool(workers, config)
    acceptor = threading.Thread(target=_accept_loop, args=(listener, pool, stop), name="accept", daemon=True)
    acceptor.start()
    quick_deaths = 0
    status = 0
    while not stop.wait(0.5):
        for i, w in enumerate(pool.workers):
            if w.process.is_alive():
                continue
            quick_deaths = quick_deaths + 1 if time.monotonic() - w.started < 10 else 0
            if quick_deaths > 2 * workers:
                log.error("workers keep exiting at start-up (last exit code %s); stopping", w.process.exitcode)
                stop.set()
                status = 1
                break
            log.warning("worker %s exited with code %s; starting another", w.process.pid, w.process.exitcode)
            pool.restart(i)
    acceptor.join(timeout=5)
    listener.close()
    pool.stop()
    return status
