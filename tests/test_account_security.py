"""Account security: TOTP two-step verification, recovery codes, company-enforced 2FA, step-up
re-authentication, encryption at rest and key rotation, the sessions a person sees and revokes."""
from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta, timezone

import brotli
import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from leadthe.auth import twofactor
from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, RecoveryCode, User, UserSession
from tests.conftest import PASSWORD, audit_actions, enable_2fa, make_org, make_user, outbox, post_form
from tests.helpers import close_step_up_window, login

CHROME_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.0 Mobile/15E148 Safari/604.1")


# --- helpers -------------------------------------------------------------------------------------------

class Clock:
    """The time two-step verification sees; tests move it on by whole 30-second steps."""

    def __init__(self):
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self):
        return self.now

    def step(self, n: int = 1):
        self.now += timedelta(seconds=30 * n)

    def code(self, secret: str, offset_steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now + timedelta(seconds=30 * offset_steps))


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(twofactor, "utcnow", clock)
    return clock


def second_step(client, code, *, recovery=False, headers=None):
    url = "/login/2fa?recovery=1" if recovery else "/login/2fa"
    return post_form(client, url, {"code": code}, headers=headers)


def signed_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def raw_secret(app, user_id) -> str | None:
    with app.app_context():
        return db.session.execute(sa.text("SELECT totp_secret FROM user_account WHERE id = :id"), {"id": user_id}).scalar()


def session_rows(app, user_id) -> list[UserSession]:
    with app.app_context():
        return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)))


@pytest.fixture
def person(app):
    org = make_org(app, "Secure Ltd")
    return make_user(app, org, email="sam@secure.example", name="Sam Secure")


# --- set-up -------------------------------------------------------------------------------------------

def test_set_up_shows_qr_and_key_and_enables_only_with_a_valid_code(client, app, person, clock):
    login(client, person.email)
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    assert "Start set-up" in page and "<svg" not in page

    assert post_form(client, "/account/2fa/setup", {}, page="/account/2fa/setup").status_code == 303
    page = client.get("/account/2fa/setup").get_data(as_text=True)
    with app.app_context():
        secret = db.session.get(User, person.id).totp_secret
    assert re.search(r"<svg[^>]*class=\"qr\"", page) and "<title>QR code" in page
    assert " style=" not in page  # the CSP allows no inline styles
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert grouped in page
    code_input = re.search(r"<input[^>]*name=\"code\"[^>]*>", page).group(0)
    assert 'autocomplete="one-time-code"' in code_input and 'inputmode="numeric"' in code_input

    wrong = post_form(client, "/account/2fa/enable", {"code": "000000" if clock.code(secret) != "000000" else "111111"},
                      page="/account/2fa/setup")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, person.id).has_2fa

    code = clock.code(secret)
    answer = post_form(client, "/account/2fa/enable", {"code": f" {code[:3]} {code[3:]} "}, page="/account/2fa/setup")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Two-step verification is on." in html
    shown = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", html)
    assert len(set(shown)) == 10
    with app.app_context():
        assert db.session.get(User, person.id).has_2fa
        hashes = set(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == person.id)))
    assert len(hashes) == 10 and not hashes & set(shown)  # stored hashed, never in clear
    assert [m.subject for m in outbox(app, kind="security_notice")] == ["Two-step verification is on for your LeadThe.AI account"]
    assert "2fa.enabled" in audit_actions(app) and "2fa.enable_failed" in audit_actions(app)


def test_set_up_page_is_small_when_compressed(client, app, person):
    login(client, person.email)
    post_form(client, "/account/2fa/setup", {}, page="/account/2fa/setup")
    plain = client.get("/account/2fa/setup")
    assert b"<svg" in plain.data
    br = client.get("/account/2fa/setup", headers={"Accept-Encoding": "br"})
    gz = client.get("/account/2fa/setup", headers={"Accept-Encoding": "gzip"})
    assert br.headers["Content-Encoding"] == "br" and gz.headers["Content-Encoding"] == "gzip"
    assert b"<svg" in brotli.decompress(br.data) and b"<svg" in gzip.decompress(gz.data)
    print(f"set-up page: {len(plain.data)} B plain, {len(gz.data)} B gzip, {len(br.data)} B brotli")
    assert len(br.data) <= 15 * 1024 and len(gz.data) <= 15 * 1024


# --- log-in -------------------------------------------------------------------------------------------

