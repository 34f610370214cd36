"""Company sign-up, log-in/out, e-mail verification, password reset, rate limits and their audit trail."""
from __future__ import annotations

import re
from unittest import mock

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Organization, OutboxMail, User, UserSession
from tests.conftest import PASSWORD, audit_actions, make_org, make_user, outbox, post_form
from tests.helpers import SIGNUP

def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Organization, User, OutboxMail))


def link_in(mail_body: str) -> str:
    return re.search(r"http://localhost(/\S+)", mail_body).group(1)


def test_signup_creates_company_admin_and_verification_mail(client, app):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "ann.example@example.com"  # one address whatever its case
        assert (user.role, user.job_title, user.department) == ("admin", "Head of Learning", "People")
        assert user.organization.name == "Example Ltd"
        assert user.email_verified_at is None
    [mail] = outbox(app, kind="verify_email")
    assert mail.to_addr == "ann.example@example.com"
    assert "Hello, Ann" in client.get("/dashboard").get_data(as_text=True)
    assert "signup" in audit_actions(app) and "login.success" in audit_actions(app)


@pytest.mark.parametrize("missing, message", [
    ("age_confirm", "only for people aged 18 or older"),
    ("accept_policy", "accept the privacy policy"),
])
def test_signup_refusal_stores_nothing_and_says_why_beside_the_field(client, app, missing, message):
    data = {k: v for k, v in SIGNUP.items() if k != missing}
    response = post_form(client, "/signup", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # the message sits in the field's own error element, linked to the checkbox for screen readers
    assert re.search(rf'<p class="error" id="{missing}-error">[^<]*{message}', html)
    assert f'aria-describedby="{missing}-error"' in html
    # what the person typed is kept (not the password)
    assert 'value="Example Ltd"' in html and 'value="Ann.Example@Example.COM"' in html
    assert PASSWORD not in html
    assert counts(app) == (0, 0, 0)
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_signup_email_is_unique_without_regard_to_case(client, app):
    org = make_org(app)
    make_user(app, org, email="ann.example@example.com")
    before = counts(app)
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert counts(app) == before


def test_signup_rejects_short_password_and_email_in_password(client, app):
    html = post_form(client, "/signup", {**SIGNUP, "password": "short"}).get_data(as_text=True)
    assert "at least 12 characters" in html
    html = post_form(client, "/signup", {**SIGNUP, "password": "ann.example-is-me"}).get_data(as_text=True)
    assert "e-mail address in your password" in html
    assert counts(app) == (0, 0, 0)


def test_signup_under_htmx_answers_the_form_fragment_with_200(client, app):
    response = post_form(client, "/signup", {**SIGNUP, "age_confirm": ""}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx 2 swaps only 2xx
    assert "<html" not in html and html.lstrip().startswith('<form id="signup-form"')
    ok = post_form(client, "/signup", SIGNUP, headers={"HX-Request": "true"})
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == "/dashboard"


def test_email_verification_link_confirms_on_post_only(client, app):
    post_form(client, "/signup", SIGNUP)
    [mail] = outbox(app, kind="verify_email")
    path = link_in(mail.body_text)
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200 and "Confirm my address" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at)) is None  # a GET (or a mail scanner) changes nothing
    assert post_form(client, path, {}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at)) is not None
    assert client.get(path.replace("verify-email/", "verify-email/x")).status_code == 400


def test_login_success_and_logout(client, app, auth, companies):
    a, _ = companies
    response = auth.login("LEARNER@a.example")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert "Hello, Learner" in client.get("/dashboard").get_data(as_text=True)
    assert auth.logout().status_code == 303
    assert client.get("/dashboard").status_code == 302
    assert audit_actions(app)[-2:] == ["login.success", "logout"]


def test_login_next_parameter_is_followed_only_on_this_site(client, companies):
    a, _ = companies
    html = client.get("/login?next=/dashboard").get_data(as_text=True)
    from tests.conftest import csrf_from

    ok = client.post("/login?next=/dashboard%3Fx%3D1", data={"csrf_token": csrf_from(html), "email": a.learner.email, "password": PASSWORD})
    assert ok.headers["Location"] == "/dashboard?x=1"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/dashboard").get_data(as_text=True))})
    evil = client.post("/login?next=//evil.example/x", data={"csrf_token": csrf_from(client.get("/login").get_data(as_text=True)), "email": a.learner.email, "password": PASSWORD})
    assert evil.headers["Location"] == "/dashboard"


