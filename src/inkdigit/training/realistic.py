"""Training data that looks like real input: rendered training digits and writing-style variants.

MNIST's digits are scanned pen strokes, size-normalised and centred: real input arrives as canvas
drawings, phone photos, scans and thumbnails, and in writing conventions American writers of 1990
rarely used. Two kinds of extra training images answer that, both made from *training* digits only
(MNIST train and USPS train; the test sets stay held out), both through the same preprocessing as
serving, so the model learns what preprocessing makes of real input:

- **rendered**: a training digit drawn by one of the robustness suite's renderings, picked at random
  (canvas, photo, scale, scan), the rendering's randomness seeded per image;
- **styles**: digits redrawn as strokes (the canvas renderings' skeleton tracing) with the strokes a
  continental or European writer adds: the 1 with a long flag (and sometimes a foot), the crossed
  7, the slashed and the dotted 0; and, drawn from templates with a writer's slant, proportions and
  unsteadiness, the open-top 4, the straight-tailed 9 and the European 2 with its looped base.

Both are cached under the user cache, keyed on the code that makes them, the data's checksums,
the count and the seed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess, source_digest
from inkdigit.paths import cache_dir

#: how often each rendering family is drawn for a rendered training image
FAMILY_WEIGHTS = {"canvas": 0.3, "photo": 0.25, "scale": 0.25, "scan": 0.2}
Strokes = list[np.ndarray]


@dataclass(frozen=True)
class Extra:
    """Extra preprocessed training images (N, 28, 28) uint8 and labels, what made them, and which
    were drawn with a :class:`Variation` (a pen lift or a scanned style variant; all False without)."""

    images: np.ndarray
    labels: np.ndarray
    kinds: dict[str, int]
    varied: np.ndarray | None = None

    @property
    def plain(self) -> np.ndarray:
        """Which images were drawn as the robustness suite draws (no variation)."""
        return np.ones(len(self.labels), bool) if self.varied is None else ~self.varied


def _code_digest() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(source_digest().encode())
    for path in sorted([Path(__file__), *(here / "robustness").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _unit(strokes: Strokes) -> Strokes:
    """Strokes shifted and scaled so their points span a height of 1 from (0, 0)."""
    points = np.concatenate(strokes)
    lo = points.min(axis=0)
    height = max(float(np.ptp(points[:, 1])), 0.25 * float(np.ptp(points[:, 0])), 1e-6)
    return [(s - lo) / height for s in strokes]


def _line(a: tuple[float, float], b: tuple[float, float], n: int = 12) -> np.ndarray:
    return np.linspace(a, b, n)


def continental_one(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 1 with a long lead-in flag from its top, and half the time a foot."""
    pts = np.concatenate(strokes)
    top = pts[np.argmin(pts[:, 1])]
    bottom = pts[np.argmax(pts[:, 1])]
    flag = rng.uniform(0.25, 0.45)
    out = [*strokes, _line((top[0] - flag * rng.uniform(0.7, 1.1), top[1] + flag * rng.uniform(0.6, 1.0)),
                           (top[0], top[1]))]
    if rng.random() < 0.5:
        half = rng.uniform(0.15, 0.3)
        out.append(_line((bottom[0] - half, bottom[1]), (bottom[0] + half, bottom[1] + rng.uniform(-0.03, 0.03))))
    return out