def test_full_log_in_with_two_step_verification(client, app, person, clock):
    secret, _ = enable_2fa(app, person)
    answer = post_form(client, "/login?next=/privacy", {"email": person.email, "password": PASSWORD}, page="/login")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/2fa"
    # the password alone starts no session
    assert session_rows(app, person.id) == []
    assert client.get("/dashboard").status_code == 302
    page = client.get("/login/2fa").get_data(as_text=True)
    assert "authenticator app" in page and 'autocomplete="one-time-code"' in page

    wrong = second_step(client, "12345x")
    assert wrong.status_code == 422 and "not valid" in wrong.get_data(as_text=True)
    assert session_rows(app, person.id) == []

    done = second_step(client, clock.code(secret))
    assert done.status_code == 303 and done.headers["Location"] == "/privacy"
    assert signed_in(client) and len(session_rows(app, person.id)) == 1
    assert "login.2fa_failed" in audit_actions(app) and audit_actions(app)[-1] == "login.success"


def test_a_code_cannot_be_used_twice(app, person, clock):
    secret, _ = enable_2fa(app, person)
    code = clock.code(secret)
    first, second = app.test_client(), app.test_client()
    login(first, person.email)
    assert second_step(first, code).status_code == 303

    login(second, person.email)
    again = second_step(second, code)
    assert again.status_code == 422 and "already used" in again.get_data(as_text=True)
    assert not signed_in(second)
    # an earlier code (inside the window, but before the used one) is refused as well
    assert second_step(second, clock.code(secret, -1)).status_code == 422
    clock.step()
    assert second_step(second, clock.code(secret)).status_code == 303
    assert signed_in(second)


def test_codes_one_step_either_side_work_but_not_two(app, person, clock):
    secret, _ = enable_2fa(app, person)
    client = app.test_client()
    login(client, person.email)
    assert second_step(client, clock.code(secret, -2)).status_code == 422
    assert second_step(client, clock.code(secret, +2)).status_code == 422
    assert second_step(client, clock.code(secret, +1)).status_code == 303


def test_a_recovery_code_works_once_and_mails_the_person(app, person, clock):
    _, codes = enable_2fa(app, person)
    client = app.test_client()
    login(client, person.email)
    page = client.get("/login/2fa?recovery=1").get_data(as_text=True)
    assert "Recovery code" in page
    used = second_step(client, codes[3].upper().replace("-", " "), recovery=True)
    assert used.status_code == 303
    assert "9 left" in client.get("/dashboard").get_data(as_text=True)  # signed in, and told
    assert outbox(app, kind="security_notice")[-1].subject == "A recovery code was used to sign in to LeadThe.AI"

    other = app.test_client()
    login(other, person.email)
    again = second_step(other, codes[3], recovery=True)
    assert again.status_code == 422 and not signed_in(other)
    assert second_step(other, codes[4], recovery=True).status_code == 303


def test_the_half_way_state_expires(app, person, clock, monkeypatch):
    from leadthe.auth import services

    secret, _ = enable_2fa(app, person)
    client = app.test_client()
    login(client, person.email)
    monkeypatch.setattr(services, "SECOND_STEP_MAX_AGE", -1)  # as if five minutes had passed
    html = client.get("/login/2fa", follow_redirects=True).get_data(as_text=True)
    assert "took too long" in html
    late = post_form(client, "/login/2fa", {"code": clock.code(secret)}, page="/login")
    assert late.status_code == 303 and late.headers["Location"] == "/login"
    assert not signed_in(client) and session_rows(app, person.id) == []


