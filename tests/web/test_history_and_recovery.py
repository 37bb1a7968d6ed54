"""History as a new user meets it (thumbnails in both themes, a time per entry, entries opened
again, the panel's percentages, a bounded list) and recovery (the page re-reads what it kept when
the server comes back; a model installed while the page is open appears without a reload), in
Chromium against a real ``inkdigit serve``."""

from __future__ import annotations

import base64
import io
import json
import time
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.service.conftest import free_port, running_server
from tests.service.test_model_discovery import install_copy
from tests.web.test_app import ONE, SEVEN, TIMEOUT, ZERO, draw, expect_digit


def contrast(page: Page, selector: str) -> int:
    """The spread of luminance (0..255) in a screenshot of the element: ink visible on its background."""
    shot = page.locator(selector).screenshot()
    grey = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=int)
    return int(np.percentile(grey, 99.5) - np.percentile(grey, 0.5))


def test_history_thumbnails_stay_visible_after_a_theme_switch(browser, web_server: str) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        page = context.new_page()
        page.goto(web_server)
        draw(page, ONE)
        expect_digit(page, "1")
        thumb = "[data-testid=history] li img"
        expect(page.locator(thumb)).to_have_count(1, timeout=TIMEOUT)
        assert contrast(page, thumb) > 120, f"thumbnail not visible in the {scheme} theme it was drawn in"
        page.locator("#theme-toggle").click()
        switched = page.evaluate("() => getComputedStyle(document.documentElement).colorScheme")
        assert switched != scheme
        assert contrast(page, thumb) > 120, f"thumbnail drawn in {scheme} invisible after switching to {switched}"
        context.close()


def test_history_entries_show_their_time_and_open_again(page: Page) -> None:
    draw(page, ONE)
    expect_digit(page, "1")
    first_confidence = page.get_by_test_id("prediction-confidence").inner_text()
    page.get_by_test_id("clear-button").click()
    draw(page, ZERO)
    expect_digit(page, "0")
    entries = page.get_by_test_id("history").locator("li")
    expect(entries).to_have_count(2)
    for i in range(2):
        when = entries.nth(i).locator("time")
        expect(when).to_have_count(1)
        stamp = when.get_attribute("datetime")
        assert stamp and abs(page.evaluate("(s) => Date.now() - Date.parse(s)", stamp)) < 120_000
        assert when.inner_text().strip()
    older = entries.nth(1)
    src = older.locator("img").get_attribute("src")
    older.get_by_role("button").click()  # the first reading, shown again
    expect_digit(page, "1")
    expect(page.get_by_test_id("prediction-confidence")).to_have_text(first_confidence)
    shown = page.get_by_test_id("history-shown")
    expect(shown).to_be_visible()
    assert shown.get_attribute("src") == src
    expect(page.locator("#message")).to_contain_text("history")
    # drawing again replaces it with the fresh reading
    draw(page, [[(0.3, 0.55), (0.7, 0.55)]])
    expect(shown).to_be_hidden(timeout=TIMEOUT)
    expect(page.get_by_test_id("prediction-digit")).not_to_have_text("1", timeout=TIMEOUT)


def test_history_shows_the_panels_percentage(page: Page) -> None:
    draw(page, ONE)
    expect_digit(page, "1")
    panel = page.get_by_test_id("prediction-confidence").inner_text().replace(" sure", "").strip()
    assert panel.endswith("%") and "." in panel  # e.g. 99.7%
    entry = page.get_by_test_id("history").locator("li").first
    expect(entry).to_contain_text(panel)


def _thumb() -> str:
    img = Image.new("L", (64, 64), 255)
    img.paste(0, (30, 8, 34, 56))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_fifty_entries_keep_the_page_short(browser, web_server: str) -> None:
    now = int(time.time() * 1000)
    thumb = _thumb()
    items = [{"digit": i % 10, "confidence": 0.9, "at": now - i * 60_000, "thumb": thumb} for i in range(49)]
    items.append({"digit": 3, "confidence": 0.5, "at": now - 86_400_000 * 3, "thumb": None})  # an old-style entry
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(web_server)
    empty_height = page.evaluate("() => document.documentElement.scrollHeight")
    page.evaluate("(v) => localStorage.setItem('inkdigit.history', v)", json.dumps(items))
    page.reload()
    entries = page.get_by_test_id("history").locator("li")
    expect(entries).to_have_count(50)
    expect(entries.nth(49).locator("time")).to_have_count(1)  # old entries load, with their time
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 1300, f"50 history entries make the page {height}px tall (empty: {empty_height}px)"
    scroll = page.evaluate("""() => { const l = document.querySelector('[data-testid=history]');
        return [l.scrollHeight, l.clientHeight]; }""")
    assert scroll[0] > scroll[1]  # the list scrolls on its own
    context.close()
    # on a phone too the list keeps to part of the screen
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(web_server)
    page.evaluate("(v) => localStorage.setItem('inkdigit.history', v)", json.dumps(items))
    page.reload()
    expect(page.get_by_test_id("history").locator("li")).to_have_count(50)
    box = page.get_by_test_id("history").bounding_box()
    assert box and box["height"] <= 0.6 * 800 + 1, box
    context.close()


