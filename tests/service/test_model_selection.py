"""A model trained by the user appears in the API and can be chosen per request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inkdigit.engine.defaults import DEFAULT_MODEL
from tests.service.conftest import in_process


@pytest.fixture(scope="module")
def zoo_client(extra_model_dir: Path) -> Iterator[httpx.Client]:
    with in_process({"INKDIGIT_MODEL_DIR": str(extra_model_dir)}) as c:
        yield c


def test_a_trained_model_is_listed_beside_the_shipped_one(zoo_client: httpx.Client) -> None:
    body = zoo_client.get("/api/v1/models").json()
    models = {m["name"]: m for m in body["models"]}
    assert body["default"] == DEFAULT_MODEL and models[DEFAULT_MODEL]["default"] is True
    assert models["knn-small"]["family"] == "knn" and models["knn-small"]["default"] is False
    assert models["knn-small"]["metrics"]["mnist_test"]["accuracy"] == 0.95


@pytest.mark.parametrize("name", ["knn-small", "cnn-v1"])
def test_choose_the_model_per_request(zoo_client: httpx.Client, digit_images: dict, name: str) -> None:
    png, label = digit_images["png"]
    r = zoo_client.post(f"/api/v1/predict?model={name}", content=png, headers={"content-type": "image/png"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == name and body["digit"] == label
    assert abs(sum(body["probabilities"]) - 1) < 1e-4


def test_batch_with_the_chosen_model(zoo_client: httpx.Client, digit_images: dict) -> None:
    png, label = digit_images["png"]
    files = [("files", ("a.png", png, "image/png")), ("files", ("b.txt", b"hello", "text/plain"))]
    r = zoo_client.post("/api/v1/predict/batch?model=knn-small", files=files)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["model"] == "knn-small" and results[0]["digit"] == label
    assert results[1]["error"]["code"] == "not_an_image"


def test_unknown_model_names_the_ones_there_are(zoo_client: httpx.Client, digit_images: dict) -> None:
    png, _ = digit_images["png"]
    r = zoo_client.post("/api/v1/predict?model=svm-v9", content=png, headers={"content-type": "image/png"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_model"
    assert "knn-small" in r.json()["error"]["message"]
