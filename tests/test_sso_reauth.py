"""Step-up for people who log in only through their company's identity provider: they have no password of
their own, so before a sensitive action (their data export, deleting their account, ...) they confirm it is
them at the identity provider, which is asked to check them afresh (OpenID Connect ``prompt=login`` and
``max_age``, SAML ``ForceAuthn``); then the action goes ahead as after a password."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from saml2.s_utils import decode_base64_and_inflate

from leadthe.auth.passwords import UNUSABLE_SSO
from leadthe.extensions import db
from leadthe.models import AuditEvent, DataExport, User
from tests.conftest import PASSWORD, make_user, post_form
from tests.helpers import close_step_up_window
from tests.test_sso_oidc import assert_refused, callback_path, configure, continue_, link, provider  # noqa: F401
from tests.test_sso_saml import sso  # noqa: F401


def sso_person(app, org, provider):
    """A person made by single sign-on (no password of their own), linked to the provider's subject."""
    person = make_user(app, org, email="sam@a.example", name="Sam Sso")
    with app.app_context():
        db.session.get(User, person.id).password_hash = UNUSABLE_SSO
        db.session.commit()
    link(app, person, provider)
    return person


def sign_in_through(client, provider, key, email):
    start = client.get(f"/sso/oidc/{key}/start")
    page = client.get(callback_path(provider.code_for(start.headers["Location"], email)))
    assert continue_(client, page).status_code == 303


def confirm_link(client) -> str:
    page = client.get("/privacy").get_data(as_text=True)
    assert "Confirm with your identity provider" in page and 'name="password"' not in page.split('id="export"')[-1][:2000]
    start = page.split("Confirm with your identity provider")[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    return start


def test_a_person_without_a_password_confirms_at_the_identity_provider_and_exports(app, client, companies, provider):
    a = companies[0]
    key = configure(app, a.org, provider)
    person = sso_person(app, a.org, provider)
    sign_in_through(client, provider, key, person.email)
    # without confirming, the export is refused with the way to confirm beside it
    refused = post_form(client, "/privacy/export", {}, page="/privacy")
    assert refused.status_code == 422 and "Confirm it is you at your company" in refused.get_data(as_text=True)
    start = confirm_link(client)
    assert parse_qs(urlsplit(start).query)["reauth"] == ["1"] and parse_qs(urlsplit(start).query)["next"] == ["/privacy"]
    to_provider = client.get(start)
    asked = parse_qs(urlsplit(to_provider.headers["Location"]).query)
    assert asked["prompt"] == ["login"] and asked["max_age"] == ["300"]
    page = client.get(callback_path(provider.code_for(to_provider.headers["Location"], person.email)))
    back = continue_(client, page)
    assert back.status_code == 303 and back.headers["Location"] == "/privacy"
    assert "You confirmed it is you a moment ago" in client.get("/privacy").get_data(as_text=True)
    assert post_form(client, "/privacy/export", {}, page="/privacy").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DataExport).where(DataExport.user_id == person.id)) == 1
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reauth.success")).all()[-1]
        assert event.subject_id == person.id and event.details.get("via") == "oidc"


def test_another_person_at_the_identity_provider_does_not_confirm(app, client, companies, provider):
    a = companies[0]
    key = configure(app, a.org, provider)
    person = sso_person(app, a.org, provider)
    link(app, a.learner, provider)
    sign_in_through(client, provider, key, person.email)
    to_provider = client.get(confirm_link(client))
    page = client.get(callback_path(provider.code_for(to_provider.headers["Location"], a.learner.email)))
    assert_refused(app, continue_(client, page), "reauth_other_account", a.org.id)
    assert "You confirmed it is you a moment ago" not in client.get("/privacy").get_data(as_text=True)


def test_an_identity_provider_that_did_not_check_afresh_does_not_confirm(app, client, companies, provider):
    a = companies[0]
    key = configure(app, a.org, provider)
    person = sso_person(app, a.org, provider)
    sign_in_through(client, provider, key, person.email)
    for knob in ({"auth_time_in": -3600}, {"no_auth_time": True}):
        provider.knobs = knob
        to_provider = client.get(confirm_link(client))
        response = client.get(callback_path(provider.code_for(to_provider.headers["Location"], person.email)))
        assert_refused(app, response, "not_fresh", a.org.id)


def test_people_with_a_password_keep_the_password_field(app, client, companies, provider):
    a = companies[0]
    configure(app, a.org, provider)
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}, page="/login")
    close_step_up_window(app, a.learner.email)
    page = client.get("/privacy").get_data(as_text=True)
    assert "Confirm with your identity provider" not in page and 'name="password"' in page


def test_saml_asks_the_identity_provider_to_check_afresh(app, sso):
    """Step-up through SAML: the AuthnRequest carries ForceAuthn="true"; a log-in does not."""
    requests = {}
    for query in ("", "?reauth=1"):
        location = app.test_client().get(f"/sso/saml/{sso.key}/start{query}").headers["Location"]
        requests[query] = decode_base64_and_inflate(parse_qs(urlsplit(location).query)["SAMLRequest"][0]).decode()
    assert 'ForceAuthn="true"' in requests["?reauth=1"] and "ForceAuthn" not in requests[""]
