"""Whether a fine-tuned model may serve: the parent and the candidate measured side by side.

The rule (issue 16): the candidate must read the held-out corrections better than its parent,
and lose no more than ``tolerance`` (0.1 points) on MNIST test, USPS test and each data set's
robustness suite, and reject no fewer non-digits. Both models are measured in the same run, on the
same images, through the same :class:`Recognizer` path that serving uses, so a difference is the
models' and not the data's. A candidate that fails any row is refused, with the rows that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inkdigit.engine.recognizer import Prediction, ReadRequest, Recognizer
from inkdigit.training.corrections import Correction

#: how far a figure may fall and still pass (a fraction: 0.001 = 0.1 points)
TOLERANCE = 0.001


@dataclass(frozen=True)
class Measures:
    """What the gate measures, and how much of it (0 leaves a measure out, which fails it)."""

    eval_limit: int | None = None  # MNIST / USPS test images (None: all)
    robustness_limit: int = 200  # digits per rendering
    renderings: tuple[str, ...] = ()  # patterns (suite.select); () = every rendering
    rejection_limit: int = 200  # non-digits per kind
    seed: int = 0
    data_dir: str | None = None


@dataclass
class Row:
    """One measure: the parent's and the candidate's figure (fractions), and whether it passes."""

    measure: str
    before: float
    after: float
    n: int
    ok: bool
    rule: str


@dataclass
class Verdict:
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def reasons(self) -> list[str]:
        return [f"{r.measure}: {100 * r.before:.2f} % → {100 * r.after:.2f} % ({r.rule})" for r in self.rows
                if not r.ok]

    def to_dict(self) -> dict[str, Any]:
        """The card's ``gate`` object."""
        return {"passed": self.passed, "tolerance_points": 100 * TOLERANCE,
                "rows": [{k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(r).items()}
                         for r in self.rows],
                "reasons": self.reasons}


def held_out_accuracy(rec: Recognizer, items: Sequence[Correction]) -> float:
    """The fraction of ``items`` read as their label ("not a digit" counts as wrong)."""
    results = rec.read_many([ReadRequest(c.image) for c in items])
    right = sum(isinstance(r, Prediction) and r.digit == c.label for r, c in zip(results, items, strict=True))
    return right / max(1, len(items))


Progress = Callable[[str], None]


def _figures(card: Path, held_out: Sequence[Correction], m: Measures, say: Progress,
             details: dict[str, Any], suite_figures: dict[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """Every figure of one model, its robustness suite's measured already (:func:`_robustness`):
    name → (value, n), in the table's order; the test sets' full metrics go in ``details``."""
    from inkdigit.training.evaluate import evaluate
    from inkdigit.training.robustness import tasks

    rec = Recognizer(card)
    out: dict[str, tuple[float, int]] = {"held-out corrections": (held_out_accuracy(rec, held_out), len(held_out))}
    for dataset in ("mnist", "usps"):
        say(f"{rec.name}: {dataset} test")
        metrics = evaluate(rec, dataset, m.data_dir, m.eval_limit)  # type: ignore[arg-type]
        details[f"{dataset}_test"] = {k: v for k, v in metrics.items() if k not in ("model", "dataset")}
        out[f"{dataset.upper()} test"] = (float(metrics["accuracy"]), int(metrics["n"]))
    out.update(suite_figures)
    if m.rejection_limit:
        say(f"{rec.name}: non-digits")
        rej = tasks.run_rejection(str(card), m.rejection_limit, m.seed, m.data_dir, digit_limit=1)
        kinds = [r.accuracy for k, r in rej.renderings.items() if k.startswith("negatives/")]
        out["non-digits rejected"] = (float(np.mean(kinds)), m.rejection_limit * len(kinds))
    return out


def _robustness(cards: Sequence[Path], m: Measures, say: Progress) -> list[dict[str, tuple[float, int]]]:
    """Each model's mean over the suite's renderings, per data set: both models read the very same
    rendered images, rendered once (rendering a photo costs more than reading it)."""
    from inkdigit.training.robustness import suite

    out: list[dict[str, tuple[float, int]]] = [{} for _ in cards]
    for dataset in ("mnist", "usps") if m.robustness_limit else ():
        say(f"{dataset} robustness suite")
        names = suite.select(list(m.renderings) or None, dataset)
        results = suite.run_models(cards, dataset, names, m.robustness_limit, m.seed,  # type: ignore[arg-type]
                                   m.data_dir)
        for figures, result in zip(out, results, strict=True):
            acc = [r.accuracy for r in result.renderings.values()]
            figures[f"{dataset.upper()} robustness (mean of {len(acc)})"] = (float(np.mean(acc)),
                                                                           result.limit * len(acc))
    return out


def judge(parent: Path, candidate: Path, held_out: Sequence[Correction], measures: Measures,
          say: Progress = lambda _: None, details: dict[str, Any] | None = None) -> Verdict:
    """Measure both models and apply the rule of the module docstring; the candidate's MNIST and
    USPS test metrics (as a card records them) go in ``details``."""
    suite_before, suite_after = _robustness([parent, candidate], measures, say)
    before = _figures(parent, held_out, measures, say, {}, suite_before)
    after = _figures(candidate, held_out, measures, say, details if details is not None else {}, suite_after)
    verdict = Verdict()
    for name, (b, n) in before.items():
        a = after[name][0]
        if name == "held-out corrections":
            verdict.rows.append(Row(name, b, a, n, a > b, "must rise"))
        elif name == "non-digits rejected":
            verdict.rows.append(Row(name, b, a, n, a >= b, "must not fall"))
        else:
            verdict.rows.append(Row(name, b, a, n, a >= b - TOLERANCE - 1e-12,
                                    f"may fall {100 * TOLERANCE:.1f} points at most"))
    for missing in ("MNIST robustness", "USPS robustness", "non-digits rejected"):
        if not any(r.measure.startswith(missing) for r in verdict.rows):
            verdict.rows.append(Row(f"{missing} (not measured)", 0.0, 0.0, 0, False, "must be measured"))
    return verdict
