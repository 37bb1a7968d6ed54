"""Request and response bodies of the account, history and stats routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field


def normal_email(value: str) -> str:
    """An address as stored and looked up: lower case, so that "Ada@X" and "ada@x" are one account
    (the unique index on ``user.email`` then also stops two sign-ups racing in different cases)."""
    return value.strip().lower()


Email = Annotated[EmailStr, Field(max_length=320), AfterValidator(normal_email)]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(max_length=256, description="At least 8 characters.")


class EmailOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


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


class DayStats(BaseModel):
    date: str = Field(description="The day (UTC), YYYY-MM-DD.")
    readings: int
    corrected: int = Field(description="Readings of that day whose label differs from the answer.")
    accuracy: float | None = Field(description="1 - corrected / readings (null on a day without readings).")
    median_ms: float | None = Field(description="Median time the server took to read one image.")


class Stats(BaseModel):
    scope: str = Field(description="`me` (your readings) or `all` (every user's: operators only).")
    days: int = Field(description="How many days `per_day` covers, ending today.")
    users: int | None = Field(description="With scope `all`: how many accounts there are.")
    readings: int
    labelled: int = Field(description="Readings given a label (a correction, or a confirmation).")
    corrected: int = Field(description="Readings whose label differs from the answer.")
    accuracy: float | None = Field(description="1 - corrected / readings: an unlabelled reading counts as right.")
    reviewed_accuracy: float | None = Field(description="Right answers among labelled readings only.")
    per_day: list[DayStats]
    digits: list[int] = Field(description="How often each digit 0-9 was read (digits of numbers included).")
    sources: dict[str, int]
    kinds: dict[str, int]
    confusion: list[list[int]] = Field(description="Labelled digit readings: confusion[answer][label].")
    latency_ms: dict[str, float | None] = Field(description="Median and 90th percentile of reading times.")
