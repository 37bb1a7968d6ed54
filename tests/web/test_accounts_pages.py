"""The account pages in Chromium, against a real server with a real SMTP server (aiosmtpd) catching its
e-mails: sign up → the e-mailed link → sign in → draw → "That's wrong?" → history → dashboard → sign
out; the password reset through the pages; what a visitor sees on the signed-in pages; every page
at 360 px wide without sideways scrolling, in both themes; and axe-core on each."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.service.accounts.conftest import Inbox, token_in
from tests.service.conftest import BIN, free_port, running_server
from tests.web.test_accessibility import assert_clean
from tests.web.test_app import SEVEN, TIMEOUT, draw, expect_digit
from tests.web.test_number_mode import write

PASSWORD = "correct horse battery"
SIGNED_OUT_PAGES = ["/signup", "/signin", "/verify", "/forgot-password", "/reset-password"]
ACCOUNT_PAGES = ["/account", "/history", "/dashboard"]


@dataclass
class Site:
    url: str
    inbox: Inbox
    env: dict[str, str]

    def user(self, email: str | None = None) -> str:
        """A registered, confirmed account (through the API); its address."""
        email = email or f"u{secrets.token_hex(4)}@example.com"
        with httpx.Client(base_url=self.url, timeout=10) as c:
            assert c.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
            token = token_in(self.inbox.wait_for(email, "confirm"))
            assert c.post("/api/v1/auth/verify", json={"token": token}).status_code == 200
        return email


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The server with accounts (SQLite under a fresh INKDIGIT_HOME), mailing to a local aiosmtpd."""
    from aiosmtpd.controller import Controller

    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as home:
            env = {"INKDIGIT_HOME": home, "INKDIGIT_SMTP_HOST": "127.0.0.1", "INKDIGIT_SMTP_PORT": str(smtp_port),
                   "INKDIGIT_SMTP_SECURITY": "none", "INKDIGIT_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            with running_server(env=env, port=port) as url:
                yield Site(url, inbox, env)
    finally:
        controller.stop()


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def sign_in(context: BrowserContext, site: Site, email: str) -> None:
    """The context signed in with the session cookie, as the sign-in page does."""
    r = context.request.post(site.url + "/api/v1/auth/login", form={"username": email, "password": PASSWORD})
    assert r.ok, r.text()


def link_path(message: object, site: Site) -> str:
    """The e-mailed link, as a path of the site (its token included)."""
    body = message.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    found = re.search(r"https?://\S+", body)
    assert found, body
    link = found.group(0).rstrip(".>)")
    assert link.startswith(site.url), link
    return link.removeprefix(site.url)


def test_sign_up_confirm_sign_in_read_correct_and_see_it_everywhere(context: BrowserContext, site: Site) -> None:
    page = context.new_page()
    refused: list[str] = []  # anything the pages' Content-Security-Policy blocked
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    email = f"flow{secrets.token_hex(4)}@example.com"
    # sign up
    page.goto(site.url + "/")
    page.locator("#nav").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(site.url + "/signup")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("signup-sent")).to_contain_text(email, timeout=TIMEOUT)
    # the e-mail's link confirms the address
    path = link_path(site.inbox.wait_for(email, "confirm"), site)
    assert path.startswith("/verify?token=")
    page.goto(site.url + path)
    expect(page.get_by_test_id("verify-status")).to_contain_text("Done", timeout=TIMEOUT)
    page.get_by_role("link", name="Sign in").last.click()
    # sign in
    expect(page).to_have_url(site.url + "/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#status")).to_contain_text("wrong", timeout=TIMEOUT)  # the API's own message
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url + "/", timeout=TIMEOUT)
    expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)
    for name in ("History", "Dashboard", "Account"):
        expect(page.locator("#nav").get_by_role("link", name=name)).to_be_visible()
    # read a digit; it is kept, and "That's wrong?" fixes it with one tap
    with page.expect_response(lambda r: "/api/v1/predict" in r.url and r.status == 200) as answered:
        draw(page, SEVEN)
    assert "source=canvas" in answered.value.url
    expect_digit(page, "7")
    expect(page.get_by_test_id("correction")).to_be_visible()
    page.get_by_test_id("correct-4").click()
    expect(page.get_by_test_id("correct-status")).to_contain_text("It is 4", timeout=TIMEOUT)
    expect(page.get_by_test_id("correct-4")).to_have_attribute("aria-pressed", "true")
    # the history page shows it, corrected, with its thumbnail
    page.locator("#nav").get_by_role("link", name="History").click()
    entries = page.get_by_test_id("server-entry")
    expect(entries).to_have_count(1, timeout=TIMEOUT)
    expect(entries.first.get_by_test_id("entry-state")).to_have_text("corrected: it is 4")
    thumb = entries.first.locator("img")
    expect(thumb).to_have_attribute("src", f"/api/v1/history/{entries.first.get_attribute('data-id')}/image")
    page.wait_for_function("() => document.querySelector('[data-testid=server-entry] img').naturalWidth > 0",
                           timeout=TIMEOUT)
    # the filters: corrected ones only, then the uncorrected ones (none)
    page.get_by_label("Corrected").select_option("false")
    expect(entries).to_have_count(0, timeout=TIMEOUT)
    page.get_by_label("Corrected").select_option("true")
    expect(entries).to_have_count(1, timeout=TIMEOUT)
    # the dashboard: the charts drawn, the correction in the confusion matrix
    page.locator("#nav").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("totals")).to_contain_text("Readings", timeout=TIMEOUT)
    charts = page.get_by_test_id("chart")
    expect(charts).to_have_count(5)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=chart]')]"
                           ".every((c) => window.Chart.getChart(c) && c.width > 0 && c.height > 0)", timeout=TIMEOUT)
    assert page.evaluate("() => window.Chart.getChart('c-readings').data.datasets[0].data.reduce((a, b) => a + b)") == 1
    cell = page.get_by_test_id("confusion").locator("tbody tr").nth(7).locator("td").nth(4)
    expect(cell).to_have_text("1")
    assert page.evaluate("(c) => getComputedStyle(c).backgroundColor", cell.element_handle()) != "rgba(0, 0, 0, 0)"
    expect(page.locator("#scope")).to_be_hidden()  # not an operator: no "Everyone"
    assert not refused, refused  # Chart.js and every page run under the policy
    # sign out from the account page
    page.locator("#nav").get_by_role("link", name="Account").click()
    expect(page.get_by_test_id("account-email")).to_have_text(email, timeout=TIMEOUT)
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(site.url + "/", timeout=TIMEOUT)
    expect(page.locator("#nav").get_by_role("link", name="Sign in")).to_be_visible(timeout=TIMEOUT)
    # anonymous again: reading still works, without the offer
    draw(page, SEVEN)
    expect_digit(page, "7")
    expect(page.get_by_test_id("correction")).to_be_hidden()


