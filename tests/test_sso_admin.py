"""``/admin/sso`` (issue 19): who may open it, step-up for every change, the OIDC secret write-only, the identity
provider saved with its discovery or metadata (monkeypatched here: other parts build them) and their errors
beside the field, the log-in rules' guards, SCIM tokens shown once, domains removed, and the audit trail."""
from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, utcnow
from leadthe.models.sso import ScimToken, SsoDomain, SsoSettings
from leadthe.scim import tokens
from leadthe.sso import oidc, saml
from leadthe.sso.http import IdpUnreachable
from tests.conftest import PASSWORD, csrf_from, enable_2fa, fresh_code
from tests.helpers import signed_in

SECRET = "s3cret-Value-that-must-never-show"
METADATA = {"issuer": "https://idp.example/realm", "authorization_endpoint": "https://idp.example/auth",
            "token_endpoint": "https://idp.example/token", "jwks_uri": "https://idp.example/keys"}
JWKS = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]}
IDP_XML = '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/saml"/>'


def send(client, url, data, prefix=None):
    """POST ``data`` (field names without the section's prefix) with the CSRF token of the page, as the page's form."""
    token = csrf_from(client.get("/admin/sso").get_data(as_text=True))
    fields = {f"{prefix}-{name}" if prefix else name: value for name, value in data.items()}
    fields["csrf_token"] = token
    if prefix:
        fields[f"{prefix}-csrf_token"] = token
    return client.post(url, data=fields)


def settings_of(app, org_id) -> SsoSettings:
    with app.app_context():
        row = db.session.scalar(sa.select(SsoSettings).where(SsoSettings.org_id == org_id))
        db.session.expunge_all()
        # nothing saved yet (a refused POST leaves no row): the defaults the page shows
        return row or SsoSettings(protocol="none", jit_enabled=True, sso_required=False)


def events(app, action):
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def verified_domain(app, company, name="acme.example"):
    with app.app_context():
        row = SsoDomain(org_id=company.org.id, domain=name, token="t" * 32, verified_domain=name, verified_at=utcnow(),
                        method="dns")
        db.session.add(row)
        db.session.commit()
        return row.id


def error_beside(html, field_id):
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def admin(app, companies):
    return signed_in(app, companies[0].admin, step_up_window=False)  # these pages ask for the step-up


@pytest.fixture
def discovery(monkeypatch):
    calls = []

    def discover(issuer):
        calls.append(issuer)
        return METADATA, JWKS
    monkeypatch.setattr(oidc, "discover", discover)
    return calls


def save_oidc(client, secret=SECRET, password=PASSWORD, **extra):
    return send(client, "/admin/sso/provider", {"protocol": "oidc", "oidc_issuer": "https://idp.example/realm",
                                                "oidc_client_id": "leadthe", "oidc_client_secret": secret,
                                                "password": password, **extra}, "provider")


# --- access -----------------------------------------------------------------------------------------------

def test_only_company_admins_open_the_page_and_it_is_in_the_admin_navigation(app, companies, admin):
    a, _b = companies
    for person in (a.learner, a.manager):
        other = signed_in(app, person)
        assert other.get("/admin/sso").status_code == 403
        assert send(other, "/admin/sso/domains", {"domain": "acme.example", "password": PASSWORD}, "domain").status_code == 403
    assert app.test_client().get("/admin/sso").status_code == 302
    page = admin.get("/admin/sso").get_data(as_text=True)
    assert '<a href="/admin/sso" aria-current="page">Single sign-on</a>' in page
    # from any admin page: the "Company" group opens billing, whose row of pages has single sign-on
    assert '<a href="/admin/billing">Company</a>' in admin.get("/admin/ai-lab").get_data(as_text=True)
    assert 'href="/admin/sso"' in admin.get("/admin/billing").get_data(as_text=True)
    # the order of the sections
    assert page.index('id="domains-h"') < page.index('id="provider-h"') < page.index('id="rules-h"') < page.index('id="scim-h"')
    assert "No domains yet" in page


