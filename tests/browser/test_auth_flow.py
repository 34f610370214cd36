"""Sign-up, log-out and log-in in a real browser, with JavaScript on (htmx) and off (plain HTML forms).

The ``page`` fixture runs each test twice: ``[js]`` and ``[nojs]``.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from leadthe.models import Organization, User
from tests.conftest import PASSWORD, make_org, make_user

from .helpers import AGE_LABEL, POLICY_LABEL, SIGNUP_LABELS, count_rows, fill_signup, log_in, submit_signup


def at(path: str):
    """A URL pattern for ``expect(page).to_have_url``: exactly ``path`` on the live server, any query."""
    return re.compile(rf"^http://127\.0\.0\.1:\d+{re.escape(path)}(\?.*)?$")


def test_sign_up_log_out_and_log_in_again(page, live_app):
    values = fill_signup(page)
    submit_signup(page)

    expect(page).to_have_url(at("/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ann")
    assert count_rows(live_app, User) == 1 and count_rows(live_app, Organization) == 1

    page.locator("details.menu > summary").click()  # the account menu
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(at("/login"))
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(at("/login"))  # really signed out, not just shown the log-in page

    log_in(page, values["email"], values["password"])
    expect(page).to_have_url(at("/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ann")


def test_sign_up_without_age_confirmation_shows_the_error_beside_the_box(page, js, live_app):
    values = fill_signup(page, age_confirm=False)
    page.evaluate("() => { window.__marker = 1 }")  # survives only if the page is not reloaded

    with page.expect_response(lambda r: r.url.endswith("/signup") and r.request.method == "POST") as answer:
        submit_signup(page)
    sent_by_htmx = answer.value.request.headers.get("hx-request") == "true"
    assert sent_by_htmx == js
    # htmx 2 swaps only 2xx answers; a plain form post gets 422 and the whole page.
    assert answer.value.status == (200 if js else 422)

    age_box = page.get_by_label(AGE_LABEL)
    error = page.locator("#age_confirm-error")
    expect(error).to_have_text(re.compile("only for people aged 18 or older"))
    # "Beside the field": in the checkbox's own field block, and announced with it by screen readers.
    expect(page.locator(".field", has=age_box)).to_contain_text("only for people aged 18 or older")
    expect(age_box).to_have_attribute("aria-describedby", "age_confirm-error")
    expect(age_box).to_have_attribute("aria-invalid", "true")
    expect(age_box).not_to_be_checked()

    for name in ("name", "email", "organization", "job_title", "department"):
        expect(page.get_by_label(SIGNUP_LABELS[name], exact=True)).to_have_value(values[name])
    expect(page.get_by_label(POLICY_LABEL)).to_be_checked()
    expect(page).to_have_url(at("/signup"))

    assert count_rows(live_app, User) == 0 and count_rows(live_app, Organization) == 0
    if js:
        assert page.evaluate("() => window.__marker") == 1, "the invalid sign-up reloaded the whole page"


def test_wrong_password_shows_the_error_and_keeps_the_email(page, live_app):
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="bob@example.com", name="Bob Builder", role="admin")

    log_in(page, "bob@example.com", PASSWORD + " typo")

    expect(page.get_by_role("alert")).to_have_text(re.compile("don't match an account"))
    expect(page.get_by_label("E-mail address", exact=True)).to_have_value("bob@example.com")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never echoed back
    expect(page).to_have_url(at("/login"))

    log_in(page, "bob@example.com")  # the corrected attempt works from the re-rendered form
    expect(page).to_have_url(at("/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Bob")


def test_first_tab_on_login_focuses_the_skip_link(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused, not left off-screen

    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

