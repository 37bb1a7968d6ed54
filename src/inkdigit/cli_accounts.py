"""``inkdigit db …`` and ``inkdigit users …``: the database and accounts, from the command line.

They read the same settings as the server (``INKDIGIT_DATABASE_URL``, ``INKDIGIT_HOME``), so they
act on the database the server uses.
"""

from __future__ import annotations

from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table as RichTable

from inkdigit.cli_support import service_database as _database
from inkdigit.cli_support import service_settings as _settings

db_app = typer.Typer(help="The database of accounts, history and corrections.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts: list them, make operators.", no_args_is_help=True)
console = Console(soft_wrap=True)  # a long database URL stays on one line


def _redacted(url: object) -> str:
    from inkdigit.service.db.session import sync_url

    return sync_url(url).render_as_string(hide_password=True)  # type: ignore[arg-type]


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Revision to reach.")] = "head") -> None:
    """Apply the migrations the database lacks (the server also does this when it starts)."""
    from inkdigit.service.db.migrate import upgrade

    settings = _settings()
    try:
        before, after = upgrade(settings.database, revision)
    except Exception as exc:
        console.print(f"[red]error:[/red] cannot upgrade {_redacted(settings.database)}: {exc}")
        raise typer.Exit(1) from None
    what = "already at" if before == after else f"upgraded from {before or 'an empty database'} to"
    console.print(f"{_redacted(settings.database)}: {what} revision {after}")


def _set_admin(email: str, admin: bool) -> None:
    from sqlalchemy import Table, func, update

    from inkdigit.service.db.models import User

    table = cast(Table, User.__table__)
    with _database() as engine, engine.begin() as connection:
        changed = connection.execute(update(table).where(func.lower(table.c.email) == email.strip().lower())
                                     .values(is_superuser=admin)).rowcount
    if not changed:
        console.print(f"[red]error:[/red] no account has the address {email}")
        raise typer.Exit(1)
    console.print(f"{email} is {'now an operator' if admin else 'no longer an operator'}")


@users_app.command("promote")
def promote(email: Annotated[str, typer.Argument(help="The account's e-mail address.")]) -> None:
    """Make an account an operator: its dashboard shows every user's statistics."""
    _set_admin(email, True)


@users_app.command("demote")
def demote(email: Annotated[str, typer.Argument(help="The account's e-mail address.")]) -> None:
    """Make an operator an ordinary account again."""
    _set_admin(email, False)


@users_app.command("list")
def list_users() -> None:
    """Every account: address, confirmed, operator, created, readings kept."""
    from sqlalchemy import func, select

    from inkdigit.service.db.models import Reading, User

    u, r = User.__table__, Reading.__table__
    with _database() as engine, engine.connect() as connection:
        rows = connection.execute(
            select(u.c.email, u.c.is_verified, u.c.is_superuser, u.c.created_at, func.count(r.c.id))
            .outerjoin(r, r.c.user_id == u.c.id).group_by(u.c.id).order_by(u.c.created_at)).all()
    table = RichTable("e-mail", "confirmed", "operator", "created", "readings")
    for email, verified, admin, created, readings in rows:
        table.add_row(email, "yes" if verified else "no", "yes" if admin else "", f"{created:%Y-%m-%d %H:%M}",
                      str(readings))
    console.print(table if rows else "no accounts yet")
