"""Number mode in the page: a wide canvas (or an upload) read as a whole number, with a box over
each digit found; drawn with the mouse in Chromium and read by the real server."""

from __future__ import annotations

import math
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.test_app import TIMEOUT, box, draw

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _digit(d: str, x0: float, w: float = 0.1, y0: float = 0.18, h: float = 0.62) -> list[list[tuple[float, float]]]:
    """Strokes of one digit in canvas fractions, in a box ``w`` wide and ``h`` high at (x0, y0)."""
    shapes = {
        "1": [[(0.5, 0.0), (0.5, 1.0)]],
        "7": [[(0.1, 0.0), (0.9, 0.0), (0.35, 1.0)]],
        "4": [[(0.65, 1.0), (0.65, 0.0), (0.05, 0.7), (0.95, 0.7)]],
        "0": [[(0.5 + 0.45 * math.sin(t / 24 * 2 * math.pi), 0.5 - 0.5 * math.cos(t / 24 * 2 * math.pi))
               for t in range(25)]],
    }
    return [[(x0 + x * w, y0 + y * h) for x, y in stroke] for stroke in shapes[d]]


def write(page: Page, number: str, gap: float = 0.18) -> None:
    for i, d in enumerate(number):
        draw(page, _digit(d, 0.08 + i * gap))


def test_a_number_drawn_with_the_mouse_is_read_with_a_box_per_digit(page: Page) -> None:
    page.get_by_test_id("mode-number").check()
    b = box(page)
    assert b["width"] > 2.5 * b["height"]  # a wide strip to write on
    write(page, "4170")
    expect(page.get_by_test_id("prediction-digit")).to_have_text("4170", timeout=TIMEOUT)
    found = page.get_by_test_id("number-digits").locator("li")
    expect(found).to_have_count(4)
    # the label names the digit's place, the digit and its confidence (whatever the model's figure)
    expect(found.nth(0)).to_have_attribute("aria-label", re.compile(r"^digit 1: 4, (100|9\d) percent$"))
    expect(page.get_by_test_id("prediction-confidence")).to_contain_text("sure of every digit")
    expect(page.get_by_test_id("number-view")).to_be_visible()
    expect(page.locator("#bars")).to_be_hidden()  # ten bars belong to one digit
    # the boxes are drawn over the digits: the view holds the accent colour where a box is
    assert page.evaluate("""() => {
        const v = document.querySelector('[data-testid=number-view]');
        const d = v.getContext('2d').getImageData(0, 0, v.width, v.height).data;
        let blue = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 100) blue++;
        return blue; }""") > 200
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(1)
    expect(history.nth(0)).to_contain_text("4170")
    # another stroke updates the same entry; the reading follows the drawing
    draw(page, _digit("1", 0.08 + 4 * 0.18))
    expect(page.get_by_test_id("prediction-digit")).to_have_text("41701", timeout=TIMEOUT)
    expect(history).to_have_count(1)
    page.get_by_test_id("clear-button").click()
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")
    expect(page.get_by_test_id("number-view")).to_be_hidden()


def test_an_uploaded_number_is_read_and_boxed(page: Page) -> None:
    page.get_by_test_id("mode-number").check()
    page.get_by_test_id("file-input").set_input_files(str(EXAMPLES / "number.png"))
    expect(page.get_by_test_id("prediction-digit")).to_have_text("4 217", timeout=TIMEOUT)
    expect(page.get_by_test_id("number-digits").locator("li")).to_have_count(4)
    view = page.get_by_test_id("number-view")
    expect(view).to_be_visible()
    size = view.evaluate("v => [v.width, v.height]")
    assert size[0] > 2 * size[1]  # the upload's own shape, not the canvas's


def test_the_mode_is_kept_and_digit_mode_comes_back(page: Page) -> None:
    page.get_by_test_id("mode-number").check()
    expect(page.locator("#draw-title")).to_have_text("Write a number")
    page.reload()
    expect(page.get_by_test_id("mode-number")).to_be_checked()
    b = box(page)
    assert b["width"] > 2.5 * b["height"]
    page.get_by_test_id("mode-digit").check()
    b = box(page)
    assert abs(b["width"] - b["height"]) < 2
    expect(page.locator("#draw-title")).to_have_text("Draw a digit")
    draw(page, [[(0.5, 0.15), (0.5, 0.85)]])
    expect(page.get_by_test_id("prediction-digit")).to_have_text("1", timeout=TIMEOUT)
    expect(page.locator("#bars")).to_be_visible()
    expect(page.get_by_test_id("number-view")).to_be_hidden()
    # the same drawing read as a number when the mode changes
    page.get_by_test_id("mode-number").check()
    expect(page.get_by_test_id("prediction-digit")).to_have_text("1", timeout=TIMEOUT)
    expect(page.get_by_test_id("number-digits").locator("li")).to_have_count(1)


def test_number_mode_fits_a_phone_and_a_wide_screen(browser, web_server: str) -> None:
    for width in (360, 1280, 2560):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(web_server)
        page.get_by_test_id("mode-number").check()
        write(page, "4170", gap=0.22)  # on a phone's low strip the pen thins, so the 0 stays open
        expect(page.get_by_test_id("prediction-digit")).to_have_text("4170", timeout=TIMEOUT)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"horizontal overflow at {width}px: {widths}"
        view = page.get_by_test_id("number-view").bounding_box()
        assert view is not None and view["x"] + view["width"] <= width
        context.close()


def test_switching_modes_keeps_the_whole_drawing_and_only_the_current_answer(page: Page) -> None:
    page.get_by_test_id("mode-number").check()
    write(page, "417", gap=0.25)
    expect(page.get_by_test_id("prediction-digit")).to_have_text("417", timeout=TIMEOUT)
    page.get_by_test_id("mode-digit").check()
    # the number's boxes and chips belong to the number answer: gone with it
    expect(page.get_by_test_id("number-view")).to_be_hidden()
    expect(page.get_by_test_id("number-digits").locator("li")).to_have_count(0)
    expect(page.get_by_test_id("prediction-confidence")).to_contain_text("% sure", timeout=TIMEOUT)
    # the strip's drawing was moved into the square, not cut off: back on the strip it reads again
    edges = page.evaluate("""() => {
        const c = document.querySelector('[data-testid=draw-canvas]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let right = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) right = Math.max(right, ((i - 3) / 4) % c.width);
        return [right, c.width]; }""")
    assert edges[0] < edges[1] - 5
    page.get_by_test_id("mode-number").check()
    expect(page.get_by_test_id("prediction-digit")).to_have_text("417", timeout=TIMEOUT)
