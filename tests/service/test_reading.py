"""Coalesced reads: each request's outcome stays its own, whatever goes wrong on another."""

from __future__ import annotations

from typing import Any

from inkdigit.engine.imageio import DEFAULT_LIMITS, ImageInput, ImageInputError, Limits
from inkdigit.engine.preprocess import Preprocessed
from inkdigit.engine.recognizer import Recognizer, find_model
from inkdigit.service.reading import read_many
from tests.conftest import png_bytes, render

BOOM = b"this input trips an unforeseen bug"


class FlakyRecognizer(Recognizer):
    """The shipped model, with one input made to fail the way a bug would (not as bad input)."""

    def preprocess(self, image: ImageInput, stages: bool = False, limits: Limits = DEFAULT_LIMITS) -> Preprocessed:
        if image == BOOM:
            raise RuntimeError("unforeseen")
        return super().preprocess(image, stages, limits)


def test_a_bad_file_and_a_bug_each_fail_only_their_own_slot(mnist_test) -> None:  # noqa: ANN001
    rec = FlakyRecognizer(find_model("cnn-v1"), threads=1)
    digits = [(png_bytes(render(mnist_test.images[i])), int(mnist_test.labels[i])) for i in range(4)]
    items: list[tuple[Any, ...]] = [(rec, data, 3, False, DEFAULT_LIMITS) for data, _ in digits]
    items.insert(1, (rec, b"not an image", 3, False, DEFAULT_LIMITS))
    items.insert(3, (rec, BOOM, 3, True, DEFAULT_LIMITS))
    out = read_many(items)
    assert isinstance(out[1], ImageInputError) and out[1].code == "not_an_image"
    assert isinstance(out[3], RuntimeError)
    good = [r for i, r in enumerate(out) if i not in (1, 3)]
    assert [r["digit"] for r in good] == [label for _, label in digits]  # type: ignore[index]
    assert all(r["elapsed_ms"] > 0 and r["stages"] is None for r in good)  # type: ignore[index]
