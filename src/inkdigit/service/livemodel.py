"""Which recognizer answers a read request: the model it names, else the signed-in user's own model
(when they opted in), else the live model operators promoted (``inkdigit.service.modelops``).

Each worker process keeps the live model's name for ``live_model_ttl_s`` (2 s), and each user's
choice as long, so a promotion reaches every worker within that time while a reading does not ask
the database: an anonymous one costs a clock look-up. When a cached name expires, the request
that finds it so reads it again and the expiry is moved on *before* the query, so requests
arriving meanwhile keep the previous answer instead of all querying at once. A database that
cannot be reached leaves the previous answer in place (logged): readings never fail for it.
"""

from __future__ import annotations

import logging
import time
import uuid

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from inkdigit.engine.modelcard import owner_of, owner_tag
from inkdigit.engine.recognizer import Recognizer
from inkdigit.service import modelops
from inkdigit.service.accounts.auth import Reader
from inkdigit.service.recognizers import Recognizers

log = logging.getLogger("inkdigit.service")
MAX_USERS_CACHED = 10_000  # past it, expired users' entries are dropped (and all, if none has expired)


class LiveModel:
    """This process's cached view of the live model and of users' personal models."""

    def __init__(self, engine: AsyncEngine, recognizers: Recognizers, default: str, ttl_s: float) -> None:
        self.engine, self.recognizers, self.default, self.ttl_s = engine, recognizers, default, ttl_s
        self._live = default
        self._live_until = float("-inf")
        self._personal: dict[uuid.UUID, tuple[float, str | None]] = {}  # user -> (until, model or None)
        self._reported: str | None = None  # the unloadable live model last logged (logged once, not per request)

    def forget(self, user_id: uuid.UUID | None = None) -> None:
        """Read the live model (or this user's choice) again at the next request: this worker just
        changed it, and its own client should see the change at once."""
        if user_id is None:
            self._live_until = float("-inf")
        else:
            self._personal.pop(user_id, None)

    async def live(self) -> str:
        """The live model's name, as the event log says (cached)."""
        clock = time.monotonic()
        if clock < self._live_until:
            return self._live
        self._live_until = clock + self.ttl_s
        try:
            async with self.engine.connect() as connection:
                name = await modelops.live_async(connection, self.default)
        except (SQLAlchemyError, OSError) as exc:
            log.error("cannot read the live model from the database (still serving %r): %s", self._live, exc)
            return self._live
        await self._load(name)
        self._live = name
        return name

    async def serving(self) -> Recognizer:
        """The live model's recognizer; the default's when the live one is not loaded (an error logged)."""
        name = await self.live()
        rec = self.recognizers.loaded.get(name)
        if rec is not None and owner_of(rec.card) is None:
            return rec
        if name != self.default and self.recognizers.ready and self._reported != name:
            self._reported = name
            log.error("the live model %r is not loaded (see the errors above); serving the default %r instead",
                      name, self.default)
        return self.recognizers.get(None)

    async def personal(self, user_id: uuid.UUID) -> str | None:
        """The name of the user's own model when they opted in and one is set, else None (cached)."""
        clock = time.monotonic()
        entry = self._personal.get(user_id)
        if entry is not None and clock < entry[0]:
            return entry[1]
        previous = entry[1] if entry is not None else None
        self._personal[user_id] = (clock + self.ttl_s, previous)
        try:
            async with self.engine.connect() as connection:
                enabled, model = await modelops.personal_async(connection, user_id)
        except (SQLAlchemyError, OSError) as exc:
            log.error("cannot read a personal model from the database: %s", exc)
            return previous
        name = model if enabled and model else None
        if name is not None:
            await self._load(name)
        if len(self._personal) > MAX_USERS_CACHED:
            self._personal = {k: v for k, v in self._personal.items() if v[0] > clock}
            if len(self._personal) > MAX_USERS_CACHED:
                self._personal.clear()
        self._personal[user_id] = (clock + self.ttl_s, name)
        return name

    async def choose(self, named: str | None, who: Reader | None) -> Recognizer:
        """The recognizer of a read request (see the module's docstring). Naming someone else's
        personal model is answered as naming a model that does not exist."""
        if named:
            rec = self.recognizers.get(named)
            owner = owner_of(rec.card)
            if owner is not None and (who is None or owner != owner_tag(who.user_id)):
                raise self.recognizers.unknown(named)
            return rec
        if who is not None:
            mine = await self.personal(who.user_id)
            own = self.recognizers.loaded.get(mine) if mine else None
            if own is not None and owner_of(own.card) == owner_tag(who.user_id):
                return own
        return await self.serving()

    async def _load(self, name: str) -> None:
        """Pick up ``name`` if it was installed after start-up (a card read from disk: on a thread)."""
        if name not in self.recognizers.loaded:
            await anyio.to_thread.run_sync(self.recognizers.refresh)


async def recognizer_for(request: Request, named: str | None, who: Reader | None) -> Recognizer:
    """The recognizer that answers ``request`` (``LiveModel.choose`` of the app's)."""
    live: LiveModel = request.app.state.live
    return await live.choose(named, who)
