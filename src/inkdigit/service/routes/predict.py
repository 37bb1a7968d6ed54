"""POST /api/v1/predict and /api/v1/predict/batch."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from inkdigit.engine.defaults import TOP_K_DEFAULT, TOP_K_MAX
from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.recognizer import Prediction, ReadOptions, ReadRequest, Recognizer
from inkdigit.service import history, payload
from inkdigit.service.deps import BatcherDep, SettingsDep
from inkdigit.service.errors import ERROR_RESPONSES, image_error_body
from inkdigit.service.livemodel import recognizer_for
from inkdigit.service.observability import count_prediction
from inkdigit.service.responses import prediction_body
from inkdigit.service.schemas import BatchResponse, PredictJSON, PredictOptions

router = APIRouter(prefix="/api/v1", tags=["predict"])

_option_fields = {
    name: {"type": "integer", "minimum": 1, "maximum": TOP_K_MAX} if name == "top_k"
    else {"type": "boolean"} if name == "debug"
    else {"type": "string", "enum": ["canvas", "upload", "api"]} if name == "source"
    else {"type": "string", "maxLength": 100}
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

TopK = Annotated[int, Query(ge=1, le=TOP_K_MAX, description="How many candidates to return in `top`.")]
ModelName = Annotated[str | None, Query(max_length=100, description="Model name (default: the server's).")]
Source = Annotated[Literal["canvas", "upload", "api"],
                   Query(description=PredictOptions.model_fields["source"].description)]
_DEFAULTS = PredictOptions().model_dump()  # what a request gets for each option it does not set


async def predict(request: Request) -> JSONResponse:
    """Read the digit in one image.

    The busiest route, so a plain Starlette route rather than a FastAPI one: FastAPI's dependency
    solving and response-model validation cost ~0.15 ms of CPU per request, as much as decoding
    the image (measured with the engine stubbed out: 0.37 → 0.21 ms per POST). What they did is
    done here directly: options are validated by ``PredictOptions`` wherever they come from
    (query, JSON body or form fields, the body's winning), and the operation is documented by
    ``OPENAPI`` below.
    """
    state = request.app.state
    settings, batcher = state.settings, state.batcher
    who = await history.reader(request)  # a signed-in user's readings are kept (None: anonymous)
    sent = await payload.single_image(request, settings.max_upload_bytes)
    query = {k: v for k, v in request.query_params.items() if k in PredictOptions.model_fields}
    options = {**_DEFAULTS, **(payload.options(query) if query else {}), **sent.options}
    rec = await recognizer_for(request, options["model"], who)
    read = ReadRequest(sent.data, ReadOptions(stages=options["debug"], limits=settings.limits))
    # an unreadable image raises its ImageInputError here, which the app's handler answers
    body = await batcher.read(rec, read, _Answer(rec.name, options["top_k"], options["debug"]))
    if who is not None:
        body["id"] = await history.keep_reading(request, who, "digit", options["source"], sent.data, body)
    return JSONResponse(body)


class _Answer:
    """What a compute thread does with a prediction: count it and build its response body."""

    __slots__ = ("debug", "model", "top_k")

    def __init__(self, model: str, top_k: int = TOP_K_DEFAULT, debug: bool = False) -> None:
        self.model, self.top_k, self.debug = model, top_k, debug

    def __call__(self, p: Prediction) -> dict[str, Any]:
        count_prediction(self.model, p)
        return prediction_body(p, self.model, self.top_k, self.debug)


class NamedRoute(Route):
    """A Starlette route that names itself in the scope, as FastAPI's own routes do (the metrics
    label requests by ``scope["route"].path``; FastAPI's router sets it only for its routes)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        await super().handle(scope, receive, send)


route = NamedRoute("/api/v1/predict", predict, methods=["POST"], include_in_schema=False)

_query = [
    {"name": name, "in": "query", "required": False, "description": field.description,
     "schema": {**_option_fields[name], **({} if field.default is None else {"default": field.default})}}
    for name, field in PredictOptions.model_fields.items()
]
OPENAPI: dict[str, Any] = {
    "tags": ["predict"], "summary": "Predict", "description": "Read the digit in one image.",
    "operationId": "predict_api_v1_predict_post", "parameters": _query, **PREDICT_BODY,
    "responses": {
        "200": {"description": "The digit read, with every probability.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
        **{str(status): doc for status, doc in ERROR_RESPONSES.items()},
    },
}


def _read_batch(rec: Recognizer, requests: list[ReadRequest], top_k: int) -> list[dict[str, Any]]:
    """One batch request, read with one model call; a bad file's error goes in its own slot."""
    answer = _Answer(rec.name, top_k)
    return [image_error_body(r) if isinstance(r, ImageInputError) else answer(r) for r in rec.read_many(requests)]


@router.post("/predict/batch", response_model=BatchResponse, responses=ERROR_RESPONSES,
             openapi_extra=BATCH_BODY)
async def predict_batch(request: Request, settings: SettingsDep, batcher: BatcherDep,
                        top_k: TopK = TOP_K_DEFAULT, model: ModelName = None, source: Source = "api") -> dict[str, Any]:
    """Read up to `max_batch` images; a bad image gets an error in its own slot."""
    start = time.perf_counter()
    who = await history.reader(request)
    rec = await recognizer_for(request, model, who)
    items = await payload.many_images(request, settings.max_batch, settings.max_batch_bytes)
    options = ReadOptions(limits=settings.limits)
    results = await batcher.run(_read_batch, rec, [ReadRequest(data, options) for data in items], top_k)
    if who is not None:
        await history.keep_batch(request, who, "digit", source, items, results)
    return {"model": rec.name, "results": results, "elapsed_ms": round((time.perf_counter() - start) * 1000, 3)}
