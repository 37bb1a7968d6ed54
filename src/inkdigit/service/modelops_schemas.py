"""Request and response bodies of the routes that choose the model served (``routes.modelops``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelEventOut(BaseModel):
    at: datetime
    action: str = Field(description="`promote` or `rollback`.")
    model: str = Field(description="The model live after the event.")
    actor: str = Field(description="The operator's e-mail address, or `cli:<os user>`.")


class CandidateOut(BaseModel):
    name: str
    parent: str | None = Field(description="The model it was fine-tuned from.")
    created: datetime
    gate: dict[str, Any] | None = Field(description="Its card's gate: `passed`, `rows` (measure, before, "
                                        "after, n, ok) and `reasons`.")
    live: bool


class CorrectionsOut(BaseModel):
    total: int = Field(description="Readings labelled with something else than their answer.")
    confirmed: int = Field(description="Readings labelled with the answer they got.")
    users: int = Field(description="Distinct users who labelled readings.")


class LiveStatus(BaseModel):
    live: str = Field(description="The model readings that name none get (unless the user has their own).")
    default: str = Field(description="The configured default: live when nothing was promoted.")
    events: list[ModelEventOut] = Field(description="Promotions and rollbacks, newest first (at most 50).")
    candidates: list[CandidateOut] = Field(description="Installed fine-tuned models meant for everyone.")
    corrections: CorrectionsOut


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=100, description="The installed model to serve everyone.")


class PersonalModelOut(BaseModel):
    enabled: bool = Field(description="Whether the user chose to be served their own model.")
    model: str | None = Field(description="Their fine-tuned model, once one was made.")
    gate: dict[str, Any] | None = Field(description="That model's gate, as on its card.")


class PersonalChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
