"""Recognise digits with a trained model through ONNX Runtime.

One :class:`Recognizer` holds one ONNX Runtime session for the life of the process (creating a
session costs milliseconds; running it, microseconds). It prepares every input with the
preprocessing its model card names, so what it sees is what the model was trained on.

Reading is one typed path: a :class:`ReadRequest` (an image and its :class:`ReadOptions`) goes in,
and :meth:`Recognizer.read_many` gives back, slot by slot, a :class:`Prediction` or the
:class:`~inkdigit.engine.imageio.ImageInputError` that explains why that one image could not be
read; the other images are read all the same, with one model call for all of them. ``predict``
and ``predict_batch`` are that path for one image and for plain lists.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from inkdigit.engine.defaults import TOP_K_DEFAULT
from inkdigit.engine.imageio import DEFAULT_LIMITS, ImageInput, ImageInputError, Limits, UnreadableImageError
from inkdigit.engine.modelcard import ModelCard, ModelCardError
from inkdigit.engine.numbers import DEFAULT_NUMBER_LIMITS, NumberLimits, NumberReading, read_number
from inkdigit.engine.preprocess import Preprocessed, _bbox, preprocess

log = logging.getLogger("inkdigit.engine")

#: a preprocessed mark whose ink is less than this high per unit of width is a dash or a rule,
#: never a digit. The flattest of 3,000 MNIST and 2,007 USPS test digits measure 0.5 and 0.4 once
#: fitted; a strip two pixels high measures 0.1. Why a rule and not the gate alone: a gate learns
#: it or not by chance (cnn-v6's gave that strip -16, cnn-v9's -7.4, over its threshold), and the
#: browser's offline reader applies the same rule (``localreader.mjs``, ``isFlatMark``)
FLAT_MARK = 0.25
#: what counts as ink in a preprocessed image when its extent is measured
_MARK_INK = 0.1


def is_flat_mark(image: np.ndarray) -> bool:
    """Whether a preprocessed image (28×28 in [0, 1], ink bright) holds a flat mark, not a digit.
    The ink's box is preprocessing's own (compared in float32, as the browser's ``bbox`` does)."""
    box = _bbox(np.asarray(image, dtype=np.float32), _MARK_INK)
    if box is None:
        return False
    y0, y1, x0, x1 = box
    return y1 - y0 < FLAT_MARK * (x1 - x0)


@dataclass
class Prediction:
    """One answer: ``digit`` is None when the input is blank or not judged a digit.

    ``elapsed_ms`` is the time spent reading this image: its own decoding and preprocessing plus
    its share of the model call it was part of."""

    digit: int | None
    confidence: float
    probabilities: list[float]
    is_digit: bool
    is_empty: bool = False
    stages: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    elapsed_ms: float = 0.0

    def top(self, k: int = TOP_K_DEFAULT) -> list[tuple[int, float]]:
        """The ``k`` most likely digits with their probabilities, best first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


@dataclass(frozen=True)
class ReadOptions:
    """How to read one image: whether to keep every preprocessing stage, and the size limits."""

    stages: bool = False
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class ReadRequest:
    """One image to read (path, bytes, PIL image or array) with its options."""

    image: ImageInput
    options: ReadOptions = ReadOptions()


#: what reading one image gives: the answer, or why that image could not be read
ReadResult = Prediction | ImageInputError


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Recognizer:
    """A loaded model: ``predict`` for one image, ``predict_batch`` for many."""

    def __init__(self, card: str | Path | ModelCard, threads: int | None = None,
                 weights: str | Path | None = None) -> None:
        """Load the model a card describes: a card file (weights beside it), or a card in memory
        with the path of its ``weights`` (how training measures an artefact before writing its card)."""
        if isinstance(card, ModelCard):
            if weights is None:
                raise ValueError("a card given in memory needs the path of its weights")
            self.card = card
        else:
            self.card = ModelCard.load(card)
            weights = weights or Path(card).parent / self.card.weights_file
        self.name = self.card.name
        self.weights = Path(weights)  # the ONNX file, which the web service also hands to browsers
        self.preprocess_config = self.card.preprocess_config()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(weights), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelCardError(f"Cannot load weights {weights}: {exc}") from exc
        inp = self.session.get_inputs()[0]
        self._input = inp.name
        # a network takes (N, 1, 28, 28) images; a scikit-learn pipeline takes (N, 784) rows
        self._flat = len(inp.shape) == 2
        outputs = [o.name for o in self.session.get_outputs()]
        self._output = self.card.output.name or outputs[0]
        if self._output not in outputs:
            raise ModelCardError(f"Model {self.name!r} has no output {self._output!r} (it has {outputs}).")
        self._kind = self.card.output.kind
        self.temperature = float(self.card.calibration.temperature)
        self.min_confidence = float(self.card.rejection.min_confidence)
        # the digit-or-not gate, when the model has one: a second output, read in the same call
        self._gate = self.card.rejection.output
        if self._gate and self._gate not in outputs:
            raise ModelCardError(f"Model {self.name!r} has no gate output {self._gate!r} (it has {outputs}).")
        self.min_score = float(self.card.rejection.min_score)
        self.number_min_score = float(self.card.rejection.digit_in_number_min_score)
        # the piece scorer, when the model has one: a third output, read only when reading numbers
        self._piece = self.card.rejection.piece_output
        if self._piece and not self._gate:
            raise ModelCardError(f"Model {self.name!r} names a piece scorer without a digit-or-not gate.")
        if self._piece and self._piece not in outputs:
            raise ModelCardError(f"Model {self.name!r} has no piece scorer output {self._piece!r} (it has {outputs}).")

    @property
    def family(self) -> str:
        return self.card.family

    @property
    def has_piece_scorer(self) -> bool:
        """Whether the model scores pieces of a line as whole digits (see :meth:`piece_scores`)."""
        return bool(self._piece)

    def scores(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated class probabilities (N, 10) for preprocessed (N, 28, 28) images in [0, 1], and
        the gate's digit scores (N,) when the model has a gate (else None). One model call."""
        probs, gate, _ = self._run(batch, pieces=False)
        return probs, gate

    def piece_scores(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """:meth:`scores` and the piece scorer's logits (N,), or None when the model has no piece
        scorer: how much each piece of a line reads as one whole digit. One model call."""
        return self._run(batch, pieces=True)

    def _run(self, batch: np.ndarray, pieces: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        x = x.reshape(len(x), -1) if self._flat else x.reshape(-1, 1, *batch.shape[-2:])
        names = [self._output] + [n for n in (self._gate, self._piece if pieces else "") if n]
        outs = dict(zip(names, self.session.run(names, {self._input: x}), strict=True))
        raw = np.asarray(outs[self._output], dtype=np.float64)
        gate, piece = (np.asarray(outs[n], dtype=np.float64).reshape(len(x)) if n in outs else None
                       for n in (self._gate, self._piece))
        if self._kind == "probabilities":
            return raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-12), gate, piece
        return _softmax(raw, self.temperature), gate, piece

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities for preprocessed (N, 28, 28) images in [0, 1]."""
        return self.scores(batch)[0]

    def accepts(self, probs: np.ndarray, gate: np.ndarray | None, in_number: bool = False,
                images: np.ndarray | None = None) -> np.ndarray:
        """Which rows the card's rejection rule calls digits: confident enough, and past the gate
        (``in_number``: the threshold for a digit of a number, see ``Rejection.number_min_score``);
        given the preprocessed ``images`` of single reads, not a flat mark (:func:`is_flat_mark`)."""
        ok = np.asarray(probs).max(axis=1) >= self.min_confidence
        threshold = self.number_min_score if in_number else self.min_score
        if gate is not None:
            ok &= np.asarray(gate) >= threshold
        if images is not None and not in_number:
            ok &= ~np.array([is_flat_mark(x) for x in images], dtype=bool)
        return ok

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """Same as :meth:`probabilities`: the scikit-learn name, so a loaded model answers like a fitted one."""
        return self.probabilities(batch)

    def _prediction(self, pre: Preprocessed, probs: np.ndarray | None, gate: float | None,
                    elapsed_s: float) -> Prediction:
        ms = elapsed_s * 1000
        if pre.is_empty or probs is None:
            return Prediction(None, 0.0, [0.1] * 10, False, True, pre.stages, ms)
        digit = int(np.argmax(probs))
        conf = float(probs[digit])
        is_digit = bool(self.accepts(probs[None, :], None if gate is None else np.array([gate]),
                                     images=pre.image[None])[0])
        return Prediction(digit if is_digit else None, conf, [float(p) for p in probs], is_digit,
                          False, pre.stages, ms)

    def preprocess(self, image: ImageInput, options: ReadOptions = ReadOptions()) -> Preprocessed:
        """``image`` in MNIST's format, as this model's card prescribes. Raises ``ImageInputError``."""
        return preprocess(image, self.preprocess_config, return_stages=options.stages, limits=options.limits)

    def read_many(self, requests: Sequence[ReadRequest]) -> list[ReadResult]:
        """Read every request: each image is decoded and preprocessed alone, so a bad one yields its
        own ``ImageInputError`` in its slot, then one model call reads all the others."""
        slots: list[ReadResult | None] = [None] * len(requests)
        pres: list[tuple[int, Preprocessed, float]] = []
        for i, req in enumerate(requests):
            start = time.perf_counter()
            try:
                pre = self.preprocess(req.image, req.options)
            except ImageInputError as exc:
                slots[i] = exc
                continue
            except Exception as exc:  # a bug: logged, and kept to this image's slot
                slots[i] = _unreadable(exc)
                continue
            pres.append((i, pre, time.perf_counter() - start))
        live = [k for k, (_, pre, _) in enumerate(pres) if not pre.is_empty]
        probs: dict[int, np.ndarray] = {}
        gates: dict[int, float] = {}
        share = 0.0
        if live:
            start = time.perf_counter()
            out, gate = self.scores(np.stack([pres[k][1].image for k in live]))
            share = (time.perf_counter() - start) / len(live)
            probs = dict(zip(live, out, strict=True))
            if gate is not None:
                gates = {k: float(g) for k, g in zip(live, gate, strict=True)}
        for k, (i, pre, spent) in enumerate(pres):
            slots[i] = self._prediction(pre, probs.get(k), gates.get(k), spent + (share if k in probs else 0.0))
        done = [s for s in slots if s is not None]
        assert len(done) == len(slots), "every request gets a result"
        return done

    def predict(self, image: ImageInput, stages: bool = False, limits: Limits = DEFAULT_LIMITS) -> Prediction:
        """Read one image (path, bytes, PIL image or array). Raises ``ImageInputError`` if unreadable."""
        (result,) = self.read_many([ReadRequest(image, ReadOptions(stages, limits))])
        if isinstance(result, ImageInputError):
            raise result
        return result

    def predict_batch(self, images: Iterable[ImageInput], stages: bool = False,
                      limits: Limits = DEFAULT_LIMITS) -> list[ReadResult]:
        """Read many images with one model call; an unreadable one gets its ``ImageInputError``
        in its own slot instead of failing the others."""
        options = ReadOptions(stages, limits)
        return self.read_many([ReadRequest(img, options) for img in images])

    def read_number(self, image: ImageInput, limits: Limits = DEFAULT_LIMITS,
                    number_limits: NumberLimits = DEFAULT_NUMBER_LIMITS, top_k: int = TOP_K_DEFAULT) -> NumberReading:
        """Read every digit of a number written on one line (see :mod:`inkdigit.engine.numbers`).
        Raises ``ImageInputError`` for an unreadable image or one past ``number_limits``."""
        try:
            return read_number(self, image, limits, number_limits, top_k)
        except ImageInputError:
            raise
        except Exception as exc:
            raise _unreadable(exc) from exc


def _unreadable(exc: Exception) -> UnreadableImageError:
    """Log an unforeseen failure to read one image (with its traceback) and say so to the caller."""
    log.error("reading an image failed: %s", exc, exc_info=exc)
    return UnreadableImageError(f"The image could not be read ({type(exc).__name__}); the error has been logged.")
