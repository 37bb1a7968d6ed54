"""The ``inkdigit`` command line: train, evaluate, predict (and, with the service, serve)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from inkdigit.cli_accounts import db_app, users_app
from inkdigit.cli_batch import batch as batch_command
from inkdigit.cli_finetune import finetune as finetune_command
from inkdigit.cli_models import models_app
from inkdigit.cli_support import IMAGE_SUFFIXES, fail, image_files, plain_help_types
from inkdigit.engine.defaults import TOP_K_DEFAULT, TOP_K_MAX
from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.modelcard import ModelCardError
from inkdigit.training.data import DataError

if TYPE_CHECKING:
    from inkdigit.engine.numbers import NumberReading
    from inkdigit.engine.recognizer import Prediction

T = TypeVar("T")

app = typer.Typer(help="Read handwritten digits: train, evaluate and use the models.",
                  no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however long its path
plain_help_types()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"inkdigit {version('inkdigit')}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False) -> None:
    """Read handwritten digits: train, evaluate and use the models."""

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="INKDIGIT_DATA_DIR",
    help="Directory holding mnist/ and usps/ (default: a user cache, filled by downloading).")]


Limit = Annotated[int | None, typer.Option(help="Train on the first N MNIST images only.")]
EvalLimit = Annotated[int | None, typer.Option(help="Evaluate on the first N test images only.")]


class Task(StrEnum):
    digits = "digits"
    numbers = "numbers"
    rejection = "rejection"


class Dataset(StrEnum):
    mnist = "mnist"
    usps = "usps"
    optdigits = "optdigits"  # test only: UCI's real 8×8 scans, shipped by scikit-learn
    fonts = "fonts"  # digits in public handwriting fonts (training/fonts.py); the test fonts are never trained on



def _needs_train_extra(what: str, exc: ImportError) -> typer.Exit:
    return fail(f"{what} needs the 'train' extra ({exc.name} is missing): {TRAIN_INSTALL}")


#: how to get the train extra with PyTorch's CPU build (the public index's Linux torch wheel is the
#: CUDA one, with about 1.5 GB of NVIDIA libraries a CPU machine never uses)
TRAIN_INSTALL = ("pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu "
                 "&& pip install 'inkdigit[train]'")


class Family(StrEnum):
    knn = "knn"
    svm = "svm"
    mlp = "mlp"
    cnn = "cnn"


def _parse_params(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs; values are read as JSON when they parse (numbers, lists, null)."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--param wants KEY=VALUE, got {pair!r}")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


@app.command()
def train(
    family: Annotated[Family, typer.Option(help="Model family to train.")] = Family.cnn,
    name: Annotated[str | None, typer.Option(
        help="Model name: files NAME.onnx and NAME.json (default FAMILY-v1).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Run directory for checkpoint, ONNX and model card (default runs/NAME).")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Neural families: epochs (default 30 CNN, 20 MLP).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Neural families: batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Neural families: peak one-cycle learning rate.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Family hyper-parameter KEY=VALUE, repeatable (e.g. -p k=3, -p C=10).")] = None,
    seed: Annotated[int, typer.Option()] = 1,
    limit: Limit = None,
    eval_limit: EvalLimit = None,
    threads: Annotated[int, typer.Option(help="PyTorch threads (0: every core).")] = 0,
    negatives: Annotated[int, typer.Option(
        min=0, help="Synthetic non-digits for Outlier Exposure (experimental; 0: off).")] = 0,
    negative_weight: Annotated[float | None, typer.Option(
        min=0.0, help="Weight of the non-digits' uniform-target loss (default 0.5).")] = None,
    usps: Annotated[bool, typer.Option(
        "--usps", help="Train on USPS train too (its last 1,000 images then calibrate).")] = False,
    usps_copies: Annotated[int, typer.Option(
        min=1, max=8, help="With --usps: how many times USPS train appears in each epoch.")] = 1,
    rendered: Annotated[int, typer.Option(
        min=0, help="Training digits rendered as canvas drawings, photos, scans and resizes (0: none).")] = 0,
    usps_rendered: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="With --usps: the share of the rendered digits drawn from USPS train "
                               "(default: as it comes, about a tenth).")] = None,
    styles: Annotated[int, typer.Option(
        min=0, help="Writing-style variants: flagged 1s, crossed 7s, slashed and dotted 0s (0: none).")] = 0,
    style_set: Annotated[int, typer.Option(
        min=1, max=4, help="Which variants: 1 as above; 2 adds open-top 4s, straight-tailed 9s, looped 2s; "
                           "3 adds upright 1s with a long flag falling 20-40 degrees; 4 the same falling "
                           "30-45.")] = 1,
    pen_lifts: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of rendered canvas digits and style variants drawn with the pen lifted "
                               "where one stroke ends on another (0: none).")] = 0.0,
    style_scans: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of style variants drawn as scans and 8x8 thumbnails instead of "
                               "canvas drawings (0: none).")] = 0.0,
    style_lifts: Annotated[bool, typer.Option(
        "--style-lifts/--no-style-lifts", help="Whether --pen-lifts applies to the style variants too, or "
                                               "to the rendered canvas digits only.")] = True,
    gate_on_plain: Annotated[bool, typer.Option(
        "--gate-on-plain", help="Train the digit-or-not gate and the piece scorer on the digits drawn without "
                                "pen lifts or scans only (the classifier still learns from all).")] = False,
    fonts: Annotated[int, typer.Option(
        min=0, help="Digits in the train split of the handwriting fonts: their own images and this many "
                    "renderings of them (0: none; the test fonts are never trained on).")] = 0,
    keep: Annotated[float, typer.Option(
        min=0.5, max=1.0, help="Rejection threshold: keep this fraction of correct calibration answers.")] = 0.995,
    calibration_rendered: Annotated[int, typer.Option(
        min=0, help="Calibrate on the held-out USPS digits rendered this many times more too "
                    "(canvas, photo, resize, scan; 0: clean only).")] = 0,
    gate: Annotated[int, typer.Option(
        min=0, help="Train a digit-or-not gate against this many synthetic non-digits; with it, "
                    "--keep is the share of all held-out digits it lets through (0: no gate).")] = 0,
    gate_epochs: Annotated[int, typer.Option(min=1, help="Epochs of the digit-or-not gate.")] = 4,
    number_keep: Annotated[float, typer.Option(
        min=0.5, max=1.0, help="With --gate: a digit of a number is rejected only below the gate score "
                               "that keeps this share of the held-out digits (one rejected digit loses "
                               "the number).")] = 0.999,
    piece_gate: Annotated[int, typer.Option(
        min=0, help="Also train a piece scorer for reading numbers, against the gate's non-digits and this "
                    "many pieces of lines that are not one digit: halves of digits, touching pairs "
                    "(needs --gate; 0: none).")] = 0,
    pair_cuts: Annotated[int, typer.Option(
        min=0, help="Also teach the piece scorer this many halves of touching pairs cut where the reader "
                    "cuts them, of each kind: one whole digit (a digit to it) and parts of both (not) "
                    "(needs --piece-gate; 0: none).")] = 0,
    pair_cut_strokes: Annotated[bool, typer.Option(
        "--pair-cut-strokes", help="Cut the --pair-cuts pairs along their strokes too, as the reader cuts a "
                                   "piece its scorer doubts.")] = False,
    preprocessing: Annotated[str | None, typer.Option(
        help="Preprocessing version every image is read through, in training and in serving (the card "
             "records it; default the one new models are trained with, 3); 4 reads 8×8 thumbnails "
             "without cutting their grey strokes.")] = None,
    install: Annotated[bool, typer.Option(
        "--install", help="Also copy the model into the user's models directory, so serving offers it.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="One batch of each step, to check a setup.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Train a model family on MNIST, export it to ONNX and write its model card with measured metrics."""
    try:
        from inkdigit.training.train import TrainConfig, build
        from inkdigit.training.train import train as run_training
    except ImportError as exc:
        raise _needs_train_extra("training", exc) from exc
    name = name or f"{family.value}-v1"
    if dry_run:  # a one-batch model must never pass for the real one: its own name, its own folder
        if install:
            raise fail("--dry-run makes a model trained on one batch: it is not installed")
        name = name if name.endswith("-dry-run") else f"{name}-dry-run"
    out = out or Path("runs") / name
    params = _parse_params(param or [])
    neural = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "negative_weight": negative_weight}
    given = {k: v for k, v in neural.items() if v is not None}
    if given and family.value in ("knn", "svm"):
        raise fail(f"{', '.join('--' + k.replace('_', '-') for k in given)} only apply to mlp and cnn")
    cfg = TrainConfig(name=name, out_dir=str(out), family=family.value, params={**given, **params},
                      seed=seed, limit=limit, eval_limit=eval_limit, threads=threads, negatives=negatives,
                      usps=usps, usps_copies=usps_copies, usps_rendered=usps_rendered, rendered=rendered, styles=styles,
                      style_set=style_set, pen_lifts=pen_lifts, style_scans=style_scans, gate_plain=gate_on_plain,
                      style_lifts=style_lifts,
                      fonts=fonts, keep=keep,
                      calibration_rendered=calibration_rendered, gate=gate,
                      gate_epochs=gate_epochs, number_keep=number_keep, piece_gate=piece_gate,
                      pair_cuts=pair_cuts, pair_cut_strokes=pair_cut_strokes,
                      preprocessing=preprocessing or TrainConfig.preprocessing,
                      data_dir=str(data_dir) if data_dir else None, dry_run=dry_run)
    try:
        build(cfg)  # refuse an unknown hyper-parameter or option before any data is prepared
    except (TypeError, ValueError) as exc:
        raise fail(f"bad settings for {family.value}: {exc}") from None
    except ImportError as exc:  # a family's own dependencies (PyTorch) are imported on use
        raise _needs_train_extra("training", exc) from exc
    with _progress_bar() as report:
        try:
            card = run_training(cfg, report)
        except DataError as exc:
            raise fail(str(exc)) from None
        except ImportError as exc:
            raise _needs_train_extra("training", exc) from exc
    m = card.metrics
    console.print(f"[green]wrote[/green] {escape(str(out / (name + '.onnx')))} and "
                  f"{escape(str(out / (name + '.json')))}")
    console.print(f"MNIST test accuracy {m['mnist_test']['accuracy']:.4f} (n={m['mnist_test']['n']}), "
                  f"USPS test accuracy {m['usps_test']['accuracy']:.4f} (n={m['usps_test']['n']}), "
                  f"training {card.training.train_seconds or 0:.0f} s")
    if install:
        from inkdigit import paths

        try:
            installed = paths.store().install(out / f"{name}.json")
        except (ModelCardError, OSError) as exc:
            raise fail(f"cannot install {name}: {exc}") from None
        console.print(f"installed into {escape(str(installed.parent))}: serve it with ?model={escape(name)}")


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int, dict[str, float]], None]]:
    """A Rich progress bar and the callback training reports to."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("preparing data", total=None, info="")

        def report(stage: str, done: int, total: int, info: dict[str, float]) -> None:
            text = " ".join(f"{k} {v:.0f}" if k == "epoch" else f" {k} {v:.4f}" for k, v in info.items())
            bar.update(task, description=stage, completed=done, total=total, info=text)

        yield report


@app.command()
def compare(
    out: Annotated[Path, typer.Option(help="Report folder (Markdown, HTML, PNG plots, results.json); "
                                      "the committed report is docs/comparison.")] = Path("runs/compare/report"),
    work_dir: Annotated[Path, typer.Option(help="Where the trained models go, one folder each.")] = Path(
        "runs/compare"),
    family: Annotated[list[Family] | None, typer.Option(
        "--family", "-f", help="Only these families (repeatable; default all).")] = None,
    skip: Annotated[list[Family] | None, typer.Option(help="Leave these families out (repeatable).")] = None,
    raw_baselines: Annotated[bool, typer.Option(
        help="Also train kNN and SVM on raw pixels, to show what their PCA features cost.")] = True,
    limit: Limit = None,
    eval_limit: EvalLimit = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Epochs for the MLP and the CNN.")] = None,
    robustness_limit: Annotated[int, typer.Option(
        min=0, help="Test digits per robustness-suite rendering for each model (0: skip the suite).")] = 300,
    seed: Annotated[int, typer.Option()] = 1,
    data_dir: DataDir = None,
) -> None:
    """Train every model family on MNIST, measure them the same way, and write the comparison report."""
    try:
        from inkdigit.training.compare import ALL_FAMILIES, CompareConfig
        from inkdigit.training.compare import compare as run_compare
        from inkdigit.training.train import command_line
    except ImportError as exc:
        raise _needs_train_extra("comparing", exc) from exc
    chosen = [f.value for f in family] if family else list(ALL_FAMILIES)
    chosen = [f for f in chosen if f not in {s.value for s in skip or []}]
    if not chosen:
        raise fail("every family was skipped; nothing to compare")
    params = {f: {"epochs": epochs} for f in ("mlp", "cnn")} if epochs else {}
    cfg = CompareConfig(out=str(out), work_dir=str(work_dir), families=tuple(chosen), raw_baselines=raw_baselines,
                        params=params, limit=limit, eval_limit=eval_limit, seed=seed,
                        robustness_limit=robustness_limit,
                        data_dir=str(data_dir) if data_dir else None, command=command_line())
    with _progress_bar() as report:
        try:
            result = run_compare(cfg, report)
        except DataError as exc:
            raise fail(str(exc)) from None
    table = Table("model", "MNIST test", "USPS test", "training", "ms / image", "size")
    for key, r in result["models"].items():
        m = r["metrics"]
        table.add_row(key, f"{m['mnist_test']['accuracy']:.4f}", f"{m['usps_test']['accuracy']:.4f}",
                      f"{r['training']['train_seconds']:.0f} s", f"{r['latency']['single_ms']:.3f}",
                      f"{r['size_bytes'] / 1e6:.1f} MB")
    console.print(table)
    console.print(f"8×8 digits kNN: k={result['small_digits']['best_k']}, "
                  f"accuracy {result['small_digits']['test']['accuracy']:.4f}")
    console.print(f"[green]wrote[/green] {escape(str(out / 'report.md'))} and {escape(str(out / 'report.html'))} "
                  f"in {result['total_seconds']:.0f} s")


@app.command()
def evaluate(
    dataset: Annotated[Dataset, typer.Option(help="Test set to measure on.")] = Dataset.mnist,
    model: Annotated[str | None, typer.Option(help="Model name or path to its .json card.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N test images.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Re-measure a model on a test set, through the same preprocessing and runtime as serving."""
    from inkdigit.library import load_recognizer
    from inkdigit.training.evaluate import evaluate as run_eval

    try:
        rec = load_recognizer(model)
        result = run_eval(rec, dataset.value, str(data_dir) if data_dir else None, limit)
    except (DataError, ModelCardError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(result))
        return
    recorded = rec.card.metrics.get(f"{dataset.value}_test", {})
    console.print(f"[bold]{rec.name}[/bold] on {dataset.value} test: accuracy "
                  f"[bold]{result['accuracy']:.4f}[/bold] (n={result['n']})"
                  + (f", model card says {recorded['accuracy']:.4f} (n={recorded['n']})" if recorded else ""))
    table = Table("digit", "precision", "recall (sensitivity)", "specificity", "F1", "support")
    for digit, row in result["per_class"].items():
        table.add_row(digit, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['specificity']:.4f}",
                      f"{row['f1']:.4f}", str(row["support"]))
    console.print(table)


