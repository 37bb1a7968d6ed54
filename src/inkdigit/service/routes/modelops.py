"""/api/v1/models/live (operators: which model everyone is served) and /api/v1/users/me/model (a
user's opt-in to their own fine-tuned model)."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request

from inkdigit.service import modelops
from inkdigit.service.db.models import User
from inkdigit.service.deps import CurrentUser, RecognizersDep, SessionDep, SettingsDep
from inkdigit.service.errors import APIError, error_doc
from inkdigit.service.livemodel import LiveModel
from inkdigit.service.modelops import Refusal
from inkdigit.service.modelops_schemas import (
    CandidateOut,
    CorrectionsOut,
    LiveStatus,
    ModelEventOut,
    PersonalChoice,
    PersonalModelOut,
    Promotion,
)
from inkdigit.service.modelreport import report_async
from inkdigit.service.recognizers import Recognizers

router = APIRouter(prefix="/api/v1", tags=["models"])

REFUSAL_STATUS = {"unknown_model": 404, "model_not_promotable": 409, "nothing_to_roll_back": 409}
_OPERATORS: dict[int | str, dict[str, Any]] = {403: error_doc("Not an operator (`forbidden`).")}


def _operator(user: User) -> None:
    if not user.is_superuser:
        raise APIError(403, "forbidden", "Only operators choose the model everyone is served "
                       "(`inkdigit users promote EMAIL`).")


async def _status(session: SessionDep, recognizers: Recognizers, default: str) -> LiveStatus:
    r = await report_async(session, recognizers.store, default)
    return LiveStatus(
        live=r.live, default=r.default,
        events=[ModelEventOut(at=e.at, action=e.action, model=e.model, actor=e.actor) for e in r.events],
        candidates=[CandidateOut(name=c.name, parent=c.parent, created=c.created, gate=c.gate, live=c.live)
                    for c in r.candidates],
        corrections=CorrectionsOut(total=r.corrections.total, confirmed=r.corrections.confirmed,
                                   users=r.corrections.users))


async def _changed(request: Request, recognizers: Recognizers) -> None:
    """This worker serves the change at once (others within ``live_model_ttl_s``)."""
    live: LiveModel = request.app.state.live
    live.forget()
    await anyio.to_thread.run_sync(recognizers.refresh)


@router.get("/models/live", response_model=LiveStatus, responses=_OPERATORS)
async def live_status(user: CurrentUser, session: SessionDep, recognizers: RecognizersDep,
                      settings: SettingsDep) -> LiveStatus:
    """The live model, its history, the fine-tuned candidates and the corrections they learn from."""
    _operator(user)
    return await _status(session, recognizers, settings.default_model)


@router.post("/models/live", response_model=LiveStatus, responses={
    **_OPERATORS, 404: error_doc("No installed model has this name (`unknown_model`)."),
    409: error_doc("A personal model, or one whose gate did not pass (`model_not_promotable`).")})
async def promote(body: Promotion, request: Request, user: CurrentUser, session: SessionDep,
                  recognizers: RecognizersDep, settings: SettingsDep) -> LiveStatus:
    """Serve an installed model to everyone who names none; every worker follows within seconds."""
    _operator(user)
    try:
        await modelops.promote_async(session, recognizers.store, settings.default_model, body.model, user.email)
    except Refusal as exc:
        raise APIError(REFUSAL_STATUS[exc.code], exc.code, exc.message) from None
    await _changed(request, recognizers)
    return await _status(session, recognizers, settings.default_model)


@router.post("/models/live/rollback", response_model=LiveStatus, responses={
    **_OPERATORS, 409: error_doc("Nothing was promoted (`nothing_to_roll_back`).")})
async def rollback(request: Request, user: CurrentUser, session: SessionDep, recognizers: RecognizersDep,
                   settings: SettingsDep) -> LiveStatus:
    """Serve again the model that was live before the last promotion."""
    _operator(user)
    try:
        await modelops.rollback_async(session, settings.default_model, user.email)
    except Refusal as exc:
        raise APIError(REFUSAL_STATUS[exc.code], exc.code, exc.message) from None
    await _changed(request, recognizers)
    return await _status(session, recognizers, settings.default_model)


async def _personal(user: User, session: SessionDep, recognizers: Recognizers) -> PersonalModelOut:
    enabled, model = await modelops.personal_async(session, user.id)
    card = await anyio.to_thread.run_sync(modelops.card_of, recognizers.store, model) if model else None
    return PersonalModelOut(enabled=enabled, model=model, gate=modelops.gate_of(card) if card else None)


@router.get("/users/me/model", response_model=PersonalModelOut)
async def my_model(user: CurrentUser, session: SessionDep, recognizers: RecognizersDep) -> PersonalModelOut:
    """Whether readings use the user's own fine-tuned model, which one, and its gate."""
    return await _personal(user, session, recognizers)


@router.put("/users/me/model", response_model=PersonalModelOut)
async def choose_my_model(body: PersonalChoice, request: Request, user: CurrentUser, session: SessionDep,
                          recognizers: RecognizersDep) -> PersonalModelOut:
    """Opt in to (or out of) the user's own model; opting out keeps it, unused."""
    await modelops.set_enabled_async(session, user.id, body.enabled)
    live: LiveModel = request.app.state.live
    live.forget(user.id)
    return await _personal(user, session, recognizers)