def test_second_step_attempts_are_rate_limited_per_account(app, person, clock):
    enable_2fa(app, person)
    client = app.test_client()
    login(client, person.email)
    statuses = [second_step(client, "000000").status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    assert "login.2fa_locked" in audit_actions(app)


# --- company-enforced 2FA -------------------------------------------------------------------------------

def test_a_company_that_requires_2fa_blocks_every_other_page_until_set_up(app, clock):
    org = make_org(app, "Strict Ltd")
    with app.app_context():
        db.session.get(Organization, org.id).require_2fa = True
        db.session.commit()
    member = make_user(app, org, email="lee@strict.example", role="admin")
    client = app.test_client()
    answer = login(client, member.email)
    assert answer.headers["Location"] == "/account/2fa/setup"

    allowed = {"account.twofa_setup", "static", "auth.login_2fa", "ops.metrics"}  # /metrics: a token, never a session
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in allowed:
            continue
        response = client.get(rule.rule)
        location = response.headers.get("Location", "")
        if rule.endpoint in ("core.healthz", "core.home", "legal.privacy_policy") and response.status_code == 200:
            # public pages without personal data render, but nothing of the account
            assert 'href="/account/security"' not in response.get_data(as_text=True) or rule.endpoint != "core.home"
            continue
        assert response.status_code == 302 and location.startswith("/account/2fa/setup"), (rule.rule, response.status_code, location)
        checked += 1
    assert checked >= 8
    assert post_form(client, "/privacy/export", {"password": PASSWORD}, page="/account/2fa/setup").headers["Location"] == "/account/2fa/setup"
    assert client.get("/account/2fa/setup").status_code == 200

    secret = set_up_2fa_over_http(client, app, clock, member.id)
    assert client.get("/dashboard").status_code == 200
    # and it cannot be turned off while the company requires it
    assert_2fa_stays_on(client, app, clock, secret, member.id, "requires two-step verification")


def set_up_2fa_over_http(client, app, clock, user_id) -> str:
    """Start the set-up and turn it on with a code, as a person does; returns the secret."""
    post_form(client, "/account/2fa/setup", {}, page="/account/2fa/setup")
    with app.app_context():
        secret = db.session.get(User, user_id).totp_secret
    assert post_form(client, "/account/2fa/enable", {"code": clock.code(secret)}, page="/account/2fa/setup").status_code == 200
    return secret


def assert_2fa_stays_on(client, app, clock, secret, user_id, reason):
    """Turning two-step verification off is refused (even with the password and a good code), saying why."""
    clock.step()
    refused = post_form(client, "/account/2fa/disable", {"password": PASSWORD, "code": clock.code(secret)}, page="/account/security")
    assert refused.status_code == 422 and reason in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).has_2fa


@pytest.mark.parametrize("role", ["staff", "dpo"])
def test_staff_and_dpo_accounts_must_set_up_2fa_before_any_staff_page(app, client, companies, clock, role):
    """Staff and the DPO reach every company's personal data: with the password alone they see nothing but
    the set-up, and once on, two-step verification stays on."""
    a, _ = companies
    staff = make_user(app, None, email=f"{role}@leadthe.example", role=role, name="Sam Staff")
    response = login(client, staff.email)
    assert response.status_code == 303 and response.headers["Location"] == "/account/2fa/setup"
    for url in ("/staff/console", "/staff/privacy-requests", f"/staff/users/{a.learner.id}", "/staff/support", "/dashboard"):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/2fa/setup", url
    refused = post_form(client, f"/staff/users/{a.learner.id}/access", {"reason": "Ticket", "reference": "#1"},
                        page="/account/2fa/setup")
    assert refused.status_code == 303 and refused.headers["Location"] == "/account/2fa/setup"
    assert "staff.access_granted" not in audit_actions(app)
    assert "Staff and DPO accounts must use two-step verification" in client.get("/account/2fa/setup").get_data(as_text=True)

    secret = set_up_2fa_over_http(client, app, clock, staff.id)
    assert client.get("/staff/console").status_code == 200
    assert_2fa_stays_on(client, app, clock, secret, staff.id, "Staff and DPO accounts must use two-step verification")