@app.command()
def robustness(
    dataset: Annotated[Dataset, typer.Option(help="Whose test digits to render.")] = Dataset.mnist,
    task: Annotated[Task, typer.Option(
        help="digits: the rendering suite; numbers: whole numbers of 2-10 test digits (--limit of them "
             "per rendering); rejection: --limit non-digits of each kind, beside the real test digits.")
    ] = Task.digits,
    model: Annotated[str | None, typer.Option(help="Model name or path to its .json card.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="Digits per rendering: one seeded sample of the test set, the same for all.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seeds the sample and every rendering's randomness.")] = 0,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Only renderings matching a glob or family (repeatable): 'photo', 'scale/x8-*'.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes (default: every core).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the JSON result and the plot.")] = Path("runs/robustness"),
    against: Annotated[list[Path] | None, typer.Option(
        help="An earlier result (its JSON file) to show beside this one in the table and plot (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one line: the result as a JSON object.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Render test digits the way real input arrives (canvas, photo, scan, resized) and measure a model."""
    from inkdigit import paths
    from inkdigit.training.robustness import suite, tasks

    try:
        names = suite.select(only, dataset.value)  # imports every rendering (scikit-image, SciPy, OpenCV)
    except ImportError as exc:
        raise _needs_train_extra("the robustness suite", exc) from exc
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        card = paths.store().find(model or paths.default_model())
        earlier = [suite.SuiteResult.from_summary(json.loads(p.read_text())) for p in against or []]
    except (ModelCardError, ValueError, OSError, KeyError, TypeError) as exc:
        raise fail(f"{exc}") from None
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        bar_task = bar.add_task("rendering", total=None)

        def report(name: str, done: int, total: int) -> None:
            bar.update(bar_task, description=name, completed=done, total=total)

        root = str(data_dir) if data_dir else None
        try:
            if task is Task.numbers:
                result = tasks.run_numbers(str(card), dataset.value, limit or 1000, seed, root, report)
            elif task is Task.rejection:
                result = tasks.run_rejection(str(card), limit or 1000, seed, root, report)
            else:
                result = suite.run(card, dataset.value, names, limit, seed, root, workers, report)
        except DataError as exc:
            raise fail(str(exc)) from None
    what = {"digits": f"{dataset.value} test digits", "numbers": f"numbers of {dataset.value} test digits",
            "rejection": "non-digits (accuracy: share rejected) and real test digits"}[task.value]
    table = Table("rendering", "n", *(e.model for e in earlier), "accuracy", "rejected",
                  title=f"{result.model} on {what}")
    for name, r in result.renderings.items():
        before = [f"{100 * e.renderings[name].accuracy:.1f} %" if name in e.renderings else "—" for e in earlier]
        table.add_row(name, str(r.n), *before, f"{100 * r.accuracy:.1f} %", f"{100 * r.rejected:.1f} %")
    (console if not as_json else err).print(table)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / (f"{result.model}-{dataset.value}" if task is Task.digits else
                  f"{result.model}-numbers-{dataset.value}" if task is Task.numbers else f"{result.model}-rejection")
    stem.with_suffix(".json").write_text(json.dumps(result.summary(), indent=1) + "\n")
    try:
        plotted = suite.plot([*earlier, result], stem.with_suffix(".png"))
        err.print(escape(f"wrote {stem.with_suffix('.json')} and {plotted} in {result.seconds:.0f} s"))
    except ImportError as exc:  # matplotlib comes with the 'train' extra
        err.print(escape(f"wrote {stem.with_suffix('.json')}; no plot ({exc.name} is missing: {TRAIN_INSTALL})"))
    if as_json:
        print(json.dumps(result.summary()))


def _read_files(images: list[Path], recursive: bool, model: str | None, as_json: bool,
                read: Callable[[Any, Path], T], as_dict: Callable[[T], dict[str, Any]],
                as_line: Callable[[T], str]) -> None:
    """What ``predict`` and ``read`` share: load the model once, read each file (a folder: the images
    in it), print one JSON object or one line per file (an unreadable file's error in its place),
    exit 1 if any file failed."""
    from inkdigit.library import load_recognizer

    try:
        rec = load_recognizer(model)
    except ModelCardError as exc:
        raise fail(str(exc)) from None
    failed = False

    def refuse(path: Path, code: str, message: str) -> None:
        nonlocal failed
        failed = True
        if as_json:
            print(json.dumps({"file": str(path), "error": {"code": code, "message": message}}))
        else:
            err.print(f"{escape(str(path))}: [red]{escape(message)}[/red]")

    for path, found in image_files(images, recursive):
        if found is None:
            kind = "its folders" if recursive else "it (-r reads its folders too)"
            refuse(path, "no_images", f"a folder with no images in {kind}; images are "
                                      f"{', '.join(sorted(IMAGE_SUFFIXES))}")
            continue
        try:
            result = read(rec, found)
        except ImageInputError as exc:
            refuse(found, exc.code, str(exc))
            continue
        if as_json:
            print(json.dumps({"file": str(found), **as_dict(result)}))
        else:
            console.print(f"{escape(str(found))}: {as_line(result)}")
    if failed:
        raise typer.Exit(1)


Images = Annotated[list[Path], typer.Argument(
    metavar="IMAGE", help="Image files (PNG, JPEG, GIF, BMP, TIFF, WebP), or folders of them.")]
Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Also read the images in a folder's folders.")]


@app.command()
def predict(
    images: Images,
    recursive: Recursive = False,
    model: Annotated[str | None, typer.Option(help="Model name or path to its .json card.")] = None,
    top: Annotated[int, typer.Option(min=1, max=TOP_K_MAX, help="How many candidates to show.")] = TOP_K_DEFAULT,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Read the digit in each image."""

    def line(p: Prediction) -> str:
        if p.is_empty:
            return "no digit (the image is blank)"
        alts = ", ".join(f"{d} {c:.1%}" for d, c in p.top(top))
        return f"[bold]{p.digit if p.is_digit else 'not a digit'}[/bold]  ({alts})"

    _read_files(images, recursive, model, as_json, lambda rec, path: rec.predict(path),
                lambda p: {"digit": p.digit, "confidence": round(p.confidence, 5), "is_digit": p.is_digit,
                           "is_empty": p.is_empty,
                           "top": [{"digit": d, "confidence": round(c, 5)} for d, c in p.top(top)],
                           "probabilities": [round(x, 5) for x in p.probabilities]}, line)


@app.command()
def read(
    images: Images,
    recursive: Recursive = False,
    model: Annotated[str | None, typer.Option(help="Model name or path to its .json card.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Read the whole number in each image: every digit, with its box and confidence."""

    def line(r: NumberReading) -> str:
        if r.is_empty:
            return "no digits (the image is blank)"
        each = " ".join(f"{d.digit if d.is_digit else '?'}:{d.confidence:.0%}" for d in r.digits)
        return f"[bold]{r.formatted}[/bold]  confidence {r.confidence:.1%}  ({each})"

    _read_files(images, recursive, model, as_json, lambda rec, path: rec.read_number(path),
                lambda r: {"text": r.text, "formatted": r.formatted, "confidence": round(r.confidence, 5),
                           "is_empty": r.is_empty,
                           "digits": [{"digit": d.digit, "confidence": round(d.confidence, 5), "box": list(d.box),
                                       "is_digit": d.is_digit} for d in r.digits],
                           "separators": [{"kind": s.kind, "after": s.after, "box": list(s.box)}
                                          for s in r.separators]}, line)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the models once).")] = 1,
    log_level: Annotated[str, typer.Option(envvar="INKDIGIT_LOG_LEVEL")] = "info",
) -> None:
    """Serve the HTTP API (docs at /docs) on the shipped model, with state under INKDIGIT_HOME."""
    try:
        import uvicorn

        from inkdigit.service import workers as service_workers
    except ImportError as exc:
        raise fail(f"serving needs the service dependencies ({exc.name} is missing): "
                    "pip install inkdigit") from exc
    os.environ["INKDIGIT_LOG_LEVEL"] = log_level
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # workers share metrics through files; each run starts from a clean directory
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="inkdigit-metrics-")
    # the app logs access itself (observability.py); the protocol is Uvicorn's httptools one held to
    # the connection limits of Settings (protocol.py); logging is ours in every process
    # (configure_logging), so Uvicorn is given no configuration of its own to apply over it
    config = {"app": "inkdigit.service.app:create_app", "factory": True, "log_level": log_level.lower(),
              "log_config": None, "access_log": False, "loop": "uvloop",
              "http": "inkdigit.service.protocol:GuardedProtocol", "server_header": False}
    console.print(f"inkdigit API on http://{host}:{port} (docs: /docs), {workers} worker(s)")
    if workers == 1 or not service_workers.SUPPORTED:
        from inkdigit.service.observability import configure_logging  # once the metrics directory is set

        configure_logging(log_level)
        if workers > 1:
            uvicorn.run(**config, host=host, port=port, workers=workers)  # type: ignore[arg-type]
            return
        # bound here first, so a busy port is one line and exit 1 (Uvicorn's own bind failed only
        # after the app had started loading models, and the process then aborted: exit 134)
        try:
            sock = service_workers.listening_socket(host, port, 2048)
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        uvicorn.Server(uvicorn.Config(**config, host=host, port=port)).run(sockets=[sock])  # type: ignore[arg-type]
        return
    try:
        status = service_workers.serve(host, port, workers, config)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    if status:
        raise typer.Exit(status)


app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(models_app, name="models")
app.command("finetune")(finetune_command)
app.command("batch")(batch_command)


def main() -> None:
    app()
