"""Get the image bytes out of a request, whichever of the three accepted forms it uses.

The body is read under a byte limit before anything is parsed, so an oversized upload is refused
without being held in memory, whether or not it declares a Content-Length.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from inkdigit.service.errors import APIError
from inkdigit.service.schemas import PredictJSON, PredictOptions


@dataclass
class Payload:
    data: bytes
    options: dict[str, Any]


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) past ``limit`` bytes and (400) when there is none."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise APIError(413, "payload_too_large", f"The request body is {int(declared):,} bytes; "
                                                 f"the limit is {limit:,} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise APIError(413, "payload_too_large", f"The request body exceeds {limit:,} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise APIError(400, "empty_body", "The request has no body; send an image.")
    request._body = body  # let Starlette's form parser reuse what was read (it checks this attribute)
    return body


#: the most arrays and objects a JSON body may open: the documented body is one flat object, and
#: a body nested 100,000 deep made the parser recurse until it failed (a 500)
MAX_JSON_CONTAINERS = 32


def parse_json(body: bytes) -> Any:
    """``body`` parsed, or 400 ``invalid_json``: not JSON, or holding more than
    :data:`MAX_JSON_CONTAINERS` arrays and objects (counted before parsing: a bracket inside a
    string counts too, and no image string holds one)."""
    if body.count(b"[") + body.count(b"{") > MAX_JSON_CONTAINERS:
        raise APIError(400, "invalid_json", f"The JSON body holds more than {MAX_JSON_CONTAINERS} arrays and "
                                            'objects; send one object like {"image": "…"}.')
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, an int of 4,301+ digits
        raise APIError(400, "invalid_json", "The body is not valid JSON.") from None


def options(raw: dict[str, Any]) -> dict[str, Any]:
    """The options set in ``raw`` (query or form fields), validated; 422 ``invalid_request`` if not."""
    try:
        return PredictOptions(**raw).model_dump(exclude_unset=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise APIError(422, "invalid_request", f"Option {field!r} is invalid: {first['msg']}.") from None


def decode_base64_image(text: str) -> bytes:
    """Bytes of a data URL (``data:image/png;base64,…``) or plain base64 text."""
    if text.startswith("data:"):
        header, sep, text = text.partition(",")
        if not sep or ";base64" not in header:
            raise APIError(422, "invalid_base64", "The data URL must be base64-encoded (data:image/…;base64,…).")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise APIError(422, "invalid_base64", "The image is not valid base64.") from None


async def _multipart_files(request: Request, field: str, max_files: int) -> tuple[list[bytes], dict[str, Any]]:
    """The bytes of every file in ``field`` and the other (text) fields; the form is closed after."""
    try:
        form = await request.form(max_files=max_files, max_fields=20)
    except Exception as exc:  # python-multipart raises several unrelated types
        if "Too many files" in str(exc):
            raise APIError(413, "too_many_files", f"At most {max_files} files per request.") from None
        raise APIError(400, "invalid_multipart", f"The multipart body could not be parsed: {exc}.") from None
    try:
        files = [await f.read() for f in form.getlist(field) if isinstance(f, UploadFile)]
        extra = {k: v for k, v in form.items() if k != field and isinstance(v, str)}
    finally:
        await form.close()
    return files, extra


async def single_image(request: Request, max_bytes: int) -> Payload:
    """One image from multipart field ``file``, a JSON ``image`` field, or a raw image body."""
    kind = media_type(request)
    if kind == "application/json":
        body = await read_body(request, max_bytes * 4 // 3 + 4096)
        raw = parse_json(body)
        if not isinstance(raw, dict):
            raise APIError(422, "invalid_request", 'The JSON body must be an object like {"image": "…"}.')
        try:
            parsed = PredictJSON(**raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "body"
            raise APIError(422, "invalid_request", f"Field {field!r}: {first['msg']}.") from None
        return Payload(decode_base64_image(parsed.image), parsed.model_dump(exclude={"image"}, exclude_unset=True))
    if kind == "multipart/form-data":
        await read_body(request, max_bytes + 64 * 1024)
        files, extra = await _multipart_files(request, "file", 1)
        if not files:
            raise APIError(422, "missing_file", "Send the image in the multipart field 'file'.")
        return Payload(files[0], options(extra))
    if kind.startswith("image/") or kind == "application/octet-stream":
        return Payload(await read_body(request, max_bytes), {})
    if not kind and not request.headers.get("content-length", "").strip("0"):
        raise APIError(400, "empty_body", "The request has no body; send an image.")
    raise APIError(415, "unsupported_media_type",
                   f"Content-Type {kind or '(none)'!r} is not accepted; send multipart/form-data with a "
                   "'file' field, JSON with an 'image' field, or raw bytes as image/*.")


async def many_images(request: Request, max_files: int, max_bytes: int) -> list[bytes]:
    """The files of multipart field ``files`` (at least one, at most ``max_files``)."""
    if media_type(request) != "multipart/form-data":
        raise APIError(415, "unsupported_media_type", "Send the images as multipart/form-data field 'files'.")
    await read_body(request, max_bytes)
    files, _ = await _multipart_files(request, "files", max_files)
    if not files:
        raise APIError(422, "missing_file", "Send the images in the multipart field 'files'.")
    return files
