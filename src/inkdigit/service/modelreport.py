"""What an operator sees before promoting or rolling back (``inkdigit models status``,
``GET /api/v1/models/live``): the live model, the recent events, the fine-tuned models that could
serve everyone with their gate's verdict, and how many corrections users have given.

One builder for the CLI and the API, so both show the same thing; the cards are read from disk on
each call (an operator's page, not a reading's hot path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Connection

from inkdigit.engine.modelcard import ModelCard, ModelCardError, finetune_section, owner_of
from inkdigit.engine.store import RecognizerStore
from inkdigit.service import modelops
from inkdigit.service.modelops import AsyncDB, Corrections, Event


@dataclass(frozen=True)
class Candidate:
    """An installed fine-tuned model meant for everyone (a personal model is never one)."""

    name: str
    parent: str | None
    created: datetime
    gate: dict[str, Any] | None
    live: bool


@dataclass(frozen=True)
class Report:
    live: str
    default: str
    events: list[Event]  # newest first
    candidates: list[Candidate]
    corrections: Corrections


def _created(card: ModelCard, path: Path) -> datetime:
    """When the model was made: the fine-tuning section's ``created`` if it records one, else the
    card file's modification time."""
    section = finetune_section(card) or {}
    stamp = section.get("created")
    if isinstance(stamp, str):
        try:
            parsed = datetime.fromisoformat(stamp)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def candidates(store: RecognizerStore, live: str) -> list[Candidate]:
    """Every installed fine-tuned model without an owner, newest first (an unreadable card is skipped)."""
    found = []
    for name, path in store.list().items():
        try:
            card = ModelCard.load(path)
            section = finetune_section(card)
            if section is None or owner_of(card) is not None:
                continue
            parent = section.get("parent")
            found.append(Candidate(name, parent if isinstance(parent, str) else None, _created(card, path),
                                   modelops.gate_of(card), name == live))
        except (ModelCardError, OSError):
            continue
    return sorted(found, key=lambda c: (c.created, c.name), reverse=True)


def report(connection: Connection, store: RecognizerStore, default: str) -> Report:
    """The report, through a blocking connection (the CLI)."""
    live = modelops.live(connection, default)
    return Report(live, default, modelops.recent(connection), candidates(store, live),
                  modelops.corrections(connection))


async def report_async(db: AsyncDB, store: RecognizerStore, default: str) -> Report:
    """The report, for a route (the cards are read on a worker thread)."""
    live = await modelops.live_async(db, default)
    events = await modelops.recent_async(db)
    counts = await modelops.corrections_async(db)
    return Report(live, default, events, await anyio.to_thread.run_sync(candidates, store, live), counts)
