"""What a browser review of the account pages found, each fixed and checked in Chromium against a
real server (with aiosmtpd catching its e-mails): one server history entry per input, however fast
the strokes come; the canvas on screen on a phone on its side; a session that ends; the header on
a phone; the history's filters; local history forgotten on sign-out; the dashboard's words; and
the smaller fixes of the reset, sign-in and sign-up pages."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.web import test_accounts_pages as base
from tests.web.test_accounts_pages import PASSWORD, Site, sign_in
from tests.web.test_app import SEVEN, TIMEOUT, draw, expect_digit
from tests.web.test_number_mode import _digit

site = base.site
context = base.context

# every answer of a read arrives 400 ms late (the server has kept the reading by then), so that the
# page re-reads while the one before is still in flight, as on a slow connection; and the fetches
# in flight are counted, so that a test can wait until all of them (the deletes too) are done
SLOW_READS = """(() => {
  const real = window.fetch.bind(window);
  window.__pending = 0;
  window.fetch = async (url, init) => {
    window.__pending++;
    try {
      const response = await real(url, init);
      if (/\\/api\\/v1\\/(predict|recognize)/.test(String(url))) await new Promise((r) => setTimeout(r, 400));
      return response;
    } finally {
      window.__pending--;
    }
  };
})();"""

FOUR = [[(0.62, 0.15), (0.62, 0.85)], [(0.35, 0.15), (0.28, 0.58), (0.8, 0.58)]]


def settle(page: Page) -> None:
    """Wait until no fetch has been in flight for a second."""
    page.wait_for_function("""() => {
        const now = Date.now();
        if (window.__pending > 0) { window.__idleSince = null; return false; }
        window.__idleSince = window.__idleSince || now;
        return now - window.__idleSince > 1000;
    }""", polling=100, timeout=20000)


def total(context: BrowserContext, site: Site) -> int:
    r = context.request.get(site.url + "/api/v1/history?limit=1")
    assert r.ok, r.text()
    return int(r.json()["total"])


def signed_in_page(context: BrowserContext, site: Site, path: str = "/") -> tuple[Page, str]:
    email = site.user()
    sign_in(context, site, email)
    page = context.new_page()
    page.goto(site.url + path)
    expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)
    return page, email


def test_one_server_entry_per_input_however_fast_the_strokes_come(context: BrowserContext, site: Site) -> None:
    context.add_init_script(SLOW_READS)
    page, _ = signed_in_page(context, site)
    before = total(context, site)
    for stroke in FOUR:  # a two-stroke digit, the second stroke while the first is being read
        draw(page, [stroke])
        page.wait_for_timeout(200)
    settle(page)
    assert total(context, site) == before + 1
    # Clear, then Undo: the drawing is back, read again, and still one entry
    page.get_by_test_id("clear-button").click()
    settle(page)
    page.get_by_test_id("undo-clear").click()
    settle(page)
    assert total(context, site) == before + 1
    # a number written quickly, digit after digit
    page.get_by_test_id("clear-button").click()
    page.get_by_test_id("mode-number").check()
    settle(page)
    before = total(context, site)
    for i in range(4):
        draw(page, _digit("1", 0.08 + i * 0.18))
        page.wait_for_timeout(200)
    expect(page.get_by_test_id("prediction-digit")).to_have_text("1111", timeout=TIMEOUT)
    settle(page)
    assert total(context, site) == before + 1
    page.get_by_test_id("clear-button").click()
    settle(page)
    page.get_by_test_id("undo-button").click()
    settle(page)
    assert total(context, site) == before + 1


def test_the_canvas_stays_on_screen_on_a_phone_on_its_side_signed_in(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 740, "height": 360}, is_mobile=True, has_touch=True)
    try:
        page, _ = signed_in_page(ctx, site)
        draw(page, SEVEN)
        expect_digit(page, "7")
        expect(page.get_by_test_id("correction")).to_be_visible()  # the answer panel is taller now
        page.evaluate("() => window.scrollTo(0, 0)")
        b = page.get_by_test_id("draw-canvas").bounding_box()
        assert b is not None and b["y"] >= 0 and b["y"] + b["height"] <= 360, b
    finally:
        ctx.close()


def header_height(page: Page) -> float:
    b = page.locator("header.bar").bounding_box()
    assert b is not None
    return float(b["height"])


def test_the_header_is_one_row_on_a_phone_signed_in(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page, _ = signed_in_page(ctx, site)
        assert header_height(page) <= 56
        expect(page.locator("#theme-toggle")).to_have_accessible_name("Switch between light and dark theme")
        for path in ("/history", "/dashboard", "/account"):
            page.goto(site.url + path)
            expect(page.locator("#content")).to_be_visible(timeout=TIMEOUT)
            assert header_height(page) <= 56, path
        for name in ("History", "Dashboard", "Account"):
            expect(page.locator("#nav").get_by_role("link", name=name)).to_be_visible()
    finally:
        ctx.close()


def test_a_session_that_ends_is_said_and_the_header_follows(context: BrowserContext, site: Site) -> None:
    page, _ = signed_in_page(context, site, "/history")
    dashboard = context.new_page()
    dashboard.goto(site.url + "/dashboard")
    expect(dashboard.locator("#content")).to_be_visible(timeout=TIMEOUT)
    other = context.new_page()  # signed out in another tab
    other.goto(site.url + "/account")
    other.get_by_test_id("sign-out").click()
    expect(other).to_have_url(site.url + "/", timeout=TIMEOUT)
    page.get_by_label("Corrected").select_option("true")  # the next request finds no session
    ended = page.get_by_test_id("session-ended")
    expect(ended).to_have_text("Your session has ended — sign in again. Sign in", timeout=TIMEOUT)
    expect(ended).not_to_contain_text("Bearer")
    expect(ended.get_by_role("link", name="Sign in")).to_have_attribute("href", "/signin?next=/history")
    expect(page.locator("#nav")).to_have_attribute("data-state", "anonymous")
    expect(page.locator("#content")).to_be_hidden()
    dashboard.locator("#days").select_option("7")
    expect(dashboard.get_by_test_id("session-ended")).to_contain_text("Your session has ended", timeout=TIMEOUT)
    expect(dashboard.locator("#nav").get_by_role("link", name="Sign in")).to_be_visible()


def test_filters_that_match_nothing_say_so_and_show_all_again(context: BrowserContext, site: Site) -> None:
    page, _ = signed_in_page(context, site)
    draw(page, SEVEN)
    expect_digit(page, "7")
    expect(page.get_by_test_id("correction")).to_be_visible()
    page.goto(site.url + "/history")
    entries = page.get_by_test_id("server-entry")
    expect(entries).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_label("Digit read (numbers with it too)")).to_be_visible()
    page.get_by_label("Corrected").select_option("true")
    expect(page.get_by_test_id("history-summary")).to_have_text("No readings match these filters.", timeout=TIMEOUT)
    expect(entries).to_have_count(0)
    page.get_by_role("button", name="Show all").click()
    expect(entries).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Show all")).to_be_hidden()
    # the thumbnail: a light ground under the kept (transparent) image
    ground = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=server-entry] .thumb'))"
                           ".backgroundColor")
    assert ground == "rgb(236, 236, 236)", ground


def test_sign_out_and_deletion_forget_this_browsers_history_and_say_so(context: BrowserContext, site: Site) -> None:
    page, _ = signed_in_page(context, site)
    draw(page, SEVEN)
    expect_digit(page, "7")
    expect(page.get_by_test_id("history").locator("li")).to_have_count(1)
    page.goto(site.url + "/account")
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(site.url + "/", timeout=TIMEOUT)  # the flag is said, then dropped
    expect(page.locator("#message")).to_have_text("Signed out.")
    expect(page.get_by_test_id("history").locator("li")).to_have_count(0)
    assert page.evaluate("() => localStorage.getItem('inkdigit.history')") in (None, "[]")
    # deleting the account: the same, in its own words
    page, _ = signed_in_page(context, site)
    draw(page, SEVEN)
    expect_digit(page, "7")
    page.goto(site.url + "/account")
    page.get_by_role("button", name="Delete my account…").click()
    page.get_by_role("button", name="Delete everything").click()
    expect(page).to_have_url(site.url + "/", timeout=TIMEOUT)
    expect(page.locator("#message")).to_have_text("Your account and its data were deleted.")
    expect(page.get_by_test_id("history").locator("li")).to_have_count(0)
    # a flag is all the page reads: no text from the address is shown
    page.goto(site.url + "/?signed-out=<b>hello</b>")
    expect(page.locator("#message")).to_have_text("Signed out.")


def test_the_dashboard_words_and_an_empty_dashboard(context: BrowserContext, site: Site) -> None:
    page, _ = signed_in_page(context, site, "/dashboard")
    expect(page.get_by_test_id("dashboard-empty")).to_have_text("Nothing read yet — draw on the main page.",
                                                                timeout=TIMEOUT)
    expect(page.get_by_test_id("chart").first).to_be_hidden()
    page.goto(site.url + "/")
    draw(page, SEVEN)
    expect(page.get_by_test_id("correction")).to_be_visible(timeout=TIMEOUT)
    page.goto(site.url + "/dashboard")
    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("Accuracy (unreviewed readings counted as right)", timeout=TIMEOUT)
    expect(totals).to_contain_text("Accuracy of reviewed readings")
    expect(page.get_by_test_id("dashboard-empty")).to_be_hidden()


def test_operators_everyone_view_speaks_of_everyone(context: BrowserContext, site: Site) -> None:
    import os
    import subprocess

    from tests.service.conftest import BIN

    email = site.user()
    promoted = subprocess.run([str(BIN), "users", "promote", email], env={**os.environ, **site.env},
                              capture_output=True, text=True, timeout=60)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    sign_in(context, site, email)
    page = context.new_page()
    page.goto(site.url + "/")
    draw(page, SEVEN)
    expect(page.get_by_test_id("correction")).to_be_visible(timeout=TIMEOUT)
    page.goto(site.url + "/dashboard")
    expect(page.get_by_test_id("totals")).to_be_visible(timeout=TIMEOUT)
    # the radios beside their words
    radio = page.get_by_role("radio", name="Everyone").bounding_box()
    words = page.locator("#scope label").nth(1).bounding_box()
    assert radio and words and abs((radio["y"] + radio["height"] / 2) - (words["y"] + words["height"] / 2)) < 6
    page.get_by_test_id("scope-all").check()
    expect(page.get_by_test_id("totals")).to_contain_text("Accounts", timeout=TIMEOUT)
    for caption in page.locator("figcaption, #confusion-hint").all_text_contents():
        assert "your" not in caption.lower(), caption


def test_smaller_fixes_of_the_account_pages(context: BrowserContext, site: Site) -> None:
    email = site.user()
    # reset: once done, the form goes and a link to sign in stays
    before = len(site.inbox.messages)
    with httpx.Client(base_url=site.url, timeout=10) as c:
        assert c.post("/api/v1/auth/forgot-password", json={"email": email}).status_code in (200, 202)
    path = base.link_path(site.inbox.wait_for(email, "password", after=before), site)
    page = context.new_page()
    page.goto(site.url + path)
    page.get_by_label("New password").fill(PASSWORD + "!")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("changed", timeout=TIMEOUT)
    expect(page.locator("#form")).to_be_hidden()
    expect(page.get_by_test_id("reset-signin")).to_be_visible()
    # signed in: /signin and /signup say so instead of their forms
    r = context.request.post(site.url + "/api/v1/auth/login", form={"username": email, "password": PASSWORD + "!"})
    assert r.ok, r.text()
    for where in ("/signin", "/signup"):
        page.goto(site.url + where)
        expect(page.get_by_test_id("already-signed-in")).to_contain_text(f"You are signed in as {email}",
                                                                         timeout=TIMEOUT)
        expect(page.locator("#form")).to_be_hidden()
    # the number correction: the page's own message, no browser bubble; the answer shows what was said
    page.goto(site.url + "/")
    page.get_by_test_id("mode-number").check()
    draw(page, _digit("1", 0.1))
    draw(page, _digit("7", 0.3))
    expect(page.get_by_test_id("prediction-digit")).to_have_text("17", timeout=TIMEOUT)
    expect(page.get_by_test_id("correct-text")).to_have_value("17")
    page.get_by_test_id("correct-text").fill("1x")
    page.get_by_test_id("correct-save").click()
    expect(page.get_by_test_id("correct-status")).to_have_text(
        "Only digits, please (leave it empty if there is no number).")
    page.get_by_test_id("correct-text").fill("14")
    page.get_by_test_id("correct-save").click()
    expect(page.get_by_test_id("correct-status")).to_contain_text("It is 14", timeout=TIMEOUT)
    expect(page.get_by_test_id("prediction-digit")).to_have_text("14")
    expect(page.get_by_test_id("prediction-confidence")).to_have_text("You said: 14")


def test_older_scrolls_back_to_the_top_of_the_list(context: BrowserContext, site: Site) -> None:
    email = site.user()
    sign_in(context, site, email)
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "inkdigit_csrf")
    png = _png()
    for _ in range(22):  # more than a page of readings, through the API
        r = context.request.post(site.url + "/api/v1/predict?source=api", headers={"content-type": "image/png",
                                 "X-CSRF-Token": csrf}, data=png)
        assert r.ok, r.text()
    page = context.new_page()
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto(site.url + "/history")
    expect(page.get_by_test_id("server-entry")).to_have_count(20, timeout=TIMEOUT)
    page.get_by_role("button", name="Older →").scroll_into_view_if_needed()
    assert page.evaluate("() => window.scrollY") > 500
    page.get_by_role("button", name="Older →").click()
    expect(page.get_by_test_id("server-entry")).to_have_count(2, timeout=TIMEOUT)
    page.wait_for_function("() => window.scrollY < 200", timeout=TIMEOUT)


def _png() -> bytes:
    """A 28×28 PNG of a vertical stroke (a 1)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(img).line([(14, 4), (14, 24)], fill=255, width=3)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