def test_another_companys_domain_is_404_for_every_action(app, companies, admin):
    _a, b = companies
    b_domain = verified_domain(app, b, "b-corp.example")
    assert admin.get(f"/admin/sso/domains/{b_domain}/mail").status_code == 404
    assert admin.get(f"/admin/sso/domains/{b_domain}/remove").status_code == 404
    assert send(admin, f"/admin/sso/domains/{b_domain}/check", {}).status_code == 404
    assert send(admin, f"/admin/sso/domains/{b_domain}/remove", {"password": PASSWORD}, "remove").status_code == 404
    with app.app_context():
        assert db.session.get(SsoDomain, b_domain) is not None


# --- domains on the page ----------------------------------------------------------------------------------

def test_adding_a_domain_asks_for_the_password_and_shows_the_record_to_add(app, companies, admin):
    a, _b = companies
    refused = send(admin, "/admin/sso/domains", {"domain": "Acme.example"}, "domain")
    assert refused.status_code == 422
    assert "Enter your password" in error_beside(refused.get_data(as_text=True), "domain-password")
    with app.app_context():
        assert db.session.scalar(sa.select(SsoDomain)) is None
    done = send(admin, "/admin/sso/domains", {"domain": "Acme.example", "password": PASSWORD}, "domain")
    assert done.status_code == 303
    with app.app_context():
        row = db.session.scalar(sa.select(SsoDomain))
        assert row.org_id == a.org.id and row.domain == "acme.example"
    page = admin.get("/admin/sso").get_data(as_text=True)
    assert "<code>_leadthe-verification.acme.example</code>" in page
    assert f"<code>leadthe-verification={row.token}</code>" in page
    assert "Check now" in page and "Mail a link" in page
    assert [event.details.get("domain") for event in events(app, "sso.domain_added")] == ["acme.example"]


def test_a_free_mail_domain_is_refused_beside_the_field_before_the_password_is_asked(app, companies, admin):
    response = send(admin, "/admin/sso/domains", {"domain": "gmail.com"}, "domain")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "free-mail" in error_beside(html, "domain-domain") and error_beside(html, "domain-password") == ""
    assert events(app, "sso.domain_added") == []


def test_step_up_with_two_step_verification_needs_the_code_too(app, companies):
    a, _b = companies
    client = signed_in(app, a.admin, step_up_window=False)  # signed in before 2FA is on: the log-in asked no code
    enable_2fa(app, a.admin)
    with app.app_context():
        from leadthe.models import User
        a.admin.otp_secret = db.session.get(User, a.admin.id).totp_secret
    without = send(client, "/admin/sso/domains", {"domain": "acme.example", "password": PASSWORD}, "domain")
    assert without.status_code == 422 and "6-digit code" in error_beside(without.get_data(as_text=True), "domain-code")
    done = send(client, "/admin/sso/domains", {"domain": "acme.example", "password": PASSWORD,
                                               "code": fresh_code(app, a.admin)}, "domain")
    assert done.status_code == 303


def test_removing_the_last_verified_domain_ends_sso_required_and_says_so(app, companies, admin):
    a, _b = companies
    domain_id = verified_domain(app, a)
    with app.app_context():
        current = db.session.scalar(sa.select(SsoSettings).where(SsoSettings.org_id == a.org.id))
        if current is None:
            from leadthe.sso.settings import for_org
            current = for_org(a.org.id)
        current.sso_required, current.break_glass_user_id = True, a.admin.id
        db.session.commit()
    confirm = admin.get(f"/admin/sso/domains/{domain_id}/remove").get_data(as_text=True)
    assert "last verified domain" in confirm
    assert send(admin, f"/admin/sso/domains/{domain_id}/remove", {}, "remove").status_code == 422
    done = send(admin, f"/admin/sso/domains/{domain_id}/remove", {"password": PASSWORD}, "remove")
    assert done.status_code == 303
    assert "no longer required" in admin.get("/admin/sso").get_data(as_text=True)
    assert settings_of(app, a.org.id).sso_required is False
    assert events(app, "sso.domain_removed")[0].details["was_verified"] is True
    assert events(app, "sso.settings_changed")[0].details["fields"] == ["sso_required"]


# --- the identity provider --------------------------------------------------------------------------------

