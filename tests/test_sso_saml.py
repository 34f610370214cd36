"""SAML 2.0 log-in against a real IdP made with pysaml2 (tests/fake_saml.py): our metadata, the IdP's metadata
checks, the SP-initiated and IdP-initiated log-ins, and each forged or stale response refused with the clear
page and the audit event ``sso.refused`` naming the reason."""
from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from defusedxml.ElementTree import fromstring

from leadthe.extensions import db
from leadthe.models import AuditEvent, utcnow
from leadthe.models.sso import SsoIdentity, SsoLoginAttempt, SsoReplay, SsoSettings
from leadthe.sso import http, saml
from leadthe.sso.settings import for_org
from tests import fake_saml
from tests.conftest import csrf_from
from tests.fake_saml import FakeIdp

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


class Sso:
    """Company A with SAML set up for the fake IdP, and its learner linked to the IdP's subject."""

    def __init__(self, app, company, idp, key):
        self.app, self.company, self.idp, self.key = app, company, idp, key

    def start(self, client, query: str = "") -> str:
        """Start a log-in; the AuthnRequest ID the IdP received."""
        response = client.get(f"/sso/saml/{self.key}/start{query}")
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith(self.idp.sso_url)
        request = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
        return self.idp.server.parse_authn_request(request).message.id

    def post(self, client, saml_response: str):
        return client.post(f"/sso/saml/{self.key}/acs", data={"SAMLResponse": saml_response})

    def finish(self, client, acs_answer):
        """Follow the ACS's redirect, then press "Continue"."""
        assert acs_answer.status_code == 303, acs_answer.get_data(as_text=True)[:500]
        page = client.get(acs_answer.headers["Location"])
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        token = parse_qs(urlsplit(acs_answer.headers["Location"]).query)["t"][0]
        return client.post("/sso/saml/finish", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "t": token})

    def settings(self, **values):
        with self.app.app_context():
            row = db.session.scalar(sa.select(SsoSettings).where(SsoSettings.org_id == self.company.org.id))
            for name, value in values.items():
                setattr(row, name, value)
            db.session.commit()


def setup_saml(app, company, idp: FakeIdp, client) -> str:
    with app.app_context():
        settings = for_org(company.org.id)
        settings.protocol = "saml"
        db.session.commit()
        key = settings.public_key
    idp.know_sp(client.get(f"/sso/saml/{key}/metadata").get_data(as_text=True))
    with app.app_context():
        settings = for_org(company.org.id)
        settings.saml_idp_metadata = idp.metadata_xml()
        settings.saml_idp_entity_id = saml.idp_entity_id(settings.saml_idp_metadata)
        db.session.commit()
    return key


@pytest.fixture
def sso(app, companies, tmp_path):
    company = companies[0]
    idp = FakeIdp(tmp_path / "idp")
    key = setup_saml(app, company, idp, app.test_client())
    with app.app_context():
        db.session.add(SsoIdentity(org_id=company.org.id, user_id=company.learner.id, protocol="saml",
                                   issuer=idp.entity_id, subject=idp.subject, email="learner@a.example"))
        db.session.commit()
    return Sso(app, company, idp, key)


def refusals(app) -> list[dict]:
    with app.app_context():
        return [event.details for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "sso.refused").order_by(AuditEvent.id))]


def assert_refused(app, response, reason: str):
    assert response.status_code == 403, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    assert "We could not sign you in" in page and f"<code>{reason}</code>" in page
    assert refusals(app)[-1]["reason"] == reason, refusals(app)


def signed_in(client) -> bool:
    response = client.get("/dashboard")
    return response.status_code == 200


# --- our metadata -----------------------------------------------------------------------------------

