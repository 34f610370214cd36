"""OpenID Connect log-in in a real browser, with JavaScript on and off, through the fake OpenID provider
(tests/fake_oidc.py): the provider's "Sign in as" button, back to LeadThe.AI, "Continue", the dashboard. The
continue page and the refusal page pass axe and the Nu HTML checker."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models.sso import SsoIdentity
from leadthe.sso import oidc
from leadthe.sso.settings import for_org
from tests.conftest import make_org, make_user
from tests.fake_oidc import FakeProvider

from . import nu
from .test_sweep import require_nu

EMAIL = "ann@example.com"


@pytest.fixture
def provider():
    with FakeProvider() as running:
        yield running


@pytest.fixture
def start_url(live_app, provider):
    """Example Ltd signs in through ``provider``; Ann is linked to her subject there. The start URL."""
    org = make_org(live_app, "Example Ltd")
    ann = make_user(live_app, org, email=EMAIL, name="Ann Example")
    with live_app.app_context():
        settings = for_org(org.id)
        settings.protocol = "oidc"
        settings.oidc_issuer = provider.issuer
        settings.oidc_client_id = provider.client_id
        settings.oidc_client_secret = provider.client_secret
        settings.oidc_metadata, settings.oidc_jwks = oidc.discover(provider.issuer)
        db.session.add(SsoIdentity(org_id=org.id, user_id=ann.id, protocol="oidc", issuer=provider.issuer,
                                   subject=provider.subject_of(EMAIL), email=EMAIL))
        db.session.commit()
        return f"/sso/oidc/{settings.public_key}/start?login_hint={EMAIL}"


def through_the_provider(page, start_url):
    """Start, click the provider's button; the callback's answer as served (for the Nu checker)."""
    page.goto(start_url)
    with page.expect_response(re.compile(r"/sso/oidc/callback\?")) as served:
        page.get_by_role("button", name=f"Sign in as {EMAIL}").click()
    return served.value


def test_log_in_through_the_identity_provider(page, js, start_url):
    through_the_provider(page, start_url)
    expect(page.get_by_role("heading", name="Continue to LeadThe.AI")).to_be_visible()
    expect(page.get_by_text(f"You are signing in as {EMAIL}.")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("navigation", name="Account")).to_be_visible()  # signed in


def test_a_refused_log_in_says_why(page, js, provider, start_url):
    provider.knobs = {"nonce": "not-the-one-we-sent"}
    through_the_provider(page, start_url)
    expect(page.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("does not belong to the log-in started in this browser")
    page.get_by_role("link", name="Back to the log-in").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_the_pages_pass_axe_and_nu(page_js, provider, start_url, axe_check, tmp_path):
    require_nu()
    files = []

    def save(name, response):
        path = tmp_path / f"{name}.html"
        path.write_text(response.text(), encoding="utf-8")
        files.append(path)

    served = through_the_provider(page_js, start_url)
    expect(page_js.get_by_role("button", name="Continue")).to_be_visible()
    axe_check(page_js, label="the OIDC continue page")
    save("continue", served)
    provider.knobs = {"exp_in": -3600}
    served = through_the_provider(page_js, start_url)
    expect(page_js.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    axe_check(page_js, label="the refusal page")
    save("refused", served)
    messages = nu.check_files(files)
    assert not messages, "\n".join(str(m) for m in messages)