def test_oidc_is_saved_with_its_discovery_and_the_secret_is_write_only(app, companies, admin, discovery):
    a, _b = companies
    assert save_oidc(admin).status_code == 303
    assert discovery == ["https://idp.example/realm"]
    saved = settings_of(app, a.org.id)
    assert saved.protocol == "oidc" and saved.oidc_metadata == METADATA and saved.oidc_jwks == JWKS
    assert saved.oidc_fetched_at is not None and saved.oidc_client_secret == SECRET and saved.enabled
    page = admin.get("/admin/sso").get_data(as_text=True)
    assert SECRET not in page and "A secret is saved (set" in page
    assert "http://localhost/sso/oidc/callback" in page  # the redirect URI to register, absolute
    # saving again with the field empty keeps the secret
    assert save_oidc(admin, secret="").status_code == 303
    assert settings_of(app, a.org.id).oidc_client_secret == SECRET
    changes = events(app, "sso.oidc_changed")
    assert len(changes) == 1  # the second save changed nothing
    assert changes[0].details["fields"] == ["oidc_client_id", "oidc_client_secret", "oidc_issuer", "oidc_jwks",
                                            "oidc_metadata", "protocol"]
    assert SECRET not in json.dumps(changes[0].details)
    # a new secret is audited as changed, still without its value
    assert save_oidc(admin, secret="another-secret-value").status_code == 303
    latest = events(app, "sso.oidc_changed")[-1]
    assert latest.details["fields"] == ["oidc_client_secret"] and "another-secret-value" not in json.dumps(latest.details)


def test_a_secret_is_needed_the_first_time_and_discovery_errors_appear_beside_the_issuer(app, companies, admin, monkeypatch):
    a, _b = companies
    missing = save_oidc(admin, secret="")
    assert missing.status_code == 422
    assert "client secret" in error_beside(missing.get_data(as_text=True), "provider-oidc_client_secret")

    def unreachable(issuer):
        raise IdpUnreachable("idp.example did not answer in time.")
    monkeypatch.setattr(oidc, "discover", unreachable)
    response = save_oidc(admin)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "did not answer in time" in error_beside(html, "provider-oidc_issuer")
    assert SECRET not in html  # not even the secret just typed comes back
    assert settings_of(app, a.org.id).protocol == "none"
    assert events(app, "sso.oidc_changed") == []


def test_the_provider_is_not_saved_without_step_up_and_nothing_is_fetched(app, companies, admin, discovery):
    a, _b = companies
    response = save_oidc(admin, password="")
    assert response.status_code == 422 and discovery == []
    assert settings_of(app, a.org.id).protocol == "none"


def test_saml_by_metadata_url_and_our_values_for_the_idp(app, companies, admin, monkeypatch):
    a, _b = companies
    fetched = []
    monkeypatch.setattr(saml, "fetch_metadata", lambda url: fetched.append(url) or IDP_XML)
    monkeypatch.setattr(saml, "idp_entity_id", lambda xml: "https://idp.example/saml")
    response = send(admin, "/admin/sso/provider", {"protocol": "saml", "saml_metadata_url": "https://idp.example/md.xml",
                                                   "password": PASSWORD}, "provider")
    assert response.status_code == 303 and fetched == ["https://idp.example/md.xml"]
    saved = settings_of(app, a.org.id)
    assert (saved.saml_idp_metadata, saved.saml_idp_entity_id) == (IDP_XML, "https://idp.example/saml")
    assert saved.saml_fetched_at is not None and saved.saml_allow_idp_initiated is False and saved.enabled
    page = admin.get("/admin/sso").get_data(as_text=True)
    for url in (f"http://localhost/sso/saml/{saved.public_key}/metadata", f"http://localhost/sso/saml/{saved.public_key}/acs"):
        assert f"<code>{url}</code>" in page
    assert events(app, "sso.saml_changed")[0].details["fields"] == [
        "protocol", "saml_idp_entity_id", "saml_idp_metadata", "saml_metadata_url"]


