"""POST /api/v1/recognize and /api/v1/recognize/batch: read a whole number."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from inkdigit.engine.defaults import TOP_K_DEFAULT, TOP_K_MAX
from inkdigit.engine.imageio import ImageInputError, Limits
from inkdigit.engine.numbers import NumberLimits, NumberReading
from inkdigit.engine.recognizer import Recognizer
from inkdigit.service import history, payload
from inkdigit.service.deps import BatcherDep, SettingsDep
from inkdigit.service.errors import ERROR_RESPONSES, image_error_body
from inkdigit.service.livemodel import recognizer_for
from inkdigit.service.responses import png_data_url
from inkdigit.service.routes.predict import BATCH_BODY, PREDICT_BODY, ModelName, Source, TopK
from inkdigit.service.schemas import PredictOptions, RecognizeBatchResponse, RecognizeResponse

router = APIRouter(prefix="/api/v1", tags=["recognize"])

Debug = Annotated[bool, Query(description="Include each digit as the model saw it (PNG data URL).")]
_DEFAULTS = PredictOptions().model_dump()


def number_body(r: NumberReading, model: str, top_k: int, debug: bool) -> dict[str, Any]:
    """The JSON body of one number (``RecognizeResponse`` in the OpenAPI document)."""
    return {
        "text": r.text, "formatted": r.formatted, "confidence": round(r.confidence, 6), "is_empty": r.is_empty,
        "digits": [{"digit": d.digit, "confidence": round(d.confidence, 6), "is_digit": d.is_digit,
                    "box": list(d.box), "top": [{"digit": k, "confidence": round(c, 6)} for k, c in d.top[:top_k]],
                    "image": png_data_url(d.image) if debug and d.image is not None else None}
                   for d in r.digits],
        "separators": [{"kind": s.kind, "box": list(s.box), "after": s.after} for s in r.separators],
        "model": model, "elapsed_ms": round(r.elapsed_ms, 3),
    }


def _read(rec: Recognizer, data: bytes, limits: Limits, number_limits: NumberLimits, top_k: int,
          debug: bool) -> dict[str, Any]:
    return number_body(rec.read_number(data, limits, number_limits, top_k=TOP_K_MAX), rec.name, top_k, debug)


def _read_or_error(rec: Recognizer, data: bytes, limits: Limits, number_limits: NumberLimits,
                   top_k: int) -> dict[str, Any]:
    """One batch item: its reading, or its error object."""
    try:
        return _read(rec, data, limits, number_limits, top_k, False)
    except ImageInputError as exc:
        return image_error_body(exc)


@router.post("/recognize", response_model=RecognizeResponse, response_model_exclude_none=False,
             responses=ERROR_RESPONSES, openapi_extra=PREDICT_BODY)
async def recognize(request: Request, settings: SettingsDep, batcher: BatcherDep,
                    top_k: TopK = TOP_K_DEFAULT, model: ModelName = None, debug: Debug = False,
                    source: Source = "api") -> dict[str, Any]:
    """Read every digit of a number written on one line."""
    who = await history.reader(request)  # a signed-in user's readings are kept (None: anonymous)
    sent = await payload.single_image(request, settings.max_upload_bytes)
    options = {**_DEFAULTS, "top_k": top_k, "model": model, "debug": debug, "source": source, **sent.options}
    rec = await recognizer_for(request, options["model"], who)
    # an unreadable image raises its ImageInputError on the compute thread, answered by the app's handler
    body: dict[str, Any] = await batcher.run(_read, rec, sent.data, settings.limits, settings.number_limits,
                                             options["top_k"], options["debug"])
    if who is not None:
        body["id"] = await history.keep_reading(request, who, "number", options["source"], sent.data, body)
    return body


@router.post("/recognize/batch", response_model=RecognizeBatchResponse, responses=ERROR_RESPONSES,
             openapi_extra=BATCH_BODY)
async def recognize_batch(request: Request, settings: SettingsDep, batcher: BatcherDep, top_k: TopK = TOP_K_DEFAULT,
                          model: ModelName = None, source: Source = "api") -> dict[str, Any]:
    """Read up to `max_batch` numbers; a bad image gets an error in its own slot."""
    start = time.perf_counter()
    who = await history.reader(request)
    rec = await recognizer_for(request, model, who)
    items = await payload.many_images(request, settings.max_batch, settings.max_batch_bytes)
    # one compute job per image, awaited in turn: a number can take ~0.1-0.7 s, and single-digit
    # requests arriving meanwhile are served between them rather than after the whole batch
    results = [await batcher.run(_read_or_error, rec, data, settings.limits, settings.number_limits, top_k)
               for data in items]
    if who is not None:
        await history.keep_batch(request, who, "number", source, items, results)
    return {"model": rec.name, "results": results, "elapsed_ms": round((time.perf_counter() - start) * 1000, 3)}
