"""Reading in the browser (issue 17), in Chromium against a real ``inkdigit serve``: drawings read in
the page with the network off and with the server stopped, after one load; the page's answers and
28×28 images the same as the server's for canvases Chromium drew; the server reading whatever the
page cannot (a model it cannot run, a runtime that did not load); and a signed-in user's drawings
read offline (before and after a reload) reaching the account's history, once each, when the
connection returns."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.modelcard import ModelCard
from inkdigit.engine.preprocess import preprocess
from inkdigit.engine.store import shipped_dir
from tests.conftest import png_bytes
from tests.service.conftest import free_port, running_server
from tests.web.test_accounts_pages import Site, context, sign_in, site
from tests.web.test_app import ONE, SEVEN, TIMEOUT, ZERO, draw, expect_digit

__all__ = ["context", "site"]

FOUR = [[(0.3, 0.15), (0.22, 0.6), (0.78, 0.6)], [(0.62, 0.3), (0.62, 0.9)]]
HERE = "in this page"
A_ONE = np.zeros((64, 64), np.uint8)
A_ONE[8:56, 29:35] = 255


def ready_offline(page: Page, model: str = DEFAULT_MODEL) -> None:
    """Wait until the page reads drawings itself and its service worker keeps what it needs."""
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    # (functions, not expressions: polling an expression evals it, which the page's policy forbids)
    page.wait_for_function(f"() => caches.match('/api/v1/models/{model}/onnx').then(Boolean)", timeout=20_000)
    page.wait_for_function("() => caches.match('/static/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm')"
                           ".then(Boolean)", timeout=20_000)


def clear(page: Page) -> None:
    """Clear the canvas if anything is on it (the button is off on an empty one)."""
    if page.get_by_test_id("clear-button").is_enabled():
        page.get_by_test_id("clear-button").click()


def read_three(page: Page) -> None:
    for strokes, digit in ((ONE, "1"), (SEVEN, "7"), (ZERO, "0")):
        draw(page, strokes)
        expect_digit(page, digit)
        expect(page.locator("#message")).to_contain_text(f"Read {HERE} by {DEFAULT_MODEL}")
        page.get_by_test_id("clear-button").click()


@pytest.fixture
def fresh(browser) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def test_drawings_are_read_in_the_page_with_the_network_off(fresh: BrowserContext, web_server: str) -> None:
    page = fresh.new_page()
    page.goto(web_server)
    ready_offline(page)
    fresh.set_offline(True)
    page.reload()  # the page itself, its scripts, the runtime and the model: all from the service worker
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-reader", "page", timeout=20_000)
    expect(connection).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    expect(connection).to_have_text("offline · reading here")
    read_three(page)
    expect(page.locator("#error")).to_be_hidden()


def test_drawings_are_read_with_the_server_stopped(fresh: BrowserContext) -> None:
    port = free_port()
    page = fresh.new_page()
    with running_server(port=port) as url:
        page.goto(url)
        ready_offline(page)
    page.reload()  # the server is gone
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    read_three(page)
    # an upload still needs the server, and says so
    page.get_by_test_id("file-input").set_input_files(files=[{"name": "a.png", "mimeType": "image/png",
                                                              "buffer": png_bytes(A_ONE)}])
    expect(page.locator("#error")).to_contain_text("cannot be reached", timeout=TIMEOUT)


# the page's reader and the server, on the canvas Chromium drew: both answers, the page's 28×28
# image and the canvas as the PNG the server is sent
COMPARE = """async () => {
  const canvas = document.querySelector('[data-testid=draw-canvas]');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const { createLocalReader } = await import('/static/js/localreader.mjs');
  const { preprocessCanvas } = await import('/static/js/preprocess.mjs');
  const models = (await (await fetch('/api/v1/models')).json()).models;
  const reader = createLocalReader();
  await reader.prepare(models, '');
  const here = await reader.read(pixels);
  const card = await (await fetch('/api/v1/models/' + reader.model + '/card')).json();
  const pre = preprocessCanvas(pixels, card.preprocessing);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  const server = await (await fetch('/api/v1/predict?top_k=10', {method: 'POST', body: blob,
                                     headers: {'content-type': 'image/png'}})).json();
  return {here, server, image: Array.from(pre.image), png: canvas.toDataURL('image/png')};
}"""

DRAWINGS = [(ONE, 1.0, (0.0, 0.0)), (SEVEN, 1.0, (0.0, 0.0)), (ZERO, 1.0, (0.0, 0.0)), (FOUR, 1.0, (0.0, 0.0)),
            (SEVEN, 0.3, (0.65, 0.05)), (ZERO, 0.5, (0.1, 0.45)), (ONE, 0.4, (0.3, 0.3)), (FOUR, 0.6, (0.35, 0.0))]


@pytest.mark.parametrize("width", ["4", "12", "30"])
def test_the_page_reads_chromium_canvases_as_the_server_does(page: Page, width: str) -> None:
    """Parity on canvases drawn in Chromium with the mouse (thin, medium and thick pens; large, small
    and off-centre digits): the same 28×28 image within 1e-4, the same answer, probabilities within
    1e-4 (measured: 0 and about 1e-6; the fixture's thousands of renderings are tests/web/js)."""
    card = ModelCard.load(shipped_dir() / f"{DEFAULT_MODEL}.json")
    page.locator("#stroke-width").fill(width)
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    for strokes, scale, origin in DRAWINGS:
        clear(page)
        draw(page, strokes, scale=scale, origin=origin)
        got = page.evaluate(COMPARE)
        here, server = got["here"], got["server"]
        assert here is not None and here["where"] == "browser" and here["model"] == server["model"]
        png = base64.b64decode(got["png"].split(",", 1)[1])
        expected = preprocess(png, card.preprocess_config()).image
        mine = np.asarray(got["image"], dtype=np.float32).reshape(expected.shape)
        assert float(np.abs(mine - expected).max()) <= 1e-4, (width, scale, origin)
        assert (here["digit"], here["is_digit"], here["is_empty"]) == (server["digit"], server["is_digit"],
                                                                        server["is_empty"])
        assert np.abs(np.array(here["probabilities"]) - np.array(server["probabilities"])).max() <= 1e-4
        assert [t["digit"] for t in here["top"][:3]] == [t["digit"] for t in server["top"][:3]]


def test_a_model_the_page_cannot_run_is_read_by_the_server(page: Page) -> None:
    """cnn-v1's card names preprocessing v1, which the page has no port of: the server reads."""
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    page.get_by_test_id("model-select").select_option("cnn-v1")
    expect(page.locator("#connection")).to_have_attribute("data-reader", "server", timeout=TIMEOUT)
    expect(page.locator("#connection")).to_have_text("connected")
    draw(page, SEVEN)
    expect_digit(page, "7")
    expect(page.locator("#message")).to_contain_text("Read by cnn-v1 in")
    page.get_by_test_id("model-select").select_option(DEFAULT_MODEL)
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    page.get_by_test_id("clear-button").click()
    draw(page, SEVEN)
    expect(page.locator("#message")).to_contain_text(f"Read {HERE} by {DEFAULT_MODEL}", timeout=TIMEOUT)


def test_without_the_runtime_the_server_reads(fresh: BrowserContext, web_server: str) -> None:
    """A browser that cannot load ONNX Runtime Web (here: its files blocked) reads with the server."""
    fresh.route("**/onnxruntime-web/**", lambda route: route.abort())
    page = fresh.new_page()
    page.goto(web_server)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    draw(page, ONE)
    expect_digit(page, "1")
    expect(page.locator("#message")).to_contain_text(f"Read by {DEFAULT_MODEL} in")
    expect(page.locator("#connection")).to_have_attribute("data-reader", "server")


def test_a_signed_in_users_offline_drawings_reach_the_history_when_back(context: BrowserContext,
                                                                         site: Site) -> None:
    email = site.user()
    sign_in(context, site, email)
    page = context.new_page()
    page.goto(site.url)
    expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)
    ready_offline(page)

    def history() -> list[dict]:  # type: ignore[type-arg]
        r = context.request.get(site.url + "/api/v1/history?limit=50")
        assert r.ok, r.text()
        return list(r.json()["items"])

    before = len(history())
    context.set_offline(True)
    for strokes, digit in ((SEVEN, "7"), (ONE, "1")):
        clear(page)
        draw(page, strokes)
        expect_digit(page, digit)
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    assert page.evaluate("JSON.parse(localStorage.getItem('inkdigit.pending')).length") == 2
    # reloaded offline, the page cannot ask who is signed in: the account last seen keeps the drawing
    page.reload()
    expect(page.locator("#connection")).to_have_attribute("data-reader", "page", timeout=20_000)
    draw(page, ZERO)
    expect_digit(page, "0")
    page.wait_for_function("() => JSON.parse(localStorage.getItem('inkdigit.pending') || '[]').length === 3",
                           timeout=TIMEOUT)
    context.set_offline(False)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=20_000)
    expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)
    page.wait_for_function("() => JSON.parse(localStorage.getItem('inkdigit.pending') || '[]').length === 0",
                           timeout=20_000)
    # the two kept drawings, and the one on the canvas (read by the server again as it came back): once each
    page.wait_for_timeout(1000)
    items = history()
    assert len(items) == before + 3, [i["answer"] for i in items]
    assert sorted(i["answer"] for i in items[:3]) == ["0", "1", "7"]
    assert all(i["source"] == "canvas" for i in items[:3])
    # signing out forgets, in this browser, the account last seen and anything still kept for it
    assert page.evaluate("localStorage.getItem('inkdigit.user')") is not None
    kept = "[{user: 'x', drawing: 'd', png: '', at: 0}]"
    page.evaluate(f"localStorage.setItem('inkdigit.pending', JSON.stringify({kept}))")
    page.goto(site.url + "/account")
    page.locator("#sign-out").click()
    page.wait_for_url("**/?signed-out", timeout=TIMEOUT)
    assert page.evaluate("[localStorage.getItem('inkdigit.user'), localStorage.getItem('inkdigit.pending')]") == [
        None, None]