def test_pasted_saml_metadata_that_is_not_usable_is_refused_beside_the_text_area(app, companies, admin, monkeypatch):
    a, _b = companies

    def not_idp(xml):
        raise ValueError("This metadata describes no identity provider.")
    monkeypatch.setattr(saml, "idp_entity_id", not_idp)
    response = send(admin, "/admin/sso/provider", {"protocol": "saml", "saml_metadata_xml": "<x/>", "password": PASSWORD},
                    "provider")
    assert response.status_code == 422
    assert "no identity provider" in error_beside(response.get_data(as_text=True), "provider-saml_metadata_xml")
    monkeypatch.setattr(saml, "idp_entity_id", lambda xml: "https://idp.example/saml")
    allowed = send(admin, "/admin/sso/provider", {"protocol": "saml", "saml_metadata_xml": IDP_XML,
                                                  "saml_allow_idp_initiated": "y", "password": PASSWORD}, "provider")
    assert allowed.status_code == 303
    saved = settings_of(app, a.org.id)
    assert saved.saml_idp_metadata == IDP_XML and saved.saml_allow_idp_initiated is True


def test_saml_metadata_can_be_uploaded_as_a_file(app, companies, admin, monkeypatch):
    a, _b = companies
    read = []
    monkeypatch.setattr(saml, "idp_entity_id", lambda xml: read.append(xml) or "https://idp.example/saml")
    token = csrf_from(admin.get("/admin/sso").get_data(as_text=True))
    response = admin.post("/admin/sso/provider", content_type="multipart/form-data", data={
        "csrf_token": token, "provider-csrf_token": token, "provider-protocol": "saml", "provider-password": PASSWORD,
        "provider-saml_metadata_file": (io.BytesIO(IDP_XML.encode()), "idp-metadata.xml")})
    assert response.status_code == 303 and read == [IDP_XML]
    assert settings_of(app, a.org.id).saml_idp_metadata == IDP_XML


def test_an_unreachable_metadata_url_is_said_beside_it(app, companies, admin, monkeypatch):
    def unreachable(url):
        raise IdpUnreachable("We could not connect to idp.example.")
    monkeypatch.setattr(saml, "fetch_metadata", unreachable)
    response = send(admin, "/admin/sso/provider", {"protocol": "saml", "saml_metadata_url": "https://idp.example/md.xml",
                                                   "password": PASSWORD}, "provider")
    assert response.status_code == 422
    assert "could not connect" in error_beside(response.get_data(as_text=True), "provider-saml_metadata_url")


# --- log-in rules -----------------------------------------------------------------------------------------

def test_sso_cannot_be_required_without_a_verified_domain_a_provider_and_a_break_glass_admin(app, companies, admin, discovery):
    a, b = companies
    rules = {"jit_enabled": "y", "sso_required": "y", "break_glass_user_id": str(a.admin.id), "password": PASSWORD}
    no_domain = send(admin, "/admin/sso/rules", rules, "rules")
    assert no_domain.status_code == 422
    assert "Verify at least one domain" in error_beside(no_domain.get_data(as_text=True), "rules-sso_required")
    verified_domain(app, a)
    no_provider = send(admin, "/admin/sso/rules", rules, "rules")
    assert "Set up the identity provider" in error_beside(no_provider.get_data(as_text=True), "rules-sso_required")
    assert save_oidc(admin).status_code == 303
    no_break_glass = send(admin, "/admin/sso/rules", {**rules, "break_glass_user_id": ""}, "rules")
    assert no_break_glass.status_code == 422
    assert "Choose the admin" in error_beside(no_break_glass.get_data(as_text=True), "rules-break_glass_user_id")
    foreign = send(admin, "/admin/sso/rules", {**rules, "break_glass_user_id": str(b.admin.id)}, "rules")
    assert foreign.status_code == 422
    learner = send(admin, "/admin/sso/rules", {**rules, "break_glass_user_id": str(a.learner.id)}, "rules")
    assert learner.status_code == 422
    assert settings_of(app, a.org.id).sso_required is False
    assert send(admin, "/admin/sso/rules", rules, "rules").status_code == 303
    saved = settings_of(app, a.org.id)
    assert saved.sso_required and saved.break_glass_user_id == a.admin.id and saved.jit_enabled
    assert events(app, "sso.settings_changed")[-1].details["fields"] == ["break_glass_user_id", "sso_required"]
    # the provider cannot be switched off while single sign-on is required
    off = send(admin, "/admin/sso/provider", {"protocol": "none", "password": PASSWORD}, "provider")
    assert off.status_code == 422 and "Log-in rules" in error_beside(off.get_data(as_text=True), "provider-protocol")


