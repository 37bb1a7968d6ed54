"""Liveness, readiness and metrics: for orchestrators and monitoring, not for people."""

from __future__ import annotations

from fastapi import APIRouter, Response

from inkdigit.service.deps import RecognizersDep, SettingsDep
from inkdigit.service.errors import ERROR_RESPONSES, APIError
from inkdigit.service.observability import metrics_payload
from inkdigit.service.schemas import Status

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Status)
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Status, responses={503: ERROR_RESPONSES[503]})
async def readyz(recognizers: RecognizersDep) -> dict[str, str]:
    """The default model is loaded and requests can be served."""
    recognizers.get(None)  # raises the 503 that explains why not
    if not recognizers.ready:
        raise APIError(503, "model_not_loaded", "The model is not loaded.")
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
def metrics(settings: SettingsDep) -> Response:
    """Prometheus metrics of every worker process."""
    data, content_type = metrics_payload(settings.metrics_dir)
    return Response(data, media_type=content_type)
