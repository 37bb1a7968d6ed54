"""The service's one settings object, read from ``INKDIGIT_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from inkdigit.engine.defaults import DEFAULT_MODEL, MAX_PIXELS, MAX_UPLOAD_BYTES
from inkdigit.engine.imageio import Limits
from inkdigit.engine.numbers import NumberLimits
from inkdigit.engine.store import RecognizerStore
from inkdigit.paths import default_home
from inkdigit.service.db.session import database_url


class OIDCProvider(BaseModel):
    """One OpenID Connect provider users may sign in with (registered with it as a web client whose
    redirect URI is ``<public_url>/api/v1/auth/oidc/<name>/callback``)."""

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    discovery_url: str | None = Field(None, description="Its .well-known/openid-configuration (known for "
                                      "google and linkedin).")
    label: str | None = Field(None, description="The name shown on the sign-in button.")


class Settings(BaseSettings):
    """Every knob of the service. ``INKDIGIT_MAX_UPLOAD_BYTES=1000000`` sets ``max_upload_bytes``."""

    model_config = SettingsConfigDict(env_prefix="INKDIGIT_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Application state directory.")
    model_dir: Path | None = Field(None, description="Extra directory searched first for models.")
    default_model: str = DEFAULT_MODEL
    max_upload_bytes: int = Field(MAX_UPLOAD_BYTES, gt=0, description="Largest accepted image file.")
    max_pixels: int = Field(MAX_PIXELS, gt=0, description="Largest accepted decoded image.")
    max_batch: int = Field(64, gt=0, le=1024, description="Most images in one batch request.")
    max_number_width: int = Field(16384, gt=0, description="Widest image /recognize reads (px).")
    max_number_digits: int = Field(64, gt=0, le=10_000, description="Most digits /recognize reads in one image.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    log_level: str = "info"
    # on by default: without a proxy in front it is the only record of each request (with its id
    # and time); it goes to stdout, never to a file of ours (docs/security.md)
    access_log: bool = Field(True, description="Log one line per request to stdout.")
    # What a connection may take from a worker, enforced by inkdigit.service.protocol in every
    # worker, whichever way it is served; reasons and proxy settings: docs/security.md
    head_timeout_s: float = Field(10.0, gt=0, description="Longest a request head (request line and "
                                  "headers) may take to arrive: from the connection's opening, or its first byte.")
    body_timeout_s: float = Field(20.0, gt=0, description="Longest a request body may go without "
                                  "sending a byte, and the grace before body_min_rate applies.")
    body_min_rate: int = Field(500, gt=0, description="Slowest average a body may arrive at (bytes/s) "
                               "after body_timeout_s: each such many bytes buy it one more second.")
    keepalive_timeout_s: float = Field(5.0, gt=0, description="Longest an idle connection is kept "
                                       "between requests.")
    keepalive_max_requests: int = Field(1000, gt=0, description="Requests served on one connection "
                                        "before it is closed (so load flows back to a restarted worker).")
    keepalive_max_age_s: float = Field(60.0, gt=0, description="Age after which a connection is closed "
                                       "at its next response (so load flows back to a restarted worker).")
    max_connections: int = Field(1000, gt=0, description="Most open connections per worker process; "
                                 "past it the longest idle one is closed (a new one at once if none is idle).")
    max_header_bytes: int = Field(32768, ge=1024, description="Largest request head (request line and "
                                  "headers, bytes): past it the answer is 431 (414 for the URL alone).")
    max_headers: int = Field(100, gt=0, description="Most header fields in one request: past it the "
                             "answer is 431.")
    inference_threads: int = Field(1, ge=1, description="ONNX Runtime threads per worker process.")
    compute_threads: int = Field(1, ge=1, le=64, description="Compute threads per worker process "
                                 "(more threads only fight over the GIL).")
    # Answers go back when a coalesced read ends, so a request that arrives just after one began
    # waits for all of it and then its own: 8 keeps that wait short while still sharing the model
    # call (wrk, 64 connections, 2 workers, three interleaved pairs: p99/p50 1.4-1.55 against
    # 2.0-2.05 with 32).
    max_coalesce: int = Field(8, ge=1, le=1024, description="Most waiting single-image requests a "
                              "compute thread reads together, with one model call.")
    load_delay_s: float = Field(0.0, ge=0, description="Wait before loading models (readiness drills).")
    live_model_ttl_s: float = Field(2.0, ge=0, description="How long each worker keeps the live model's "
                                    "name (and each user's personal model) before reading it again.")
    # prometheus_client's own variable: set (by ``inkdigit serve --workers N``) when several worker
    # processes share their metrics through files in this directory
    metrics_dir: Path | None = Field(None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
                                     description="Shared metrics directory of several workers.")

    # accounts, history and corrections (inkdigit.service.db, inkdigit.service.accounts)
    database_url: str | None = Field(None, description="postgresql://user:password@host/db (psycopg 3) "
                                     "or sqlite:///path; unset: an SQLite file in home.")
    secret_key: str | None = Field(None, min_length=32, description="Signs e-mailed confirmation and reset "
                                   "tokens; unset: made once and kept in home/secret.key (set it when "
                                   "several machines share one database).")
    public_url: str | None = Field(None, description="The web app's address as users reach it, for links "
                                   "in e-mails (unset: the address the request came to).")
    smtp_host: str | None = Field(None, description="Mail server for confirmation and reset e-mails; "
                                  "unset: the links are logged instead.")
    smtp_port: int = Field(587, gt=0, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = Field("starttls", pattern="^(starttls|ssl|none)$",
                               description="starttls (port 587), ssl (port 465) or none (a local relay).")
    smtp_from: str = Field("inkdigit <no-reply@localhost>", description="The From of every e-mail sent.")
    session_lifetime_s: int = Field(14 * 24 * 3600, gt=0, description="How long a browser stays signed in.")
    token_lifetime_s: int = Field(24 * 3600, gt=0, description="How long a bearer token (/auth/token) lasts.")
    verify_token_lifetime_s: int = Field(2 * 24 * 3600, gt=0, description="How long a confirmation link works.")
    reset_token_lifetime_s: int = Field(3600, gt=0, description="How long a password-reset link works.")
    cookie_secure: bool | None = Field(None, description="Send the session cookie over HTTPS only "
                                       "(unset: when public_url is https).")
    login_window_s: int = Field(900, gt=0, description="The window failed sign-ins are counted in.")
    login_max_failures_account: int = Field(5, gt=0, description="Failed sign-ins to one account in the "
                                            "window before its sign-in is refused (429) until they age out.")
    login_max_failures_client: int = Field(30, gt=0, description="Failed sign-ins from one client address "
                                           "in the window before it is refused (429).")
    oidc_providers: dict[str, OIDCProvider] = Field(default_factory=dict, description="Sign-in through "
                                                    "OpenID Connect, off by default: JSON such as "
                                                    "{\"google\": {\"client_id\": \"…\", \"client_secret\": \"…\"}}; "
                                                    "google and linkedin need no discovery_url.")
    mail_max_per_hour: int = Field(5, gt=0, description="Most e-mails sent to one address in an hour "
                                   "(sign-up, confirmation, reset requests past it are answered alike, unsent).")
    history_image_max_bytes: int = Field(256 * 1024, ge=4096, description="Largest image kept in a user's "
                                         "history; a larger one is kept reduced.")

    @field_validator("home", "model_dir", "metrics_dir", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        """Paths as ``inkdigit.paths`` reads them: ``~`` expanded, an empty value meaning unset."""
        if value == "":
            return None
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @property
    def max_batch_bytes(self) -> int:
        return self.max_upload_bytes * min(self.max_batch, 8)

    @property
    def limits(self) -> Limits:
        """The size limits every image read by this service is held to."""
        return Limits(self.max_upload_bytes, self.max_pixels)

    @property
    def number_limits(self) -> NumberLimits:
        """How wide a line, and how many digits, one /recognize image may hold."""
        return NumberLimits(self.max_number_width, self.max_number_digits)

    @property
    def database(self) -> URL:
        """The database to connect to (see ``inkdigit.service.db.session.database_url``)."""
        return database_url(self.database_url, self.home)

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return bool(self.public_url and self.public_url.startswith("https://"))

    def store(self) -> RecognizerStore:
        """Where this service finds its recognizers: ``model_dir``, then ``home/models``, then the shipped ones."""
        return RecognizerStore.standard(self.home, self.model_dir)


@lru_cache
def get_settings() -> Settings:
    return Settings()
