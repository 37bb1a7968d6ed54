"""The comparison report: Markdown and HTML with PNG plots, from the data ``compare`` measured.

Every figure in the text is read from that data (also written as ``results.json``), never typed
in, so the committed report and a fresh run can only differ by what was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt
import numpy as np
from markdown_it import MarkdownIt

CSS = """body{font:16px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}img{max-width:100%}code{background:#f2f4f7;padding:0 .2rem}"""


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f} %"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _secs(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{int(s // 60)} min {int(s % 60)} s"


def _robustness_plot(models: dict[str, Any]) -> Any:
    """Grouped bars: per rendering family, each model's mean accuracy over its renderings."""
    measured = {k: r["robustness"] for k, r in models.items() if r.get("robustness")}
    families = list(dict.fromkeys(n.split("/")[0] for figures in measured.values() for n in figures))
    fig, ax = plt.subplots(figsize=(8, 4))
    pos = np.arange(len(families))
    width = 0.8 / len(measured)
    for j, (k, figures) in enumerate(measured.items()):
        means = [100 * float(np.mean([v["accuracy"] for n, v in figures.items() if n.split("/")[0] == fam]))
                 for fam in families]
        ax.bar(pos + (j - (len(measured) - 1) / 2) * width, means, width, label=k)
    ax.set_xticks(pos, families)
    ax.set_ylabel("mean accuracy over the family's renderings (%)")
    ax.legend(fontsize=8)
    return fig


def _plots(data: dict[str, Any], out: Path) -> dict[str, str]:
    """Draw every plot into ``out``; returns {name: file name}."""
    models: dict[str, Any] = data["models"]
    keys = list(models)
    files: dict[str, str] = {}

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)
        files[name] = f"{name}.png"

    if keys:
        fig, ax = plt.subplots(figsize=(8, 4))
        pos = np.arange(len(keys))
        for j, (ds, label) in enumerate((("mnist_test", "MNIST test"), ("usps_test", "USPS test"))):
            acc = [100 * models[k]["metrics"][ds]["accuracy"] for k in keys]
            bars = ax.bar(pos + (j - 0.5) * 0.38, acc, 0.38, label=label)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks(pos, keys)
        ax.set_ylim(min(90.0, min(100 * models[k]["metrics"]["usps_test"]["accuracy"] for k in keys) - 2), 100)
        ax.set_ylabel("accuracy (%)")
        ax.legend(loc="lower right")
        save(fig, "accuracy")

        fig, ax = plt.subplots(figsize=(8, 4))
        for k in keys:
            f1 = [models[k]["metrics"]["mnist_test"]["per_class"][str(d)]["f1"] for d in range(10)]
            ax.plot(range(10), f1, marker="o", label=k)
        ax.set_xticks(range(10))
        ax.set(xlabel="digit", ylabel="F1 on MNIST test")
        ax.legend(fontsize=8)
        save(fig, "per_class_f1")

        fig, ax = plt.subplots(figsize=(8, 4))
        for j, (field, label) in enumerate((("single_ms", "one image at a time"),
                                            ("batched_ms", "per image, batches of 256"))):
            ax.bar(pos + (j - 0.5) * 0.38, [models[k]["latency"][field] for k in keys], 0.38, label=label)
        ax.set_xticks(pos, keys)
        ax.set_yscale("log")
        ax.set_ylabel("ms per image (ONNX Runtime, 1 thread)")
        ax.legend()
        save(fig, "latency")

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
        a1.bar(keys, [models[k]["training"]["train_seconds"] for k in keys])
        a1.set_ylabel("training time (s)")
        a2.bar(keys, [models[k]["size_bytes"] / 1e6 for k in keys])
        a2.set_ylabel("model size on disk (MB)")
        for a in (a1, a2):
            a.tick_params(axis="x", labelrotation=30)
        save(fig, "cost")

        for k in keys:
            cm = np.array(models[k]["metrics"]["mnist_test"]["confusion"])
            fig, ax = plt.subplots(figsize=(4.6, 4))
            ax.imshow(np.log1p(cm), cmap="Blues")
            for (r, c), v in np.ndenumerate(cm):
                if v:
                    ax.text(c, r, str(v), ha="center", va="center", fontsize=6,
                            color="white" if r == c else "black")
            ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title=k)
            save(fig, f"confusion_{k}")

    if any(models[k].get("robustness") for k in keys):
        save(_robustness_plot(models), "robustness")

    curves = [(f"kNN on MNIST (PCA, {models['knn']['architecture'].get('examples', '?')} examples)",
               models["knn"]["architecture"].get("cv_curve") or {})] if "knn" in models else []
    curves.append(("kNN on 8×8 digits", data["small_digits"]["cv_curve"]))
    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.5), squeeze=False)
    for ax, (title, curve) in zip(axes[0], curves, strict=True):
        ks = sorted(int(k) for k in curve)
        ax.plot(ks, [100 * curve[k if k in curve else str(k)] for k in ks], marker="o")
        ax.set(title=title, xlabel="k", ylabel="cross-validated accuracy (%)")
    save(fig, "knn_k_curve")
    return files