def flagged_one(strokes: Strokes, rng: np.random.Generator, fall: tuple[float, float] = (20.0, 40.0)) -> Strokes:
    """A 1 stood upright with a long, shallow lead-in flag: 0.35–0.6 of its height long, falling
    ``fall`` degrees (20–40 by default) from the top, a foot a quarter of the time. Some
    handwriting fonts (Gochi Hand) and writers draw it so; :func:`continental_one`'s flag is
    shorter and steeper, and models trained on it alone read this one as 7. A 7's bar is level and
    its stem leans, so the stem is stood within a few degrees of upright and the flag always falls:
    the two stay apart. (Flags longer than the 1 is tall and level are a 7 to most readers; that
    writer is the fine-tuning demo's.)"""
    pts = np.concatenate(strokes)
    top, bottom = pts[np.argmin(pts[:, 1])], pts[np.argmax(pts[:, 1])]
    height = max(float(bottom[1] - top[1]), 1e-6)
    lean = float(top[0] - bottom[0]) / height  # x per unit of height, top to the right > 0
    shear = rng.uniform(-0.05, 0.15) - lean
    upright = [np.column_stack([s[:, 0] + shear * (bottom[1] - s[:, 1]), s[:, 1]]) for s in strokes]
    top = np.array([top[0] + shear * height, top[1]])
    length, angle = rng.uniform(0.35, 0.6), np.deg2rad(rng.uniform(*fall))
    out = [*upright, _line((top[0] - length * np.cos(angle), top[1] + length * np.sin(angle)),
                           (float(top[0]), float(top[1])))]
    if rng.random() < 0.25:
        half = rng.uniform(0.15, 0.3)
        out.append(_line((bottom[0] - half, bottom[1]), (bottom[0] + half, bottom[1])))
    return out


