"""A small OpenID Connect provider for the tests, served by Uvicorn on a loopback port.

It does what a real one does for the authorization-code flow with PKCE: discovery, an
authorization endpoint (which signs in whoever the test says is at the keyboard, without a
page), a token endpoint that checks the client's secret, the code, the redirect URI and the PKCE
verifier (each code once), an ID token signed with the client secret (HS256), and userinfo.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.service.conftest import free_port


@dataclass
class LocalProvider:
    client_id: str = "inkdigit-test"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # who signs in at the provider next (sub, email, email_verified…)
    person: dict[str, Any] = field(default_factory=lambda: {"sub": "u-1", "email": "oidc@example.com",
                                                            "email_verified": True})
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0
    userinfo_fails: bool = False  # answer userinfo with a 500 (a provider having a bad day)
    url: str = ""

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/userinfo", self.userinfo),
        ])

    async def discovery(self, _: Request) -> Response:
        return JSONResponse({
            "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token", "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"], "scopes_supported": ["openid", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"], "grant_types_supported": ["authorization_code"],
        })

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE required"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": q["redirect_uri"], "challenge": q["code_challenge"],
                            "person": dict(self.person), "scope": q.get("scope", "")}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}",
                                status_code=302)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)  # a code works once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant["person"]
        now = int(time.time())
        id_token = jwt.encode({"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 600,
                               **grant["person"]}, self.client_secret, algorithm="HS256")
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 600,
                             "id_token": id_token})

    async def userinfo(self, request: Request) -> Response:
        if self.userinfo_fails:
            return Response("<html>upstream error</html>", status_code=500, media_type="text/html")
        person = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if person is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(person)


class Running:
    """The provider served on a loopback port in a thread, for the length of a ``with`` block."""

    def __init__(self, provider: LocalProvider) -> None:
        self.provider, port = provider, free_port()
        provider.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LocalProvider:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the test OIDC provider did not start"
            time.sleep(0.02)
        return self.provider

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
