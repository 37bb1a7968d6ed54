"""Dependency aliases, so route signatures read like prose.

The providers are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread
pool, and two thread hand-offs per request to read an attribute cost more than the rest of the
HTTP handling (0.61 → 0.23 ms of CPU per POST, measured with a no-op engine).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from inkdigit.service.batcher import Batcher
from inkdigit.service.config import Settings
from inkdigit.service.recognizers import Recognizers


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _recognizers(request: Request) -> Recognizers:
    recognizers: Recognizers = request.app.state.recognizers
    return recognizers


async def _batcher(request: Request) -> Batcher:
    batcher: Batcher = request.app.state.batcher
    return batcher


SettingsDep = Annotated[Settings, Depends(_settings)]
RecognizersDep = Annotated[Recognizers, Depends(_recognizers)]
BatcherDep = Annotated[Batcher, Depends(_batcher)]
