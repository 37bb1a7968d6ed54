"""``inkdigit finetune``: learn from users' corrections, judged against the model it starts from.

It reads the server's database and models (the same settings as ``inkdigit serve``), tunes the
live model (or ``--parent``) on the corrections, measures parent and candidate side by side and
prints the table. With ``--install`` a candidate that passed is installed beside the server's
models, where a running server finds it: a model for everyone then waits for an operator to
promote it (``inkdigit models promote``); a personal model (``--user``) serves its user at once,
if they asked for one (the opt-in on their account page).
"""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or an ISO 8601 time)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(1)


def finetune(
    since: Annotated[str | None, typer.Option(help="Only corrections made from this date on (YYYY-MM-DD).")] = None,
    user: Annotated[str | None, typer.Option(metavar="EMAIL", help="Train this user's own model on their "
                                             "corrections alone (they must have opted in).")] = None,
    min_corrections: Annotated[int, typer.Option(min=2, help="Refuse with fewer usable corrections.")] = 20,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME).")] = None,
    install: Annotated[bool, typer.Option(help="Install the model if it passes the gate.")] = False,
    parent: Annotated[str | None, typer.Option(help="Model to tune (default: the live model).")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the new model (default: PARENT-ft-TIME).")] = None,
    confirmed: Annotated[bool, typer.Option(help="Also learn from answers users confirmed as right.")] = False,
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps (batches of 128).")] = 200,
    lr: Annotated[float, typer.Option(min=0.0, help="Peak learning rate.")] = 1e-4,
    interpolate: Annotated[float, typer.Option(min=0.0, max=1.0, help="How far the new model moves from "
                                               "its parent toward the tuned weights (1: the tuned model "
                                               "itself; less keeps more of what the parent read).")] = 0.5,
    replay: Annotated[int, typer.Option(min=1, help="MNIST train digits replayed (plus a tenth as many "
                                        "USPS ones).")] = 20000,
    replay_rendered: Annotated[int, typer.Option(min=0, help="Training digits rendered as canvas, photo, "
                                                 "scan, replayed too (made once, then cached).")] = 30000,
    eval_limit: Annotated[int | None, typer.Option(help="MNIST / USPS test images measured (default all).")] = None,
    robustness_limit: Annotated[int, typer.Option(min=0, help="Test digits per robustness rendering (the "
                                                  "same digits for every rendering; 0 skips the suite, and the "
                                                  "gate then refuses).")] = 1000,
    rendering: Annotated[list[str] | None, typer.Option(help="Only these robustness renderings (globs or "
                                                        "families; repeatable).")] = None,
    rejection_limit: Annotated[int, typer.Option(min=0, help="Non-digits per kind measured.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the split, the batches and the measures.")] = 0,
) -> None:
    """Fine-tune on users' corrections; keep the result only if it reads better where it was wrong
    and no worse anywhere else."""
    from sqlalchemy import func, select

    from inkdigit.cli_support import service_database, service_settings
    from inkdigit.engine.modelcard import ModelCardError
    from inkdigit.service import modelops
    from inkdigit.service.db.models import PersonalModel, User
    try:
        from inkdigit.training.corrections import CorrectionsError
        from inkdigit.training.finetune import FinetuneConfig
        from inkdigit.training.finetune import finetune as run
        from inkdigit.training.verdict import Measures
    except ImportError as exc:  # PyTorch and ONNX come with the train extra, as for `inkdigit train`
        from inkdigit.cli import _needs_train_extra

        raise _needs_train_extra("fine-tuning", exc) from exc

    settings = service_settings()
    store = settings.store()
    with service_database() as engine:
        with engine.connect() as connection:
            base = parent or modelops.live(connection, settings.default_model)
            user_id = None
            if user is not None:
                found = connection.execute(select(User.__table__.c.id).where(
                    func.lower(User.__table__.c.email) == user.strip().lower())).scalar()
                if found is None:
                    raise _fail(f"no account has the address {user}")
                enabled = connection.execute(select(PersonalModel.__table__.c.enabled).where(
                    PersonalModel.__table__.c.user_id == found)).scalar()
                if not enabled:
                    raise _fail(f"{user} has not asked for a model of their own (the opt-in on their account "
                                "page, or PUT /api/v1/users/me/model)")
                user_id = found
        try:
            card_path = store.find(base)
        except ModelCardError as exc:
            raise _fail(str(exc)) from None
        measures = Measures(eval_limit=eval_limit, robustness_limit=robustness_limit,
                            renderings=tuple(rendering or ()), rejection_limit=rejection_limit, seed=seed,
                            data_dir=None)
        cfg = FinetuneConfig(parent=card_path, name=name or "", out_dir=str(out) if out else "",
                             since=_since(since), user=user, user_id=str(user_id) if user_id else None,
                             min_corrections=min_corrections, confirmed=confirmed, steps=steps, lr=lr,
                             interpolate=interpolate, replay=replay,
                             replay_rendered=replay_rendered, seed=seed, measures=measures,
                             command=" ".join(shlex.quote(a) for a in ["inkdigit", *sys.argv[1:]]))
        with console.status("fine-tuning") as status:
            try:
                outcome = run(cfg, engine, say=lambda text: status.update(text))
            except (CorrectionsError, ModelCardError) as exc:
                raise _fail(str(exc)) from None
        _print(outcome)
        if not outcome.verdict.passed:
            console.print(f"[red]refused:[/red] {outcome.card.name} is not installed: "
                          + "; ".join(outcome.verdict.reasons))
            raise typer.Exit(1)
        if not install:
            console.print(f"[green]passed.[/green] Install it with --install (card: {outcome.card_path})")
            return
        installed = store.install(outcome.card_path)
        if user_id is not None:
            with engine.begin() as connection:
                modelops.set_personal_model(connection, user_id, outcome.card.name)
            console.print(f"[green]installed[/green] {installed}: {user}'s readings now use it")
        else:
            console.print(f"[green]installed[/green] {installed}; make it live with "
                          f"`inkdigit models promote {outcome.card.name}`")


def _print(outcome: object) -> None:
    from inkdigit.training.finetune import Outcome

    assert isinstance(outcome, Outcome)
    split = outcome.split.summary()
    console.print(f"{outcome.card.name}: tuned on {split['tune']['n']} corrections of {split['tune']['users']} "
                  f"user(s), judged on {split['held_out']['n']} held out of {split['held_out']['users']} "
                  f"(split by {outcome.split.by}); card {outcome.card_path}")
    table = Table("measure", "n", "before", "after", "change", "rule", "")
    for row in outcome.verdict.rows:
        table.add_row(row.measure, str(row.n), f"{100 * row.before:.2f} %", f"{100 * row.after:.2f} %",
                      f"{100 * (row.after - row.before):+.2f}", row.rule,
                      "[green]ok[/green]" if row.ok else "[red]fails[/red]")
    console.print(table)