def test_our_metadata_names_the_company_s_entity_id_and_acs(app, sso, client):
    response = client.get(f"/sso/saml/{sso.key}/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    root = fromstring(response.get_data())
    assert root.get("entityID") == f"http://localhost/sso/saml/{sso.key}/metadata"
    descriptor = root.find(f"{MD}SPSSODescriptor")
    assert descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.find(f"{MD}AssertionConsumerService")
    assert acs.get("Location") == f"http://localhost/sso/saml/{sso.key}/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    formats = [f.text for f in descriptor.findall(f"{MD}NameIDFormat")]
    assert formats[0] == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def test_metadata_is_404_for_an_unknown_key_or_another_protocol(app, sso, client):
    assert client.get("/sso/saml/no-such-key/metadata").status_code == 404
    sso.settings(protocol="oidc")
    assert client.get(f"/sso/saml/{sso.key}/metadata").status_code == 404
    assert client.get(f"/sso/saml/{sso.key}/start").status_code == 404


# --- the IdP's metadata -------------------------------------------------------------------------------

def test_idp_entity_id_reads_usable_metadata(tmp_path):
    idp = FakeIdp(tmp_path)
    assert saml.idp_entity_id(idp.metadata_xml()) == "https://idp.example/saml"


@pytest.mark.parametrize("xml, words", [
    ("", "empty"),
    ("not xml at all", "could not be read"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "boom">]><x>&a;</x>', "could not be read"),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example">'
     '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
     "no identity provider"),
])
def test_idp_entity_id_refuses_what_is_not_idp_metadata(app, xml, words):
    with app.test_request_context():
        with pytest.raises(ValueError, match=words):
            saml.idp_entity_id(xml)


def test_idp_metadata_without_a_signing_certificate_or_redirect_binding_is_refused(app, tmp_path):
    xml = FakeIdp(tmp_path).metadata_xml()
    no_cert = re.sub(r"<(\w+:)?KeyDescriptor.*?</(\w+:)?KeyDescriptor>", "", xml, flags=re.S)
    post_only = xml.replace("bindings:HTTP-Redirect", "bindings:HTTP-POST")
    with app.test_request_context():
        with pytest.raises(ValueError, match="no signing certificate"):
            saml.idp_entity_id(no_cert)
        with pytest.raises(ValueError, match="HTTP-Redirect"):
            saml.idp_entity_id(post_only)


def test_expired_idp_metadata_is_refused(app, tmp_path):
    xml = FakeIdp(tmp_path).metadata_xml().replace(' entityID=', ' validUntil="2001-01-01T00:00:00Z" entityID=', 1)
    with app.test_request_context():
        with pytest.raises(ValueError, match="expired on 2001-01-01"):
            saml.idp_entity_id(xml)


def test_metadata_with_two_idps_is_refused(app, tmp_path):
    one = FakeIdp(tmp_path / "one", entity_id="https://one.example/saml").metadata_xml()
    two = FakeIdp(tmp_path / "two", entity_id="https://two.example/saml").metadata_xml()
    both = f'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{one}{two}</md:EntitiesDescriptor>'
    with app.test_request_context():
        with pytest.raises(ValueError, match="more than one"):
            saml.idp_entity_id(both)
        assert saml.idp_entity_id(f'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{one}'
                                  "</md:EntitiesDescriptor>") == "https://one.example/saml"


def test_fetch_metadata_over_http(app, tmp_path):
    idp = FakeIdp.at(tmp_path)
    base = idp.serve()
    try:
        with app.test_request_context():
            xml = saml.fetch_metadata(f"{base}/metadata")
            assert saml.idp_entity_id(xml) == idp.entity_id
            with pytest.raises(http.IdpUnreachable, match="status 404"):
                saml.fetch_metadata(f"{base}/nothing-here")
            with pytest.raises(http.IdpUnreachable, match="not a valid address"):
                saml.fetch_metadata("ftp://example.com/metadata")
    finally:
        idp.stop()


# --- the log-in -----------------------------------------------------------------------------------

def test_sp_initiated_log_in_of_a_linked_person(app, sso):
    client = app.test_client()
    request_id = sso.start(client, "?next=/courses&login_hint=learner@a.example")
    answer = sso.post(client, sso.idp.response(request_id))
    assert answer.headers["Location"].startswith("/sso/saml/finish?t=")
    done = sso.finish(client, answer)
    assert done.status_code == 303 and done.headers["Location"] == "/courses"
    assert signed_in(client)
    with app.app_context():
        attempt = db.session.scalar(sa.select(SsoLoginAttempt))
        assert attempt.request_id == request_id and attempt.consumed_at is not None
        assert attempt.result["subject"] == "subject-lea" and attempt.result["mfa"] is True
        assert db.session.scalar(sa.select(SsoReplay.assertion_id)) is not None
        identity = db.session.scalar(sa.select(SsoIdentity))
        assert identity.last_login_at is not None
    assert "sso.refused" not in [e.get("action") for e in refusals(app)]


