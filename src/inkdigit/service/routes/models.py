"""GET /api/v1/models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from inkdigit.service.deps import RecognizersDep
from inkdigit.service.schemas import ModelsResponse

router = APIRouter(prefix="/api/v1", tags=["models"])


def _headline(metrics: dict[str, Any]) -> dict[str, dict[str, float | int]]:
    return {name: {k: m[k] for k in ("accuracy", "n") if k in m}
            for name, m in metrics.items() if isinstance(m, dict)}


@router.get("/models", response_model=ModelsResponse)
def list_models(recognizers: RecognizersDep) -> dict[str, Any]:
    """The models this server can use, with the metrics their model cards record; a model installed
    since start-up is loaded first, so it is listed (and usable) without a restart."""
    recognizers.refresh()
    return {"default": recognizers.default, "models": [
        {"name": name, "family": rec.card.family, "default": name == recognizers.default,
         "preprocessing_version": rec.card.preprocessing.version,
         "metrics": _headline(rec.card.metrics)}
        for name, rec in sorted(recognizers.loaded.items())
    ]}
