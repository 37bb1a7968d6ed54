"""GET /api/v1/models."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request

from inkdigit.engine.modelcard import owner_of, owner_tag
from inkdigit.service import history
from inkdigit.service.deps import RecognizersDep
from inkdigit.service.livemodel import LiveModel
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
                           "metrics": _headline(rec.card.metrics)})
    return {"default": default, "models": models}
