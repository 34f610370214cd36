"""The end every single sign-on protocol shares (leadthe.sso.login.finish) and the log-in page's side of single
sign-on: a verified answer of the identity provider (``Claims``) finds, links or creates the person, each
refusal has its page and audit event, 2FA follows the company's rule, and /login sends the addresses of a
single sign-on domain to their identity provider."""
from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from leadthe.auth.passwords import UNUSABLE_SCIM, UNUSABLE_SSO, check_password
from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, Requirement, RequirementRule, User, UserSession, utcnow
from leadthe.models.sso import SsoDomain, SsoIdentity
from leadthe.sso import login
from leadthe.sso.claims import REASONS, Claims, Refused
from leadthe.sso.settings import for_org
from tests.conftest import PASSWORD, enable_2fa, fresh_code, make_user, outbox, post_form
from tests.helpers import make_course

ISSUER = "https://idp.a.example/"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def sso_on(app, org, domain, *, protocol="oidc", jit=True, required=False, break_glass=None) -> str:
    """Single sign-on on for ``org`` with ``domain`` verified; returns the company's public key."""
    with app.app_context():
        settings = for_org(org.id)
        settings.protocol = protocol
        if protocol == "oidc":
            settings.oidc_issuer, settings.oidc_client_id, settings.oidc_metadata = ISSUER, "leadthe", {"issuer": ISSUER}
        else:
            settings.saml_idp_metadata, settings.saml_idp_entity_id = "<EntityDescriptor/>", ISSUER
        settings.jit_enabled, settings.sso_required = jit, required
        settings.break_glass_user_id = break_glass.id if break_glass is not None else None
        db.session.add(SsoDomain(org_id=org.id, domain=domain, token="t0ken", verified_domain=domain,
                                 verified_at=utcnow(), method="dns"))
        db.session.commit()
        return settings.public_key


def claims(**changes) -> Claims:
    values = dict(protocol="oidc", issuer=ISSUER, subject="sub-1", email="learner@a.example", email_verified=True,
                  name="Learner A")
    return Claims(**{**values, **changes})


def finish(app, client, org, answer: Claims, next_url: str = ""):
    """What a protocol view does with a verified answer, in a request of ``client``'s browser: the response,
    and the session cookie it set handed to ``client``."""
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/login", method="POST", headers={"User-Agent": BROWSER}):
        settings = for_org(org.id)
        try:
            response = login.finish(settings, answer, next_url)
        except Refused as refused:
            response = login.refuse(settings.org_id, refused.reason, **refused.details)
        response = app.process_response(app.make_response(response))
    for header in response.headers.getlist("Set-Cookie"):
        jar = SimpleCookie(header)
        if cookie_name in jar:
            client.set_cookie(cookie_name, jar[cookie_name].value)
    return response


def link(app, org, user, subject="sub-1"):
    with app.app_context():
        db.session.add(SsoIdentity(org_id=org.id, user_id=user.id, protocol="oidc", issuer=ISSUER, subject=subject,
                                   email=user.email))
        db.session.commit()


def events(app, action):
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def signed_in_as(app, client) -> int | None:
    """The person the browser's session belongs to (the dashboard answers 200 only when signed in)."""
    if client.get("/dashboard").status_code != 200:
        return None
    with app.app_context():
        return db.session.scalar(sa.select(UserSession.user_id).order_by(UserSession.id.desc()).limit(1))


# --- refusals ------------------------------------------------------------------------------------------

def _no_email(app, a, b):
    return claims(email="")


def _unverified(app, a, b):
    return claims(email_verified=False)


def _domain_unverified(app, a, b):
    return claims(email="someone@elsewhere.example")


def _domain_other_company(app, a, b):
    sso_on(app, b.org, "b.example")
    return claims(email="someone@b.example")


def _account_other_company(app, a, b):
    make_user(app, b.org, email="moved@a.example")  # company B's person, with an address of A's domain
    return claims(email="moved@a.example")


def _subject_linked_elsewhere(app, a, b):
    link(app, b.org, b.learner)  # the same subject, linked to company B's person
    return claims()


def _account_linked_elsewhere(app, a, b):
    link(app, a.org, a.learner, subject="sub-0")  # the account has its subject at this IdP already
    return claims()


def _jit_disabled(app, a, b):
    with app.app_context():
        for_org(a.org.id).jit_enabled = False
        db.session.commit()
    return claims(email="newcomer@a.example")


def _inactive(app, a, b):
    with app.app_context():
        db.session.get(User, a.learner.id).status = "deactivated"
        db.session.commit()
    return claims()