def steep_flagged_one(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """:func:`flagged_one` with the flag falling 30–45°: cnn-v13, trained on 20–40°, read more
    narrow 7s (a short level bar on an upright stem) as 1, and a 7's bar is level."""
    return flagged_one(strokes, rng, fall=(30.0, 45.0))


def crossed_seven(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 7 with a bar across its stem at about mid-height."""
    pts = np.concatenate(strokes)
    y = rng.uniform(0.48, 0.62)
    near = pts[np.abs(pts[:, 1] - y) < 0.06]
    x = float(near[:, 0].mean()) if len(near) else float(pts[:, 0].mean())
    half = rng.uniform(0.15, 0.28)
    tilt = rng.uniform(-0.04, 0.04)
    return [*strokes, _line((x - half, y + tilt), (x + half, y - tilt))]


def slashed_zero(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 0 with a slash from lower left to upper right, inside or just past the loop."""
    pts = np.concatenate(strokes)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    over = rng.uniform(-0.15, 0.1)
    w, h = x1 - x0, y1 - y0
    return [*strokes, _line((x0 - over * w, y1 + over * h), (x1 + over * w, y0 - over * h))]


def dotted_zero(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 0 with a dot in its middle."""
    pts = np.concatenate(strokes)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2 + rng.uniform(-0.04, 0.04, size=2)
    return [*strokes, np.array([centre, centre + 0.01])]


def _smooth(points: list[tuple[float, float]], rng: np.random.Generator, iterations: int = 3) -> np.ndarray:
    """A hand-drawn curve through ``points`` (jittered by a writer's unsteadiness), rounded by
    Chaikin's corner cutting, which keeps the ends where they are."""
    p = np.asarray(points, dtype=np.float64) + rng.normal(0, 0.025, size=(len(points), 2))
    for _ in range(iterations):
        q, r = 0.75 * p[:-1] + 0.25 * p[1:], 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.concatenate([p[:1], np.stack([q, r], axis=1).reshape(-1, 2), p[-1:]])
    return p


def _written(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """Strokes drawn from a template, given one writer's slant and proportions."""
    slant, aspect = rng.uniform(-0.25, 0.15), rng.uniform(0.75, 1.2)
    return [np.column_stack([(s[:, 0] - 0.5) * aspect + slant * (0.5 - s[:, 1]), s[:, 1]]) for s in strokes]


def open_top_four(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 4 whose two strokes never meet at the top: a down-and-across stroke, then the stem
    (a template: MNIST's 4s are mostly closed, and open ones were read as 6 or 9)."""
    left, bar, stem = rng.uniform(0.0, 0.12), rng.uniform(0.55, 0.68), rng.uniform(0.6, 0.72)
    end = (rng.uniform(0.8, 0.95), bar + rng.uniform(-0.05, 0.02))
    first = _smooth([(rng.uniform(0.2, 0.32), 0.0), (left, bar), end], rng, 1)
    second = _smooth([(stem + rng.uniform(-0.03, 0.03), rng.uniform(0.05, 0.25)), (stem, 1.0)], rng, 0)
    return _written([first, second], rng)


def straight_nine(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 9 whose tail falls straight from its loop, without a curl (read as 3 or 7 when rare)."""
    cx, cy, rx, ry = 0.45, rng.uniform(0.22, 0.3), rng.uniform(0.22, 0.3), rng.uniform(0.18, 0.26)
    angles = np.linspace(0.0, 2 * np.pi + rng.uniform(0.1, 0.5), 14)  # from the right, around, past the start
    loop = [(cx + rx * np.cos(-a), cy + ry * np.sin(-a)) for a in angles]
    tail = [(cx + rx + rng.uniform(-0.03, 0.03), cy + rng.uniform(0.0, 0.1)), (cx + rx - rng.uniform(0.0, 0.12), 1.0)]
    return _written([_smooth(loop, rng), _smooth(tail, rng, 0)], rng)


def european_two(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 2 with a loop where the diagonal meets the base, as it is taught in much of Europe."""
    r = rng.uniform(0.08, 0.13)  # the loop's radius; the diagonal enters it from the upper right
    points = [(0.12, 0.25), (0.3, 0.02), (0.65, 0.0), (0.82, 0.2), (0.7, 0.45), (0.3, 0.8),
              (0.25 - r, 0.93 - r), (0.25 - r, 0.93), (0.25, 0.93 + 0.5 * r), (0.25 + r, 0.93 - 0.5 * r),
              (0.25, 0.93 - 0.8 * r), (0.5, 0.97), (0.9, 0.96)]
    return _written([_smooth(points, rng)], rng)


Style = Callable[[Strokes, np.random.Generator], Strokes]

#: style set → digit → the style variants drawn for it. A set is never changed once a model is
#: trained on it (its card's command must reproduce it): set 1 made cnn-v2 and cnn-v3; set 2 adds
#: the open-top 4, the straight-tailed 9 and the European 2; set 3 the upright 1 with a long,
#: shallow flag beside the continental 1 (cnn-v13); set 4 the same with a steeper flag
STYLE_SETS: dict[int, dict[int, tuple[Style, ...]]] = {
    1: {0: (slashed_zero, dotted_zero), 1: (continental_one,), 7: (crossed_seven,)},
    2: {0: (slashed_zero, dotted_zero), 1: (continental_one,), 2: (european_two,), 4: (open_top_four,),
        7: (crossed_seven,), 9: (straight_nine,)},
    3: {0: (slashed_zero, dotted_zero), 1: (continental_one, flagged_one), 2: (european_two,),
        4: (open_top_four,), 7: (crossed_seven,), 9: (straight_nine,)},
    4: {0: (slashed_zero, dotted_zero), 1: (continental_one, steep_flagged_one), 2: (european_two,),
        4: (open_top_four,), 7: (crossed_seven,), 9: (straight_nine,)},
}
#: the newest set, every variant there is
STYLES = STYLE_SETS[max(STYLE_SETS)]


@dataclass(frozen=True)
class Variation:
    """How far training renderings go beyond the robustness suite's (both 0: exactly its renderings,
    as the models before cnn-v7 were trained on).

    - ``lifts``: the share of canvas drawings (rendered canvas digits and writing-style variants)
      drawn with the pen lifted where one stroke ends on another (:func:`canvas.pen_lifts`: the
      junctions of a traced skeleton, a continental 1's flag; the templates' strokes and the
      crossed 7's bar, the zero's slash and dot end on no other stroke, so stay as they are). A hand
      lifts the pen inside a digit (a 5's flag, a 4's stem, a 7's bar); a traced skeleton never
      does, and misread digits with such a gap were most of what the number reader still got wrong.
      A lifted canvas digit is drawn with the default pen and canvas ranges (3–30 px, 280–1120 px),
      not one of the suite's named canvas renderings.
    - ``scans``: the share of writing-style variants drawn as a scan instead (the strokes inked at
      MNIST's 28 px, then one of the suite's ``scale/`` renderings, 8 × 8 thumbnails included):
      continental 1s shrunk to 8 × 8 were the commonest error on the UCI optdigits scans.
    """

    lifts: float = 0.0
    scans: float = 0.0

    def used_by(self, kind: str) -> dict[str, float]:
        """The fields that change what ``make(kind, …)`` draws and are not 0 (scans apply to style
        variants only): what the cache key and the model card record."""
        used = asdict(self) if kind == "styles" else {"lifts": self.lifts}
        return {k: v for k, v in used.items() if v}


def _inked(strokes: Strokes, rng: np.random.Generator) -> np.ndarray:
    """Unit-height strokes inked as an MNIST digit: 28 × 28 in [0, 1], ink bright, the ink 20 px
    high (a wide variant may be wider) and centred on the box's centre, a pen 1.8–3.2 px wide."""
    from inkdigit.training.robustness import canvas

    pen = float(rng.uniform(1.8, 3.2))
    drawn = canvas.draw_canvas(strokes, 28, pen, 20 / 28, (14.0, 14.0), dark_ink=False, transparent=False,
                               ink=(255, 255, 255), ground=(0, 0, 0))
    return drawn[..., 0].astype(np.float32) / 255.0


def _render_one(kind: str, digit: np.ndarray, label: int, rng: np.random.Generator,
                style_set: int = 1, variation: Variation = Variation()) -> bytes | None:
    """One training image of ``kind`` (a rendering family, or "styles"), or None."""
    return _draw(kind, digit, label, rng, style_set, variation)[0]


def _draw(kind: str, digit: np.ndarray, label: int, rng: np.random.Generator,
          style_set: int, variation: Variation) -> tuple[bytes | None, bool]:
    """:func:`_render_one`'s image, and whether ``variation`` changed how it was drawn."""
    from inkdigit.training.robustness import canvas, suite

    found = suite.renderings()
    lifted = bool(variation.lifts) and rng.random() < variation.lifts if kind in ("styles", "canvas") else False
    if kind == "styles":
        strokes = canvas.trace_strokes(digit)
        if not strokes:
            return None, False
        variants = STYLE_SETS[style_set][label]
        variant = variants[int(rng.integers(len(variants)))]
        drawn = _unit(variant(_unit(strokes), rng))
        if variation.scans and rng.random() < variation.scans:
            scales = [n for n in found if n.startswith("scale/")]
            return found[scales[int(rng.integers(len(scales)))]](_inked(drawn, rng), rng), True
        return canvas.render_strokes(drawn, rng, lifts=lifted), lifted
    if lifted:
        strokes = canvas.trace_strokes(digit)
        return (canvas.render_strokes(strokes, rng, lifts=True) if strokes else None), True
    names = [n for n in found if n.startswith(kind + "/")]
    return found[names[int(rng.integers(len(names)))]](digit, rng), False


def _work(args: tuple[str, np.ndarray, np.ndarray, np.ndarray, int, PreprocessConfig, int, Variation],
          ) -> tuple[np.ndarray, np.ndarray]:
    kind, digits, labels, index, seed, cfg, style_set, variation = args
    out = np.zeros((len(digits), cfg.size, cfg.size), dtype=np.uint8)
    varied = np.zeros(len(digits), bool)
    for k, (digit, label, i) in enumerate(zip(digits, labels, index, strict=True)):
        rng = np.random.default_rng([seed, int(i)])
        image, varied[k] = _draw(kind, digit.astype(np.float32) / 255.0, int(label), rng, style_set, variation)
        if image is not None:
            out[k] = np.rint(preprocess(image, cfg).image * 255).astype(np.uint8)
    return out, varied


def _plan(labels: np.ndarray, n: int, kind: str, rng: np.random.Generator,
          style_set: int = 1, weights: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Which training digits to draw (indices) and by which family of renderings; ``weights``: how
    likely each digit is drawn for a rendered image (None: all alike, with the draws made before
    weights existed)."""
    if kind == "styles":
        pool = np.flatnonzero(np.isin(labels, list(STYLE_SETS[style_set])))
        return rng.choice(pool, size=n, replace=n > len(pool)), ["styles"] * n
    families = list(FAMILY_WEIGHTS)
    family_weights = np.array([FAMILY_WEIGHTS[f] for f in families])
    chosen = rng.choice(len(families), size=n, p=family_weights / family_weights.sum())
    if weights is None:
        index = rng.choice(len(labels), size=n, replace=n > len(labels))
    else:
        index = rng.choice(len(labels), size=n, replace=True, p=weights / weights.sum())
    return index, [families[c] for c in chosen]


def _chunks(families: list[str], pieces: int) -> list[np.ndarray]:
    """The planned images' positions split into about ``pieces`` chunks of one family each, so
    every image is drawn by the family it was planned for (a chunk is drawn by one family) and the
    drawing does not depend on how many processes draw it."""
    named = np.array(families)
    chunks: list[np.ndarray] = []
    for family in dict.fromkeys(families):
        where = np.flatnonzero(named == family)
        share = max(1, round(pieces * len(where) / len(families)))
        chunks += [c for c in np.array_split(where, share) if len(c)]
    return chunks


def make(kind: str, images: np.ndarray, labels: np.ndarray, n: int, seed: int, checksums: dict[str, str],
         cfg: PreprocessConfig = DEFAULT_CONFIG, workers: int | None = None, style_set: int = 1,
         variation: Variation = Variation(), weights: np.ndarray | None = None) -> Extra:
    """``n`` extra training images of ``kind`` ("rendered" or "styles", the latter from
    ``STYLE_SETS[style_set]``) from raw training ``images`` (uint8, ink bright) and their
    ``labels``, drawn with ``variation`` and preprocessed with ``cfg`` (cached). ``weights``
    (rendered only): how likely each digit is drawn, relative to the others."""
    if n <= 0:
        return Extra(np.zeros((0, cfg.size, cfg.size), np.uint8), np.zeros(0, np.int64), {})
    if style_set not in STYLE_SETS:
        raise ValueError(f"style set {style_set} does not exist (there are {', '.join(map(str, STYLE_SETS))})")
    key_parts: list[object] = [kind, n, seed, cfg.to_dict(), checksums, len(labels), _code_digest()]
    if kind == "styles" and style_set != 1:
        key_parts.append(style_set)  # set 1's caches keep their keys
    drawn_with = variation.used_by(kind)
    if drawn_with:  # none: the key is built as before variations existed
        key_parts.append(drawn_with)
    if weights is not None:
        if kind != "rendered" or len(weights) != len(labels):
            raise ValueError("weights are for rendered images, one per training digit")
        key_parts.append(hashlib.sha256(np.asarray(weights, np.float64).tobytes()).hexdigest())
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / "prepared" / f"{kind}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return Extra(z["images"], z["labels"], json.loads(str(z["kinds"])), z.get("varied"))
    index, families = _plan(labels, n, kind, np.random.default_rng([seed, len(kind)]), style_set, weights)
    workers = workers or os.cpu_count() or 1
    chunks = _chunks(families, max(1, workers * 8))
    jobs = [(families[c[0]], images[index[c]], labels[index[c]], index[c] * 7919 + c, seed, cfg, style_set, variation)
            for c in chunks]
    # spawn, not fork: the caller may have started OpenMP threads (PyTorch), which forked children inherit
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_work, jobs))
    out = np.zeros((n, cfg.size, cfg.size), dtype=np.uint8)
    varied = np.zeros(n, bool)
    for c, (part, part_varied) in zip(chunks, parts, strict=True):
        out[c], varied[c] = part, part_varied
    out_labels = labels[index].astype(np.int64)
    kinds = {f: int(np.sum(np.array(families) == f)) for f in sorted(set(families))}
    keep = out.reshape(n, -1).max(axis=1) > 0  # a rendering that left nothing readable teaches nothing
    result = Extra(out[keep], out_labels[keep], kinds, varied[keep])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=result.images, labels=result.labels, kinds=json.dumps(kinds), varied=varied[keep])
    tmp.replace(path)
    return result
