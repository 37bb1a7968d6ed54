"""GET /api/v1/stats: what the dashboard draws, for one user or (operators) for everyone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import func, select

from inkdigit.service.account_schemas import DayStats, Stats
from inkdigit.service.db.models import Reading, User
from inkdigit.service.deps import CurrentUser, SessionDep
from inkdigit.service.errors import APIError, error_doc

router = APIRouter(prefix="/api/v1", tags=["stats"])

SOURCES, KINDS = ("canvas", "upload", "api"), ("digit", "number")


@router.get("/stats", response_model=Stats,
            responses={403: error_doc("Scope `all` asked by someone who is not an operator (`forbidden`).")})
async def stats(user: CurrentUser, session: SessionDep,
                days: Annotated[int, Query(ge=1, le=366, description="Days covered by `per_day`.")] = 30,
                scope: Annotated[Literal["me", "all"], Query(description="`all`: every user's readings "
                                                             "(operators only).")] = "me") -> Stats:
    """Readings per day, digits read, accuracy from corrections, confusion, sources and latency."""
    columns = select(Reading.created_at, Reading.kind, Reading.source, Reading.answer, Reading.label,
                     Reading.elapsed_ms)
    users = None
    if scope == "all":
        if not user.is_superuser:
            raise APIError(403, "forbidden", "Only operators see everyone's statistics "
                           "(`inkdigit users promote EMAIL`).")
        users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
    else:
        columns = columns.where(Reading.user_id == user.id)
    rows = (await session.execute(columns)).all()
    # a long history is many rows: summed up on a worker thread, not on the event loop
    return await anyio.to_thread.run_sync(summarize, rows, days, scope, users)


def summarize(rows: Sequence[Any], days: int, scope: str, users: int | None) -> Stats:
    """The statistics of readings given as (created_at, kind, source, answer, label, elapsed_ms) rows."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    per_day: dict[str, list[tuple[bool, float]]] = {(first + timedelta(d)).isoformat(): [] for d in range(days)}
    digits, sources, kinds = Counter[str](), Counter[str](), Counter[str]()
    confusion = np.zeros((10, 10), dtype=int)
    labelled = corrected = 0
    for created_at, kind, source, answer, label, elapsed_ms in rows:
        wrong = label is not None and label != answer
        labelled += label is not None
        corrected += wrong
        day = (created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)).astimezone(UTC).date()
        if day >= first:
            per_day.setdefault(day.isoformat(), []).append((wrong, elapsed_ms))
        digits.update(ch for ch in answer if ch.isdigit())
        sources[source] += 1
        kinds[kind] += 1
        if kind == "digit" and label is not None and len(answer) == 1 and len(label) == 1:
            confusion[int(answer), int(label)] += 1
    times = np.array([r[5] for r in rows], dtype=float)
    return Stats(
        scope=scope, days=days, users=users, readings=len(rows), labelled=labelled, corrected=corrected,
        accuracy=_ratio(len(rows) - corrected, len(rows)), reviewed_accuracy=_ratio(labelled - corrected, labelled),
        per_day=[DayStats(date=d, readings=len(v), corrected=sum(w for w, _ in v),
                          accuracy=_ratio(len(v) - sum(w for w, _ in v), len(v)),
                          median_ms=round(float(np.median([t for _, t in v])), 3) if v else None)
                 for d, v in sorted(per_day.items())],
        digits=[digits[str(d)] for d in range(10)],
        sources={s: sources[s] for s in SOURCES}, kinds={k: kinds[k] for k in KINDS},
        confusion=confusion.tolist(),
        latency_ms={"median": round(float(np.median(times)), 3) if len(times) else None,
                    "p90": round(float(np.percentile(times, 90)), 3) if len(times) else None})


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