def test_the_claims_carry_the_attributes(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    sso.post(client, sso.idp.response(request_id))
    with app.app_context():
        result = db.session.scalar(sa.select(SsoLoginAttempt)).result
    assert result["issuer"] == sso.idp.entity_id and result["protocol"] == "saml"
    assert result["email"] == "lea@sso.example" and result["email_verified"] is True
    assert (result["name"], result["job_title"], result["department"]) == ("Lea Learner", "Analyst", "Finance")


def test_email_from_an_emailaddress_nameid_and_names_from_given_and_surname(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    sso.idp.authn_class = fake_saml.PASSWORD
    sso.post(client, sso.idp.response(request_id, subject="Lea@SSO.example", identity={"givenName": ["Lea"], "sn": ["Learner"]},
                                      name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"))
    with app.app_context():
        result = db.session.scalar(sa.select(SsoLoginAttempt)).result
    assert (result["email"], result["name"], result["mfa"]) == ("lea@sso.example", "Lea Learner", False)


# --- refusals -------------------------------------------------------------------------------------

def test_another_idp_is_the_wrong_issuer(app, sso, tmp_path):
    other = FakeIdp(tmp_path / "other", entity_id="https://other-idp.example/saml", name="other")
    other.know_sp(sso.idp.sp_metadata)
    client = app.test_client()
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, other.response(request_id)), "wrong_issuer")
    assert not signed_in(client)


def test_a_signature_by_another_key_is_refused(app, sso, tmp_path):
    forger = FakeIdp(tmp_path / "forger", entity_id=sso.idp.entity_id, name="forger")
    forger.know_sp(sso.idp.sp_metadata)
    client = app.test_client()
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, forger.response(request_id)), "bad_signature")


def test_an_assertion_changed_after_signing_is_refused(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    xml = base64.b64decode(sso.idp.response(request_id)).decode()
    tampered = xml.replace("subject-lea", "subject-admin")
    assert tampered != xml
    assert_refused(app, sso.post(client, base64.b64encode(tampered.encode()).decode()), "bad_signature")


def test_an_unsigned_assertion_is_refused(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response(request_id, sign=False)), "unsigned")


def test_a_signed_response_around_an_unsigned_assertion_is_refused(app, sso):
    """The assertion is what we keep, so it must carry its own signature."""
    client = app.test_client()
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response(request_id, sign=False, sign_response=True)), "unsigned")
    request_id = sso.start(client)
    assert sso.post(client, sso.idp.response(request_id, sign_response=True)).status_code == 303  # both signed


@pytest.mark.parametrize("change, reason", [
    (fake_saml.wrong_audience, "wrong_audience"),
    (fake_saml.expired, "expired"),
    (fake_saml.valid_from(600), "not_yet_valid"),
    (fake_saml.wrong_destination, "wrong_recipient"),
    (fake_saml.wrong_recipient, "wrong_recipient"),
])
def test_a_signed_response_that_fails_a_condition_is_refused(app, sso, change, reason):
    client = app.test_client()
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response(request_id, change=change)), reason)
    assert not signed_in(client)


def test_clock_skew_is_bounded(app, sso):
    assert app.config["SSO_CLOCK_SKEW_SECONDS"] == 120  # the default; 60 s ahead is within it, 300 s beyond
    client = app.test_client()
    request_id = sso.start(client)
    assert sso.post(client, sso.idp.response(request_id, change=fake_saml.valid_from(60))).status_code == 303
    request_id = sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response(request_id, change=fake_saml.valid_from(300))), "not_yet_valid")


def test_a_response_to_another_request_is_refused(app, sso):
    client = app.test_client()
    sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response("id-we-never-sent")), "state_mismatch")


