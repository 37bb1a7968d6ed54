"""Security headers on every response (the pages, the API, errors, static files).

The page's policy allows nothing from another origin (the app is self-contained: vendored
libraries, no CDN), no inline script or style attribute, and no framing (clickjacking). A
response that sets its own policy keeps it (the API docs need inline script: ``app.DOCS_CSP``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = "; ".join((
    "default-src 'self'",
    # WebAssembly may be compiled (ONNX Runtime Web reads drawings in the page); JavaScript eval stays off
    "script-src 'self' 'wasm-unsafe-eval'",
    "img-src 'self' data: blob:",  # preprocessing stages and drawings are data: and blob: URLs
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": PAGE_CSP,
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