def test_only_the_company_admin_changes_the_settings(app, companies):
    a, b = companies
    learner = app.test_client()
    login(learner, a.learner.email)
    assert learner.get("/admin/settings").status_code == 403
    admin = app.test_client()
    login(admin, a.admin.email)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="require_2fa"' in page and 'name="leaderboard_enabled"' in page
    assert post_form(admin, "/admin/settings", {"require_2fa": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(Organization, a.org.id).require_2fa is True
        assert db.session.get(Organization, a.org.id).leaderboard_enabled is False
        assert db.session.get(Organization, b.org.id).require_2fa is False
    assert "org.settings_changed" in audit_actions(app)
    # the learner is now sent to the set-up on the next page
    assert learner.get("/dashboard").headers["Location"] == "/account/2fa/setup"


# --- disabling and step-up ---------------------------------------------------------------------------

def test_disabling_needs_the_password_and_a_code(client, app, person, clock):
    secret, _ = enable_2fa(app, person)
    login(client, person.email)
    second_step(client, clock.code(secret))
    clock.step()

    only_password = post_form(client, "/account/2fa/disable", {"password": PASSWORD, "code": ""}, page="/account/security")
    assert only_password.status_code == 422
    only_code = post_form(client, "/account/2fa/disable", {"password": "not my password", "code": clock.code(secret)}, page="/account/security")
    assert only_code.status_code == 422 and "not your current password" in only_code.get_data(as_text=True)
    wrong_code = post_form(client, "/account/2fa/disable", {"password": PASSWORD, "code": "123456"}, page="/account/security")
    assert wrong_code.status_code == 422 and "code is not valid" in wrong_code.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, person.id).has_2fa

    done = post_form(client, "/account/2fa/disable", {"password": PASSWORD, "code": clock.code(secret)}, page="/account/security")
    assert done.status_code == 303
    with app.app_context():
        user = db.session.get(User, person.id)
        assert not user.has_2fa and user.totp_secret is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert outbox(app, kind="security_notice")[-1].subject == "Two-step verification was turned off for your LeadThe.AI account"
    # from now on the password alone signs in
    other = app.test_client()
    assert login(other, person.email).headers["Location"] == "/dashboard"


def test_export_asks_for_a_code_with_2fa_and_not_again_within_five_minutes(client, app, person, clock):
    secret, _ = enable_2fa(app, person)
    login(client, person.email)
    second_step(client, clock.code(secret))
    # password and code a moment ago, to sign in: an export right after does not ask for them again
    centre = client.get("/privacy").get_data(as_text=True)
    assert "You confirmed it is you a moment ago" in centre and 'id="export-code"' not in centre
    assert post_form(client, "/privacy/export", {}, page="/privacy").status_code == 303
    close_step_up_window(app, person.email)  # five minutes later
    centre = client.get("/privacy").get_data(as_text=True)
    assert 'id="export-code"' in centre and 'id="delete-code"' in centre

    no_code = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    assert no_code.status_code == 422 and "6-digit code" in no_code.get_data(as_text=True)
    clock.step()
    ok = post_form(client, "/privacy/export", {"password": PASSWORD, "code": clock.code(secret)}, page="/privacy")
    assert ok.status_code == 303
    # within the window: neither asked nor needed
    centre = client.get("/privacy").get_data(as_text=True)
    assert "You confirmed it is you a moment ago" in centre and 'id="export-password"' not in centre
    assert post_form(client, "/privacy/export", {}, page="/privacy").status_code == 303
    with app.app_context():
        record = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == person.id))
        record.reauth_at -= timedelta(minutes=6)
        db.session.commit()
    assert post_form(client, "/privacy/export", {}, page="/privacy").status_code == 422


def test_people_without_2fa_confirm_with_the_password_only(client, app, person):
    login(client, person.email, step_up_window=False)
    centre = client.get("/privacy").get_data(as_text=True)
    assert 'id="export-password"' in centre and 'id="export-code"' not in centre
    assert post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy").status_code == 303


def test_a_password_sign_in_counts_as_the_step_up_for_five_minutes(client, app, person):
    login(client, person.email)
    centre = client.get("/privacy").get_data(as_text=True)
    assert "You confirmed it is you a moment ago" in centre and 'id="export-password"' not in centre
    assert post_form(client, "/privacy/export", {}, page="/privacy").status_code == 303
    with app.app_context():
        record = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == person.id))
        record.reauth_at -= timedelta(minutes=6)  # signed in six minutes ago
        db.session.commit()
    # a sign-in elsewhere with a wrong password opens no window for this browser
    post_form(app.test_client(), "/login", {"email": person.email, "password": "not the password"})
    refused = post_form(client, "/privacy/export", {}, page="/privacy")
    assert refused.status_code == 422 and "Enter your password to confirm it is you." in refused.get_data(as_text=True)


def test_new_recovery_codes_replace_the_old_ones(client, app, person, clock):
    secret, old = enable_2fa(app, person)
    login(client, person.email)
    second_step(client, clock.code(secret))
    clock.step()
    answer = post_form(client, "/account/2fa/recovery-codes", {"password": PASSWORD, "code": clock.code(secret)},
                       page="/account/security")
    html = answer.get_data(as_text=True)
    new = re.findall(r"<code>([a-z0-9-]{19})</code>", html)
    assert answer.status_code == 200 and len(new) == 10 and "earlier recovery codes no longer work" in html
    with app.app_context():
        user = db.session.get(User, person.id)
        assert not twofactor.use_recovery_code(user, old[0])
        assert twofactor.use_recovery_code(user, new[0])
        db.session.rollback()


# --- encryption at rest ------------------------------------------------------------------------------

def test_the_totp_secret_is_not_stored_in_clear(app, person):
    secret, _ = enable_2fa(app, person)
    raw = raw_secret(app, person.id)
    assert raw and secret not in raw and raw.startswith("gAAAA")  # a Fernet token
    key = app.config["LEADTHE_DATA_KEYS"][0]
    assert Fernet(key.encode()).decrypt(raw.encode()).decode() == secret


