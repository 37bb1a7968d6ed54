"""/api/v1/history: a signed-in user's readings, their images, corrections and an export.

Every query is filtered by the owner: another user's id is answered 404, exactly like an id that
does not exist, so ids say nothing about other people's history.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import selectinload

from inkdigit.service.account_schemas import Correction, HistoryDetail, HistoryEntry, HistoryPage
from inkdigit.service.db.models import Reading, ReadingImage
from inkdigit.service.deps import CurrentUser, SessionDep
from inkdigit.service.errors import APIError, error_doc
from inkdigit.service.history import EXTENSIONS

router = APIRouter(prefix="/api/v1/history", tags=["history"])
# ids are 32-bit integers (PostgreSQL's INTEGER): a larger one is no entry, said before any query
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The entry's id.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: error_doc("No entry of yours has this id (`not_found`).")}


def entry(r: Reading, detail: bool = False) -> HistoryEntry:
    fields = dict(id=r.id, created_at=r.created_at, kind=r.kind, source=r.source, model=r.model, answer=r.answer,
                  confidence=r.confidence, is_digit=r.is_digit, elapsed_ms=r.elapsed_ms, label=r.label,
                  labelled_at=r.labelled_at, corrected=r.label is not None and r.label != r.answer,
                  image_url=f"/api/v1/history/{r.id}/image")
    return HistoryDetail(**fields, result=r.result) if detail else HistoryEntry(**fields)


async def owned(session: SessionDep, user: CurrentUser, entry_id: int) -> Reading:
    reading = (await session.execute(
        select(Reading).where(Reading.id == entry_id, Reading.user_id == user.id))).scalar_one_or_none()
    if reading is None:
        raise APIError(404, "not_found", f"You have no history entry {entry_id}.")
    return reading


def _filtered(query: Select[tuple[Reading]], digit: int | None, source: str | None, kind: str | None,
              corrected: bool | None) -> Select[tuple[Reading]]:
    if digit is not None:
        query = query.where(or_(Reading.answer == str(digit),
                                (Reading.kind == "number") & Reading.answer.contains(str(digit))))
    if source is not None:
        query = query.where(Reading.source == source)
    if kind is not None:
        query = query.where(Reading.kind == kind)
    if corrected is not None:
        is_corrected = Reading.label.is_not(None) & (Reading.label != Reading.answer)
        query = query.where(is_corrected if corrected else ~is_corrected)
    return query


@router.get("", response_model=HistoryPage)
async def list_history(
    user: CurrentUser, session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    digit: Annotated[int | None, Query(ge=0, le=9, description="Entries that read this digit (a number: "
                                       "that contains it).")] = None,
    source: Annotated[Literal["canvas", "upload", "api"] | None, Query()] = None,
    kind: Annotated[Literal["digit", "number"] | None, Query()] = None,
    corrected: Annotated[bool | None, Query(description="Only entries whose label differs from the answer "
                                            "(true), or only the others (false).")] = None,
) -> HistoryPage:
    """Your readings, newest first, a page at a time."""
    base = _filtered(select(Reading).where(Reading.user_id == user.id), digit, source, kind, corrected)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = (await session.execute(
        base.order_by(Reading.created_at.desc(), Reading.id.desc()).offset(offset).limit(limit))).scalars()
    return HistoryPage(items=[entry(r) for r in rows], total=total, offset=offset, limit=limit)


@router.get("/export", responses={200: {"content": {"application/zip": {}},
                                        "description": "history.csv and images/<id>.<ext>"}})
async def export(user: CurrentUser, session: SessionDep) -> StreamingResponse:
    """Your whole history as a zip: ``history.csv`` and every image."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed by _chunks
    archive = zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(CSV_COLUMNS)
    # 200 rows (and their images) in memory at a time, whatever the history's size
    result = await session.stream(select(Reading).where(Reading.user_id == user.id).order_by(Reading.id)
                                  .options(selectinload(Reading.image)).execution_options(yield_per=200))
    async for rows in result.scalars().partitions():
        await anyio.to_thread.run_sync(_add_rows, archive, writer, rows)
    archive.writestr("history.csv", table.getvalue())
    archive.close()
    spool.seek(0)
    name = f"inkdigit-history-{datetime.now(UTC):%Y%m%d-%H%M%S}.zip"
    return StreamingResponse(_chunks(spool), media_type="application/zip",
                             headers={"content-disposition": f'attachment; filename="{name}"'})


