"""``inkdigit models …``: which model the server serves everyone: its status, a promotion, a rollback.

They act on the server's database (the same ``INKDIGIT_*`` settings), where the promotion is
recorded as an event; every running worker follows within ``live_model_ttl_s`` (2 s), no restart.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from inkdigit.cli_support import service_database, service_settings

if TYPE_CHECKING:
    from inkdigit.service.modelreport import Report

models_app = typer.Typer(help="The model the server serves everyone: status, promote, roll back.",
                         no_args_is_help=True)
console = Console(soft_wrap=True)
EVENTS_LISTED = 10


def _actor() -> str:
    """Who made a change from the command line, as the event log records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"cli:uid-{os.getuid()}"


def _verdict(gate: dict[str, Any] | None) -> str:
    if gate is None:
        return "no gate"
    if gate.get("passed") is True:
        return "[green]passed[/green]"
    reasons = "; ".join(str(r) for r in gate.get("reasons") or [])
    return "[red]failed[/red]" + (f": {escape(reasons)}" if reasons else "")


def _print(report: Report) -> None:
    console.print(f"live model: [bold]{escape(report.live)}[/bold] (configured default: {escape(report.default)})")
    c = report.corrections
    console.print(f"corrections: {c.total} (and {c.confirmed} answers confirmed) from {c.users} users")
    if report.events:
        events = RichTable("when", "action", "model live after", "by", title="last events")
        for e in report.events[:EVENTS_LISTED]:
            events.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.action, escape(e.model), escape(e.actor))
        console.print(events)
    else:
        console.print("no promotion yet: the configured default is live")
    if not report.candidates:
        console.print("no fine-tuned model for everyone is installed (inkdigit finetune … --install)")
        return
    table = RichTable("model", "parent", "created", "gate", "live", title="candidates")
    for cand in report.candidates:
        table.add_row(escape(cand.name), escape(cand.parent or ""), f"{cand.created:%Y-%m-%d %H:%M}",
                      _verdict(cand.gate), "yes" if cand.live else "")
    console.print(table)


@models_app.command("status")
def status() -> None:
    """The live model, the last promotions and rollbacks, and the fine-tuned candidates with their gate."""
    from inkdigit.service.modelreport import report

    settings = service_settings()
    with service_database() as engine, engine.connect() as connection:
        _print(report(connection, settings.store(), settings.default_model))


def _refused(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(1)


@models_app.command("promote")
def promote(name: Annotated[str, typer.Argument(help="An installed model's name.")]) -> None:
    """Serve NAME to everyone (a personal model, or a fine-tuned one whose gate failed, is refused)."""
    from inkdigit.service import modelops

    settings = service_settings()
    with service_database() as engine, engine.begin() as connection:
        try:
            modelops.promote(connection, settings.store(), settings.default_model, name, _actor())
        except modelops.Refusal as exc:
            raise _refused(exc) from None
    console.print(f"{escape(name)} is now live; running servers follow within {settings.live_model_ttl_s:g} s")


@models_app.command("rollback")
def rollback() -> None:
    """Serve again the model that was live before the last promotion."""
    from inkdigit.service import modelops

    settings = service_settings()
    with service_database() as engine, engine.begin() as connection:
        try:
            live = modelops.rollback(connection, settings.default_model, _actor())
        except modelops.Refusal as exc:
            raise _refused(exc) from None
    console.print(f"rolled back: {escape(live)} is live again; running servers follow within "
                  f"{settings.live_model_ttl_s:g} s")