def _per_class_table(metrics: dict[str, Any]) -> list[str]:
    rows = ["| digit | precision | recall (sensitivity) | specificity | F1 | support |",
            "| --- | --- | --- | --- | --- | --- |"]
    for d, r in metrics["per_class"].items():
        rows.append(f"| {d} | {r['precision']:.4f} | {r['recall']:.4f} | {r.get('specificity', float('nan')):.4f} "
                    f"| {r['f1']:.4f} | {r['support']} |")
    return rows


def _features(m: dict[str, Any]) -> str:
    a = m["architecture"]
    if m["family"] in ("mlp", "cnn"):
        return f"pixels, {a['parameters']:,} parameters"
    return a.get("features", "")


def _robustness_section(models: dict[str, Any]) -> list[str]:
    """Accuracy on the robustness suite's renderings, by rendering family, for every model."""
    measured = {k: r["robustness"] for k, r in models.items() if r.get("robustness")}
    if not measured:
        return []
    families = list(dict.fromkeys(name.split("/")[0] for figures in measured.values() for name in figures))
    n = next(iter(next(iter(measured.values())).values()))["n"]
    lines = ["## Robustness: test digits as real input arrives", "",
             f"The same MNIST test digits ({n} per rendering) drawn on a canvas, photographed on paper, scanned, "
             "resized and corrupted by `inkdigit robustness`, read through the served path. Mean accuracy over "
             "each family's renderings, and the worst rendering; 'not a digit' counts as wrong.", "",
             "| model | " + " | ".join(families) + " | worst rendering |",
             "| --- | " + " | ".join("---" for _ in families) + " | --- |"]
    for key, figures in measured.items():
        means = []
        for fam in families:
            accs = [v["accuracy"] for name, v in figures.items() if name.split("/")[0] == fam]
            means.append(_pct(sum(accs) / len(accs)) if accs else "—")
        worst = min(figures, key=lambda name: figures[name]["accuracy"])
        lines.append(f"| {key} | " + " | ".join(means) + f" | {worst}: {_pct(figures[worst]['accuracy'])} |")
    return [*lines, "", "![robustness](robustness.png)", ""]


