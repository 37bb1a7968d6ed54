"""Users' corrections as training data: read from the history database, split by user.

A correction is a single-digit reading whose owner said what it really shows (``reading.label``).
Number readings are left out: their label is the whole string, and which box holds which digit
would have to be guessed. A "no digit" label ("") is counted but not trained on: fine-tuning
changes the digit classifier only, and "not a digit" is the gate's answer.

The split is by user, so no writer is in both parts and the held-out figure says how the model
reads people it has not learned from; a personal model (one user) splits that user's readings.
Both splits are deterministic for a seed and stable as corrections are added (a reading's or a
user's side follows from a hash of its id, not from its position).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from inkdigit.service.db.models import Reading, ReadingImage, User


class CorrectionsError(ValueError):
    """Not enough (or no usable) corrections for what was asked; the message says what to change."""


@dataclass(frozen=True)
class Correction:
    """One labelled image from a user's history."""

    reading_id: int
    user_id: str
    label: int
    answer: str  # what the model that read it answered ("" for "not a digit")
    model: str
    image: bytes

    @property
    def corrected(self) -> bool:
        """The owner changed the answer (rather than confirming it)."""
        return self.answer != str(self.label)


@dataclass(frozen=True)
class Found:
    """The corrections a query found, and the labelled readings it could not use, by reason."""

    corrections: list[Correction]
    skipped: dict[str, int] = field(default_factory=dict)


def load(engine: Engine, *, since: datetime | None = None, user_email: str | None = None,
         confirmed: bool = False) -> Found:
    """Labelled single-digit readings (only those whose label differs from the answer unless
    ``confirmed``), oldest first, with their images; optionally from ``since`` on and of one user."""
    r, img, u = Reading.__table__, ReadingImage.__table__, User.__table__
    query = (select(r.c.id, r.c.user_id, r.c.kind, r.c.answer, r.c.label, r.c.model, img.c.data)
             .join(img, img.c.reading_id == r.c.id).where(r.c.label.is_not(None)).order_by(r.c.id))
    if since is not None:
        query = query.where(r.c.created_at >= since)
    if user_email is not None:
        query = query.join(u, u.c.id == r.c.user_id).where(func.lower(u.c.email) == user_email.strip().lower())
    found: list[Correction] = []
    skipped: Counter[str] = Counter()
    with engine.connect() as connection:
        for rid, uid, kind, answer, label, model, data in connection.execute(query):
            if kind != "digit":
                skipped["number readings"] += 1
            elif label == "":
                skipped["'no digit' labels (the gate is not tuned)"] += 1
            elif answer == label and not confirmed:
                skipped["confirmed answers (--confirmed uses them)"] += 1
            elif len(label) == 1 and label.isdigit():
                found.append(Correction(int(rid), str(uid), int(label), str(answer), str(model), bytes(data)))
    return Found(found, dict(skipped))


def _side(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by ``key`` and ``seed``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Split:
    """Corrections to fine-tune on, and held-out ones to judge the result by."""

    tune: list[Correction]
    held_out: list[Correction]
    by: str  # "user" or "reading"

    def summary(self) -> dict[str, Any]:
        """What a card records: counts per part and digit, users per part, reading ids hashed."""
        def part(items: Sequence[Correction]) -> dict[str, Any]:
            digits = Counter(c.label for c in items)
            return {"n": len(items), "corrected": sum(c.corrected for c in items),
                    "users": len({c.user_id for c in items}),
                    "per_digit": {str(d): digits[d] for d in range(10)},
                    "ids_sha256": sorted(hashlib.sha256(f"reading:{c.reading_id}".encode()).hexdigest()[:16]
                                         for c in items)}
        return {"split_by": self.by, "tune": part(self.tune), "held_out": part(self.held_out)}


def split_by_user(items: Sequence[Correction], held_out: float = 0.3, seed: int = 0) -> Split:
    """Whole users to each side: users in hash order go to the held-out part until it holds about
    ``held_out`` of the corrections (at least one user on each side)."""
    users = sorted({c.user_id for c in items}, key=lambda uid: _side(uid, seed))
    if len(users) < 2:
        raise CorrectionsError(
            "the corrections come from one user only, and a held-out part needs other users' corrections; "
            "use --user EMAIL to train that user's own model (split within their readings)")
    count = Counter(c.user_id for c in items)
    chosen: set[str] = set()
    for uid in users[:-1]:  # the last user always stays on the tuning side
        if sum(count[u] for u in chosen) >= held_out * len(items):
            break
        chosen.add(uid)
    return Split([c for c in items if c.user_id not in chosen], [c for c in items if c.user_id in chosen], "user")


def split_by_reading(items: Sequence[Correction], held_out: float = 0.3, seed: int = 0) -> Split:
    """One user's readings split by a hash of their id (about ``held_out`` of them held out)."""
    out = [c for c in items if _side(str(c.reading_id), seed) < held_out]
    tune = [c for c in items if _side(str(c.reading_id), seed) >= held_out]
    if not out or not tune:
        raise CorrectionsError(f"{len(items)} corrections cannot be split into a tuning and a held-out part")
    return Split(tune, out, "reading")
