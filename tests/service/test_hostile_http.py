"""The hostile-input corpus against a real server: never a 5xx, always the error shape, still serving.

Every file of ``tests/hostile/corpus.py`` is posted raw to /predict and /recognize and inside a
batch beside a good image (whose answer must survive it), then malformed multipart and JSON bodies.
After each request the server must still answer /healthz.
"""

from __future__ import annotations

import httpx
import pytest

from tests.hostile.corpus import Case, cases

CASES = cases()
GOOD = next(c for c in CASES if c.name == "apng-digit-400-frames.png").data  # a readable 9


def _check(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        err = r.json()["error"]
        assert err["code"] and err["message"], what


@pytest.fixture(scope="module")
def http(server: str):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_file(http: httpx.Client, case: Case) -> None:
    for path in ("/api/v1/predict", "/api/v1/recognize"):
        r = http.post(path, content=case.data, headers={"content-type": "application/octet-stream"})
        _check(r, f"{case.name} → {path}")
        if case.must_refuse:
            assert r.status_code >= 400, f"{case.name} → {path} was read"
    files = [("files", ("good.png", GOOD, "image/png")), ("files", (case.name, case.data, "application/octet-stream"))]
    r = http.post("/api/v1/predict/batch", files=files)
    _check(r, f"{case.name} in a batch")
    if r.status_code == 200:  # a bad image gets its error in its slot, the good one its answer
        results = r.json()["results"]
        assert results[0]["digit"] == 9
        if case.must_refuse:
            assert "error" in results[1]
    assert http.get("/healthz").status_code == 200


def test_a_bad_image_in_a_batch_keeps_its_slot(http: httpx.Client) -> None:
    """The issue's case: a good PNG plus a 2×6000 PNG gave 500 for the whole batch."""
    strip = next(c for c in CASES if c.name == "extreme-2x6000.png").data
    bad = next(c for c in CASES if c.name == "tiles-2^31x2^31.tiff").data
    files = [("files", ("a.png", GOOD, "image/png")), ("files", ("b.png", strip, "image/png")),
             ("files", ("c.tiff", bad, "image/tiff"))]
    for path in ("/api/v1/predict/batch", "/api/v1/recognize/batch"):
        r = http.post(path, files=files)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert len(results) == 3
        assert results[2]["error"]["code"] == "corrupt_image"
        assert "error" not in results[0]


_PART = b"--x\r\nContent-Disposition: form-data; name="
MULTIPART = [
    ("no boundary", "multipart/form-data", _PART + b"\"file\"\r\n\r\nabc\r\n--x--\r\n"),
    ("wrong boundary", "multipart/form-data; boundary=y", _PART + b"\"file\"\r\n\r\n"),
    ("never closed", "multipart/form-data; boundary=x", _PART + b"\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG"),
    ("no headers", "multipart/form-data; boundary=x", b"--x\r\n\r\n\r\n--x--\r\n"),
    ("header line 100 KB", "multipart/form-data; boundary=x",
     _PART + b"\"file\"; filename=\"" + b"a" * 100_000 + b"\"\r\n\r\nx\r\n--x--\r\n"),
    ("5000 fields", "multipart/form-data; boundary=x",
     b"".join(_PART + b"\"f%d\"\r\n\r\nv\r\n" % i for i in range(5000)) + b"--x--\r\n"),
    ("empty", "multipart/form-data; boundary=x", b""),
    ("boundary 5000 chars", "multipart/form-data; boundary=" + "b" * 5000, b"--" + b"b" * 5000 + b"--\r\n"),
    ("binary garbage", "multipart/form-data; boundary=x", bytes(range(256)) * 64),
    ("file field is text", "multipart/form-data; boundary=x",
     b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nnot a file\r\n--x--\r\n"),
]


@pytest.mark.parametrize("name,ctype,body", MULTIPART, ids=[m[0] for m in MULTIPART])
def test_malformed_multipart(http: httpx.Client, name: str, ctype: str, body: bytes) -> None:
    for path in ("/api/v1/predict", "/api/v1/recognize", "/api/v1/predict/batch"):
        r = http.post(path, content=body, headers={"content-type": ctype})
        _check(r, f"{name} → {path}")
        assert r.status_code >= 400, f"{name} → {path}"
    assert http.get("/healthz").status_code == 200


JSON = [
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("objects nested deep", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("image nested", b'{"image": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
    ("unclosed", b'{"image": "abc'),
    ("not utf-8", b'{"image": "\xff\xfe"}'),
    ("huge number", b'{"image": "iVBORw0KGgo=", "top_k": 1e999999}'),
    ("image a number", b'{"image": 12345}'),
    ("null", b"null"),
    ("array", b'["image"]'),
    ("whitespace 1 MB", b" " * 1_000_000),
    ("NaN option", b'{"image": "iVBORw0KGgo=", "top_k": NaN}'),
    ("many keys", b"{" + b",".join(b'"k%d": 1' % i for i in range(100_000)) + b"}"),
    ("int of 4,301 digits", b'{"image": "iVBORw0KGgo=", "top_k": ' + b"9" * 4301 + b"}"),
]


@pytest.mark.parametrize("name,body", JSON, ids=[j[0] for j in JSON])
def test_malformed_json(http: httpx.Client, name: str, body: bytes) -> None:
    for path in ("/api/v1/predict", "/api/v1/recognize"):
        r = http.post(path, content=body, headers={"content-type": "application/json"})
        _check(r, f"{name} → {path}")
        assert r.status_code >= 400, f"{name} → {path}"
    assert http.get("/healthz").status_code == 200