def test_a_number_is_corrected_in_a_text_field(context: BrowserContext, site: Site) -> None:
    sign_in(context, site, site.user())
    page = context.new_page()
    page.goto(site.url + "/")
    expect(page.get_by_test_id("signed-in-as")).to_be_visible(timeout=TIMEOUT)
    page.get_by_test_id("mode-number").check()
    write(page, "417")
    expect(page.get_by_test_id("prediction-digit")).to_have_text("417", timeout=TIMEOUT)
    field = page.get_by_test_id("correct-text")
    expect(field).to_have_value("417")
    field.fill("411")
    page.get_by_test_id("correct-save").click()
    expect(page.get_by_test_id("correct-status")).to_contain_text("It is 411", timeout=TIMEOUT)
    page.goto(site.url + "/history")
    entries = page.get_by_test_id("server-entry")
    # the newest entry is the drawing's last reading, corrected (each re-read of the drawing replaced
    # the entry of the one before, but a read the page aborted for a newer one may have been kept)
    expect(entries.first.get_by_test_id("entry-state")).to_have_text("corrected: it is 411", timeout=TIMEOUT)
    count = entries.count()
    assert 1 <= count <= 3, count
    # deleting asks twice
    first_id = entries.first.get_attribute("data-id")
    entries.first.get_by_role("button", name="Delete").click()
    entries.first.get_by_role("button", name="Really delete this reading?").click()
    expect(entries).to_have_count(count - 1, timeout=TIMEOUT)
    expect(page.locator(f"[data-testid=server-entry][data-id='{first_id}']")).to_have_count(0)