def test_unknown_email_and_wrong_password_get_the_same_answer_and_the_same_work(client, app, companies):
    a, _ = companies
    import bcrypt

    with mock.patch("leadthe.auth.passwords.bcrypt.checkpw", wraps=bcrypt.checkpw) as checkpw:
        unknown = post_form(client, "/login", {"email": "nobody@a.example", "password": PASSWORD + "x"})
        calls_unknown = checkpw.call_count
        wrong = post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD + "x"})
        calls_wrong = checkpw.call_count - calls_unknown
    assert unknown.status_code == wrong.status_code == 422
    message = "don&#39;t match an account"
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)
    # one bcrypt check in both cases: an unknown address costs the same time as a wrong password
    assert calls_unknown == calls_wrong == 1
    assert audit_actions(app).count("login.failed") == 2


def test_deactivated_account_cannot_log_in(client, app):
    org = make_org(app)
    user = make_user(app, org, status="deactivated")
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422 and "not active" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_repeated_failures_lock_the_account_with_429_and_audit(client, app, companies):
    a, _ = companies
    for _ in range(10):
        assert post_form(client, "/login", {"email": a.learner.email, "password": "wrong-password-123"}).status_code == 422
    locked = post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert locked.status_code == 429
    html = locked.get_data(as_text=True)
    assert "Too many attempts" in html and '<main id="main"' in html  # in the site's layout
    assert "login.locked" in audit_actions(app)
    # another account from the same browser is not locked by it
    assert post_form(client, "/login", {"email": a.admin.email, "password": PASSWORD}).status_code == 303


