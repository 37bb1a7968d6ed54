"""Which model serves everyone, and each user's own: read and written alike by the CLI (a blocking
``Connection``) and the routes (an ``AsyncSession`` or ``AsyncConnection``).

The live model is not kept as one value but replayed from the ``model_event`` log (``replay``): a
stack that starts at the configured default, a promotion pushing and a rollback popping (never
below the default). So a rollback always knows what came before, and operators see who changed
what when. The checks and statements are built here once; the sync and async functions below only
execute them, so the two callers cannot drift apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, case, distinct, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from inkdigit.engine.modelcard import ModelCard, ModelCardError, finetune_section, owner_of
from inkdigit.engine.store import RecognizerStore
from inkdigit.service.db.models import ModelEvent, PersonalModel, Reading, now

PROMOTE, ROLLBACK = "promote", "rollback"
EVENTS_SHOWN = 50  # the newest events a status report lists

_events = cast(Table, ModelEvent.__table__)
_personal = cast(Table, PersonalModel.__table__)
_readings = cast(Table, Reading.__table__)
_HISTORY = select(_events.c.action, _events.c.model).order_by(_events.c.id)
_RECENT = (select(_events.c.at, _events.c.action, _events.c.model, _events.c.actor)
           .order_by(_events.c.id.desc()).limit(EVENTS_SHOWN))
_labelled = _readings.c.label.is_not(None)
_CORRECTIONS = select(
    func.coalesce(func.sum(case((_labelled & (_readings.c.label != _readings.c.answer), 1), else_=0)), 0),
    func.coalesce(func.sum(case((_readings.c.label == _readings.c.answer, 1), else_=0)), 0),
    func.count(distinct(case((_labelled, _readings.c.user_id)))))

AsyncDB = AsyncSession | AsyncConnection


class Refusal(Exception):
    """A promotion or rollback that may not happen; ``code`` is the API's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    model: str
    actor: str


@dataclass(frozen=True)
class Corrections:
    total: int  # readings whose owner gave a label that differs from the answer
    confirmed: int  # readings labelled with the answer they got
    users: int  # distinct users who labelled anything


def replay(default: str, events: Iterable[tuple[str, str]]) -> list[str]:
    """The stack of live models after ``events`` (action, model), oldest first; the live one is last."""
    stack = [default]
    for action, model in events:
        if action == PROMOTE:
            stack.append(model)
        elif action == ROLLBACK and len(stack) > 1:
            stack.pop()
    return stack


def gate_of(card: ModelCard) -> dict[str, Any] | None:
    """The card's fine-tuning gate (``{"passed", "rows", "reasons"}``), None when it has none."""
    section = finetune_section(card)
    gate = section.get("gate") if section else None
    return gate if isinstance(gate, dict) else None


def card_of(store: RecognizerStore, name: str) -> ModelCard | None:
    """The card of the installed model ``name`` (a name only, never a path), None if there is none."""
    path = store.list().get(name)
    if path is None:
        return None
    try:
        return ModelCard.load(path)
    except ModelCardError:
        return None


def check_promotable(store: RecognizerStore, name: str) -> ModelCard:
    """The card of ``name`` if it may serve everyone: installed, not someone's personal model, and,
    if fine-tuned, through its gate (a model without a fine-tuning section was shipped as it is)."""
    card = card_of(store, name)
    if card is None:
        raise Refusal("unknown_model", f"There is no installed model named {name!r}.")
    if owner_of(card) is not None:
        raise Refusal("model_not_promotable", f"{name!r} is a personal model: it serves only its user.")
    if finetune_section(card) is not None:
        gate = gate_of(card) or {}
        if gate.get("passed") is not True:
            reasons = "; ".join(str(r) for r in gate.get("reasons") or []) or "no passing gate on its card"
            raise Refusal("model_not_promotable", f"{name!r} did not pass its gate: {reasons}.")
    return card


def _promotion(stack: list[str], store: RecognizerStore, name: str, actor: str) -> Insert:
    check_promotable(store, name)
    if stack[-1] == name:
        raise Refusal("model_not_promotable", f"{name!r} is live already.")
    return insert(_events).values(at=now(), action=PROMOTE, model=name, actor=actor)


