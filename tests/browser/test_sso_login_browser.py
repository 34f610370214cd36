"""The log-in page's side of single sign-on in a real browser, with JavaScript on and off: an address of a
single sign-on domain goes to its identity provider, a newcomer's welcome page and the refusal page work and
are accessible (axe) and valid HTML (Nu)."""
from __future__ import annotations

from http.cookies import SimpleCookie

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models import User
from leadthe.sso import login
from leadthe.sso.settings import for_org
from tests.conftest import make_org, make_user
from tests.test_sso_login import claims, sso_on

from . import nu

NEWCOMER = dict(subject="sub-new", email="nora@a.example", name="Nora Newman")


def browser_signed_by_idp(page, live_app, live_server, org, answer) -> None:
    """What a protocol view does after the identity provider's answer, for this browser: the session cookie
    ``finish`` set is handed to the page's context."""
    name = live_app.config["SESSION_COOKIE_NAME"]
    with live_app.test_request_context("/login", method="POST", base_url=live_server):
        response = live_app.process_response(live_app.make_response(login.finish(for_org(org.id), answer, "")))
    for header in response.headers.getlist("Set-Cookie"):
        jar = SimpleCookie(header)
        if name in jar:
            page.context.add_cookies([{"name": name, "value": jar[name].value, "url": live_server}])


def test_an_address_of_a_single_sign_on_domain_goes_to_its_identity_provider(page, js, live_app, axe_check):
    org = make_org(live_app, "Company A")
    key = sso_on(live_app, org, "a.example")
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill("someone@a.example")
    if js:
        page.get_by_label("Password", exact=True).focus()  # leaving the address asks whether its domain uses SSO
        expect(page.locator("#sso-hint")).to_contain_text("Your company uses single sign-on")
        axe_check(page)
    # the start of the company's protocol (it goes on to the identity provider, which is not under test here)
    with page.expect_request(lambda r: f"/sso/oidc/{key}/start" in r.url) as started:
        page.get_by_role("button", name="Log in", exact=True).click()
    assert "login_hint=someone@a.example" in started.value.url


def test_sso_required_offers_single_sign_on_instead_of_the_password(page, live_app):
    org = make_org(live_app, "Company A")
    person = make_user(live_app, org, email="pat@a.example")
    key = sso_on(live_app, org, "a.example", required=True)
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(person.email)
    page.get_by_label("Password", exact=True).fill("velvet tuesday orbit lantern")
    page.get_by_role("button", name="Log in", exact=True).click()
    link = page.get_by_role("link", name="Continue with single sign-on")
    expect(link).to_be_visible()
    assert f"/sso/oidc/{key}/start" in link.get_attribute("href")


def test_the_welcome_and_refusal_pages(new_page, live_app, live_server, axe_check, tmp_path):
    org = make_org(live_app, "Company A")
    sso_on(live_app, org, "a.example")
    page = new_page(js=True)
    browser_signed_by_idp(page, live_app, live_server, org, claims(**NEWCOMER))
    page.goto("/sso/welcome")
    expect(page.get_by_label("Your name")).to_have_value("Nora Newman")
    axe_check(page, label="welcome")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("only for people aged 18 or older").first).to_be_visible()
    axe_check(page, label="welcome with errors")
    files = [tmp_path / "welcome_errors.html"]
    files[0].write_text(page.content(), encoding="utf-8")
    # the company turns just-in-time creation off meanwhile: the refusal page
    with live_app.app_context():
        for_org(org.id).jit_enabled = False
        db.session.commit()
    page.get_by_label("I am 18 or older").check()
    page.get_by_label("I have read and accept the privacy policy").check()
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    expect(page.locator("code").first).to_have_text("jit_disabled")
    axe_check(page, label="refused")
    files.append(tmp_path / "refused.html")
    files[1].write_text(page.content(), encoding="utf-8")
    # and with it on, the same person joins
    with live_app.app_context():
        for_org(org.id).jit_enabled = True
        db.session.commit()
    other = new_page(js=False)
    browser_signed_by_idp(other, live_app, live_server, org, claims(**NEWCOMER))
    other.goto("/sso/welcome")
    files.append(tmp_path / "welcome.html")
    files[2].write_text(other.content(), encoding="utf-8")
    other.get_by_label("I am 18 or older").check()
    other.get_by_label("I have read and accept the privacy policy").check()
    other.get_by_role("button", name="Create my account").click()
    other.wait_for_url("**/dashboard")
    with live_app.app_context():
        assert db.session.scalar(sa.select(User.role).where(User.email == "nora@a.example")) == "learner"
    messages = nu.check_files(files)
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)


def test_log_in_with_single_sign_on_page(page, js, live_app, axe_check):
    org = make_org(live_app, "Company A")
    key = sso_on(live_app, org, "a.example")
    page.goto("/login")
    page.get_by_role("link", name="Log in with single sign-on").click()
    page.get_by_label("Work e-mail address").fill("someone@b.example")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#email-error")).to_contain_text("Addresses at b.example do not use single sign-on")
    if js:
        axe_check(page, label="/login/sso with an error")
    page.get_by_label("Work e-mail address").fill("someone@a.example")
    with page.expect_request(lambda r: f"/sso/oidc/{key}/start" in r.url):
        page.get_by_role("button", name="Continue").click()