REFUSALS = {"no_email": _no_email, "email_unverified": _unverified, "domain_unverified": _domain_unverified,
            "domain_other_company": _domain_other_company, "account_other_company": _account_other_company,
            "subject_linked_elsewhere": _subject_linked_elsewhere, "account_linked_elsewhere": _account_linked_elsewhere,
            "jit_disabled": _jit_disabled, "inactive": _inactive}


@pytest.mark.parametrize("reason", sorted(REFUSALS))
def test_each_refusal_has_its_page_and_audit_event(app, client, companies, reason):
    a, b = companies
    sso_on(app, a.org, "a.example")
    answer = REFUSALS[reason](app, *companies)
    response = finish(app, client, a.org, answer)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "We could not sign you in" in page and f"<code>{reason}</code>" in page
    assert str(REASONS[reason]).replace("'", "&#39;") in page
    assert 'href="/login/sso"' in page and 'href="/login"' in page  # a way back
    refused = events(app, "sso.refused")
    assert [e.details["reason"] for e in refused] == [reason] and refused[0].org_id == a.org.id
    assert refused[0].details["ref"] in page  # the reference the person gives the admin names this event
    assert signed_in_as(app, client) is None
    with app.app_context():  # nothing was linked or made
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity).where(
            SsoIdentity.subject == "sub-1", SsoIdentity.org_id == a.org.id)) == 0
        assert db.session.scalar(sa.select(User).where(User.email == "newcomer@a.example")) is None


# --- linking -------------------------------------------------------------------------------------------

def test_an_existing_account_in_a_verified_domain_is_linked_and_signed_in(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    post_form(app.test_client(), "/login", {"email": a.learner.email, "password": PASSWORD},
              headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"})
    response = finish(app, client, a.org, claims(email="Learner@A.example"), next_url="/courses")
    assert response.status_code == 303 and response.headers["Location"] == "/courses"
    assert signed_in_as(app, client) == a.learner.id
    with app.app_context():
        identity = db.session.scalars(sa.select(SsoIdentity)).one()
        assert (identity.user_id, identity.org_id, identity.issuer, identity.subject) == (a.learner.id, a.org.id, ISSUER, "sub-1")
        assert identity.last_login_at is not None
    assert [e.subject_id for e in events(app, "sso.linked")] == [a.learner.id]
    success = events(app, "login.success")
    assert [(e.subject_id, e.details.get("via")) for e in success] == [(a.learner.id, None), (a.learner.id, "oidc")]
    assert [e.subject_id for e in events(app, "login.new_device")] == [a.learner.id]  # told as after a password


def test_an_open_redirect_is_not_followed(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    response = finish(app, client, a.org, claims(), next_url="https://evil.example/")
    assert response.headers["Location"] == "/dashboard"


def test_a_changed_address_finds_the_same_person_and_another_subject_cannot_take_the_account(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    link(app, a.org, a.learner)
    response = finish(app, client, a.org, claims(email="renamed@a.example"))
    assert response.status_code == 303 and signed_in_as(app, client) == a.learner.id
    with app.app_context():
        assert db.session.scalars(sa.select(SsoIdentity)).one().email == "renamed@a.example"
        assert db.session.get(User, a.learner.id).email == "learner@a.example"  # the account's address is the person's
    # another subject of the same IdP with the account's address does not get it
    stranger = app.test_client()
    response = finish(app, stranger, a.org, claims(subject="sub-2"))
    assert response.status_code == 403 and "account_linked_elsewhere" in response.get_data(as_text=True)
    assert signed_in_as(app, stranger) is None


# --- just in time --------------------------------------------------------------------------------------

def newcomer(**changes) -> Claims:
    return claims(subject="sub-new", email="nora@a.example", name="Nora Newman", department="Sales",
                  job_title="Account manager", **changes)


def test_a_newcomer_confirms_18_and_the_policy_once_and_becomes_a_learner(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    with app.app_context():
        course = make_course(a.org.id, "sales-ai", "AI in sales")[0]
        db.session.add(RequirementRule(org_id=a.org.id, course_id=course.id, field="department", operator="equals",
                                       value="Sales", due_days=30))
        db.session.commit()
        course_id = course.id
    response = finish(app, client, a.org, newcomer(), next_url="/courses")
    assert response.status_code == 303 and response.headers["Location"] == "/sso/welcome"
    page = client.get("/sso/welcome").get_data(as_text=True)
    assert "Company A" in page and 'value="Nora Newman"' in page and "nora@a.example" in page
    assert 'href="/privacy-policy"' in page or "privacy" in page
    refused = post_form(client, "/sso/welcome", {"name": "Nora N."})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "only for people aged 18 or older" in text and "accept the privacy policy to create an account" in text
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "nora@a.example")) is None
    done = post_form(client, "/sso/welcome", {"name": "Nora N.", "age_confirm": "y", "accept_policy": "y"})
    assert done.status_code == 303 and done.headers["Location"] == "/courses"
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == "nora@a.example")).one()
        assert (user.org_id, user.role, user.name, user.department, user.job_title) == (
            a.org.id, "learner", "Nora N.", "Sales", "Account manager")
        assert user.email_verified_at is not None and user.password_hash == UNUSABLE_SSO
        assert db.session.scalar(sa.select(Requirement.course_id).where(Requirement.user_id == user.id)) == course_id
        assert db.session.scalars(sa.select(SsoIdentity)).one().user_id == user.id
        user_id = user.id
    assert signed_in_as(app, client) == user_id
    assert [e.subject_id for e in events(app, "sso.user_created")] == [user_id]
    # once only: the welcome is used up, and the next log-in finds the person by the subject
    again = app.test_client()
    assert again.get("/sso/welcome").status_code == 302
    assert finish(app, again, a.org, newcomer()).headers["Location"] == "/dashboard"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "nora@a.example")) == 1


