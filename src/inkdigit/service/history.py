"""Keeping a signed-in user's readings: the image (size-capped), the answer, the model, the time.

The read routes call ``keep_reading`` after answering has been computed (``keeper`` commits);
what is stored is the response body as sent (less the debug images), so history shows exactly
what the user was told.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
from PIL import Image
from starlette.requests import Request

from inkdigit.engine.imageio import FORMATS
from inkdigit.service.accounts import auth
from inkdigit.service.accounts.auth import Reader
from inkdigit.service.db.models import now
from inkdigit.service.keeper import HistoryKeeper, Row

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp",
               "BMP": "image/bmp", "TIFF": "image/tiff"}
EXTENSIONS = {v: k.lower().replace("jpeg", "jpg") for k, v in MEDIA_TYPES.items()}
KEPT_SIDE = 1024  # a reduced image keeps at most this many pixels on its longer side


@dataclass(frozen=True)
class KeptImage:
    media_type: str
    data: bytes


def _format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as img:  # reads the header only
            return img.format
    except Exception:
        return None


def kept_image(data: bytes, cap: int) -> KeptImage:
    """The image as sent when it is at most ``cap`` bytes, else a reduced PNG or JPEG under ``cap``.

    CPU work for a large image: called on a worker thread.
    """
    fmt = _format(data)
    if len(data) <= cap and fmt in MEDIA_TYPES:
        return KeptImage(MEDIA_TYPES[fmt], data)
    with Image.open(io.BytesIO(data), formats=FORMATS) as img:
        img.draft("RGB", (KEPT_SIDE, KEPT_SIDE))  # JPEG: decode reduced (no-op for other formats)
        img.thumbnail((KEPT_SIDE, KEPT_SIDE))
        frame = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    while True:
        buf = io.BytesIO()
        frame.save(buf, format="PNG", optimize=True)
        if buf.tell() <= cap:
            return KeptImage("image/png", buf.getvalue())
        buf = io.BytesIO()
        flat = Image.new("RGB", frame.size, "white")
        flat.paste(frame, mask=frame.getchannel("A") if frame.mode == "RGBA" else None)
        flat.save(buf, format="JPEG", quality=85)
        if buf.tell() <= cap:
            return KeptImage("image/jpeg", buf.getvalue())
        frame = frame.resize((max(1, frame.width // 2), max(1, frame.height // 2)), Image.Resampling.LANCZOS)


def answer_of(kind: str, body: dict[str, Any]) -> tuple[str, float, bool]:
    """(answer text, confidence, is_digit) of a response body."""
    if kind == "digit":
        digit = body["digit"]
        return ("" if digit is None else str(digit)), float(body["confidence"]), bool(body["is_digit"])
    text = str(body["text"])
    return text, float(body["confidence"]), bool(text) and "?" not in text


def stored_result(body: dict[str, Any]) -> dict[str, Any]:
    """The body as kept: without its id, and with debug images (large, made again on demand) as null,
    which is what a read without ``debug`` is sent: such a body is kept exactly as sent."""
    kept = {k: v for k, v in body.items() if k != "id"}
    if "stages" in kept:
        kept["stages"] = None
    if "digits" in kept:
        kept["digits"] = [{**d, "image": None} if "image" in d else d for d in kept["digits"]]
    return kept


async def row_of(user_id: uuid.UUID, kind: str, source: str, data: bytes, body: dict[str, Any],
                 image_cap: int) -> Row:
    """The history row of one reading: its answer, the body as sent, the image under ``image_cap``."""
    small = len(data) <= image_cap  # kept as sent after a header check; a large one is reduced on a thread
    image = kept_image(data, image_cap) if small else await anyio.to_thread.run_sync(kept_image, data, image_cap)
    answer, confidence, is_digit = answer_of(kind, body)
    return Row(user_id=user_id, created_at=now(), kind=kind, source=source, model=str(body["model"]),
               answer=answer, confidence=confidence, is_digit=is_digit,
               elapsed_ms=float(body.get("elapsed_ms", 0.0)), result=stored_result(body),
               media_type=image.media_type, image=image.data)


async def reader(request: Request) -> Reader | None:
    """The signed-in user of a read request (None when it sends no credential: nothing is opened)."""
    state = request.app.state
    return await auth.reader(request, state.token_lookups, state.settings)


async def keep_reading(request: Request, who: Reader, kind: str, source: str, data: bytes,
                       body: dict[str, Any]) -> int:
    """Keep one reading in ``who``'s history; the entry's id."""
    state = request.app.state
    keeper: HistoryKeeper = state.history
    return await keeper.keep(await row_of(who.user_id, kind, source, data, body,
                                          state.settings.history_image_max_bytes))


async def keep_batch(request: Request, who: Reader, kind: str, source: str, items: list[bytes],
                     results: list[dict[str, Any]]) -> None:
    """Keep each image of a batch that was read (an error slot is not kept); ids go in the results."""
    for data, body in zip(items, results, strict=True):
        if "error" not in body:
            body["id"] = await keep_reading(request, who, kind, source, data, body)
