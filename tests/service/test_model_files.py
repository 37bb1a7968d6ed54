"""GET /api/v1/models/{name}/onnx and /card: what the page needs to read drawings itself (issue 17)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import pytest

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.store import shipped_dir
from tests.service.conftest import in_process


@pytest.fixture(scope="module")
def client(extra_model_dir: Path) -> Iterator[httpx.Client]:
    with in_process({"INKDIGIT_MODEL_DIR": str(extra_model_dir)}) as c:
        yield c


def test_the_list_says_which_models_a_browser_can_run(client: httpx.Client) -> None:
    models = {m["name"]: m for m in client.get("/api/v1/models").json()["models"]}
    assert models[DEFAULT_MODEL]["browser"] is True
    assert models["knn-small"]["browser"] is False  # it holds its training data, in ai.onnx.ml operators


def test_the_default_models_onnx_file_runs_and_is_cached_by_its_hash(client: httpx.Client) -> None:
    r = client.get(f"/api/v1/models/{DEFAULT_MODEL}/onnx")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    card = json.loads((shipped_dir() / f"{DEFAULT_MODEL}.json").read_text())
    weights = (shipped_dir() / (card["weights"] or f"{DEFAULT_MODEL}.onnx")).read_bytes()  # cnn-v17: cnn-v15's
    assert r.content == weights
    assert r.headers["etag"] == f'"{hashlib.sha256(weights).hexdigest()}"'
    assert r.headers["cache-control"] == "public, max-age=300"
    session = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: np.zeros((1, 1, 28, 28), np.float32)})
    assert out[0].shape == (1, 10)

    again = client.get(f"/api/v1/models/{DEFAULT_MODEL}/onnx", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    other = client.get(f"/api/v1/models/{DEFAULT_MODEL}/onnx", headers={"if-none-match": '"0123"'})
    assert other.status_code == 200 and other.content == weights


def test_the_card_tells_the_page_how_to_read(client: httpx.Client) -> None:
    r = client.get(f"/api/v1/models/{DEFAULT_MODEL}/card")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    card = r.json()
    assert card == json.loads((shipped_dir() / f"{DEFAULT_MODEL}.json").read_text())
    assert card["preprocessing"]["version"] and card["calibration"]["temperature"] > 0
    assert client.get(f"/api/v1/models/{DEFAULT_MODEL}/card",
                      headers={"if-none-match": r.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("what", ["onnx", "card"])
def test_no_file_for_an_unknown_model_or_one_a_browser_cannot_run(client: httpx.Client, what: str) -> None:
    for name in ("nope", "knn-small"):
        r = client.get(f"/api/v1/models/{name}/{what}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_model", r.text


def test_the_routes_are_documented(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for what in ("onnx", "card"):
        route = paths[f"/api/v1/models/{{name}}/{what}"]["get"]
        assert {"200", "304", "404"} <= set(route["responses"]), route["responses"]


def test_the_runtime_is_served_with_the_types_a_browser_needs(client: httpx.Client) -> None:
    """A module only runs as JavaScript, and WebAssembly only compiles while downloading, with its
    MIME type; and the page's policy lets WebAssembly compile (but not JavaScript eval)."""
    base = "/static/vendor/onnxruntime-web/"
    assert client.get(base + "ort.wasm.min.mjs").headers["content-type"].startswith("text/javascript")
    assert client.get(base + "ort-wasm-simd-threaded.mjs").headers["content-type"].startswith("text/javascript")
    wasm = client.get(base + "ort-wasm-simd-threaded.wasm")
    assert wasm.headers["content-type"] == "application/wasm" and wasm.content[:4] == b"\0asm"
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy and "unsafe-eval'" not in policy.replace("wasm-unsafe", "")
