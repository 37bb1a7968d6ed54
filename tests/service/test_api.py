"""The HTTP contract, against the app in-process (``create_app(Settings(...))``): no socket needed.

What needs a real server (concurrency over sockets, the CLI's ``serve``) is in ``test_server.py``;
the supervision of several worker processes in ``test_workers.py``."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from PIL import Image

from inkdigit.engine.defaults import DEFAULT_MODEL
from tests.service.conftest import encode, in_process

PNG_HEADER = {"content-type": "image/png"}


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert len(body["error"]["message"]) > 10
    assert r.headers["x-request-id"]


def test_multipart_json_and_raw_forms_agree(client: httpx.Client, digit_images) -> None:
    data, label = digit_images["png"]
    b64 = base64.b64encode(data).decode()
    answers = [
        client.post("/api/v1/predict", files={"file": ("digit.png", data, "image/png")}),
        client.post("/api/v1/predict", json={"image": "data:image/png;base64," + b64}),
        client.post("/api/v1/predict", json={"image": b64}),
        client.post("/api/v1/predict", content=data, headers=PNG_HEADER),
    ]
    for r in answers:
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["digit"] == label and body["is_digit"] and body["model"] == DEFAULT_MODEL
        assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-4
        assert len(body["top"]) == 3 and body["top"][0] == {"digit": label, "confidence": body["confidence"]}
        assert body["elapsed_ms"] > 0
        assert body["stages"] is None


def test_options_top_k_debug_and_model(client: httpx.Client, digit_images) -> None:
    data, _ = digit_images["png"]
    r = client.post("/api/v1/predict?top_k=5&debug=true&model=cnn-v1", content=data, headers=PNG_HEADER)
    body = r.json()
    assert len(body["top"]) == 5
    assert list(body["stages"]) == ["input", "ink", "cleaned", "cropped", "stroke", "deskewed", "fitted", "final"]
    assert all(v.startswith("data:image/png;base64,") for v in body["stages"].values())
    r = client.post("/api/v1/predict", json={"image": base64.b64encode(data).decode(), "top_k": 1})
    assert len(r.json()["top"]) == 1
    r = client.post("/api/v1/predict", files={"file": ("d.png", data)}, data={"top_k": "2"})
    assert len(r.json()["top"]) == 2
    assert_error(client.post("/api/v1/predict?model=nope", content=data, headers=PNG_HEADER), 404, "unknown_model")
    assert_error(client.post("/api/v1/predict?top_k=11", content=data, headers=PNG_HEADER), 422, "invalid_request")


@pytest.mark.parametrize("kind", ["rgba_png", "animated_gif", "cmyk_jpeg", "png_16bit", "exif_rotated_jpeg"])
def test_image_formats_are_read(client: httpx.Client, digit_images, kind: str) -> None:
    data, label = digit_images[kind]
    r = client.post("/api/v1/predict", files={"file": (f"digit.{kind}", data)})
    assert r.status_code == 200, r.text
    assert r.json()["digit"] == label


def test_blank_canvas_is_not_a_digit(client: httpx.Client) -> None:
    r = client.post("/api/v1/predict", content=encode(Image.new("RGBA", (280, 280))), headers=PNG_HEADER)
    body = r.json()
    assert r.status_code == 200 and body["is_empty"] and not body["is_digit"] and body["digit"] is None
    assert body["top"] == []


BOMB = encode(Image.new("1", (20000, 20000), 1), optimize=True)


@pytest.mark.parametrize(("send", "status", "code"), [
    (lambda c: c.post("/api/v1/predict"), 400, "empty_body"),
    (lambda c: c.post("/api/v1/predict", content=b"", headers=PNG_HEADER), 400, "empty_body"),
    (lambda c: c.post("/api/v1/predict", files={"file": ("empty.png", b"", "image/png")}), 400, "empty_input"),
    (lambda c: c.post("/api/v1/predict", files={"file": ("digit.png", b"just some text\n" * 20, "image/png")}),
     415, "not_an_image"),
    (lambda c: c.post("/api/v1/predict", content=encode(Image.new("L", (280, 280), 255))[:80],
                      headers=PNG_HEADER), 422, "corrupt_image"),
    (lambda c: c.post("/api/v1/predict", content=BOMB, headers=PNG_HEADER), 413, "image_too_large"),
    (lambda c: c.post("/api/v1/predict", content=b"x" * (10 * 1024 * 1024 + 1), headers=PNG_HEADER),
     413, "payload_too_large"),
    (lambda c: c.post("/api/v1/predict", files={"image": ("d.png", b"abc")}), 422, "missing_file"),
    (lambda c: c.post("/api/v1/predict", content=b"hello", headers={"content-type": "text/plain"}),
     415, "unsupported_media_type"),
    (lambda c: c.post("/api/v1/predict", content=b"{nope", headers={"content-type": "application/json"}),
     400, "invalid_json"),
    (lambda c: c.post("/api/v1/predict", json={"picture": "abc"}), 422, "invalid_request"),
    (lambda c: c.post("/api/v1/predict", json={"image": "!!!not base64!!!"}), 422, "invalid_base64"),
    (lambda c: c.post("/api/v1/predict", json=[1, 2]), 422, "invalid_request"),
    (lambda c: c.get("/api/v1/nothing-here"), 404, "not_found"),
    (lambda c: c.get("/api/v1/predict"), 405, "method_not_allowed"),
])
def test_bad_input_gets_a_coded_json_error_and_the_server_keeps_serving(
        client: httpx.Client, digit_images, send, status: int, code: str) -> None:
    assert_error(send(client), status, code)
    data, label = digit_images["png"]
    assert client.post("/api/v1/predict", content=data, headers=PNG_HEADER).json()["digit"] == label


def test_batch_keeps_order_and_isolates_a_bad_item(client: httpx.Client, digit_images) -> None:
    good, label = digit_images["png"]
    files = [("files", (f"{i}.png", good, "image/png")) for i in range(3)]
    files.insert(1, ("files", ("bad.png", b"not an image at all", "image/png")))
    r = client.post("/api/v1/predict/batch", files=files)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 4
    assert results[1]["error"]["code"] == "not_an_image"
    assert [results[i]["digit"] for i in (0, 2, 3)] == [label] * 3


def test_batch_limits(client: httpx.Client, digit_images) -> None:
    good, _ = digit_images["png"]
    too_many = [("files", (f"{i}.png", good, "image/png")) for i in range(65)]
    assert_error(client.post("/api/v1/predict/batch", files=too_many), 413, "too_many_files")
    assert_error(client.post("/api/v1/predict/batch", content=good, headers=PNG_HEADER), 415,
                 "unsupported_media_type")
    assert_error(client.post("/api/v1/predict/batch", files={"file": ("a.png", good)}), 422, "missing_file")


def test_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    assert client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["x-request-id"]


def test_models_health_metrics_and_docs(client: httpx.Client) -> None:
    models = client.get("/api/v1/models").json()
    assert models["default"] == DEFAULT_MODEL
    cnn = next(m for m in models["models"] if m["name"] == DEFAULT_MODEL)
    assert cnn["default"] and cnn["family"] == "cnn" and cnn["metrics"]["mnist_test"]["accuracy"] >= 0.995
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.post("/api/v1/predict", content=b"", headers=PNG_HEADER)
    metrics = client.get("/metrics").text
    assert 'inkdigit_http_requests_total{method="POST",route="/api/v1/predict",status="400"}' in metrics
    assert "inkdigit_http_request_duration_seconds_bucket" in metrics
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/predict"]["post"]
    assert {"multipart/form-data", "application/json", "image/png"} <= set(operation["requestBody"]["content"])
    assert {p["name"] for p in operation["parameters"]} == {"top_k", "model", "debug", "source"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][ok.rsplit("/", 1)[1]]["title"] == "PredictResponse"
    assert {"400", "404", "413", "415", "422", "503"} <= set(operation["responses"])


def test_query_options_are_validated_like_body_options(client: httpx.Client, digit_images) -> None:
    data, _ = digit_images["png"]
    for query in ("top_k=0", "top_k=three", "debug=maybe", "model=" + "m" * 101):
        assert_error(client.post(f"/api/v1/predict?{query}", content=data, headers=PNG_HEADER), 422, "invalid_request")
    r = client.post("/api/v1/predict?top_k=2&debug=false&unknown=1", content=data, headers=PNG_HEADER)
    assert r.status_code == 200 and len(r.json()["top"]) == 2 and r.json()["stages"] is None
    r = client.post("/api/v1/predict?top_k=2", files={"file": ("d.png", data)}, data={"top_k": "4"})
    assert len(r.json()["top"]) == 4  # the body's options win over the query's


def test_not_ready_until_the_model_is_loaded(digit_images) -> None:
    with in_process({"INKDIGIT_LOAD_DELAY_S": "4"}, wait_ready=False) as c:
        assert c.get("/healthz").status_code == 200
        assert_error(c.get("/readyz"), 503, "model_not_loaded")
        assert_error(c.post("/api/v1/predict", content=digit_images["png"][0], headers=PNG_HEADER), 503,
                     "model_not_loaded")
        for _ in range(100):
            if c.get("/readyz").status_code == 200:
                break
            import time

            time.sleep(0.1)
        assert c.post("/api/v1/predict", content=digit_images["png"][0], headers=PNG_HEADER).status_code == 200




@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process tree from /proc")
def test_limits_and_cors_come_from_settings(digit_images) -> None:
    env = {"INKDIGIT_MAX_UPLOAD_BYTES": "2000", "INKDIGIT_MAX_PIXELS": "10000",
           "INKDIGIT_CORS_ORIGINS": '["http://example.test"]'}
    with in_process(env) as c:
        big = digit_images["cmyk_jpeg"][0]
        assert len(big) > 2000
        assert_error(c.post("/api/v1/predict", content=big, headers={"content-type": "image/jpeg"}), 413,
                     "payload_too_large")
        small_but_wide = encode(Image.new("L", (200, 100), 255))
        assert_error(c.post("/api/v1/predict", content=small_but_wide, headers=PNG_HEADER), 413, "image_too_large")
        pre = c.options("/api/v1/predict", headers={"origin": "http://example.test",
                                                    "access-control-request-method": "POST"})
        assert pre.headers["access-control-allow-origin"] == "http://example.test"
        other = c.get("/healthz", headers={"origin": "http://elsewhere.test"})
        assert "access-control-allow-origin" not in other.headers
