"""Issue 16's pages in Chromium, against a real server: an operator sees the dashboard's "Models"
section (the live model, the corrections, each candidate's gate), makes a candidate live and rolls
it back, as the API confirms; a user who is not an operator never sees it; the account page's
"Learn my handwriting" switch persists, and names the user's own model once there is one."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import create_engine

from inkdigit.engine.modelcard import owner_tag
from inkdigit.service import modelops
from tests.service.conftest import BIN
from tests.service.modelcards import install_card
from tests.web.test_accessibility import assert_clean
from tests.web.test_accounts_pages import PASSWORD, Site, context, overflow, sign_in, site
from tests.web.test_app import TIMEOUT

__all__ = ["context", "site"]  # the fixtures, shared with the account pages' tests


def _models(site: Site) -> Path:
    return Path(site.env["INKDIGIT_HOME"]) / "models"


def _operator(site: Site) -> str:
    email = site.user()
    done = subprocess.run([str(BIN), "users", "promote", email], env={**os.environ, **site.env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return email


def _live(site: Site, email: str) -> str:
    with httpx.Client(base_url=site.url, timeout=10) as c:
        assert c.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD}).status_code in (200, 204)
        r = c.get("/api/v1/models/live")
        assert r.status_code == 200, r.text
        return str(r.json()["live"])


def test_an_operator_makes_a_candidate_live_and_rolls_it_back(context: BrowserContext, site: Site) -> None:
    install_card(_models(site), "cnn-ft-good")
    install_card(_models(site), "cnn-ft-bad", passed=False)
    email = _operator(site)
    default = _live(site, email)
    sign_in(context, site, email)
    page = context.new_page()
    refused: list[str] = []  # anything the pages' Content-Security-Policy blocked
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(site.url + "/dashboard")
    models = page.get_by_test_id("models")
    expect(models).to_be_visible(timeout=TIMEOUT)
    expect(models.get_by_test_id("models-facts")).to_contain_text(default)
    expect(models.get_by_test_id("models-corrections")).to_contain_text("Readings corrected")
    expect(models.get_by_test_id("rollback")).to_be_disabled()
    good = models.locator("[data-testid=candidate][data-name=cnn-ft-good]")
    bad = models.locator("[data-testid=candidate][data-name=cnn-ft-bad]")
    expect(good.get_by_test_id("gate-row")).to_have_count(2)
    first = good.get_by_test_id("gate-row").first
    for text in ("corrections", "40", "60.00%", "80.00%", "+20.00", "ok"):
        expect(first).to_contain_text(text)
    expect(good.get_by_test_id("verdict")).to_contain_text("Passed")
    expect(bad.get_by_test_id("gate-row").nth(1)).to_contain_text("fails")
    expect(bad.get_by_test_id("verdict")).to_contain_text("mnist_test accuracy fell by 9 points")
    expect(bad.get_by_role("button", name="Make live")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Change (points)").first).to_be_visible()

    good.get_by_role("button", name="Make live cnn-ft-good").click()
    status = models.get_by_test_id("models-status")
    expect(status).to_contain_text("cnn-ft-good is live", timeout=TIMEOUT)
    expect(status).to_have_attribute("data-kind", "ok")
    assert _live(site, email) == "cnn-ft-good"
    expect(good).to_contain_text("Live now")
    expect(good.get_by_role("button", name="Make live")).to_have_count(0)
    expect(models.get_by_test_id("event")).to_have_count(1)
    expect(models.get_by_test_id("event").first).to_contain_text("Made live")
    expect(models.get_by_test_id("event").first).to_contain_text(email)
    expect(models.get_by_test_id("rollback")).to_be_focused()

    models.get_by_role("button", name="Roll back").click()
    expect(status).to_contain_text(f"{default} is live again", timeout=TIMEOUT)
    assert _live(site, email) == default
    expect(models.get_by_test_id("event")).to_have_count(2)
    expect(models.get_by_test_id("event").first).to_contain_text("Rolled back")
    expect(models.get_by_test_id("rollback")).to_be_disabled()
    expect(good.get_by_role("button", name="Make live")).to_be_visible()

    # a refusal shows the API's message: the candidate's card lost its gate after the page drew it
    install_card(_models(site), "cnn-ft-good", passed=False)
    good.get_by_role("button", name="Make live").click()
    expect(status).to_contain_text("did not pass its gate", timeout=TIMEOUT)
    expect(status).to_have_attribute("data-kind", "error")
    expect(good.get_by_role("button", name="Make live")).to_have_count(0)  # drawn again as the server has it
    assert _live(site, email) == default
    install_card(_models(site), "cnn-ft-good")
    assert not refused, refused


def test_the_models_section_is_for_operators_only(context: BrowserContext, site: Site) -> None:
    sign_in(context, site, site.user())
    page = context.new_page()
    with page.expect_response(lambda r: "/api/v1/stats" in r.url):
        page.goto(site.url + "/dashboard")
    expect(page.get_by_test_id("totals")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("models")).to_be_hidden()
    assert context.request.get(site.url + "/api/v1/models/live").status == 403


def test_the_learn_my_handwriting_switch_persists(context: BrowserContext, site: Site) -> None:
    email = site.user()
    sign_in(context, site, email)
    page = context.new_page()
    page.goto(site.url + "/account")
    switch = page.get_by_role("switch", name="Learn my handwriting")
    expect(switch).to_be_enabled(timeout=TIMEOUT)
    expect(switch).not_to_be_checked()
    expect(page.get_by_test_id("learn-model")).to_contain_text(f"inkdigit finetune --user {email}")
    with page.expect_response(lambda r: "/api/v1/users/me/model" in r.url and r.request.method == "PUT"):
        switch.check()
    expect(page.locator("#learn-status")).to_contain_text("On", timeout=TIMEOUT)
    assert context.request.get(site.url + "/api/v1/users/me/model").json()["enabled"] is True
    page.reload()
    expect(switch).to_be_enabled(timeout=TIMEOUT)
    expect(switch).to_be_checked()

    # once an operator has made their model, the page names it with its held-out figure
    user_id = uuid.UUID(context.request.get(site.url + "/api/v1/users/me").json()["id"])
    install_card(_models(site), "cnn-mine", owner=owner_tag(user_id))
    engine = create_engine(f"sqlite:///{Path(site.env['INKDIGIT_HOME']) / 'inkdigit.db'}")
    try:
        with engine.begin() as connection:
            modelops.set_personal_model(connection, user_id, "cnn-mine")
    finally:
        engine.dispose()
    page.reload()
    expect(page.get_by_test_id("learn-model")).to_contain_text("Your model: cnn-mine", timeout=TIMEOUT)
    expect(page.get_by_test_id("learn-model")).to_contain_text("80.00%")
    switch.uncheck()
    expect(page.locator("#learn-status")).to_contain_text("Off", timeout=TIMEOUT)
    expect(page.get_by_test_id("learn-model")).to_contain_text("not used while this is off")
    assert context.request.get(site.url + "/api/v1/users/me/model").json()["enabled"] is False


def test_the_models_section_fits_a_phone_and_passes_axe(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    install_card(_models(site), "cnn-ft-axe")
    email = _operator(site)
    for theme in ("light", "dark"):
        for width in (360, 1280):
            ctx = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
            ctx.add_init_script(f"localStorage.setItem('inkdigit.theme', '{theme}')")
            try:
                sign_in(ctx, site, email)
                page = ctx.new_page()
                for path, ready in (("/dashboard", "[data-testid=candidate]"), ("/account", "#learn:enabled")):
                    page.goto(site.url + path)
                    expect(page.locator(ready).first).to_be_visible(timeout=TIMEOUT)
                    assert not overflow(page), (path, width, theme, overflow(page))
                    assert_clean(page, f"{path}, operator, {width}px, {theme}")
            finally:
                ctx.close()
