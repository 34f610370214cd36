"""Account security in a real browser: revoking a session from another browser, and the two-step
verification pages (set-up, log-in) checked with axe."""
from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import User
from tests.conftest import make_org, make_user

from .helpers import log_in
from .test_auth_flow import at


def test_revoking_a_session_signs_that_browser_out_on_its_next_request(new_page, live_app, axe_check):
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ann@example.com", name="Ann Example")
    laptop, phone = new_page(js=True), new_page(js=True)
    for page in (laptop, phone):
        log_in(page, "ann@example.com")
        expect(page).to_have_url(at("/dashboard"))

    laptop.goto("/account/security")
    sessions = laptop.locator("#sessions tbody tr")
    expect(sessions).to_have_count(2)
    expect(laptop.locator("#sessions")).to_contain_text("this device")
    expect(laptop.locator("#sessions")).to_contain_text("(approximate)")
    axe_check(laptop, label="/account/security")

    other = sessions.filter(has_not_text="this device")
    other.get_by_role("button", name=re.compile("^Sign out")).click()
    dialog = laptop.get_by_role("dialog")  # a destructive action asks first (a page without JavaScript)
    expect(dialog).to_contain_text("Sign this device out?")
    axe_check(laptop, label="/account/security with the confirmation dialog")
    dialog.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(laptop).to_have_url(re.compile(r"/account/security#sessions$"))
    expect(laptop.get_by_text("That device is signed out.")).to_be_visible()
    expect(laptop.locator("#sessions tbody tr")).to_have_count(1)

    phone.goto("/dashboard")
    expect(phone).to_have_url(at("/login"))
    expect(phone.get_by_text("This session was signed out. Please log in again.")).to_be_visible()
    laptop.goto("/dashboard")
    expect(laptop).to_have_url(at("/dashboard"))  # the other browser stays signed in


def _secret(live_app, email) -> str:
    with live_app.app_context():
        return db.session.scalar(db.select(User).where(User.email == email)).totp_secret


def test_set_up_two_step_verification_and_log_in_with_it(page_js, live_app, axe_check):
    page = page_js
    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="bob@example.com", name="Bob Builder")
    log_in(page, "bob@example.com")
    expect(page).to_have_url(at("/dashboard"))

    page.goto("/account/security")
    page.get_by_role("link", name="Set up two-step verification").click()
    page.get_by_role("button", name="Start set-up").click()
    expect(page).to_have_url(at("/account/2fa/setup"))
    expect(page.locator("figure.qr svg")).to_be_visible()
    axe_check(page, label="/account/2fa/setup")

    secret = _secret(live_app, "bob@example.com")
    expect(page.locator("code.secret")).to_have_text(" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))
    code = pyotp.TOTP(secret).now()
    page.get_by_label("6-digit code from your authenticator app").fill(f"{code[:3]} {code[3:]}")
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator("ul.codes li")).to_have_count(10)

    page.locator("details.menu > summary").click()  # the account menu
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Log out").click()
    log_in(page, "bob@example.com")
    expect(page).to_have_url(at("/login/2fa"))
    axe_check(page, label="/login/2fa")
    # the next time step: the code used to turn it on cannot be used again
    page.get_by_label("6-digit code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify and log in").click()
    expect(page).to_have_url(at("/dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Bob")