def test_rotating_the_data_key_re_encrypts_and_log_in_still_works(app, person, make_app, clock):
    secret, _ = enable_2fa(app, person)
    old_key = app.config["LEADTHE_DATA_KEYS"][0]
    before = raw_secret(app, person.id)
    new_key = Fernet.generate_key().decode()
    rotated_app = make_app(LEADTHE_DATA_KEYS=[new_key, old_key])

    result = rotated_app.test_cli_runner().invoke(args=["leadthe", "rotate-data-key", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "user_account.totp_secret: 1 re-encrypted" in result.output

    after = raw_secret(app, person.id)
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(after.encode())

    # the new key alone is enough from now on
    new_only = make_app(LEADTHE_DATA_KEYS=[new_key])
    client = new_only.test_client()
    login(client, person.email)
    assert second_step(client, clock.code(secret)).status_code == 303
    assert signed_in(client)


# --- sessions, events, mail ----------------------------------------------------------------------------

def test_the_security_page_lists_sessions_and_revoking_one_signs_that_browser_out(app, person):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, person.email, headers={"User-Agent": CHROME_WIN})
    login(phone, person.email, headers={"User-Agent": SAFARI_IPHONE})

    page = laptop.get("/account/security", headers={"User-Agent": CHROME_WIN}).get_data(as_text=True)
    assert "Chrome on Windows" in page and "Mobile Safari on iOS" in page
    assert "(this device)" in page and "127.0.0.0/24" in page and "approximate" in page
    assert "You signed in" in page  # recent events, in words

    phone_session = session_rows(app, person.id)[1]
    answer = post_form(laptop, f"/account/sessions/{phone_session.id}/revoke", {"confirmed": "yes"}, page="/account/security")
    assert answer.status_code == 303
    ended = phone.get("/dashboard")
    assert ended.status_code == 302 and "ended=revoked" in ended.headers["Location"]
    assert signed_in(laptop)
    assert "session.revoked" in audit_actions(app)


def test_another_persons_session_is_a_404_and_revoke_others_keeps_this_one(app, person, companies):
    a, _ = companies
    stranger = app.test_client()
    login(stranger, a.learner.email)
    theirs = session_rows(app, a.learner.id)[0]

    mine, second, third = app.test_client(), app.test_client(), app.test_client()
    for c in (mine, second, third):
        login(c, person.email)
    assert post_form(mine, f"/account/sessions/{theirs.id}/revoke", {}, page="/account/security").status_code == 404
    assert post_form(mine, "/account/sessions/999999/revoke", {}, page="/account/security").status_code == 404
    assert signed_in(stranger)

    assert post_form(mine, "/account/sessions/revoke-others", {"confirmed": "yes"}, page="/account/security").status_code == 303
    assert signed_in(mine) and not signed_in(second) and not signed_in(third)


def test_a_sign_in_from_a_new_device_is_mailed(app, person):
    def subjects():
        return [m.subject for m in outbox(app, kind="security_notice")]

    login(app.test_client(), person.email, headers={"User-Agent": CHROME_WIN})
    login(app.test_client(), person.email, headers={"User-Agent": CHROME_WIN.replace("140", "141")})
    assert subjects() == []  # the first device, then the same browser and system again
    login(app.test_client(), person.email, headers={"User-Agent": FIREFOX_LINUX})
    assert subjects() == ["New sign-in to your LeadThe.AI account"]
    body = outbox(app, kind="security_notice")[0].body_text
    assert "Firefox on Linux" in body and "127.0.0.0/24" in body


def test_events_of_others_are_not_listed(app, person, companies):
    a, _ = companies
    login(app.test_client(), a.learner.email)
    client = app.test_client()
    login(client, person.email)
    with app.app_context():
        theirs = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.subject_id == a.learner.id))
    assert theirs >= 1
    page = client.get("/account/security").get_data(as_text=True)
    assert page.count("You signed in") == 1


def test_network_truncation():
    from leadthe.account.security import approximate_network

    assert approximate_network("203.0.113.77") == "203.0.113.0/24"
    assert approximate_network("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert approximate_network("") == "unknown"


# --- passwords ------------------------------------------------------------------------------------------

def test_common_passwords_are_refused_with_the_reason(client, app):
    from leadthe.auth.passwords import common_passwords, password_problems

    assert len(common_passwords()) >= 9_900
    assert password_problems("qwerty123456") and "commonly used" in password_problems("Qwerty 123456")[0]
    assert password_problems(PASSWORD) == []
    answer = post_form(client, "/signup", {
        "name": "Pat", "email": "pat@example.com", "password": "1q2w3e4r5t6y", "organization": "P Ltd",
        "age_confirm": "y", "accept_policy": "y"})
    assert answer.status_code == 422 and "most commonly used passwords" in answer.get_data(as_text=True)
