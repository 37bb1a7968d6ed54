"""First use of the page, as a new user meets it (issue 14, items 1, 2, 3 and 6): the answer in
sight on a phone, one current input at a time, undoable clears, and the smaller rough edges
(touch hints, drag and drop, keyboard use, wide screens). Chromium, against a real server."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_app import ONE, SEVEN, TIMEOUT, draw, expect_digit, ink_pixels
from tests.web.test_number_mode import write

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEVEN_PNG = EXAMPLES / "seven.png"


def _open(browser, web_server: str, width: int, height: int, **options) -> tuple[object, Page]:
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.goto(web_server)
    return context, page


def _in_view(page: Page, selector: str) -> dict[str, float]:
    """The element's box, asserted to lie wholly inside the viewport (no scrolling needed)."""
    b = page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not shown"
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    assert b["x"] >= -0.5 and b["y"] >= -0.5, f"{selector} starts off screen: {b}"
    assert b["x"] + b["width"] <= vw + 0.5 and b["y"] + b["height"] <= vh + 0.5, \
        f"{selector} ends below or right of the {vw}x{vh} screen: {b}"
    return b


# -- item 1: the answer is in sight while the canvas is --------------------------------------------

@pytest.mark.parametrize("mode", ["digit", "number"])
@pytest.mark.parametrize("size", [(360, 640), (360, 740), (740, 360)], ids=["360x640", "360x740", "740x360"])
def test_the_answer_is_in_sight_with_the_canvas_on_a_phone(browser, web_server: str, size: tuple[int, int],
                                                         mode: str) -> None:
    context, page = _open(browser, web_server, *size, has_touch=True)
    page.get_by_test_id(f"mode-{mode}").check()
    if mode == "digit":
        draw(page, SEVEN)
        expect_digit(page, "7")
    else:
        write(page, "41", gap=0.3)
        expect(page.get_by_test_id("prediction-digit")).to_have_text(re.compile(r"\d"), timeout=TIMEOUT)
    assert page.evaluate("() => window.scrollY") == 0
    canvas = _in_view(page, "[data-testid=draw-canvas]")
    assert canvas["width"] >= 150, f"the canvas is too small to draw on: {canvas}"
    digit = _in_view(page, "[data-testid=prediction-digit]")
    _in_view(page, "[data-testid=prediction-confidence]")
    if mode == "digit":
        # the three likeliest digits' bars (the best one first)
        top = page.evaluate("""() => [...document.querySelectorAll('#bars li')]
            .map((li) => [Number(li.dataset.confidence), li.dataset.testid])
            .sort((a, b) => b[0] - a[0]).slice(0, 3).map((x) => x[1])""")
        for testid in top:
            _in_view(page, f"[data-testid={testid}]")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow: {widths}"
    _in_view(page, "[data-testid=clear-button]")
    if size[0] > size[1]:  # landscape: the answer beside the canvas, not under it
        assert digit["x"] >= canvas["x"] + canvas["width"] - 1
    context.close()


def test_a_wide_screen_is_used(browser, web_server: str) -> None:
    context, page = _open(browser, web_server, 2560, 1440)
    layout = page.locator(".layout").bounding_box()
    assert layout is not None and layout["width"] >= 0.75 * 2560, f"most of the screen is empty: {layout}"
    canvas = _in_view(page, "[data-testid=draw-canvas]")
    assert canvas["width"] > 600, f"the canvas stays small on a large screen: {canvas}"
    draw(page, SEVEN)
    expect_digit(page, "7")
    _in_view(page, "[data-testid=prediction-digit]")
    _in_view(page, "[data-testid=clear-button]")
    context.close()


# -- item 2: one current input at a time ------------------------------------------------------------

def _upload_seven(page: Page) -> None:
    page.get_by_test_id("file-input").set_input_files(str(SEVEN_PNG))


def test_the_bars_show_the_probabilities(page: Page) -> None:
    """The bars' fills were inline spans, so their width was ignored: every bar looked empty."""
    draw(page, ONE)
    expect_digit(page, "1")
    page.wait_for_timeout(400)  # the fill's width eases in over 0.15 s
    widths = page.evaluate("""[...document.querySelectorAll('.bars li')].map(li => [
        li.querySelector('.fill').getBoundingClientRect().width,
        li.querySelector('.track').getBoundingClientRect().width, Number(li.dataset.confidence)])""")
    for fill, track, p in widths:
        assert abs(fill - track * p) <= 2, widths


