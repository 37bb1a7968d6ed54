"""A signed-in user's history through HTTP: what every read route keeps, listing, paging, filters,
entries and images as kept, deletion, corrections and the zipped export.

Every test runs on SQLite and on PostgreSQL (the ``accounts`` fixture), signed in with a bearer token.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import numpy as np
import pytest
from PIL import Image

from inkdigit.service.config import Settings
from tests.conftest import png_bytes, render
from tests.service.accounts.conftest import Accounts
from tests.service.conftest import encode

PNG = {"content-type": "image/png"}
BAD = b"definitely not an image" * 4


def digit_png(mnist_test: Any, index: int) -> bytes:
    """A canvas-like PNG of one MNIST test digit."""
    return png_bytes(render(mnist_test.images[index]))


def number_png(mnist_test: Any, text: str, size: int = 56, gap: int = 20) -> bytes:
    """A dark-on-white PNG of MNIST test digits (the first of each class) written as ``text``."""
    firsts: dict[int, np.ndarray] = {}
    for img, label in zip(mnist_test.images, mnist_test.labels, strict=True):
        firsts.setdefault(int(label), img)
    crops = []
    for ch in text:
        d = firsts[int(ch)]
        rows, cols = np.flatnonzero(d.max(axis=1) > 40), np.flatnonzero(d.max(axis=0) > 40)
        c = Image.fromarray(d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
        crops.append(np.asarray(c.resize((max(1, round(c.width * size / c.height)), size),
                                         Image.Resampling.BICUBIC)))
    line = np.zeros((size + 2 * gap, sum(c.shape[1] for c in crops) + gap * (len(crops) + 1)), np.uint8)
    x = gap
    for c in crops:
        line[gap:gap + size, x:x + c.shape[1]] = c
        x += c.shape[1] + gap
    return png_bytes(255 - line)


def predict(accounts: Accounts, auth: dict[str, str], image: bytes, source: str = "api") -> dict[str, Any]:
    r = accounts.http.post(f"/api/v1/predict?source={source}", content=image, headers={**PNG, **auth})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert isinstance(body.get("id"), int), body
    return body


def recognize(accounts: Accounts, auth: dict[str, str], image: bytes, source: str = "api") -> dict[str, Any]:
    r = accounts.http.post(f"/api/v1/recognize?source={source}", content=image, headers={**PNG, **auth})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert isinstance(body.get("id"), int), body
    return body


def listing(accounts: Accounts, auth: dict[str, str], **query: Any) -> dict[str, Any]:
    r = accounts.http.get("/api/v1/history", params=query, headers=auth)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def ids(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["items"]]


def assert_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


def without_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "id"}


def test_every_read_route_is_kept_and_listed_newest_first(accounts: Accounts, mnist_test: Any) -> None:
    """predict, predict/batch, recognize and recognize/batch each keep a good image with its id; a
    batch's bad item gets its error and no id, and is not kept; the list is newest first."""
    http, auth = accounts.http, accounts.user("lister@example.com")
    made: list[tuple[int, str, str, str]] = []  # (id, kind, source, answer) in the order they were made

    one = predict(accounts, auth, digit_png(mnist_test, 0), source="canvas")
    made.append((one["id"], "digit", "canvas", str(one["digit"])))

    files = [("files", ("a.png", digit_png(mnist_test, 1), "image/png")), ("files", ("bad.png", BAD, "image/png")),
             ("files", ("b.png", digit_png(mnist_test, 2), "image/png"))]
    r = http.post("/api/v1/predict/batch?source=upload", files=files, headers=auth)
    assert r.status_code == 200, r.text
    good_a, bad, good_b = r.json()["results"]
    assert "error" in bad and bad.get("id") is None
    for item in (good_a, good_b):
        assert isinstance(item["id"], int)
        made.append((item["id"], "digit", "upload", str(item["digit"])))

    number = recognize(accounts, auth, number_png(mnist_test, "42"))
    made.append((number["id"], "number", "api", number["text"]))

    files = [("files", ("n1.png", number_png(mnist_test, "17"), "image/png")),
             ("files", ("n2.png", number_png(mnist_test, "305"), "image/png")),
             ("files", ("bad.png", BAD, "image/png"))]
    r = http.post("/api/v1/recognize/batch?source=canvas", files=files, headers=auth)
    assert r.status_code == 200, r.text
    n1, n2, bad = r.json()["results"]
    assert "error" in bad and bad.get("id") is None
    for item in (n1, n2):
        assert isinstance(item["id"], int)
        made.append((item["id"], "number", "canvas", item["text"]))

    assert len({m[0] for m in made}) == len(made) == 6
    page = listing(accounts, auth)
    assert page["total"] == 6  # the two bad items were not kept
    assert [(i["id"], i["kind"], i["source"], i["answer"]) for i in page["items"]] == made[::-1]
    stamps = [i["created_at"] for i in page["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(i["image_url"] == f"/api/v1/history/{i['id']}/image" for i in page["items"])
    assert all(i["label"] is None and i["corrected"] is False for i in page["items"])


def test_anonymous_batch_reads_carry_no_ids(accounts: Accounts, mnist_test: Any) -> None:
    """Without credentials a batch answers as before: no id in any slot."""
    files = [("files", ("a.png", digit_png(mnist_test, 0), "image/png"))]
    r = accounts.http.post("/api/v1/predict/batch", files=files)
    assert r.status_code == 200 and r.json()["results"][0].get("id") is None


def test_paging_covers_every_entry_once_with_the_total(accounts: Accounts, mnist_test: Any) -> None:
    """offset/limit pages put together are the whole list, in order, each page giving the total."""
    auth = accounts.user("pager@example.com")
    made = [predict(accounts, auth, digit_png(mnist_test, i))["id"] for i in range(7)]
    whole = listing(accounts, auth)
    assert ids(whole) == made[::-1] and whole["total"] == 7
    pages = [listing(accounts, auth, offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all(p["total"] == 7 and p["limit"] == 3 for p in pages)
    assert [p["offset"] for p in pages] == [0, 3, 6]
    assert sum((ids(p) for p in pages), []) == ids(whole)
    past = listing(accounts, auth, offset=50, limit=3)
    assert past["items"] == [] and past["total"] == 7
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "x"}):
        assert_error(accounts.http.get("/api/v1/history", params=bad, headers=auth), 422, "invalid_request")


def test_filters_by_digit_source_kind_and_corrected(accounts: Accounts, mnist_test: Any) -> None:
    """Each filter keeps exactly the entries it names, and the total counts the filtered ones."""
    http, auth = accounts.http, accounts.user("filter@example.com")
    digits = [predict(accounts, auth, digit_png(mnist_test, i), source=("canvas", "upload", "api")[i % 3])
              for i in range(6)]
    number = recognize(accounts, auth, number_png(mnist_test, "38"), source="upload")
    everything = listing(accounts, auth)["items"]
    assert len(everything) == 7

    def expect(query: dict[str, Any], keep: Any) -> None:
        page = listing(accounts, auth, **query)
        want = [i["id"] for i in everything if keep(i)]
        assert ids(page) == want and page["total"] == len(want), query

    for d in range(10):
        expect({"digit": d}, lambda i, d=d: i["answer"] == str(d) or (i["kind"] == "number" and str(d) in i["answer"]))
    read = {int(b["digit"]) for b in digits if b["digit"] is not None} | {int(c) for c in number["text"] if c.isdigit()}
    assert any(listing(accounts, auth, digit=d)["total"] for d in read)  # the filter found something
    for source in ("canvas", "upload", "api"):
        expect({"source": source}, lambda i, s=source: i["source"] == s)
    expect({"kind": "digit"}, lambda i: i["kind"] == "digit")
    expect({"kind": "number"}, lambda i: i["kind"] == "number")
    expect({"kind": "number", "source": "upload"}, lambda i: i["id"] == number["id"])

    wrong = digits[0]
    label = str((int(wrong["digit"] or 0) + 1) % 10)
    assert http.put(f"/api/v1/history/{wrong['id']}/correction", json={"label": label}, headers=auth).status_code == 200
    confirmed = digits[1]  # a label equal to the answer confirms it: not "corrected"
    assert http.put(f"/api/v1/history/{confirmed['id']}/correction", json={"label": str(confirmed["digit"])},
                    headers=auth).json()["corrected"] is False
    assert ids(listing(accounts, auth, corrected="true")) == [wrong["id"]]
    assert wrong["id"] not in ids(listing(accounts, auth, corrected="false"))
    assert listing(accounts, auth, corrected="false")["total"] == 6
    for bad in ({"digit": 10}, {"digit": "x"}, {"source": "pencil"}, {"kind": "letter"}, {"corrected": "maybe"}):
        assert_error(http.get("/api/v1/history", params=bad, headers=auth), 422, "invalid_request")


def test_an_entry_holds_the_body_as_sent(accounts: Accounts, mnist_test: Any) -> None:
    """GET /history/{id} gives the reading and ``result``: the response body as it was sent (less its id)."""
    http, auth = accounts.http, accounts.user("detail@example.com")
    digit = predict(accounts, auth, digit_png(mnist_test, 3), source="canvas")
    number = recognize(accounts, auth, number_png(mnist_test, "905"))
    files = [("files", ("a.png", digit_png(mnist_test, 4), "image/png"))]
    batch_item = http.post("/api/v1/predict/batch", files=files, headers=auth).json()["results"][0]
    for body, kind, answer in ((digit, "digit", str(digit["digit"])), (number, "number", number["text"]),
                               (batch_item, "digit", str(batch_item["digit"]))):
        r = http.get(f"/api/v1/history/{body['id']}", headers=auth)
        assert r.status_code == 200, r.text
        detail = r.json()
        assert detail["result"] == without_id(body)
        assert detail["id"] == body["id"] and detail["kind"] == kind and detail["answer"] == answer
        assert detail["model"] == body["model"] and detail["confidence"] == pytest.approx(body["confidence"])
        assert detail["elapsed_ms"] == pytest.approx(body["elapsed_ms"])


def test_debug_images_are_not_kept(accounts: Accounts, mnist_test: Any) -> None:
    """A debug read's images (stages, digit pieces: large data URLs) are kept as null; the rest is kept."""
    http, auth = accounts.http, accounts.user("debug@example.com")
    r = http.post("/api/v1/predict?debug=true", content=digit_png(mnist_test, 0), headers={**PNG, **auth})
    body = r.json()
    assert body["stages"]
    result = http.get(f"/api/v1/history/{body['id']}", headers=auth).json()["result"]
    assert result == {**without_id(body), "stages": None}

    r = http.post("/api/v1/recognize?debug=true", content=number_png(mnist_test, "42"), headers={**PNG, **auth})
    body = r.json()
    assert body["digits"] and all(d["image"] for d in body["digits"])
    result = http.get(f"/api/v1/history/{body['id']}", headers=auth).json()["result"]
    assert result == {**without_id(body), "digits": [{**d, "image": None} for d in body["digits"]]}


def test_a_small_image_is_returned_byte_for_byte(accounts: Accounts, mnist_test: Any) -> None:
    """An image under the cap comes back exactly as sent, with its media type."""
    http, auth = accounts.http, accounts.user("small@example.com")
    drawn = Image.fromarray(render(mnist_test.images[5]).astype(np.uint8))
    for image, media_type in ((png_bytes(drawn), "image/png"), (encode(drawn, "JPEG", quality=90), "image/jpeg")):
        r = http.post("/api/v1/predict", content=image, headers={"content-type": media_type, **auth})
        assert r.status_code == 200, r.text
        got = http.get(f"/api/v1/history/{r.json()['id']}/image", headers=auth)
        assert got.status_code == 200
        assert got.content == image and got.headers["content-type"] == media_type


def test_a_large_image_is_kept_reduced_under_the_cap(accounts: Accounts, mnist_test: Any) -> None:
    """An image of several MB (under the upload limit) is read, and kept as a smaller picture of the
    same shape that fits ``history_image_max_bytes``."""
    http, auth = accounts.http, accounts.user("large@example.com")
    settings = Settings()  # the ``accounts`` app's limits are the defaults
    rng = np.random.default_rng(15)
    noisy = rng.integers(0, 256, size=(1200, 1500, 3), dtype=np.uint8)  # incompressible: ~5.4 MB as PNG
    image = png_bytes(noisy)
    assert settings.history_image_max_bytes < 4 << 20 < len(image) <= settings.max_upload_bytes
    r = http.post("/api/v1/predict", content=image, headers={**PNG, **auth})
    assert r.status_code == 200, r.text
    got = http.get(f"/api/v1/history/{r.json()['id']}/image", headers=auth)
    assert got.status_code == 200
    assert len(got.content) <= settings.history_image_max_bytes
    assert got.headers["content-type"] in ("image/png", "image/jpeg")
    with Image.open(io.BytesIO(got.content)) as kept:
        kept.load()
        assert kept.format == got.headers["content-type"].split("/")[1].upper()
        assert max(kept.size) < 1500
        assert kept.width / kept.height == pytest.approx(1500 / 1200, rel=0.02)
    assert listing(accounts, auth)["total"] == 1


def test_deleting_an_entry_removes_it_and_its_image(accounts: Accounts, mnist_test: Any) -> None:
    """DELETE answers 204 once; afterwards the entry, its image and a second DELETE are 404."""
    http, auth = accounts.http, accounts.user("deleter@example.com")
    keep, gone = (predict(accounts, auth, digit_png(mnist_test, i))["id"] for i in range(2))
    r = http.delete(f"/api/v1/history/{gone}", headers=auth)
    assert r.status_code == 204 and r.content == b""
    assert_error(http.get(f"/api/v1/history/{gone}", headers=auth), 404, "not_found")
    assert_error(http.get(f"/api/v1/history/{gone}/image", headers=auth), 404, "not_found")
    assert_error(http.delete(f"/api/v1/history/{gone}", headers=auth), 404, "not_found")
    assert_error(http.put(f"/api/v1/history/{gone}/correction", json={"label": "1"}, headers=auth), 404, "not_found")
    page = listing(accounts, auth)
    assert ids(page) == [keep] and page["total"] == 1
    assert http.get(f"/api/v1/history/{keep}/image", headers=auth).status_code == 200


def test_corrections_are_validated_recorded_and_withdrawn(accounts: Accounts, mnist_test: Any) -> None:
    """A digit reading takes one digit (or "" for none), a number a digit string; anything else is a
    422 with a stable code and changes nothing; DELETE withdraws a correction."""
    http, auth = accounts.http, accounts.user("corrector@example.com")
    digit = predict(accounts, auth, digit_png(mnist_test, 0))
    number = recognize(accounts, auth, number_png(mnist_test, "42"))
    url = f"/api/v1/history/{digit['id']}/correction"

    assert_error(http.put(url, json={"label": "12"}, headers=auth), 422, "invalid_label")
    for bad in ({"label": "x"}, {"label": "-1"}, {"label": 4}, {"label": None}, {}, {"label": "4", "extra": 1}):
        assert_error(http.put(url, json=bad, headers=auth), 422, "invalid_request")
    assert_error(http.put(url, content=b"{not json", headers={"content-type": "application/json", **auth}),
                 422, "invalid_request")
    assert_error(http.put("/api/v1/history/not-a-number/correction", json={"label": "1"}, headers=auth),
                 422, "invalid_request")
    detail = http.get(f"/api/v1/history/{digit['id']}", headers=auth).json()
    assert detail["label"] is None and detail["labelled_at"] is None  # the refused labels changed nothing

    wrong = str((int(digit["digit"] or 0) + 1) % 10)
    r = http.put(url, json={"label": wrong}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["label"] == wrong and r.json()["corrected"] is True and r.json()["labelled_at"]
    detail = http.get(f"/api/v1/history/{digit['id']}", headers=auth).json()
    assert detail["label"] == wrong and detail["corrected"] is True
    assert detail["answer"] == str(digit["digit"])  # the answer stays what was said

    nothing = http.put(url, json={"label": ""}, headers=auth)  # "there is no digit here"
    assert nothing.status_code == 200 and nothing.json()["label"] == ""

    r = http.delete(url, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["label"] is None and r.json()["labelled_at"] is None and r.json()["corrected"] is False
    detail = http.get(f"/api/v1/history/{digit['id']}", headers=auth).json()
    assert detail["label"] is None and detail["corrected"] is False
    assert listing(accounts, auth, corrected="true")["total"] == 0

    n_url = f"/api/v1/history/{number['id']}/correction"
    r = http.put(n_url, json={"label": "4217"}, headers=auth)  # a number takes a digit string
    assert r.status_code == 200 and r.json()["label"] == "4217" and r.json()["corrected"] is (number["text"] != "4217")
    assert_error(http.put(n_url, json={"label": "42a"}, headers=auth), 422, "invalid_request")


def test_export_holds_every_entry_and_image(accounts: Accounts, mnist_test: Any) -> None:
    """The zip has history.csv with one row per entry (labels included) and every image as kept."""
    http, auth = accounts.http, accounts.user("exporter@example.com")
    made = [predict(accounts, auth, digit_png(mnist_test, i), source="canvas") for i in range(3)]
    made.append(recognize(accounts, auth, number_png(mnist_test, "61")))
    gone = predict(accounts, auth, digit_png(mnist_test, 9))["id"]
    assert http.delete(f"/api/v1/history/{gone}", headers=auth).status_code == 204
    label = str((int(made[0]["digit"] or 0) + 1) % 10)
    assert http.put(f"/api/v1/history/{made[0]['id']}/correction", json={"label": label},
                    headers=auth).status_code == 200

    r = http.get("/api/v1/history/export", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.testzip() is None
        rows = list(csv.DictReader(io.StringIO(archive.read("history.csv").decode())))
        assert sorted(int(row["id"]) for row in rows) == sorted(b["id"] for b in made)
        images = {name for name in archive.namelist() if name != "history.csv"}
        assert images == {row["image"] for row in rows}
        by_id = {int(row["id"]): row for row in rows}
        for body in made:
            row = by_id[body["id"]]
            kept = http.get(f"/api/v1/history/{body['id']}/image", headers=auth).content
            assert archive.read(row["image"]) == kept
            assert row["kind"] == ("number" if "text" in body else "digit")
            assert row["answer"] == (body["text"] if "text" in body else str(body["digit"]))
            assert row["model"] == body["model"]
        assert by_id[made[0]["id"]]["label"] == label and by_id[made[0]["id"]]["labelled_at"]
        assert all(by_id[b["id"]]["label"] == "" for b in made[1:])


def test_an_empty_history_exports_a_header_only(accounts: Accounts) -> None:
    """A user with no readings gets a valid zip holding only the CSV header."""
    auth = accounts.user("empty@example.com")
    assert listing(accounts, auth) == {"items": [], "total": 0, "offset": 0, "limit": 50}
    r = accounts.http.get("/api/v1/history/export", headers=auth)
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.namelist() == ["history.csv"]
        rows = list(csv.reader(io.StringIO(archive.read("history.csv").decode())))
        assert len(rows) == 1 and rows[0][0] == "id"
