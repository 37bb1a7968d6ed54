"""Sign-in through OpenID Connect providers (Google, LinkedIn, or any other), off unless configured.

httpx-oauth's generic ``OpenID`` client speaks the protocol (discovery, authorization code with
PKCE, token and userinfo requests) and fastapi-users links the provider's account to ours
(``oauth_callback``). What is ours: the ``state`` (signed, naming the provider, bound to this
browser by a cookie holding the PKCE verifier, so a login link cannot be replayed into someone
else's browser) and the rule that only an address the provider says it verified signs in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import anyio
from httpx_oauth.clients.openid import OpenID

from inkdigit.service.config import OIDCProvider

KNOWN = {
    "google": ("Google", "https://accounts.google.com/.well-known/openid-configuration"),
    "linkedin": ("LinkedIn", "https://www.linkedin.com/oauth/.well-known/openid-configuration"),
}
STATE_AUDIENCE = "inkdigit:oidc"
STATE_LIFETIME_S = 600
VERIFIER_COOKIE = "inkdigit_oidc"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    discovery_url: str
    config: OIDCProvider


def providers(configured: dict[str, OIDCProvider]) -> dict[str, Provider]:
    """The configured providers that can be used (a provider without a discovery URL is skipped)."""
    out = {}
    for name, config in configured.items():
        label, url = KNOWN.get(name.lower(), (name, None))
        discovery = config.discovery_url or url
        if discovery:
            out[name] = Provider(name, config.label or label, discovery, config)
    return out


class Clients:
    """One ``OpenID`` client per provider, made on first use (it fetches the discovery document
    with a blocking request, so on a worker thread) and kept for the process's life."""

    def __init__(self) -> None:
        self._clients: dict[str, OpenID] = {}
        self._lock = anyio.Lock()

    async def get(self, provider: Provider) -> OpenID:
        async with self._lock:
            if provider.name not in self._clients:
                c = provider.config
                self._clients[provider.name] = await anyio.to_thread.run_sync(
                    lambda: OpenID(c.client_id, c.client_secret, provider.discovery_url, name=provider.name,
                                   base_scopes=["openid", "email"]))
            return self._clients[provider.name]


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) of RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def verified_email(profile: dict[str, Any]) -> str | None:
    """The profile's address if the provider vouches for it (``email_verified`` true), else None."""
    email = profile.get("email")
    verified = profile.get("email_verified")
    if isinstance(verified, str):  # some providers send "true"
        verified = verified.lower() == "true"
    return email if isinstance(email, str) and email and verified is True else None