def test_password_reset_through_the_pages(context: BrowserContext, site: Site) -> None:
    email = site.user()
    page = context.new_page()
    page.goto(site.url + "/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    before = len(site.inbox.messages)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#status")).to_contain_text("on its way", timeout=TIMEOUT)
    path = link_path(site.inbox.wait_for(email, "password", after=before), site)
    assert path.startswith("/reset-password?token=")
    page.goto(site.url + path)
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("at least 8")
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("changed", timeout=TIMEOUT)
    # the link works once: the API's message is shown
    page.reload()
    page.get_by_label("New password").fill("another new password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_have_attribute("data-kind", "error", timeout=TIMEOUT)
    page.goto(site.url + "/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a brand new password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)


def test_a_bad_confirmation_link_says_so(context: BrowserContext, site: Site) -> None:
    page = context.new_page()
    page.goto(site.url + "/verify?token=not-a-token")
    expect(page.get_by_test_id("verify-status")).to_contain_text("could not be confirmed", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Send a new link")).to_be_visible()


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_visitors_are_sent_to_sign_in(context: BrowserContext, site: Site, path: str) -> None:
    page = context.new_page()
    page.goto(site.url + path)
    notice = page.get_by_test_id("signed-out")
    expect(notice).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#content")).to_be_hidden()
    notice.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/signin?next={path}")


def test_operators_switch_between_everyone_and_me(context: BrowserContext, site: Site) -> None:
    email = site.user()
    promoted = subprocess.run([str(BIN), "users", "promote", email], env={**os.environ, **site.env},
                              capture_output=True, text=True, timeout=60)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    sign_in(context, site, email)
    page = context.new_page()
    page.goto(site.url + "/dashboard")
    expect(page.get_by_test_id("totals")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#scope")).to_be_visible()
    expect(page.get_by_test_id("totals")).not_to_contain_text("Accounts")
    with page.expect_response(lambda r: "scope=all" in r.url and r.status == 200):
        page.get_by_test_id("scope-all").check()
    expect(page.get_by_test_id("totals")).to_contain_text("Accounts", timeout=TIMEOUT)
    page.get_by_role("radio", name="Me").check()
    expect(page.get_by_test_id("totals")).not_to_contain_text("Accounts", timeout=TIMEOUT)


def overflow(page: Page) -> list[str]:
    """Elements reaching past the viewport's right edge (outside their own scrolling boxes)."""
    return page.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX; if ((o === 'auto' || o === 'scroll') && p !== document.body
                && p !== document.documentElement) return true; } return false; };
        return [...document.querySelectorAll('body *')].filter((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.right > w + 1 && !scrolls(el);
        }).map((el) => el.tagName + '#' + el.id + '.' + el.className);
    }""")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_fits_a_phone_in_both_themes_and_passes_axe(browser, site: Site, theme: str) -> None:  # type: ignore[no-untyped-def]
    # axe is added as an inline script: the pages' policy is bypassed here (the flow test runs under it)
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, bypass_csp=True)
    ctx.add_init_script(f"localStorage.setItem('inkdigit.theme', '{theme}')")
    try:
        page = ctx.new_page()
        for path in [*SIGNED_OUT_PAGES, *ACCOUNT_PAGES]:
            page.goto(site.url + path)
            page.wait_for_function("() => document.getElementById('nav').dataset.state", timeout=TIMEOUT)
            assert page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == theme
            assert not overflow(page), (path, overflow(page))
            assert_clean(page, f"{path}, signed out, {theme}")
        email = site.user()
        sign_in(ctx, site, email)
        # a reading and a correction, so that history and dashboard have something to show
        page.goto(site.url + "/")
        expect(page.get_by_test_id("signed-in-as")).to_have_text(email, timeout=TIMEOUT)
        draw(page, SEVEN)
        expect_digit(page, "7")
        expect(page.get_by_test_id("correction")).to_be_visible()
        assert not overflow(page), ("/", overflow(page))
        assert_clean(page, f"/, signed in, answer with the offer, {theme}")
        page.get_by_test_id("correct-1").click()
        expect(page.get_by_test_id("correct-status")).to_contain_text("Thanks", timeout=TIMEOUT)
        for path in ACCOUNT_PAGES:
            page.goto(site.url + path)
            expect(page.locator("#content")).to_be_visible(timeout=TIMEOUT)
            if path == "/history":
                expect(page.get_by_test_id("server-entry")).to_have_count(1, timeout=TIMEOUT)
            if path == "/dashboard":
                page.wait_for_function("() => window.Chart && window.Chart.getChart('c-latency')", timeout=TIMEOUT)
            assert not overflow(page), (path, overflow(page))
            assert_clean(page, f"{path}, signed in, {theme}")
    finally:
        ctx.close()


def test_every_control_is_reached_with_the_keyboard(context: BrowserContext, site: Site) -> None:
    sign_in(context, site, site.user())
    page = context.new_page()
    page.goto(site.url + "/account")
    expect(page.locator("#content")).to_be_visible(timeout=TIMEOUT)
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
    assert {"sign-out", "delete", "export", "theme-toggle"} <= reached, reached