def test_turning_off_accounts_on_first_log_in_needs_step_up(app, companies, admin):
    a, _b = companies
    assert send(admin, "/admin/sso/rules", {}, "rules").status_code == 422
    assert settings_of(app, a.org.id).jit_enabled is True
    assert send(admin, "/admin/sso/rules", {"password": PASSWORD}, "rules").status_code == 303
    assert settings_of(app, a.org.id).jit_enabled is False


# --- SCIM tokens ------------------------------------------------------------------------------------------

TOKEN = re.compile(r"<code>(ltscim_[A-Za-z0-9_-]+)</code>")


def test_a_scim_token_is_shown_once_and_works_and_a_new_one_replaces_it(app, companies, admin):
    a, _b = companies
    assert send(admin, "/admin/sso/scim-token", {}, "scim").status_code == 422
    made = send(admin, "/admin/sso/scim-token", {"password": PASSWORD}, "scim")
    assert made.status_code == 200 and "will not be shown again" in made.get_data(as_text=True)
    first = TOKEN.search(made.get_data(as_text=True)).group(1)
    with app.app_context():
        assert tokens.token_for(first).org_id == a.org.id
    again = admin.get("/admin/sso").get_data(as_text=True)
    assert first not in again and f"…{first[-4:]}" in again and "Not used yet" in again
    second = TOKEN.search(send(admin, "/admin/sso/scim-token", {"password": PASSWORD}, "scim").get_data(as_text=True)).group(1)
    with app.app_context():
        assert tokens.token_for(first) is None and tokens.token_for(second).org_id == a.org.id
    assert send(admin, "/admin/sso/scim-token/revoke", {"password": PASSWORD}, "revoke").status_code == 303
    with app.app_context():
        assert tokens.token_for(second) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScimToken).where(ScimToken.revoked_at.is_(None))) == 0
    assert len(events(app, "scim.token_created")) == 2 and len(events(app, "scim.token_revoked")) == 1
    assert "No token: provisioning is off" in admin.get("/admin/sso").get_data(as_text=True)
    assert "http://localhost/scim/v2" in admin.get("/admin/sso").get_data(as_text=True)


def test_the_changes_are_in_the_company_audit_log_in_words(app, companies, admin, discovery):
    a, _b = companies
    assert send(admin, "/admin/sso/domains", {"domain": "acme.example", "password": PASSWORD}, "domain").status_code == 303
    assert save_oidc(admin).status_code == 303
    assert send(admin, "/admin/sso/scim-token", {}, "scim").status_code == 200  # the step-up a moment ago holds
    log = admin.get("/admin/audit").get_data(as_text=True)
    for words in ("Single sign-on: e-mail domain claimed", "Single sign-on: OpenID Connect settings changed",
                  "SCIM: provisioning token made"):
        assert words in log
    assert "oidc client secret" in log and SECRET not in log


def test_the_domain_pages_carry_the_admin_navigation(app, companies, admin):
    a, _b = companies
    domain_id = verified_domain(app, a)
    for url in (f"/admin/sso/domains/{domain_id}/mail", f"/admin/sso/domains/{domain_id}/remove"):
        html = admin.get(url).get_data(as_text=True)
        assert re.search(r'<nav class="subnav".*<a href="/admin/sso" aria-current="page">', html, re.S), url


def test_the_saml_values_are_shown_from_the_first_visit_and_stay(app, companies, admin):
    """The admin needs our entity ID and ACS URL to register LeadThe.AI at the identity provider before there is
    any metadata to save: the first visit makes the company's settings row (apart from the GET's own session)."""
    a, _b = companies
    first = admin.get("/admin/sso").get_data(as_text=True)
    key = settings_of(app, a.org.id).public_key
    assert key and f"http://localhost/sso/saml/{key}/acs" in first
    refused = send(admin, "/admin/sso/domains", {"domain": "gmail.com"}, "domain")
    assert refused.status_code == 422 and f"/sso/saml/{key}/acs" in refused.get_data(as_text=True)
    assert send(admin, "/admin/sso/domains", {"domain": "acme.example", "password": PASSWORD}, "domain").status_code == 303
    assert settings_of(app, a.org.id).public_key == key
    assert f"http://localhost/sso/saml/{key}/acs" in admin.get("/admin/sso").get_data(as_text=True)