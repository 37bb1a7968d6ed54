"""Request and response bodies of the account, history and stats routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    password: str = Field(max_length=256, description="At least 8 characters.")


class EmailOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)


class TokenOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4096, description="The token from the e-mailed link.")


class PasswordReset(TokenOnly):
    password: str = Field(max_length=256, description="The new password (at least 8 characters).")


class Accepted(BaseModel):
    message: str = Field(description="What happens next, for a person.")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    is_verified: bool
    is_admin: bool = Field(description="Operators see everyone's statistics (`inkdigit users promote`).")
    created_at: datetime


class BearerToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the token stays valid.")


class HistoryEntry(BaseModel):
    id: int
    created_at: datetime
    kind: str = Field(description="`digit` (/predict) or `number` (/recognize).")
    source: str = Field(description="`canvas`, `upload` or `api`.")
    model: str
    answer: str = Field(description="What was read: a digit, a digit string (\"?\" for a piece that is no "
                        "digit), or \"\" when nothing was.")
    confidence: float
    is_digit: bool
    elapsed_ms: float
    label: str | None = Field(description="What the image really shows, as its owner said; null if not said.")
    labelled_at: datetime | None
    corrected: bool = Field(description="True when a label was given and differs from the answer.")
    image_url: str


class HistoryDetail(HistoryEntry):
    result: dict[str, object] = Field(description="The response body as it was sent.")


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    total: int = Field(description="How many entries match the filters.")
    offset: int
    limit: int


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(max_length=10_000, pattern=r"^[0-9]*$", description="What the image really shows: a digit "
                       "(a digit reading), a digit string (a number), or \"\" for \"there is no digit here\".")