def serve_on(port: int, env: dict[str, str]) -> AbstractContextManager[str]:
    """``inkdigit serve`` on a given port (so that it can be stopped and started again there), once ready."""
    return running_server(env, port=port)


def server_reads(context: BrowserContext) -> None:
    """The page as a browser without ONNX Runtime Web has it (its files blocked): every drawing goes to
    the server, as uploads and numbers always do. The page otherwise reads one digit itself, through
    an outage too (tests/web/test_in_browser.py), and these tests are about the server's path."""
    context.route("**/onnxruntime-web/**", lambda route: route.abort())


def test_after_an_outage_the_kept_drawing_is_read_again(browser, tmp_path: Path) -> None:
    port, models = free_port(), tmp_path / "models"
    models.mkdir()
    env = {"INKDIGIT_MODEL_DIR": str(models)}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    server_reads(context)
    page = context.new_page()
    connection = page.locator("#connection")
    with serve_on(port, env) as url:
        page.goto(url)
        expect(connection).to_have_attribute("data-state", "online", timeout=TIMEOUT)
        draw(page, ONE)
        expect_digit(page, "1")
        before = len(page.request.get(f"{url}/api/v1/models").json()["models"])
        expect(page.get_by_test_id("model-select").locator("option")).to_have_count(before, timeout=TIMEOUT)
    # the server is down: the next drawing cannot be read, and is kept
    page.get_by_test_id("clear-button").click()
    draw(page, SEVEN)
    expect(page.locator("#error")).to_contain_text("cannot be reached", timeout=TIMEOUT)
    expect(connection).to_have_attribute("data-state", "offline")
    install_copy(models, "cnn-late")  # installed during the outage
    with serve_on(port, env):
        expect(connection).to_have_attribute("data-state", "online", timeout=20_000)
        expect_digit(page, "7")  # the kept drawing, read again
        expect(page.locator("#error")).to_be_hidden()
        options = page.get_by_test_id("model-select").locator("option")
        expect(options).to_have_count(before + 1, timeout=TIMEOUT)
        expect(page.get_by_test_id("model-select").locator("option[value=cnn-late]")).to_have_count(1)
    context.close()


def test_a_server_back_but_still_loading_is_waited_for(browser, tmp_path: Path) -> None:
    """The page took /healthz (which answers before the models load) for "back": its one re-read
    got a 503 that nothing retried, and the model list came back empty. It now waits for /readyz."""
    port = free_port()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    server_reads(context)
    page = context.new_page()
    connection = page.locator("#connection")
    with serve_on(port, {}) as url:
        page.goto(url)
        expect(connection).to_have_attribute("data-state", "online", timeout=TIMEOUT)
        # the server's list, not what the select shows at this instant ("loading…" until it is read)
        options = len(page.request.get(f"{url}/api/v1/models").json()["models"])
        expect(page.get_by_test_id("model-select").locator("option")).to_have_count(options, timeout=TIMEOUT)
    draw(page, SEVEN)
    expect(connection).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    with serve_on(port, {"INKDIGIT_LOAD_DELAY_S": "5"}):
        expect_digit(page, "7")
        expect(page.locator("#error")).to_be_hidden()
        expect(page.get_by_test_id("model-select").locator("option")).to_have_count(options)
    context.close()


def test_a_model_installed_while_the_page_is_open_appears(browser, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    with serve_on(free_port(), {"INKDIGIT_MODEL_DIR": str(models)}) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        select = page.get_by_test_id("model-select")
        expect(select).to_be_enabled(timeout=TIMEOUT)
        chosen = select.input_value()
        before = select.locator("option").count()
        install_copy(models, "cnn-late")
        page.evaluate("() => window.dispatchEvent(new Event('focus'))")  # the user comes back to the tab
        expect(select.locator("option")).to_have_count(before + 1, timeout=TIMEOUT)
        expect(select.locator("option[value=cnn-late]")).to_contain_text("cnn")
        expect(select).to_have_value(chosen)  # the choice is kept
        select.select_option("cnn-late")
        draw(page, ONE)
        expect_digit(page, "1")
        expect(page.locator("#message")).to_contain_text("cnn-late")
        context.close()
