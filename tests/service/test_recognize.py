"""POST /api/v1/recognize: the number contract, its limits and bad input (the app in-process)."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest
from PIL import Image

from inkdigit.engine.defaults import DEFAULT_MODEL
from tests.service.conftest import encode, in_process
from tests.service.test_api import BOMB, PNG_HEADER, assert_error


def _number(mnist_test, text: str, gap: int = 28, size: int = 84) -> bytes:
    """A dark-on-white PNG of MNIST test digits (the first of each class) written as ``text``."""
    firsts = {int(d): img for img, d in zip(mnist_test.images[::-1], mnist_test.labels[::-1], strict=True)}
    crops = []
    for ch in text:
        d = firsts[int(ch)]
        rows, cols = np.flatnonzero(d.max(axis=1) > 40), np.flatnonzero(d.max(axis=0) > 40)
        c = Image.fromarray(d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
        crops.append(np.asarray(c.resize((max(1, round(c.width * size / c.height)), size), Image.Resampling.BICUBIC)))
    width = sum(c.shape[1] for c in crops) + gap * (len(crops) + 1)
    line = np.zeros((size + 2 * gap, width), np.uint8)
    x = gap
    for c in crops:
        line[gap:gap + size, x:x + c.shape[1]] = np.maximum(line[gap:gap + size, x:x + c.shape[1]], c)
        x += c.shape[1] + gap
    return encode(Image.fromarray(255 - line))


@pytest.fixture(scope="module")
def number(mnist_test) -> bytes:
    return _number(mnist_test, "4217")


def test_the_three_input_forms_read_the_same_number(client: httpx.Client, number: bytes) -> None:
    b64 = base64.b64encode(number).decode()
    answers = [
        client.post("/api/v1/recognize", files={"file": ("n.png", number, "image/png")}),
        client.post("/api/v1/recognize", json={"image": "data:image/png;base64," + b64}),
        client.post("/api/v1/recognize", content=number, headers=PNG_HEADER),
    ]
    for r in answers:
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["text"] == "4217" and body["formatted"] == "4217" and not body["is_empty"]
        assert body["model"] == DEFAULT_MODEL and body["elapsed_ms"] > 0 and 0 < body["confidence"] <= 1
        assert [d["digit"] for d in body["digits"]] == [4, 2, 1, 7]
        for d in body["digits"]:
            assert len(d["box"]) == 4 and d["box"][2] > 0 and d["is_digit"] and len(d["top"]) == 3
            assert d["top"][0] == {"digit": d["digit"], "confidence": d["confidence"]} and d["image"] is None
        assert body["separators"] == []


def test_options_top_k_debug_and_model(client: httpx.Client, number: bytes) -> None:
    body = client.post("/api/v1/recognize?top_k=5&debug=true&model=cnn-v3", content=number, headers=PNG_HEADER).json()
    assert body["model"] == "cnn-v3" and all(len(d["top"]) == 5 for d in body["digits"])
    assert all(d["image"].startswith("data:image/png;base64,") for d in body["digits"])
    body = client.post("/api/v1/recognize", json={"image": base64.b64encode(number).decode(), "top_k": 1}).json()
    assert all(len(d["top"]) == 1 for d in body["digits"])
    assert_error(client.post("/api/v1/recognize?model=nope", content=number, headers=PNG_HEADER), 404, "unknown_model")
    assert_error(client.post("/api/v1/recognize?top_k=0", content=number, headers=PNG_HEADER), 422, "invalid_request")


def test_a_blank_image_reads_as_empty_text(client: httpx.Client) -> None:
    for blank in (Image.new("RGBA", (900, 200)), Image.new("L", (900, 200), 255)):
        r = client.post("/api/v1/recognize", content=encode(blank), headers=PNG_HEADER)
        body = r.json()
        assert r.status_code == 200 and body["is_empty"] and body["text"] == "" and body["digits"] == []


@pytest.mark.parametrize(("image", "status", "code"), [
    (lambda: encode(Image.new("L", (20_000, 60), 255)), 413, "image_too_wide"),
    (lambda: BOMB, 413, "image_too_large"),
    (lambda: b"not an image at all, just text" * 10, 415, "not_an_image"),
    (lambda: encode(Image.new("L", (900, 200), 255))[:70], 422, "corrupt_image"),
])
def test_bad_input_gets_a_coded_error_and_the_server_keeps_serving(
        client: httpx.Client, number: bytes, image, status: int, code: str) -> None:
    assert_error(client.post("/api/v1/recognize", content=image(), headers=PNG_HEADER), status, code)
    assert client.post("/api/v1/recognize", content=number, headers=PNG_HEADER).json()["text"] == "4217"


def test_five_hundred_digits_are_refused_past_the_setting(client: httpx.Client, mnist_test, number: bytes) -> None:
    many = _number(mnist_test, "0123456789" * 50, gap=12, size=28)  # 500 digits, 20,012 px wide at 28 px
    assert_error(client.post("/api/v1/recognize", content=many, headers=PNG_HEADER), 413, "image_too_wide")
    narrow = _number(mnist_test, "0123456789" * 8, gap=6, size=28)  # 80 digits, 2,6xx px wide
    assert_error(client.post("/api/v1/recognize", content=narrow, headers=PNG_HEADER), 422, "too_many_digits")
    assert client.post("/api/v1/recognize", content=number, headers=PNG_HEADER).json()["text"] == "4217"


def test_limits_come_from_settings(mnist_test) -> None:
    with in_process({"INKDIGIT_MAX_NUMBER_DIGITS": "3", "INKDIGIT_MAX_NUMBER_WIDTH": "5000"}) as c:
        r = c.post("/api/v1/recognize", content=_number(mnist_test, "4217"), headers=PNG_HEADER)
        assert_error(r, 422, "too_many_digits")
        assert "at most 3" in r.json()["error"]["message"]
        assert_error(c.post("/api/v1/recognize", content=encode(Image.new("L", (5001, 50), 255)),
                            headers=PNG_HEADER), 413, "image_too_wide")
        assert c.post("/api/v1/recognize", content=_number(mnist_test, "38"), headers=PNG_HEADER).json()["text"] == "38"


def test_batch_keeps_order_and_isolates_a_bad_item(client: httpx.Client, mnist_test, number: bytes) -> None:
    files = [("files", ("a.png", number, "image/png")), ("files", ("bad.png", b"garbage" * 9, "image/png")),
             ("files", ("b.png", _number(mnist_test, "905"), "image/png"))]
    r = client.post("/api/v1/recognize/batch", files=files)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["text"] == "4217" and results[2]["text"] == "905"
    assert results[1]["error"]["code"] == "not_an_image"


def test_documented_in_openapi(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    op = paths["/api/v1/recognize"]["post"]
    assert set(op["requestBody"]["content"]) >= {"multipart/form-data", "application/json", "image/png"}
    assert {"200", "413", "415", "422"} <= set(op["responses"])
    assert "/api/v1/recognize/batch" in paths
