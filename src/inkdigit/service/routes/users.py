"""/api/v1/users/me: the signed-in account; deleting it deletes everything it owns."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import delete

from inkdigit.service.account_schemas import UserRead
from inkdigit.service.accounts.auth import clear_session_cookies
from inkdigit.service.db.models import User
from inkdigit.service.deps import CurrentUser, SessionDep, SettingsDep
from inkdigit.service.routes.auth import user_read

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser) -> UserRead:
    """The signed-in account."""
    return user_read(user)


@router.delete("/me", status_code=204, response_class=Response)
async def delete_me(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> Response:
    """Delete the account with its sessions, history, images and corrections."""
    # one statement: the foreign keys cascade to every row the account owns
    await session.execute(delete(User).where(User.__table__.c.id == user.id))
    await session.commit()
    response = Response(status_code=204)
    clear_session_cookies(response, settings)
    return response
