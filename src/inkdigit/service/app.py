"""The FastAPI application: settings, recognizers, middleware, error handlers, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import inkdigit
from inkdigit.service import errors
from inkdigit.service.accounts.auth import TokenLookups
from inkdigit.service.accounts.mail import Mailer
from inkdigit.service.accounts.oidc import Clients
from inkdigit.service.accounts.secret import load_secret
from inkdigit.service.batcher import Batcher
from inkdigit.service.config import Settings, get_settings
from inkdigit.service.db import migrate
from inkdigit.service.db.session import Database
from inkdigit.service.keeper import HistoryKeeper
from inkdigit.service.livemodel import LiveModel
from inkdigit.service.observability import ObservabilityMiddleware, configure_logging
from inkdigit.service.recognizers import Recognizers
from inkdigit.service.routes import (
    auth,
    health,
    history,
    modelops,
    models,
    oidc,
    pages,
    predict,
    recognize,
    stats,
    users,
)
from inkdigit.service.security import SecurityHeadersMiddleware
from inkdigit.web import STATIC_DIR


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; models start loading in the background when it starts serving."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    recognizers = Recognizers(settings.store(), settings.default_model, settings.inference_threads,
                              settings.load_delay_s)
    batcher = Batcher(settings.compute_threads, settings.max_coalesce)
    database = Database(settings.database)
    keeper = HistoryKeeper(database.engine)
    mailer = Mailer(settings)
    live = LiveModel(database.engine, recognizers, settings.default_model, settings.live_model_ttl_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        recognizers.start()
        # every worker migrates at start-up, under a lock: the first does the work (db/migrate.py)
        await anyio.to_thread.run_sync(migrate.upgrade, settings.database)
        await live.live()  # known before the first reading, which would otherwise get the default
        if settings.smtp_host and not settings.public_url:
            logging.getLogger("inkdigit.service").warning(
                "INKDIGIT_PUBLIC_URL is not set: e-mailed links point at the address this server listens "
                "on, which is wrong behind a proxy or a public name; set it to the web app's address")
        yield
        await keeper.drain()
        await mailer.drain()
        batcher.stop()
        await database.dispose()

    app = FastAPI(
        title="inkdigit",
        version=inkdigit.__version__,
        summary="Read handwritten digits from drawings, scans and photos.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: see _install_docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.recognizers = recognizers
    # asked by a multi-worker server (workers.py) before it sends readings to this process: the
    # default model is loaded (a worker whose load failed stays cold, and gets readings only if
    # every worker is cold)
    app.state.warm = lambda: recognizers.ready
    app.state.batcher = batcher
    app.state.database = database
    app.state.history = keeper
    app.state.live = live
    app.state.token_lookups = TokenLookups(database.engine)
    app.state.mailer = mailer
    app.state.secret = load_secret(settings.secret_key, settings.home)
    app.state.oidc_clients = Clients()
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"], expose_headers=["X-Request-ID"])
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ObservabilityMiddleware, access_log=settings.access_log)
    app.router.routes.append(predict.route)
    app.include_router(predict.router)
    app.include_router(recognize.router)
    app.include_router(modelops.router)  # before models.router: /models/live is not a model's name
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(oidc.router)
    app.include_router(users.router)
    app.include_router(history.router)
    app.include_router(stats.router)
    app.include_router(pages.router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    _install_docs(app)
    _register_error_schema(app)
    return app


VENDOR = "/static/vendor"  # static/vendor/VENDORED.md: what is there, which version, how it was fetched
# the docs pages may load from this server only; what else each directive allows, they need
DOCS_CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",  # Swagger UI is started by a script in the page
    "style-src 'self' 'unsafe-inline'",  # both style from script (React style attributes, styled-components)
    "img-src 'self' data:",  # their icons are data: URLs
    "worker-src 'self' blob:",  # ReDoc's search runs in a worker made from a blob
))


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc``, every file they load served by this app.

    FastAPI's own pages take their JavaScript and CSS from a CDN, so without internet they are blank;
    these take the copies vendored under ``static/vendor``. What else would reach out is off: ReDoc's
    Google Fonts stylesheet; its "API docs by Redocly" logo, an image on cdn.redoc.ly that no option
    removes (the Content-Security-Policy stops the browser from fetching it, or anything else from
    elsewhere); and Swagger UI's online validator, which would get the schema's URL from a badge (not
    in the layout used here, but one parameter away).
    """

    def urls(request: Request) -> tuple[str, str]:
        # behind a proxy that strips a prefix (root_path), every URL the page loads needs it back
        root = request.scope.get("root_path", "").rstrip("/")
        return root + (app.openapi_url or "/openapi.json"), root + VENDOR

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """The interactive API documentation: try each operation from the browser."""
        openapi_url, vendor = urls(request)
        return _contained(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{vendor}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None}))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """The API reference as one long page."""
        openapi_url, vendor = urls(request)
        return _contained(get_redoc_html(
            openapi_url=openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{vendor}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{vendor}/swagger-ui/favicon-32x32.png", with_google_fonts=False))


def _contained(page: HTMLResponse) -> HTMLResponse:
    """``page`` with the policy that keeps the browser from loading anything from another host."""
    page.headers["content-security-policy"] = DOCS_CSP
    return page


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
