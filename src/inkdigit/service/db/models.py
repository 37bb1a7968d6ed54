"""The tables. Every row a user owns hangs off ``user`` with ``ON DELETE CASCADE``, so deleting an
account deletes everything it owns in one statement, whichever database holds it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi_users_db_sqlalchemy import SQLAlchemyBaseOAuthAccountTableUUID, SQLAlchemyBaseUserTableUUID
from fastapi_users_db_sqlalchemy.access_token import SQLAlchemyBaseAccessTokenTableUUID
from fastapi_users_db_sqlalchemy.generics import GUID, TIMESTAMPAware
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class OAuthAccount(SQLAlchemyBaseOAuthAccountTableUUID, Base):
    """A sign-in through an OpenID Connect provider, linked to one user."""


class User(SQLAlchemyBaseUserTableUUID, Base):
    """An account (fastapi-users' columns: email, Argon2 hash, active, verified, superuser = admin)."""

    created_at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), default=now, nullable=False)
    oauth_accounts: Mapped[list[OAuthAccount]] = relationship(lazy="joined", passive_deletes=True)


class AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):
    """A session (cookie) or bearer token; deleting the row signs it out everywhere it is used."""


class Reading(Base):
    """One image a signed-in user had read: what was answered, by which model, and what it really was."""

    __tablename__ = "reading"
    __table_args__ = (Index("ix_reading_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user.id", ondelete="cascade"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), default=now, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "digit" (predict) or "number" (recognize)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # canvas, upload or api
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    # the answer as text: "7" or "4217"; "" for a blank image or one that holds no digit
    answer: Mapped[str] = mapped_column(String(10_000), nullable=False)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    is_digit: Mapped[bool] = mapped_column(Boolean, nullable=False)
    elapsed_ms: Mapped[float] = mapped_column(Float, nullable=False)
    result: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)  # the response body, as sent
    # what the image really shows, as its owner said (a digit, or a digit string for a number)
    label: Mapped[str | None] = mapped_column(String(10_000), nullable=True)
    labelled_at: Mapped[datetime | None] = mapped_column(TIMESTAMPAware(timezone=True), nullable=True)
    image: Mapped[ReadingImage] = relationship(lazy="raise", passive_deletes=True, cascade="all, delete-orphan")


class ReadingImage(Base):
    """The image of a reading, apart from it so that listing history never loads image bytes."""

    __tablename__ = "reading_image"

    reading_id: Mapped[int] = mapped_column(ForeignKey("reading.id", ondelete="cascade"), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class LoginFailure(Base):
    """A failed sign-in, kept for a while to rate-limit guessing per account and per client.

    In the database rather than in memory so that every server worker sees the same count."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False, index=True)  # "email:…" or "client:…"
    at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), default=now, nullable=False, index=True)


class ModelEvent(Base):
    """One change of the model everyone is served (``inkdigit models``, ``/api/v1/models/live``).

    Kept as a log rather than one "live" value, so a rollback knows what came before and operators
    see who changed what when; ``inkdigit.service.modelops.replay`` turns it into the live model."""

    __tablename__ = "model_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), default=now, nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # "promote" or "rollback"
    model: Mapped[str] = mapped_column(String(100), nullable=False)  # the model live after the event
    actor: Mapped[str] = mapped_column(String(320), nullable=False)  # an operator's e-mail, or "cli:<os user>"


class PersonalModel(Base):
    """A user's own fine-tuned model, and whether they want it (their opt-in, off by default)."""

    __tablename__ = "personal_model"

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user.id", ondelete="cascade"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    # set by ``inkdigit finetune --user … --install``; opting out keeps it, unused
    model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), default=now, onupdate=now,
                                                 nullable=False)
