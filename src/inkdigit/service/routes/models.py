"""GET /api/v1/models, and each browser-capable model's ONNX file and card."""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from inkdigit.engine.modelcard import owner_of, owner_tag
from inkdigit.engine.recognizer import Recognizer
from inkdigit.service import history
from inkdigit.service.deps import RecognizersDep
from inkdigit.service.errors import error_doc
from inkdigit.service.livemodel import LiveModel
from inkdigit.service.modelfiles import browser_capable, matches, model_file
from inkdigit.service.schemas import ModelsResponse

router = APIRouter(prefix="/api/v1", tags=["models"])


def _headline(metrics: dict[str, Any]) -> dict[str, dict[str, float | int]]:
    return {name: {k: m[k] for k in ("accuracy", "n") if k in m}
            for name, m in metrics.items() if isinstance(m, dict)}


@router.get("/models", response_model=ModelsResponse)
async def list_models(request: Request, recognizers: RecognizersDep) -> dict[str, Any]:
    """The models this server can use, with the metrics their model cards record; a model installed
    since start-up is loaded first, so it is listed (and usable) without a restart. `default` is the
    live model; a personal model is listed to its user only."""
    who = await history.reader(request)  # None: anonymous
    await anyio.to_thread.run_sync(recognizers.refresh)  # reads the model directories: off the event loop
    live: LiveModel = request.app.state.live
    name = await live.live()
    default = name if name in recognizers.loaded else recognizers.default
    mine = owner_tag(who.user_id) if who is not None else None
    models = []
    for model, rec in sorted(recognizers.loaded.items()):
        owner = owner_of(rec.card)
        if owner is None or owner == mine:
            models.append({"name": model, "family": rec.card.family, "default": model == default,
                           "personal": owner is not None, "preprocessing_version": rec.card.preprocessing.version,
                           "browser": browser_capable(rec),
                           "metrics": _headline(rec.card.metrics)})
    return {"default": default, "models": models}


FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` sent names this version."},
    404: error_doc("No model of this name, or one the browser cannot run (`unknown_model`)."),
    503: error_doc("The models are not loaded yet (`model_not_loaded`)."),
}


async def _browser_model(request: Request, recognizers: RecognizersDep, name: str) -> Recognizer:
    """The model ``name`` if the caller may see it and a browser can run it; else 404 (or 503)."""
    who = await history.reader(request)
    rec = recognizers.get(name)
    owner = owner_of(rec.card)
    if owner is not None and (who is None or owner != owner_tag(who.user_id)):
        raise recognizers.unknown(name)  # someone else's personal model: as if it did not exist
    if not browser_capable(rec):
        raise recognizers.unknown(name)
    return rec


def _caching(personal: bool, etag: str) -> dict[str, str]:
    # revalidated after five minutes (a repaired model keeps its name); a personal model is no
    # shared cache's business
    return {"etag": etag, "cache-control": f"{'private' if personal else 'public'}, max-age=300",
            "vary": "cookie, authorization" if personal else "accept-encoding"}


@router.get("/models/{name}/onnx", response_class=FileResponse, responses={
    200: {"content": {"application/octet-stream": {}}, "description": "The model's ONNX file."}, **FILE_ERRORS})
async def model_onnx(name: str, request: Request, recognizers: RecognizersDep) -> Response:
    """A browser-capable model's ONNX file (what the page runs in ONNX Runtime Web), with an ETag."""
    rec = await _browser_model(request, recognizers, name)
    found = await anyio.to_thread.run_sync(model_file, rec.weights)  # hashed once per version, off the loop
    headers = _caching(owner_of(rec.card) is not None, found.etag)
    if matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers=headers)
    return FileResponse(found.path, media_type="application/octet-stream", headers=headers,
                        filename=f"{rec.name}.onnx", content_disposition_type="inline")


@router.get("/models/{name}/card", responses={
    200: {"content": {"application/json": {}}, "description": "The model card (JSON)."}, **FILE_ERRORS})
async def model_card(name: str, request: Request, recognizers: RecognizersDep) -> Response:
    """A browser-capable model's card: the preprocessing, calibration and rejection it is read with."""
    rec = await _browser_model(request, recognizers, name)
    body = rec.card.to_json().encode()
    etag = f'"{hashlib.sha256(body).hexdigest()}"'  # the same in every worker process
    headers = _caching(owner_of(rec.card) is not None, etag)
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