CSV_COLUMNS = ["id", "created_at", "kind", "source", "model", "answer", "confidence", "is_digit", "elapsed_ms",
               "label", "labelled_at", "image"]


def _add_rows(archive: zipfile.ZipFile, writer: Any, rows: Sequence[Reading]) -> None:
    for r in rows:
        image = f"images/{r.id}.{EXTENSIONS.get(r.image.media_type, 'bin')}"
        archive.writestr(image, r.image.data, compress_type=zipfile.ZIP_STORED)  # images are compressed
        writer.writerow([r.id, r.created_at.isoformat(), r.kind, r.source, r.model, r.answer, r.confidence,
                         r.is_digit, r.elapsed_ms, "" if r.label is None else r.label,
                         "" if r.labelled_at is None else r.labelled_at.isoformat(), image])


def _chunks(spool: tempfile.SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


@router.get("/{entry_id}", response_model=HistoryDetail, responses=NOT_FOUND)
async def get_entry(entry_id: EntryId, user: CurrentUser, session: SessionDep) -> HistoryEntry:
    """One reading, with the response body as it was sent."""
    return entry(await owned(session, user, entry_id), detail=True)


@router.get("/{entry_id}/image", responses={**NOT_FOUND, 200: {"content": {"image/png": {}, "image/jpeg": {}}}})
async def get_image(entry_id: EntryId, user: CurrentUser, session: SessionDep) -> Response:
    """The image of one reading, as kept (reduced if it was large)."""
    image = (await session.execute(
        select(ReadingImage).join(Reading).where(Reading.id == entry_id, Reading.user_id == user.id))
    ).scalar_one_or_none()
    if image is None:
        raise APIError(404, "not_found", f"You have no history entry {entry_id}.")
    return Response(image.data, media_type=image.media_type, headers={
        "cache-control": "private, max-age=86400", "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox"})


@router.delete("/{entry_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
async def delete_entry(entry_id: EntryId, user: CurrentUser, session: SessionDep) -> Response:
    """Delete one reading and its image."""
    gone = await session.execute(delete(Reading).where(Reading.id == entry_id, Reading.user_id == user.id))
    await session.commit()
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise APIError(404, "not_found", f"You have no history entry {entry_id}.")
    return Response(status_code=204)


@router.put("/{entry_id}/correction", response_model=HistoryEntry,
            responses={**NOT_FOUND, 422: error_doc("A label that does not fit the reading (`invalid_label`).")})
async def correct(entry_id: EntryId, body: Correction, user: CurrentUser, session: SessionDep) -> HistoryEntry:
    """Say what the image really shows (the same as the answer confirms it)."""
    reading = await owned(session, user, entry_id)
    if reading.kind == "digit" and len(body.label) > 1:
        raise APIError(422, "invalid_label", "A digit reading's label is one digit (or \"\" for no digit).")
    reading.label, reading.labelled_at = body.label, datetime.now(UTC)
    await session.commit()
    return entry(reading)


@router.delete("/{entry_id}/correction", response_model=HistoryEntry, responses=NOT_FOUND)
async def uncorrect(entry_id: EntryId, user: CurrentUser, session: SessionDep) -> HistoryEntry:
    """Withdraw a correction."""
    reading = await owned(session, user, entry_id)
    reading.label, reading.labelled_at = None, None
    await session.commit()
    return entry(reading)