def test_the_password_of_an_sso_account_matches_nothing(app):
    with app.test_request_context():
        for marker in (UNUSABLE_SSO, UNUSABLE_SCIM, "", None):
            assert check_password("", marker) is False and check_password(PASSWORD, marker) is False


def test_the_welcome_expires(app, client, companies, monkeypatch):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - login.WELCOME_MAX_AGE - 1)
    finish(app, client, a.org, newcomer())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = client.get("/sso/welcome")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "took too long" in client.get("/login").get_data(as_text=True)


def test_the_company_turning_jit_off_meanwhile_refuses_the_welcome(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    finish(app, client, a.org, newcomer())
    with app.app_context():
        for_org(a.org.id).jit_enabled = False
        db.session.commit()
    response = post_form(client, "/sso/welcome", {"name": "Nora", "age_confirm": "y", "accept_policy": "y"})
    assert response.status_code == 403 and "jit_disabled" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "nora@a.example")) is None


# --- two-step verification -----------------------------------------------------------------------------

def test_mfa_from_the_identity_provider_skips_our_code_and_without_it_the_code_is_asked(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    link(app, a.org, a.learner)
    a.learner.otp_secret, _codes = enable_2fa(app, a.learner)
    response = finish(app, client, a.org, claims(mfa=True))
    assert response.headers["Location"] == "/dashboard" and signed_in_as(app, client) == a.learner.id
    assert events(app, "login.success")[-1].details == {"via": "oidc", "mfa": "idp"}
    other = app.test_client()
    response = finish(app, other, a.org, claims(mfa=False))
    assert response.status_code == 303 and response.headers["Location"] == "/login/2fa"
    assert signed_in_as(app, other) is None
    second = post_form(other, "/login/2fa", {"code": fresh_code(app, a.learner)})
    assert second.status_code == 303 and signed_in_as(app, other) == a.learner.id


def test_a_company_requiring_2fa_sends_a_new_sso_person_to_the_set_up(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    with app.app_context():
        db.session.get(Organization, a.org.id).require_2fa = True
        db.session.commit()
    finish(app, client, a.org, newcomer())
    post_form(client, "/sso/welcome", {"name": "Nora", "age_confirm": "y", "accept_policy": "y"})
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/account/2fa/setup"


def test_a_company_requiring_2fa_accepts_the_identity_providers_second_factor(app, client, companies):
    """The IdP asserted MFA: the company's 2FA rule is met in this browser (no set-up of our own is forced),
    while a password log-in of the same person in another browser still leads to the set-up."""
    a, _ = companies
    sso_on(app, a.org, "a.example")
    with app.app_context():
        db.session.get(Organization, a.org.id).require_2fa = True
        db.session.commit()
    link(app, a.org, a.learner)
    finish(app, client, a.org, claims(mfa=True))
    assert client.get("/dashboard").status_code == 200
    other = app.test_client()
    post_form(other, "/login", {"email": a.learner.email, "password": PASSWORD}, page="/login")
    response = other.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/account/2fa/setup"


# --- the log-in page -------------------------------------------------------------------------------------

def test_an_empty_password_sends_an_sso_address_to_its_identity_provider(app, client, companies):
    a, b = companies
    key = sso_on(app, a.org, "a.example")
    response = post_form(client, "/login?next=/courses", {"email": "learner@a.example", "password": ""}, page="/login")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sso/oidc/{key}/start?next=/courses&login_hint=learner@a.example"
    saml_key = sso_on(app, b.org, "b.example", protocol="saml")
    response = post_form(client, "/login", {"email": "someone@b.example", "password": ""})
    assert response.headers["Location"].startswith(f"/sso/saml/{saml_key}/start?")
    # a lock-out does not count them: more than the limit of redirects in a row are all redirects
    for _ in range(12):
        assert post_form(client, "/login", {"email": "learner@a.example", "password": ""}).status_code == 303


def test_sso_required_refuses_a_password_but_not_for_the_break_glass_admin(app, client, companies):
    a, _ = companies
    key = sso_on(app, a.org, "a.example", required=True, break_glass=a.admin)
    response = post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "signs you in through its identity provider" in page and "Continue with single sign-on" in page
    assert f"/sso/oidc/{key}/start" in page
    assert signed_in_as(app, client) is None
    assert [e.subject_id for e in events(app, "sso.password_refused")] == [a.learner.id]
    glass = app.test_client()
    response = post_form(glass, "/login", {"email": a.admin.email, "password": PASSWORD})
    assert response.status_code == 303 and signed_in_as(app, glass) == a.admin.id


def test_sso_optional_accepts_the_password_and_other_domains_are_unchanged(app, client, companies):
    a, b = companies
    sso_on(app, a.org, "a.example")
    assert post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303
    assert signed_in_as(app, client) == a.learner.id
    other = app.test_client()
    empty = post_form(other, "/login", {"email": b.learner.email, "password": ""})
    assert empty.status_code == 422 and "Enter your password." in empty.get_data(as_text=True)
    assert post_form(other, "/login", {"email": b.learner.email, "password": PASSWORD}).status_code == 303


def test_log_in_with_single_sign_on_page(app, client, companies):
    a, b = companies
    key = sso_on(app, a.org, "a.example")
    assert 'href="/login/sso"' in client.get("/login").get_data(as_text=True)
    page = client.get("/login/sso")
    assert page.status_code == 200 and "Log in with single sign-on" in page.get_data(as_text=True)
    response = post_form(client, "/login/sso", {"email": "anyone@A.example"})
    assert response.status_code == 303 and response.headers["Location"].startswith(f"/sso/oidc/{key}/start?")
    # no single sign-on for the domain: said of the domain, the same whether the address has an account or not
    known = post_form(client, "/login/sso", {"email": b.learner.email})
    unknown = post_form(client, "/login/sso", {"email": "nobody@b.example"})
    assert known.status_code == unknown.status_code == 422
    assert "Addresses at b.example do not use single sign-on" in known.get_data(as_text=True)
    # the same page but for the address and the form's token (its timestamp may tick between the two answers)
    def same(response, address):
        return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", response.get_data(as_text=True).replace(address, "X"))
    assert same(known, b.learner.email) == same(unknown, "nobody@b.example")


def test_with_htmx_the_log_in_page_says_when_the_domain_uses_single_sign_on(app, client, companies):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    assert 'data-hx-get="/login/sso"' in client.get("/login").get_data(as_text=True)
    htmx = {"HX-Request": "true"}
    hint = client.get("/login/sso?email=Whoever@a.example", headers=htmx)
    assert hint.status_code == 200 and "Your company uses single sign-on" in hint.get_data(as_text=True)
    for address in ("learner@b.example", "nobody@b.example", "not an address"):
        assert client.get("/login/sso", query_string={"email": address}, headers=htmx).get_data(as_text=True).strip() == ""


def test_forgot_password_lets_an_sso_person_set_one_unless_sso_is_required(app, client, companies):
    a, b = companies
    sso_on(app, a.org, "a.example")
    sso_on(app, b.org, "b.example", required=True)
    for company in (a, b):
        with app.app_context():
            db.session.get(User, company.learner.id).password_hash = UNUSABLE_SSO
            db.session.commit()
    post_form(client, "/password/forgot", {"email": a.learner.email})
    assert len(outbox(app, kind="reset_password", to_addr=a.learner.email)) == 1
    response = post_form(client, "/password/forgot", {"email": b.learner.email}, follow=True)
    assert outbox(app, kind="reset_password", to_addr=b.learner.email) == []
    assert "log in through their company&#39;s identity provider" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["deactivated", "closed", "locked", "erasure_pending"])
def test_a_linked_person_whose_account_is_not_active_is_refused(app, client, companies, status):
    a, _ = companies
    sso_on(app, a.org, "a.example")
    link(app, a.org, a.learner)
    with app.app_context():
        db.session.get(User, a.learner.id).status = status
        db.session.commit()
    response = finish(app, client, a.org, claims(mfa=True))
    assert response.status_code == 403 and "<code>inactive</code>" in response.get_data(as_text=True)
    refused = events(app, "sso.refused")
    assert [(e.details["reason"], e.details["status"], e.subject_id) for e in refused] == [("inactive", status, a.learner.id)]
    assert signed_in_as(app, client) is None
