"""``inkdigit batch``: read every image of folders, globs, archives or manifests into one table.

The work is :mod:`inkdigit.batch`'s; this module turns the options into it, shows the progress
(a Rich bar with the rate and the time left, on stderr) and prints the summary. The exit status
is 0 when every image has its row, unreadable ones included (their rows say why); 1 when the run
could not start (a missing source, an output it must not overwrite, a missing extra, an
unreachable cluster) or stopped before the end (what it wrote is kept: ``--resume`` completes it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from inkdigit.batch.rows import BatchTask
from inkdigit.batch.runner import CHUNK_SIZE
from inkdigit.cli_support import fail as _fail
from inkdigit.engine.defaults import TOP_K_DEFAULT, TOP_K_MAX

if TYPE_CHECKING:
    from inkdigit.batch.rows import Row
    from inkdigit.batch.runner import ChunkExecutor, ReadSpec
    from inkdigit.batch.summary import Summary

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however long its path


class RateColumn(ProgressColumn):
    """Images per second, as Rich measures the bar's speed."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} images/s" if task.speed else "", style="progress.data.speed")


def batch(
    sources: Annotated[list[str], typer.Argument(
        metavar="SOURCE", help="Folders (read with all their folders), image files, globs ('scans/**/*.png'), "
                                  "zip or tar archives, or CSV/Parquet manifests with a 'path' column.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output file; its extension says the format: .jsonl, .csv or .parquet.")],
    task: Annotated[BatchTask, typer.Option(
        help="digit: one digit per image; number: a number written on one line.")] = BatchTask.digit,
    model: Annotated[str | None, typer.Option(help="Model name or path to its .json card.")] = None,
    top: Annotated[int, typer.Option(min=1, max=TOP_K_MAX, help="Alternatives kept per digit.")] = TOP_K_DEFAULT,
    workers: Annotated[int, typer.Option(
        min=1, help="Processes on this machine (each loads the model once).")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        metavar="tcp://HOST:PORT", help="Read on this Dask distributed cluster instead; its workers must "
                                        "see the image files at the same paths.")] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Images per task.")] = CHUNK_SIZE,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Keep the rows the output holds and read only the images it lacks.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
) -> None:
    """Read many images into one table (JSON Lines, CSV or Parquet): one row per image, an unreadable
    one with its error code. Exit status 0 when every image has its row, unreadable ones included;
    1 when the run could not start or stopped (--resume then completes what it wrote)."""
    from inkdigit.batch.extras import MissingExtraError
    from inkdigit.batch.sinks import SinkError
    from inkdigit.batch.sources import SourceError

    if scheduler and workers != 1:
        raise _fail("--workers is for a run on this machine; a cluster's workers are its own")
    if resume and overwrite:
        raise _fail("--resume keeps the output, --overwrite replaces it: give one")
    try:
        _run(sources, out, task, model, top, workers, scheduler, chunk_size, resume, overwrite)
    except (SourceError, SinkError, MissingExtraError) as exc:
        raise _fail(str(exc)) from None


def _run(sources: list[str], out: Path, task: BatchTask, model: str | None, top: int, workers: int,
         scheduler: str | None, chunk_size: int, resume: bool, overwrite: bool) -> None:
    from inkdigit import paths
    from inkdigit.batch.extras import distributed, pyarrow_parquet
    from inkdigit.batch.runner import ReadSpec, chunks, run_ordered
    from inkdigit.batch.sinks import Existing, open_sink, output_format, read_existing
    from inkdigit.batch.sources import check_sources, iter_items
    from inkdigit.batch.summary import Summary
    from inkdigit.engine.modelcard import ModelCard, ModelCardError

    if output_format(out) == "parquet":
        pyarrow_parquet("a Parquet output")
    if scheduler:
        distributed()
    check_sources(sources)
    try:
        card = paths.store().find(model or paths.default_model())
        name = ModelCard.load(card).name
    except (ModelCardError, OSError) as exc:
        raise _fail(str(exc)) from None
    existing: Existing | None = None
    if out.exists() and resume:
        existing = read_existing(out)
        if existing.task not in (None, task.value):
            raise _fail(f"{out} holds --task {existing.task} rows; resume it with --task {existing.task}")
        if existing.model not in (None, name):
            raise _fail(f"{out} holds rows read by {existing.model}; resume it with --model {existing.model}")
    elif out.exists() and not overwrite:
        raise _fail(f"{out} exists: --resume completes it, --overwrite replaces it")
    done = existing.done if existing else set()
    skip = done.__contains__
    with err.status("counting the images"):  # a pass that reads no image, for the bar's total
        total = sum(1 for _ in iter_items(sources, skip, read_members=False))
    summary = Summary(task, skipped=len(done))
    spec = ReadSpec(task, top)
    with ExitStack() as stack:
        executor = stack.enter_context(_executor(card, spec, workers, scheduler))
        sink = open_sink(out, existing)
        stack.callback(sink.close)
        with _progress(total) as advance:
            def write(rows: list[Row]) -> None:
                sink.write(rows)
                summary.add(rows)
                advance(len(rows))

            try:
                run_ordered(chunks(iter_items(sources, skip), chunk_size), executor, write)
            except KeyboardInterrupt:
                summary.finish()
                _print_summary(summary, out, stopped="interrupted")
                raise typer.Exit(130) from None
            except Exception as exc:  # a worker crash, a cluster that gave up: say so, keep the rows
                summary.finish()
                _print_summary(summary, out, stopped=f"{type(exc).__name__}: {exc}")
                raise typer.Exit(1) from None
    summary.finish()
    _print_summary(summary, out)


@contextmanager
def _executor(card: Path, spec: ReadSpec, workers: int, scheduler: str | None) -> Iterator[ChunkExecutor[Any]]:
    """Where the chunks are read: this process, a local pool, or a cluster."""
    from inkdigit.batch.runner import InlineExecutor, PoolExecutor
    from inkdigit.engine.recognizer import Recognizer

    if scheduler:
        from inkdigit.batch.cluster import ClusterError, connect
        from inkdigit.batch.model import ModelFiles

        try:
            with connect(scheduler, ModelFiles.read(card), spec) as executor:
                yield executor
        except ClusterError as exc:
            raise _fail(str(exc)) from None
    elif workers > 1:
        pool = PoolExecutor(card, spec, workers)
        try:
            yield pool
        finally:
            pool.close()
    else:
        yield InlineExecutor(Recognizer(card), spec)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn("reading"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("reading", total=total)
        yield lambda n: bar.advance(task, n)


def _print_summary(summary: Summary, out: Path, stopped: str | None = None) -> None:
    table = Table("", "images", title=f"wrote {out}" if stopped is None else f"stopped ({stopped}); kept {out}")
    table.add_row("read this run", f"{summary.rows:,}")
    if summary.skipped:
        table.add_row("already in the output (--resume)", f"{summary.skipped:,}")
    for answer, n in sorted(summary.answers.items()):
        table.add_row(f"  {answer}", f"{n:,}")
    for code, n in sorted(summary.errors.items()):
        table.add_row(f"  unreadable: {code}", f"{n:,}")
    table.add_row("time", f"{summary.elapsed:.1f} s, {summary.rate:,.0f} images/s")
    (console if stopped is None else err).print(table)
