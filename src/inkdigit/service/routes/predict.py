"""POST /api/v1/predict and /api/v1/predict/batch."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from inkdigit.engine.imageio import ImageInputError, Limits
from inkdigit.engine.recognizer import Recognizer
from inkdigit.service import payload
from inkdigit.service.deps import BatcherDep, RegistryDep, SettingsDep
from inkdigit.service.errors import ERROR_RESPONSES, from_image_error
from inkdigit.service.reading import read_many
from inkdigit.service.schemas import BatchResponse, PredictJSON, PredictOptions, PredictResponse

router = APIRouter(prefix="/api/v1", tags=["predict"])

_option_fields = {
    name: {"type": "integer", "minimum": 1, "maximum": 10} if name == "top_k"
    else {"type": "boolean"} if name == "debug" else {"type": "string", "maxLength": 100}
    for name in PredictOptions.model_fields
}
PREDICT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One image: multipart field `file`, JSON `image` (data URL or base64), or raw bytes.",
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}, **_option_fields}}},
            "application/json": {"schema": PredictJSON.model_json_schema()},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["files"],
            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}},
    }
}

TopK = Annotated[int, Query(ge=1, le=10, description="How many candidates to return in `top`.")]
ModelName = Annotated[str | None, Query(max_length=100, description="Model name (default: the server's).")]
Debug = Annotated[bool, Query(description="Include every preprocessing stage as a PNG data URL.")]


@router.post("/predict", response_model=PredictResponse, responses=ERROR_RESPONSES,
             openapi_extra=PREDICT_BODY)
async def predict(request: Request, registry: RegistryDep, settings: SettingsDep, batcher: BatcherDep,
                  top_k: TopK = 3, model: ModelName = None, debug: Debug = False) -> dict[str, Any]:
    """Read the digit in one image."""
    sent = await payload.single_image(request, settings.max_upload_bytes)
    options = {"top_k": top_k, "model": model, "debug": debug, **sent.options}
    rec = registry.get(options["model"])
    limits = Limits(settings.max_upload_bytes, settings.max_pixels)
    try:
        result: dict[str, Any] = await batcher.run_batched(read_many, rec, sent.data, options["top_k"],
                                                           options["debug"], limits)
        return result
    except ImageInputError as exc:
        raise from_image_error(exc) from None


def _read_batch(rec: Recognizer, items: list[bytes], top_k: int, limits: Limits) -> list[dict[str, Any]]:
    """One batch request, read like that many coalesced single reads; a bad file's error goes in
    its own slot (anything unforeseen still fails the request, as a 500 that gets logged)."""
    results = read_many([(rec, data, top_k, False, limits) for data in items])
    slots: list[dict[str, Any]] = []
    for r in results:
        if isinstance(r, ImageInputError):
            err = from_image_error(r)
            slots.append({"error": {"code": err.code, "message": err.message}})
        elif isinstance(r, Exception):
            raise r
        else:
            slots.append(r)
    return slots


@router.post("/predict/batch", response_model=BatchResponse, responses=ERROR_RESPONSES,
             openapi_extra=BATCH_BODY)
async def predict_batch(request: Request, registry: RegistryDep, settings: SettingsDep, batcher: BatcherDep,
                        top_k: TopK = 3, model: ModelName = None) -> dict[str, Any]:
    """Read up to `max_batch` images; a bad image gets an error in its own slot."""
    start = time.perf_counter()
    rec = registry.get(model)
    items = await payload.many_images(request, settings.max_batch, settings.max_batch_bytes)
    limits = Limits(settings.max_upload_bytes, settings.max_pixels)
    results = await batcher.run(_read_batch, rec, items, top_k, limits)
    return {"model": rec.name, "results": results, "elapsed_ms": round((time.perf_counter() - start) * 1000, 3)}
