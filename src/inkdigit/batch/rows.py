"""One row per image: the fixed schema every output format holds, and how a chunk is read into it.

The schema is the same for both tasks, so an output is one table whatever was asked: a digit read
fills ``digit`` and ``top`` (``text`` and ``formatted`` stay null); a number read fills ``text``
and ``formatted`` (``digit`` and ``top`` stay null; each digit's alternatives are what
``inkdigit read --json`` is for). An image that could not be read has null answers and its
``error_code`` (the engine's stable :class:`~inkdigit.engine.imageio.ImageInputError` code) and
``error_message``; a row always exists, so the output has exactly one row per input image.

Values are rounded as ``inkdigit predict --json`` rounds them (5 decimals), so a row does not
depend on which process or machine read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from inkdigit.engine.defaults import TOP_K_DEFAULT
from inkdigit.engine.imageio import ImageInputError

if TYPE_CHECKING:
    from inkdigit.batch.sources import Item
    from inkdigit.engine.numbers import NumberReading
    from inkdigit.engine.recognizer import Prediction, Recognizer


class BatchTask(StrEnum):
    """What each image holds: one digit, or a number written on one line."""

    digit = "digit"
    number = "number"


@dataclass(frozen=True)
class Alternative:
    """One candidate digit and its probability."""

    digit: int
    confidence: float


@dataclass(frozen=True)
class Row:
    """What one image read as. ``path`` is the image's name in the output (``archive.zip!a/b.png``
    for an archive member) and the key ``--resume`` matches on."""

    path: str
    task: str
    model: str
    digit: int | None = None
    text: str | None = None
    formatted: str | None = None
    confidence: float | None = None
    is_digit: bool | None = None
    is_empty: bool | None = None
    top: tuple[Alternative, ...] | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as plain values, columns in :data:`COLUMNS` order (``top``: a list of objects)."""
        out = asdict(self)
        out["top"] = None if self.top is None else [asdict(a) for a in self.top]
        return {c: out[c] for c in COLUMNS}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Row:
        """The row :meth:`to_dict` gave (as JSON or Parquet read it back)."""
        top = raw.get("top")
        values: dict[str, Any] = {c: raw.get(c) for c in COLUMNS}
        values["top"] = None if top is None else tuple(Alternative(int(a["digit"]), float(a["confidence"]))
                                                       for a in top)
        return cls(**values)


#: the columns of every output, in order
COLUMNS = ("path", "task", "digit", "text", "formatted", "confidence", "is_digit", "is_empty", "top",
           "model", "error_code", "error_message")


def _round(value: float) -> float:
    return round(float(value), 5)


def error_row(path: str, task: BatchTask, model: str, code: str, message: str) -> Row:
    """The row of an image that could not be read. The message is kept to one line, so a CSV
    record is one line of text (which is what lets ``--resume`` drop a half-written last record)."""
    return Row(path, task.value, model, error_code=code, error_message=" ".join(message.split()))


def digit_row(path: str, model: str, p: Prediction, top: int = TOP_K_DEFAULT) -> Row:
    """The row of one digit read."""
    alts = tuple(Alternative(d, _round(c)) for d, c in p.top(top))
    return Row(path, BatchTask.digit.value, model, digit=p.digit, confidence=_round(p.confidence),
               is_digit=p.is_digit, is_empty=p.is_empty, top=() if p.is_empty else alts)


def number_row(path: str, model: str, r: NumberReading) -> Row:
    """The row of one number read: ``is_digit`` says every piece of it read as a digit."""
    whole = not r.is_empty and bool(r.digits) and all(d.is_digit for d in r.digits)
    return Row(path, BatchTask.number.value, model, text=r.text, formatted=r.formatted,
               confidence=_round(r.confidence), is_digit=whole, is_empty=r.is_empty)


def read_chunk(rec: Recognizer, items: Sequence[Item], task: BatchTask, top: int = TOP_K_DEFAULT) -> list[Row]:
    """One row per item, in order. Digits are read with one model call for the chunk
    (:meth:`~inkdigit.engine.recognizer.Recognizer.read_many`); numbers one image at a time, since
    each is cut into pieces of its own. Nothing an image holds makes this raise."""
    from inkdigit.engine.recognizer import ReadRequest

    rows: list[Row | None] = [None] * len(items)
    todo: list[int] = []
    for i, item in enumerate(items):
        if item.error is not None:  # the source already knew it cannot be read (a damaged archive)
            rows[i] = error_row(item.path, task, rec.name, item.error.code, item.error.message)
        else:
            todo.append(i)
    if task is BatchTask.digit:
        results = rec.read_many([ReadRequest(items[i].image()) for i in todo])
        for i, result in zip(todo, results, strict=True):
            rows[i] = (error_row(items[i].path, task, rec.name, result.code, str(result))
                       if isinstance(result, ImageInputError) else digit_row(items[i].path, rec.name, result, top))
    else:
        for i in todo:
            try:
                rows[i] = number_row(items[i].path, rec.name, rec.read_number(items[i].image()))
            except ImageInputError as exc:
                rows[i] = error_row(items[i].path, task, rec.name, exc.code, str(exc))
    return [r for r in rows if r is not None]
