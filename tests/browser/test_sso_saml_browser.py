"""SAML log-in in a real browser, with JavaScript on and off: our start sends the browser to the IdP (a pysaml2
IdP on its own loopback port, tests/fake_saml.py), the person presses "Continue" there (a plain form that posts
the signed response to our ACS), then "Continue" on our page, and lands signed in. axe and Nu on our page."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from leadthe.models.sso import SsoIdentity, SsoLoginAttempt
from leadthe.sso import saml
from leadthe.sso.settings import for_org
from tests.conftest import make_org, make_user
from tests.fake_saml import FakeIdp

from . import nu
from .conftest import browser_required


@pytest.fixture
def idp(live_app, live_server, tmp_path):
    """Company "Example Ltd" signs in through a SAML IdP served on 127.0.0.1; Lea is linked to her subject."""
    org = make_org(live_app, "Example Ltd")
    learner = make_user(live_app, org, email="lea@example.com", name="Lea Learner")
    with live_app.app_context():
        settings = for_org(org.id)
        settings.protocol = "saml"
        db.session.commit()
        key = settings.public_key
    fake = FakeIdp.at(tmp_path / "idp")
    # our metadata as the IdP's admin would download it (absolute URLs from the live server's base URL)
    fake.know_sp(live_app.test_client().get(f"/sso/saml/{key}/metadata").get_data(as_text=True))
    assert fake.acs_url == f"{live_server}/sso/saml/{key}/acs"
    fake.serve()
    with live_app.app_context():
        settings = for_org(org.id)
        settings.saml_idp_metadata = fake.metadata_xml()
        settings.saml_idp_entity_id = saml.idp_entity_id(settings.saml_idp_metadata)
        db.session.add(SsoIdentity(org_id=org.id, user_id=learner.id, protocol="saml", issuer=fake.entity_id,
                                   subject=fake.subject, email="lea@example.com"))
        db.session.commit()
    fake.key = key
    yield fake
    fake.stop()


def test_log_in_through_the_saml_idp(live_app, page, js, idp, axe_check):
    page.goto(f"/sso/saml/{idp.key}/start?next=/courses")
    expect(page).to_have_url(re.compile(rf"^{re.escape(idp.sso_url)}\?SAMLRequest="))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/sso/saml/finish\?t="))
    expect(page.get_by_role("heading", name="Continue to LeadThe.AI")).to_be_visible()
    expect(page.get_by_text("You are signing in as lea@sso.example.")).to_be_visible()
    if js:
        axe_check(page)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/courses$"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard$"))  # signed in: no redirect to the log-in
    with live_app.app_context():
        attempt = db.session.scalar(sa.select(SsoLoginAttempt))
        assert attempt.consumed_at is not None


def test_a_refused_response_shows_the_reason(live_app, page_js, idp, axe_check):
    """The IdP's answer arrives after the attempt was used: the clear refusal page."""
    page = page_js
    page.goto(f"/sso/saml/{idp.key}/start")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/sso/saml/finish\?t="))
    finish = page.url
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto(finish)
    expect(page.get_by_role("heading", name="We could not sign you in")).to_be_visible()
    expect(page.get_by_text("This answer was already used for a log-in.")).to_be_visible()
    axe_check(page)


def test_our_saml_pages_are_valid_html(live_app, page_js, idp, tmp_path):
    page = page_js
    page.goto(f"/sso/saml/{idp.key}/start")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/sso/saml/finish\?t="))
    files = [tmp_path / "continue.html", tmp_path / "refused.html"]
    files[0].write_text(page.request.get(page.url).text(), encoding="utf-8")  # a GET: the link stays unused
    files[1].write_text(page.request.get("/sso/saml/finish?t=unknown").text(), encoding="utf-8")
    try:
        messages = nu.check_files(files)
    except nu.Unavailable as exc:
        if browser_required():
            pytest.fail(f"the Nu HTML checker cannot run: {exc}", pytrace=False)
        pytest.skip(f"the Nu HTML checker cannot run: {exc}")
    assert not messages, "\n".join(str(m) for m in messages)