def test_a_drawing_after_an_upload_replaces_its_preview(page: Page) -> None:
    _upload_seven(page)
    expect_digit(page, "7")
    expect(page.locator("#preview")).to_be_visible()
    draw(page, ONE)
    expect_digit(page, "1")
    expect(page.locator("#preview")).to_be_hidden()  # the answer shown is the drawing's, alone


def test_an_error_leaves_nothing_of_the_earlier_answer(page: Page, tmp_path: Path) -> None:
    draw(page, ONE)
    expect_digit(page, "1")
    expect(page.locator("#message")).to_contain_text(" ms")
    notes = tmp_path / "notes.png"
    notes.write_text("this is a text file, not a picture")
    page.get_by_test_id("file-input").set_input_files(str(notes))
    expect(page.locator("#error")).to_contain_text("not an image", timeout=TIMEOUT)
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")
    expect(page.locator("#message")).not_to_contain_text(" ms")  # no stale "Read by … in … ms"


def test_clear_removes_an_upload(page: Page) -> None:
    _upload_seven(page)
    expect_digit(page, "7")
    clear = page.get_by_test_id("clear-button")
    expect(clear).to_be_enabled()
    clear.click()
    expect(page.locator("#preview")).to_be_hidden()
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")


def test_clear_then_upload_at_once_shows_the_upload(page: Page) -> None:
    draw(page, ONE)
    expect_digit(page, "1")
    page.get_by_test_id("clear-button").click()
    _upload_seven(page)  # within the 120 ms the drawing's read waits
    expect_digit(page, "7")
    page.wait_for_timeout(600)
    expect_digit(page, "7")
    expect(page.locator("#preview")).to_be_visible()
    expect(page.get_by_test_id("history").locator("li")).to_have_count(2)


def test_pen_up_and_upload_at_once_shows_only_the_upload(page: Page) -> None:
    draw(page, ONE)
    _upload_seven(page)  # before the drawing's read has started
    expect_digit(page, "7")
    page.wait_for_timeout(600)
    expect_digit(page, "7")
    expect(page.locator("#preview")).to_be_visible()
    assert ink_pixels(page) == 0  # the upload took the drawing's place (an undo brings it back)
    page.get_by_test_id("undo-clear").click()
    expect_digit(page, "1")
    expect(page.locator("#preview")).to_be_hidden()


# -- item 3: destructive actions can be undone or are confirmed --------------------------------------

def test_clear_and_escape_can_be_undone(page: Page) -> None:
    draw(page, SEVEN)
    expect_digit(page, "7")
    ink = ink_pixels(page)
    page.get_by_test_id("clear-button").click()
    assert ink_pixels(page) == 0
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")
    toast = page.locator("#undo-toast")
    expect(toast).to_be_visible()
    page.get_by_test_id("undo-clear").click()
    assert ink_pixels(page) == ink
    expect_digit(page, "7")
    expect(toast).to_be_hidden()
    page.keyboard.press("Escape")
    assert ink_pixels(page) == 0
    page.keyboard.press("Control+z")
    assert ink_pixels(page) == ink
    expect_digit(page, "7")
    expect(page.get_by_test_id("history").locator("li")).to_have_count(1)  # the same drawing, one entry


def test_clearing_twice_then_undo_keeps_one_entry(page: Page) -> None:
    """A second clear (of nothing) forgot the entry the undo brings back: the restored drawing
    then got a second history entry."""
    draw(page, SEVEN)
    expect_digit(page, "7")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+z")
    expect_digit(page, "7")
    page.wait_for_timeout(600)  # past the debounce: any second entry would be there now
    expect(page.get_by_test_id("history").locator("li")).to_have_count(1)


def test_switching_modes_with_an_upload_adds_one_entry_per_mode(page: Page) -> None:
    """Each switch of One digit / A number re-read the upload and added an entry: five switches
    made six entries for one image."""
    _upload_seven(page)
    expect_digit(page, "7")
    for mode in ("number", "digit", "number", "digit", "number"):
        page.locator(f"input[name=mode][value={mode}]").check()
        page.wait_for_timeout(400)
    expect(page.get_by_test_id("history").locator("li")).to_have_count(2)  # one per mode


def test_escape_in_the_width_slider_keeps_the_drawing(page: Page) -> None:
    draw(page, SEVEN)
    ink = ink_pixels(page)
    page.locator("#stroke-width").focus()
    page.keyboard.press("Escape")
    assert ink_pixels(page) == ink