def _rollback(stack: list[str], actor: str) -> Insert:
    if len(stack) < 2:
        raise Refusal("nothing_to_roll_back", f"{stack[0]!r}, the configured default, has been live since "
                      "the start (or since every promotion was rolled back): there is nothing to roll back to.")
    return insert(_events).values(at=now(), action=ROLLBACK, model=stack[-2], actor=actor)


def _event(row: Any) -> Event:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return Event(at, row.action, row.model, row.actor)


# --- blocking (the CLI) -----------------------------------------------------------------------


def stack(connection: Connection, default: str) -> list[str]:
    return replay(default, connection.execute(_HISTORY).tuples())


def live(connection: Connection, default: str) -> str:
    """The model everyone is served (when it loads: see ``inkdigit.service.livemodel``)."""
    return stack(connection, default)[-1]


def promote(connection: Connection, store: RecognizerStore, default: str, name: str, actor: str) -> str:
    """Make ``name`` the live model (raises ``Refusal``); the caller commits."""
    connection.execute(_promotion(stack(connection, default), store, name, actor))
    return name


def rollback(connection: Connection, default: str, actor: str) -> str:
    """Serve the model that was live before the last promotion (raises ``Refusal``); that model."""
    before = stack(connection, default)
    connection.execute(_rollback(before, actor))
    return before[-2]


def recent(connection: Connection) -> list[Event]:
    return [_event(row) for row in connection.execute(_RECENT)]


def corrections(connection: Connection) -> Corrections:
    return Corrections(*map(int, connection.execute(_CORRECTIONS).one()))


def set_personal_model(connection: Connection, user_id: uuid.UUID, model: str | None) -> None:
    """Record ``model`` as the user's own (``inkdigit finetune --user … --install``), keeping their
    opt-in as it is (off for a new row); the caller commits."""
    changed = connection.execute(update(_personal).where(_personal.c.user_id == user_id)
                                 .values(model=model, updated_at=now())).rowcount
    if not changed:
        connection.execute(insert(_personal).values(user_id=user_id, enabled=False, model=model, updated_at=now()))


# --- async (the service) ----------------------------------------------------------------------


async def stack_async(db: AsyncDB, default: str) -> list[str]:
    return replay(default, (await db.execute(_HISTORY)).tuples())


async def live_async(db: AsyncDB, default: str) -> str:
    return (await stack_async(db, default))[-1]


async def promote_async(session: AsyncSession, store: RecognizerStore, default: str, name: str,
                        actor: str) -> str:
    """``promote``, committed."""
    await session.execute(_promotion(await stack_async(session, default), store, name, actor))
    await session.commit()
    return name


async def rollback_async(session: AsyncSession, default: str, actor: str) -> str:
    """``rollback``, committed."""
    before = await stack_async(session, default)
    await session.execute(_rollback(before, actor))
    await session.commit()
    return before[-2]


async def recent_async(db: AsyncDB) -> list[Event]:
    return [_event(row) for row in await db.execute(_RECENT)]


async def corrections_async(db: AsyncDB) -> Corrections:
    return Corrections(*map(int, (await db.execute(_CORRECTIONS)).one()))


async def personal_async(db: AsyncDB, user_id: uuid.UUID) -> tuple[bool, str | None]:
    """(opted in, their model's name) of a user; (False, None) without a row."""
    row = (await db.execute(select(_personal.c.enabled, _personal.c.model)
                            .where(_personal.c.user_id == user_id))).first()
    return (bool(row.enabled), row.model) if row is not None else (False, None)


async def set_enabled_async(session: AsyncSession, user_id: uuid.UUID, enabled: bool) -> None:
    """Opt in or out (out keeps the model, unused), committed."""
    row = await session.get(PersonalModel, user_id)
    if row is None:
        session.add(PersonalModel(user_id=user_id, enabled=enabled, model=None, updated_at=now()))
    else:
        row.enabled, row.updated_at = enabled, now()
    await session.commit()
