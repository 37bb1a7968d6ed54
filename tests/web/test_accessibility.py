"""axe-core (vendored under tests/web/vendor, never served by the app) run in Chromium against every
state of the page a user meets: no serious or critical accessibility violation in any of them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import png_bytes
from tests.web.test_app import ONE, SEVEN, TIMEOUT, ZERO, draw, expect_digit
from tests.web.test_number_mode import write

AXE = Path(__file__).with_name("vendor") / "axe.min.js"


# axe leaves colour contrast "incomplete" where it cannot compute it (text over a canvas or an
# image): that needs a person to look; every other serious "incomplete" result counts as a violation
NEEDS_A_PERSON = {"color-contrast", "color-contrast-enhanced"}


def violations(page: Page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now (and the serious and critical
    results it could not decide, other than colour contrast)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document);
        const list = (kind, items) => items.map((v) => ({ kind, id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })) }));
        return [...list('violation', r.violations), ...list('incomplete', r.incomplete)];
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")
            and (v["kind"] == "violation" or v["id"] not in NEEDS_A_PERSON)]


def assert_clean(page: Page, state: str) -> None:
    bad = violations(page)
    assert not bad, f"{state}: {len(bad)} serious/critical axe violations:\n" + json.dumps(bad, indent=1)


def _empty(page: Page) -> None:
    pass


def _answer(page: Page) -> None:
    draw(page, SEVEN)
    expect_digit(page, "7")


def _stages(page: Page) -> None:
    _answer(page)
    page.locator("#stages-panel summary").click()
    expect(page.get_by_test_id("stages").locator("img")).to_have_count(8, timeout=TIMEOUT)


def _number(page: Page) -> None:
    page.get_by_test_id("mode-number").check()
    write(page, "417")
    expect(page.get_by_test_id("prediction-digit")).to_have_text("417", timeout=TIMEOUT)


def _history(page: Page) -> None:
    for strokes, digit in ((ONE, "1"), (ZERO, "0")):
        draw(page, strokes)
        expect_digit(page, digit)
        page.get_by_test_id("clear-button").click()
    entries = page.get_by_test_id("history").locator("li")
    expect(entries).to_have_count(2)
    entries.nth(1).get_by_role("button").click()  # an entry opened again
    expect_digit(page, "1")


def _dark(page: Page) -> None:
    page.locator("#theme-toggle").click()
    assert page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == "dark"
    _history(page)
    page.get_by_test_id("draw-canvas").scroll_into_view_if_needed()
    draw(page, SEVEN)
    expect_digit(page, "7")


def _error(page: Page, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("this is a text file, not a picture")
    page.get_by_test_id("file-input").set_input_files(str(notes))
    expect(page.locator("#error")).to_contain_text("not an image", timeout=TIMEOUT)


def _offline(page: Page) -> None:
    """Offline, with the error an upload gets (an upload always needs the server; a drawing may be
    read in the page, once its reader has loaded, and then shows no error: a race this avoids)."""
    page.context.set_offline(True)
    page.get_by_test_id("file-input").set_input_files(files=[{"name": "one.png", "mimeType": "image/png",
                                                              "buffer": png_bytes(_A_ONE)}])
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    expect(page.locator("#error")).to_be_visible(timeout=TIMEOUT)


_A_ONE = np.zeros((64, 64), np.uint8)
_A_ONE[8:56, 29:35] = 255

STATES: dict[str, Callable[..., None]] = {
    "empty": _empty, "answer": _answer, "stages": _stages, "number": _number, "history": _history,
    "dark": _dark, "error": _error, "offline": _offline,
}


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_violations(browser, web_server: str, tmp_path: Path, state: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(web_server)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    expect(page.get_by_test_id("model-select")).not_to_contain_text("loading", timeout=TIMEOUT)
    fn = STATES[state]
    if state == "error":
        fn(page, tmp_path)
    else:
        fn(page)
    time.sleep(0.2)  # transitions (the bars' widths) settle
    assert_clean(page, f"{state} at {width}px")
    context.close()


def test_axe_is_vendored_for_the_tests_only() -> None:
    from inkdigit.web import STATIC_DIR

    assert AXE.stat().st_size > 100_000 and (AXE.parent / "axe-core.LICENSE").exists()
    assert not [p for p in STATIC_DIR.rglob("*") if "axe" in p.name.lower()]