def test_clear_history_asks_first_and_needs_something_to_clear(page: Page) -> None:
    button = page.get_by_role("button", name="Clear history")
    expect(button).to_be_disabled()
    draw(page, ONE)
    expect_digit(page, "1")
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(1)
    expect(button).to_be_enabled()
    button.click()
    expect(history).to_have_count(1)  # not yet
    expect(page.locator("#history-confirm")).to_be_visible()
    page.get_by_role("button", name="Keep").click()
    expect(history).to_have_count(1)
    button.click()
    page.keyboard.press("Escape")  # also answers "keep"
    expect(history).to_have_count(1)
    expect(button).to_be_focused()
    button.click()
    page.get_by_test_id("history-delete").click()
    expect(history).to_have_count(0)
    expect(button).to_be_disabled()


# -- item 6: the smaller rough edges -----------------------------------------------------------------

def test_no_paste_hint_on_a_touch_screen(browser, web_server: str) -> None:
    context, page = _open(browser, web_server, 400, 800, has_touch=True, is_mobile=True)
    expect(page.locator("#drop")).not_to_contain_text("Ctrl+V", use_inner_text=True)
    context.close()
    context, page = _open(browser, web_server, 1280, 900)
    expect(page.locator("#drop")).to_contain_text("Ctrl+V", use_inner_text=True)
    context.close()


def test_a_file_dropped_on_the_canvas_is_read_not_opened(page: Page) -> None:
    data = base64.b64encode(SEVEN_PNG.read_bytes()).decode()
    transfer = page.evaluate_handle("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], "seven.png", { type: "image/png" }));
        return dt; }""", data)
    canvas = page.get_by_test_id("draw-canvas")
    canvas.dispatch_event("dragover", {"dataTransfer": transfer})
    prevented = page.evaluate("""(dt) => {
        const e = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
        document.querySelector('[data-testid=draw-canvas]').dispatchEvent(e);
        return e.defaultPrevented; }""", transfer)
    assert prevented, "the browser would open the dropped file in the tab"
    expect_digit(page, "7")
    expect(page.locator("#preview")).to_be_visible()


@pytest.mark.parametrize("target", ["#drop", "[data-testid=draw-canvas]"])
def test_enter_opens_the_file_picker(page: Page, target: str) -> None:
    # the picker is the file input's: a click on it is what opens the system's file chooser
    page.evaluate("""() => { window.pickerOpened = 0;
        document.getElementById('file').addEventListener('click', () => { window.pickerOpened++; }); }""")
    page.locator(target).focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.pickerOpened") == 1
    page.keyboard.press(" ")
    assert page.evaluate("() => window.pickerOpened") == 2


def test_every_control_is_reached_with_tab(page: Page) -> None:
    expect(page.get_by_test_id("model-select")).to_be_enabled(timeout=TIMEOUT)
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))
        if reached[-1] == "canvas":  # what a keyboard can do there is said where the focus is
            expect(page.locator(".kbd-hint")).to_be_visible()
            expect(page.locator(".kbd-hint")).to_contain_text("Enter")
    for control in ("theme-toggle", "canvas", "stroke-width", "drop", "file", "model", "SUMMARY"):
        assert control in reached, f"{control} cannot be reached with Tab: {reached}"
    assert {"mode-digit", "mode-number"} & set(page.evaluate(
        "() => [...document.querySelectorAll('input[name=mode]')].map((r) => r.dataset.testid)"))


def test_the_model_picker_is_usable_and_readable_on_a_fresh_install(browser, web_server: str) -> None:
    for width in (1280, 360):
        context, page = _open(browser, web_server, width, 800)
        select = page.get_by_test_id("model-select")
        expect(select).to_be_enabled(timeout=TIMEOUT)
        expect(select.locator("option")).not_to_have_count(0)
        # the chosen model's whole label fits in the list's box
        room, text = select.evaluate("""(s) => {
            const c = document.createElement('canvas').getContext('2d');
            const css = getComputedStyle(s);
            c.font = `${css.fontWeight} ${css.fontSize} ${css.fontFamily}`;
            const pad = parseFloat(css.paddingLeft) + parseFloat(css.paddingRight) + 20; // the arrow
            return [s.clientWidth - pad, c.measureText(s.selectedOptions[0].text).width]; }""")
        assert text <= room, f"the model's label is cut at {width}px: {text:.0f} px of text in {room:.0f} px"
        context.close()
