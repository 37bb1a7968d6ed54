"""The web app's pages: static HTML files, each the same for everyone (data comes from the API)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from inkdigit.web import STATIC_DIR
from inkdigit.web.offline import service_worker

router = APIRouter(include_in_schema=False)
NO_CACHE = {"cache-control": "no-cache"}


@router.get("/")
def index() -> FileResponse:
    """The web app: draw or upload a digit."""
    return FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)


@router.get("/sw.js")
def service_worker_script() -> Response:
    """The service worker that keeps the page, its runtime and its model for offline reading; served
    from the root so that it controls the whole site, and always revalidated (a new version of the
    page's files is a new worker)."""
    return Response(service_worker(), media_type="text/javascript", headers=NO_CACHE)


@router.get("/manifest.webmanifest")
def manifest() -> FileResponse:
    """The web app manifest: what makes the page installable."""
    return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json",
                        headers=NO_CACHE)


# the account pages: each a static file whose script asks the API for the rest (who is signed in,
# the history, the statistics); the e-mailed links land on /verify and /reset-password
ACCOUNT_PAGES = {
    "/signup": ("signup.html", "Create an account."),
    "/signin": ("signin.html", "Sign in."),
    "/verify": ("verify.html", "Where the confirmation e-mail's link lands: confirms the address."),
    "/forgot-password": ("forgot-password.html", "Ask for a password reset link."),
    "/reset-password": ("reset-password.html", "Where the reset e-mail's link lands: choose a new password."),
    "/account": ("account.html", "The signed-in account: sign out, export, delete."),
    "/history": ("history.html", "The signed-in user's readings kept on the server."),
    "/dashboard": ("dashboard.html", "Charts of the signed-in user's readings and corrections."),
}


def _page(filename: str, summary: str) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / filename, headers=NO_CACHE)

    page.__doc__ = summary
    page.__name__ = filename.removesuffix(".html").replace("-", "_") + "_page"
    return page


for _path, (_file, _summary) in ACCOUNT_PAGES.items():
    router.add_api_route(_path, _page(_file, _summary), methods=["GET"], response_class=FileResponse)
