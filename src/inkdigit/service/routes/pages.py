"""The web app's pages: static HTML files, each the same for everyone (data comes from the API)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from inkdigit.web import STATIC_DIR

router = APIRouter(include_in_schema=False)
NO_CACHE = {"cache-control": "no-cache"}


@router.get("/")
def index() -> FileResponse:
    """The web app: draw or upload a digit."""
    return FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)