def test_a_stranger_typing_wrong_passwords_does_not_lock_the_person_out(app, companies):
    """The lock-out counts per account and client address: someone who knows a colleague's e-mail address
    locks only their own attempts, and the colleague still logs in from their own machine."""
    a, _ = companies
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(10):
        assert post_form(stranger, "/login", {"email": a.learner.email, "password": "wrong-password-123"}).status_code == 422
    assert post_form(stranger, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 429
    assert "login.locked" in audit_actions(app)
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert post_form(colleague, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303


def test_successful_logins_do_not_count_towards_the_account_lock(client, companies):
    a, _ = companies
    for _ in range(12):
        assert post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303
        post_form(client, "/logout", {}, page="/dashboard")


def test_per_ip_limit_applies_across_accounts(client, companies):
    for i in range(30):
        post_form(client, "/login", {"email": f"x{i}@nowhere.example", "password": "wrong-password-123"})
    assert post_form(client, "/login", {"email": "y@nowhere.example", "password": "wrong-password-123"}).status_code == 429


# --- password reset ---------------------------------------------------------------------------------

def request_reset(client, app, email):
    response = post_form(client, "/password/forgot", {"email": email})
    assert response.status_code == 200
    mails = outbox(app, kind="reset_password")
    return link_in(mails[-1].body_text) if mails else None


def test_forgot_password_answers_the_same_for_unknown_addresses(client, app, companies):
    a, _ = companies
    known = post_form(client, "/password/forgot", {"email": a.learner.email}).get_data(as_text=True)
    unknown = post_form(client, "/password/forgot", {"email": "ghost@a.example"}).get_data(as_text=True)
    assert "a reset link is on its way" in known and "a reset link is on its way" in unknown
    assert [m.to_addr for m in outbox(app, kind="reset_password")] == [a.learner.email]


def test_reset_changes_password_signs_out_everywhere_and_link_works_once(app, companies):
    a, _ = companies
    other_browser = app.test_client()
    assert post_form(other_browser, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303
    assert other_browser.get("/dashboard").status_code == 200

    client = app.test_client()
    path = request_reset(client, app, a.learner.email)
    new_password = "a brand new passphrase"
    assert post_form(client, path, {"password": new_password}).status_code == 303

    # every session was revoked: the other browser is signed out on its next request
    assert other_browser.get("/dashboard").status_code == 302
    # the link is spent
    assert client.get(path).status_code == 400
    assert post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 422
    assert post_form(client, "/login", {"email": a.learner.email, "password": new_password}).status_code == 303
    assert {"password.reset_requested", "password.reset"} <= set(audit_actions(app))
    assert outbox(app, kind="security_notice")[-1].to_addr == a.learner.email


def test_reset_link_expires_after_an_hour(client, app, companies):
    a, _ = companies
    path = request_reset(client, app, a.learner.email)
    import time as real_time

    later = real_time.time() + 3601
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        assert client.get(path).status_code == 400
    assert client.get(path, follow_redirects=True).status_code == 200


def test_reset_rejects_a_weak_new_password_and_keeps_the_old_one(client, app, companies):
    a, _ = companies
    path = request_reset(client, app, a.learner.email)
    response = post_form(client, path, {"password": "tooshort"})
    assert response.status_code == 422 and "at least 12 characters" in response.get_data(as_text=True)
    assert post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303


def test_session_count_after_login(client, app, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    with app.app_context():
        rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == a.learner.id)).all()
    assert len(rows) == 1 and rows[0].revoked_at is None and len(rows[0].token_hash) == 64


# --- password change while signed in ---------------------------------------------------------------

def test_change_password_keeps_this_browser_and_signs_out_the_others(app, companies):
    a, _ = companies
    here, elsewhere = app.test_client(), app.test_client()
    for c in (here, elsewhere):
        assert post_form(c, "/login", {"email": a.learner.email, "password": PASSWORD}).status_code == 303
    wrong = post_form(here, "/account/password", {"current_password": "not my password", "password": "a fresh new passphrase"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    ok = post_form(here, "/account/password", {"current_password": PASSWORD, "password": "a fresh new passphrase"})
    assert ok.status_code == 303
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert {"password.change_failed", "password.changed"} <= set(audit_actions(app))
    assert outbox(app, kind="security_notice")[-1].to_addr == a.learner.email
    fresh = app.test_client()
    assert post_form(fresh, "/login", {"email": a.learner.email, "password": "a fresh new passphrase"}).status_code == 303


def test_change_password_refuses_the_same_password(client, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "password": PASSWORD})
    assert response.status_code == 422 and "different from the current one" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/courses%0d%0aSet-Cookie:%20x=1", "/courses%0a", "/courses%09x", "/courses%e2%80%a8"])
def test_a_control_character_in_next_is_the_dashboard_not_a_500(client, companies, target):
    from tests.conftest import csrf_from

    a, _ = companies
    html = client.get(f"/login?next={target}").get_data(as_text=True)
    response = client.post(f"/login?next={target}", data={"csrf_token": csrf_from(html), "email": a.learner.email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    assert "Set-Cookie: x" not in str(response.headers)
    # a page that needs log-in, asked for with such a path, sends to the log-in page without a 500 either
    assert client.get("/courses%0d%0aX").status_code in (302, 404)


def test_mailed_link_tokens_leave_the_address_at_once(client, app, companies):
    """The reset link's token is parked in the session: the page, its form and the next request carry none."""
    a, _ = companies
    path = request_reset(client, app, a.learner.email)
    landing = client.get(path)
    assert landing.status_code == 303 and landing.headers["Location"] == "/password/reset"
    page = client.get("/password/reset")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and path.rsplit("/", 1)[1] not in html and 'action="/password/reset"' in html
    done = post_form(client, "/password/reset", {"password": "a brand new passphrase 7"})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert client.get("/password/reset").status_code == 400  # used: the parked token is gone
    assert client.get(path).status_code == 400  # and the link is spent
    # e-mail confirmation works the same way
    post_form(client, "/signup", {"name": "Ann Example", "email": "ann@new.example", "password": PASSWORD, "organization": "New Co",
                                  "age_confirm": "y", "accept_policy": "y"})
    verify = link_in(outbox(app, kind="verify_email")[-1].body_text)
    assert client.get(verify).headers["Location"] == "/verify-email"
    assert post_form(client, "/verify-email", {}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at).where(User.email == "ann@new.example")) is not None


def test_a_company_signed_up_in_german_keeps_german_after_signing_in(client, app):
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    post_form(client, "/signup", SIGNUP, headers=german)
    # later, from a browser that asks for nothing in particular, the account's language still holds
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="de"' in html and "Ihre Rolle" in html
    with app.app_context():
        assert db.session.scalar(sa.select(User.locale)) == "de"