def markdown(data: dict[str, Any]) -> str:
    models: dict[str, Any] = data["models"]
    first = next(iter(models.values()), None)
    lines = ["# inkdigit: model families compared", "",
             f"Generated by `{data['command'] or 'inkdigit compare'}` on {data['finished']}, on "
             f"{data['machine']['cpus']} CPU cores ({data['machine']['platform']}). "
             f"The whole comparison took **{_secs(data['total_seconds'])}**.", ""]
    if first:
        m = first["metrics"]
        lines += [f"Every model was trained on {first['training']['train_images']:,} MNIST training images "
                  f"and tested on {m['mnist_test']['n']:,} MNIST test and {m['usps_test']['n']:,} USPS test "
                  "images, all through the same preprocessing that serving uses. USPS (other writers, another "
                  "scanner, never trained on) is the proxy for real handwriting. Latency is the model alone "
                  "through ONNX Runtime on one thread; preprocessing (the same for every model) is not included.",
                  "", "## Summary", "",
                  "| model | input | MNIST test | target | USPS test | training | 1 image | batched, per image "
                  "| size |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for k, r in models.items():
            acc = r["metrics"]["mnist_test"]["accuracy"]
            target = "baseline" if r["baseline"] else (
                f"≥ {_pct(r['target'])} {'met' if acc >= r['target'] else '**not met**'}" if r["target"] else "—")
            usps = r["metrics"]["usps_test"]["accuracy"]
            lines.append(f"| {k} | {_features(r)} | **{_pct(acc)}** | {target} | {_pct(usps)} "
                         f"| {_secs(r['training']['train_seconds'])} | {r['latency']['single_ms']:.3f} ms "
                         f"| {r['latency']['batched_ms']:.4f} ms | {_size(r['size_bytes'])} |")
        lines += ["", "![accuracy](accuracy.png)", "", "![latency](latency.png)", "", "![cost](cost.png)",
                  "", "![per-class F1](per_class_f1.png)", ""]
    pairs = [(k, f"{k}-raw") for k in ("knn", "svm") if k in models and f"{k}-raw" in models]
    if pairs:
        lines += ["## What PCA features cost the served kNN and SVM", "",
                  "The served kNN and SVM work on PCA features. The same classifier on all 784 pixels, "
                  "measured the same way, shows what those features cost in accuracy and what they save in "
                  "size and time:", "",
                  "| model | features | MNIST test | USPS test | 1 image | size |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for pair in pairs:
            for k in pair:
                r = models[k]
                lines.append(f"| {k} | {_features(r)} | {_pct(r['metrics']['mnist_test']['accuracy'])} | "
                             f"{_pct(r['metrics']['usps_test']['accuracy'])} | {r['latency']['single_ms']:.3f} ms "
                             f"| {_size(r['size_bytes'])} |")
        lines.append("")
    small = data["small_digits"]
    lines += ["## kNN: choosing k by cross-validation", "", "![k curve](knn_k_curve.png)", ""]
    if "knn" in models and models["knn"]["architecture"].get("cv_curve"):
        a = models["knn"]["architecture"]
        cv = a["params"]
        n_cv = min(cv["cv_limit"] or a["examples"], a["examples"])
        lines += [f"On MNIST: {cv['cv_folds']}-fold cross-validation on the first {n_cv:,} "
                  f"training images chose **k = {a['k']}** ({a['weights']} votes; the best k of at least "
                  f"{cv.get('min_k', 1)}, since with fewer neighbours every answer is certain or a tie and the "
                  "confidence would say nothing).", "",
                  "| k | " + " | ".join(str(k) for k in a["cv_curve"]) + " |",
                  "| --- " * (len(a["cv_curve"]) + 1) + "|",
                  "| accuracy | " + " | ".join(f"{100 * v:.2f}" for v in a["cv_curve"].values()) + " |", ""]
    lines += ["## The classic small pipeline: kNN on 8×8 digits", "",
              f"scikit-learn's bundled {small['dataset']}: {small['train_images']} training and "
              f"{small['test_images']} held-out images. {small['folds']}-fold cross-validation chose "
              f"**k = {small['best_k']}**; held-out accuracy **{_pct(small['test']['accuracy'])}**. "
              "Those images come already centred and downsampled; real drawings do not, which is the "
              "work inkdigit's preprocessing does before any of the models above.", "",
              *_per_class_table(small["test"]), ""]
    lines += _robustness_section(models)
    lines += ["## Each model", ""]
    for k, r in models.items():
        m = r["metrics"]["mnist_test"]
        a = {kk: v for kk, v in r["architecture"].items() if kk not in ("params", "cv_curve", "input", "output")}
        lines += [f"### {k}", "", f"{_features(r)}; MNIST test {_pct(m['accuracy'])}, USPS test "
                  f"{_pct(r['metrics']['usps_test']['accuracy'])}; rejection threshold "
                  f"{r['rejection']['min_confidence']} ({m['rejected_below_min_confidence']} MNIST test images "
                  "fall below it).", "", f"Details: `{json.dumps(a)}`", "", *_per_class_table(m), "",
                  f"![confusion {k}](confusion_{k}.png)", ""]
    lines += ["## Reproduce", "", "```", data["command"] or "inkdigit compare", "```", "",
              "The trained models and their model cards are in the work directory "
              f"(`{data['config']['work_dir']}`); `inkdigit evaluate --model PATH/TO/CARD.json` re-measures any of "
              "them, and `inkdigit train --family FAMILY --install` puts one where serving finds it.", ""]
    return "\n".join(lines)


def write_report(data: dict[str, Any], out: Path) -> None:
    """Write ``results.json``, every plot, ``report.md`` and ``report.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    _plots(data, out)
    md = markdown(data)
    (out / "report.md").write_text(md, encoding="utf-8")
    body = MarkdownIt("commonmark").enable("table").render(md)
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>inkdigit model comparison</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")
    (out / "report.html").write_text(html, encoding="utf-8")