def test_the_same_response_twice_is_a_replay(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    answer = sso.idp.response(request_id)
    assert sso.post(client, answer).status_code == 303
    assert_refused(app, sso.post(client, answer), "replayed")


def test_idp_initiated_log_in_is_refused_unless_the_company_allows_it(app, sso):
    client = app.test_client()
    assert_refused(app, sso.post(client, sso.idp.response(None)), "unsolicited")
    sso.settings(saml_allow_idp_initiated=True)
    answer = sso.idp.response(None)
    acs = client.post(f"/sso/saml/{sso.key}/acs", data={"SAMLResponse": answer, "RelayState": "/courses"})
    done = sso.finish(client, acs)
    assert done.status_code == 303 and done.headers["Location"] == "/courses" and signed_in(client)
    assert_refused(app, sso.post(app.test_client(), answer), "replayed")


def test_an_idp_initiated_response_does_not_fill_in_a_request_of_ours(app, sso):
    sso.settings(saml_allow_idp_initiated=True)
    client = app.test_client()
    sso.start(client)
    assert_refused(app, sso.post(client, sso.idp.response("id-we-never-sent")), "state_mismatch")


def test_an_unreadable_response_is_refused(app, sso):
    client = app.test_client()
    for value in ("", "%%%not-base64", base64.b64encode(b"<nope/>").decode()):
        assert_refused(app, sso.post(client, value), "invalid_response")


def test_the_finish_link_works_once(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    answer = sso.post(client, sso.idp.response(request_id))
    assert sso.finish(client, answer).status_code == 303
    assert_refused(app, client.get(answer.headers["Location"]), "replayed")
    token = parse_qs(urlsplit(answer.headers["Location"]).query)["t"][0]
    fresh = csrf_from(client.get("/privacy/contact").get_data(as_text=True))  # the log-in renewed the session
    again = client.post("/sso/saml/finish", data={"csrf_token": fresh, "t": token})
    assert_refused(app, again, "replayed")


def test_a_late_answer_to_an_expired_attempt_is_refused(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    with app.app_context():
        db.session.execute(sa.update(SsoLoginAttempt).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_refused(app, sso.post(client, sso.idp.response(request_id)), "expired_attempt")


def test_start_passes_the_login_hint_and_keeps_only_a_safe_next(app, sso):
    client = app.test_client()
    response = client.get(f"/sso/saml/{sso.key}/start?login_hint=lea@sso.example&next=https://evil.example/")
    assert parse_qs(urlsplit(response.headers["Location"]).query)["login_hint"] == ["lea@sso.example"]
    with app.app_context():
        assert db.session.scalar(sa.select(SsoLoginAttempt.next_url)) == ""
    request = parse_qs(urlsplit(response.headers["Location"]).query)["SAMLRequest"][0]
    done = sso.finish(client, sso.post(client, sso.idp.response(sso.idp.server.parse_authn_request(request).message.id)))
    assert done.headers["Location"] == "/dashboard"


def test_the_finish_link_in_another_browser_is_refused(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    answer = sso.post(client, sso.idp.response(request_id))
    elsewhere = app.test_client()
    assert_refused(app, elsewhere.get(answer.headers["Location"]), "state_mismatch")
    assert not signed_in(elsewhere)


def test_an_unknown_finish_link_is_refused_without_a_company(app, client):
    response = client.get("/sso/saml/finish?t=made-up")
    assert response.status_code == 403 and "<code>expired_attempt</code>" in response.get_data(as_text=True)


def test_the_acs_is_404_for_an_unknown_key(app, sso, client):
    assert client.post("/sso/saml/nope/acs", data={"SAMLResponse": "x"}).status_code == 404


def test_claims_from_the_attribute_uris_entra_id_sends(app, sso):
    client = app.test_client()
    request_id = sso.start(client)
    claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
    sso.post(client, sso.idp.response(request_id, identity={
        f"{claims}emailaddress": ["Lea@SSO.example"], f"{claims}givenname": ["Lea"], f"{claims}surname": ["Learner"],
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/jobtitle": ["Analyst"]}))
    with app.app_context():
        result = db.session.scalar(sa.select(SsoLoginAttempt)).result
    assert (result["email"], result["name"], result["job_title"]) == ("lea@sso.example", "Lea Learner", "Analyst")


def test_stored_idp_metadata_that_no_longer_loads_refuses_the_start(app, sso):
    with app.app_context():
        expired_metadata = sso.idp.metadata_xml().replace(' entityID=', ' validUntil="2001-01-01T00:00:00Z" entityID=', 1)
    sso.settings(saml_idp_metadata=expired_metadata)
    assert_refused(app, app.test_client().get(f"/sso/saml/{sso.key}/start"), "not_configured")
