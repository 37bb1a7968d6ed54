"""The page as people use it: drawing, live predictions, uploads, stages, history, layout."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.store import shipped_dir
from tests.conftest import png_bytes, render

TIMEOUT = 8000

# strokes in canvas fractions (0..1), each a list of points
ONE = [[(0.5, 0.15), (0.5, 0.85)]]
SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.42, 0.85)]]
ZERO = [[(0.5 + 0.22 * math.sin(t / 24 * 2 * math.pi), 0.5 - 0.33 * math.cos(t / 24 * 2 * math.pi))
         for t in range(25)]]


def box(page: Page) -> dict[str, float]:
    b = page.get_by_test_id("draw-canvas").bounding_box()
    assert b is not None
    return b


def draw(page: Page, strokes: list[list[tuple[float, float]]], scale: float = 1.0,
         origin: tuple[float, float] = (0.0, 0.0), steps: int = 8) -> None:
    """Mouse strokes, with ``steps`` intermediate moves between points as a hand makes them."""
    b = box(page)
    for stroke in strokes:
        pts = [(b["x"] + (origin[0] + x * scale) * b["width"], b["y"] + (origin[1] + y * scale) * b["height"])
               for x, y in stroke]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p, steps=steps)
        page.mouse.up()


def ink_pixels(page: Page) -> int:
    return int(page.evaluate("""() => {
        const c = document.querySelector('[data-testid=draw-canvas]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""))


def expect_digit(page: Page, digit: str) -> None:
    expect(page.get_by_test_id("prediction-digit")).to_have_text(digit, timeout=TIMEOUT)


def test_blank_canvas_shows_no_digit(page: Page) -> None:
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")
    expect(page.get_by_test_id("prediction-confidence")).to_have_text("")
    expect(page.get_by_test_id("confidence-3")).to_contain_text("–")
    expect(page.locator("#preview")).to_be_hidden()  # no broken image before an upload


def test_draw_one_zero_seven_with_the_mouse(page: Page) -> None:
    for strokes, digit in ((ONE, "1"), (ZERO, "0"), (SEVEN, "7")):
        draw(page, strokes)
        expect_digit(page, digit)
        expect(page.get_by_test_id("prediction-confidence")).to_contain_text("% sure")
        expect(page.get_by_test_id(f"confidence-{digit}")).not_to_contain_text("–")
        page.get_by_test_id("clear-button").click()
        expect(page.get_by_test_id("prediction-digit")).to_have_text("")


def test_small_digit_in_a_corner(page: Page) -> None:
    draw(page, SEVEN, scale=0.22, origin=(0.74, 0.03))
    expect_digit(page, "7")


def test_draw_with_touch(browser, web_server: str) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(web_server)
    b = box(page)
    cdp = context.new_cdp_session(page)
    pts = [(b["x"] + x * b["width"], b["y"] + y * b["height"]) for x, y in ONE[0]]
    steps = [(pts[0][0], pts[0][1] + (pts[1][1] - pts[0][1]) * i / 20) for i in range(21)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": steps[0][0], "y": steps[0][1]}]})
    for x, y in steps[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect_digit(page, "1")
    assert page.evaluate("() => window.scrollY") == 0  # drawing did not scroll the page
    context.close()


def test_undo_redo_clear_by_button_and_key(page: Page) -> None:
    draw(page, SEVEN)
    draw(page, [[(0.3, 0.55), (0.6, 0.55)]])  # a crossbar
    both = ink_pixels(page)
    page.get_by_test_id("undo-button").click()
    one = ink_pixels(page)
    assert 0 < one < both
    page.get_by_test_id("redo-button").click()
    assert ink_pixels(page) == both
    page.keyboard.press("Control+z")
    assert ink_pixels(page) == one
    page.keyboard.press("Control+Shift+z")
    assert ink_pixels(page) == both
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+y")
    assert ink_pixels(page) == both
    page.keyboard.press("Escape")
    assert ink_pixels(page) == 0
    expect(page.get_by_test_id("prediction-digit")).to_have_text("")
    draw(page, ONE)
    expect_digit(page, "1")
    page.get_by_test_id("clear-button").click()
    assert ink_pixels(page) == 0


def test_upload_png_and_a_non_image(page: Page, mnist_test, tmp_path: Path) -> None:
    png = tmp_path / "digit.png"
    Image.fromarray(render(mnist_test.images[1]).astype(np.uint8)).save(png)
    page.get_by_test_id("file-input").set_input_files(str(png))
    expect_digit(page, str(mnist_test.labels[1]))
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    pb, panel = preview.bounding_box(), page.locator("#drop").bounding_box()
    assert pb and panel and pb["width"] <= panel["width"]
    notes = tmp_path / "notes.png"
    notes.write_text("this is a text file, not a picture")
    page.get_by_test_id("file-input").set_input_files(str(notes))
    expect(page.locator("#error")).to_contain_text("not an image", timeout=TIMEOUT)


def test_stages_and_history(page: Page) -> None:
    draw(page, ONE)
    expect_digit(page, "1")
    page.locator("#stages-panel summary").click()
    expect(page.get_by_test_id("stages").locator("img")).to_have_count(8, timeout=TIMEOUT)
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(1)
    page.get_by_test_id("clear-button").click()
    draw(page, ZERO)
    expect_digit(page, "0")
    expect(history).to_have_count(2)
    page.reload()
    expect(history).to_have_count(2)  # kept in this browser
    page.get_by_role("button", name="Clear history").click()
    page.get_by_test_id("history-delete").click()  # asked first
    expect(history).to_have_count(0)


def test_theme_toggle_and_live_region(page: Page) -> None:
    before = page.evaluate("() => getComputedStyle(document.documentElement).colorScheme")
    page.locator("#theme-toggle").click()
    after = page.evaluate("() => getComputedStyle(document.documentElement).colorScheme")
    assert before != after
    draw(page, ONE)
    expect(page.locator("#announce")).to_contain_text("Predicted 1", timeout=TIMEOUT)


def test_layout_has_no_horizontal_overflow(browser, web_server: str, tmp_path: Path) -> None:
    for width in (360, 768, 1280, 2560):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(web_server)
        draw(page, SEVEN)
        expect_digit(page, "7")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"horizontal overflow at {width}px: {widths}"
        shot = page.screenshot(full_page=True)
        assert Image.open(io.BytesIO(shot)).size[0] == width
        (tmp_path / f"app-{width}.png").write_bytes(shot)
        context.close()


def test_server_unreachable_is_visible(browser, web_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(web_server)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    context.set_offline(True)
    # an upload: it always needs the server (a drawing is read in the page once its reader has loaded)
    one = np.zeros((64, 64), np.uint8)
    one[8:56, 29:35] = 255
    page.get_by_test_id("file-input").set_input_files(files=[{"name": "one.png", "mimeType": "image/png",
                                                              "buffer": png_bytes(one)}])
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=TIMEOUT)
    expect(page.locator("#error")).to_contain_text("cannot be reached", timeout=TIMEOUT)
    context.close()


def test_choose_a_model_in_the_page(browser, extra_model_dir: Path, mnist_test, tmp_path: Path) -> None:
    from tests.service.conftest import running_server

    path = tmp_path / "seven.png"
    Image.fromarray(render(mnist_test.images[0]).astype(np.uint8)).save(path)
    with running_server({"INKDIGIT_MODEL_DIR": str(extra_model_dir)}) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        select = page.get_by_test_id("model-select")
        expect(select).to_be_enabled(timeout=TIMEOUT)
        shipped = len(list(shipped_dir().glob("*.json")))
        expect(select.locator("option")).to_have_count(shipped + 1)  # the shipped CNNs and the one installed
        expect(select).to_have_value(DEFAULT_MODEL)
        expect(select.locator("option[value=knn-small]")).to_contain_text("knn")
        page.get_by_test_id("file-input").set_input_files(str(path))
        expect_digit(page, str(mnist_test.labels[0]))
        expect(page.locator("#message")).to_contain_text(DEFAULT_MODEL)
        select.select_option("knn-small")  # the current input is read again by the chosen model
        expect(page.locator("#message")).to_contain_text("knn-small", timeout=TIMEOUT)
        expect_digit(page, str(mnist_test.labels[0]))
        page.reload()  # the choice is remembered
        expect(page.get_by_test_id("model-select")).to_have_value("knn-small", timeout=TIMEOUT)
        context.close()
