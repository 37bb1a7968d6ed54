"""The FastAPI application: settings, recognizers, middleware, error handlers, routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import inkdigit
from inkdigit.service import errors
from inkdigit.service.batcher import Batcher
from inkdigit.service.config import Settings, get_settings
from inkdigit.service.observability import ObservabilityMiddleware, configure_logging
from inkdigit.service.recognizers import Recognizers
from inkdigit.service.routes import health, models, predict, recognize
from inkdigit.web import STATIC_DIR


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; models start loading in the background when it starts serving."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    recognizers = Recognizers(settings.store(), settings.default_model, settings.inference_threads,
                              settings.load_delay_s)
    batcher = Batcher(settings.compute_threads, settings.max_coalesce)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        recognizers.start()
        yield
        batcher.stop()

    app = FastAPI(
        title="inkdigit",
        version=inkdigit.__version__,
        summary="Read handwritten digits from drawings, scans and photos.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.recognizers = recognizers
    app.state.batcher = batcher
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"], expose_headers=["X-Request-ID"])
    app.add_middleware(ObservabilityMiddleware, access_log=settings.access_log)
    app.router.routes.append(predict.route)
    app.include_router(predict.router)
    app.include_router(recognize.router)
    app.include_router(models.router)
    app.include_router(health.router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        """The web app: draw or upload a digit."""
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    _register_error_schema(app)
    return app


def _register_error_schema(app: FastAPI) -> None:
    """Make ``ErrorResponse`` a named component, referenced by every documented error."""
    from fastapi.openapi.utils import get_openapi

    from inkdigit.service.schemas import ErrorResponse, PredictResponse

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            # POST /api/v1/predict is a plain Starlette route (see routes.predict): documented by hand
            schema.setdefault("paths", {})["/api/v1/predict"] = {"post": predict.OPENAPI}
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (ErrorResponse, PredictResponse):
                components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(components[model.__name__].pop("$defs", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
