"""Hardened sessions: server-side records, idle and absolute timeouts, revocation, no fixation, cookie flags."""
from datetime import timedelta

import sqlalchemy as sa

from leadthe import create_app
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.extensions import db
from leadthe.models import UserSession, utcnow
from tests.conftest import post_form
from tests.helpers import login


def session_row(app, user):
    with app.app_context():
        return db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id.desc())
        ).first()


def shift_session(app, row_id, **deltas):
    with app.app_context():
        row = db.session.get(UserSession, row_id)
        for field, delta in deltas.items():
            setattr(row, field, getattr(row, field) - delta)
        db.session.commit()


def test_cookie_flags(client, companies):
    a, _ = companies
    response = login(client, a.learner)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


def test_production_cookie_is_secure_with_host_prefix(make_app, monkeypatch):
    monkeypatch.setenv("LEADTHE_ENV", "production")
    monkeypatch.setenv("LEADTHE_BASE_URL", "https://localhost")
    monkeypatch.setenv("LEADTHE_SINGLE_PROCESS", "1")  # in-memory rate limits are fine for one process
    app = make_app()
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_client() as c:
        r = c.get("/login", base_url="https://localhost")
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("__Host-leadthe=") and "Secure" in cookie and "HttpOnly" in cookie
        assert "Domain=" not in cookie
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_refuses_to_start_without_keys(monkeypatch):
    import pytest

    from leadthe.config import ConfigError

    monkeypatch.setenv("LEADTHE_ENV", "production")
    monkeypatch.delenv("LEADTHE_SECRET_KEY")
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("LEADTHE_SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        create_app()


def test_production_refuses_in_memory_rate_limits_unless_one_process_serves(make_app, monkeypatch):
    """memory:// counts per process: under gunicorn's several workers every limit, the log-in lock-out
    among them, would be multiplied. Production needs Redis, or the operator's word that one process serves."""
    import pytest

    from leadthe.config import ConfigError

    monkeypatch.setenv("LEADTHE_ENV", "production")
    monkeypatch.setenv("LEADTHE_BASE_URL", "https://leadthe.example.com")
    monkeypatch.delenv("LEADTHE_SINGLE_PROCESS", raising=False)
    for unset_or_memory in (None, "memory://"):
        if unset_or_memory is None:
            monkeypatch.delenv("LEADTHE_RATELIMIT_STORAGE_URL", raising=False)
        else:
            monkeypatch.setenv("LEADTHE_RATELIMIT_STORAGE_URL", unset_or_memory)
        with pytest.raises(ConfigError, match="LEADTHE_RATELIMIT_STORAGE_URL"):
            create_app()
    monkeypatch.setenv("LEADTHE_SINGLE_PROCESS", "1")
    assert make_app().config["LEADTHE_ENV"] == "production"
    monkeypatch.delenv("LEADTHE_SINGLE_PROCESS")
    monkeypatch.setenv("LEADTHE_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:1/0")
    assert make_app().config["LEADTHE_ENV"] == "production"


def test_login_starts_a_fresh_session_no_fixation(client, app, companies):
    a, _ = companies
    client.get("/login")
    before = client.get_cookie("leadthe_session").value
    login(client, a.learner)
    after = client.get_cookie("leadthe_session").value
    assert before != after
    # planting the pre-login cookie in another browser does not give it the signed-in session
    attacker = app.test_client()
    attacker.set_cookie("leadthe_session", before)
    assert attacker.get("/dashboard").status_code == 302


def test_idle_session_is_rejected_by_the_server(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    assert client.get("/dashboard").status_code == 200
    row = session_row(app, a.learner)
    shift_session(app, row.id, last_seen_at=timedelta(minutes=31))
    response = client.get("/dashboard")
    assert response.status_code == 302 and "ended=idle" in response.headers["Location"]
    assert "without activity" in client.get(response.headers["Location"]).get_data(as_text=True)
    # the cookie alone no longer opens anything, even after the row is touched again
    assert client.get("/dashboard").status_code == 302


def test_activity_keeps_the_session_alive(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    row = session_row(app, a.learner)
    shift_session(app, row.id, last_seen_at=timedelta(minutes=29))
    assert client.get("/dashboard").status_code == 200
    assert session_row(app, a.learner).last_seen_at > utcnow() - timedelta(minutes=1)


def test_absolute_lifetime_is_enforced(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    row = session_row(app, a.learner)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    shift_session(app, row.id, expires_at=timedelta(hours=12, seconds=1))
    response = client.get("/dashboard")
    assert response.status_code == 302 and "ended=expired" in response.headers["Location"]


def test_revoked_session_is_signed_out_on_its_next_request(app, companies):
    a, _ = companies
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, a.learner)
    login(phone, a.learner)
    laptop_row = session_row(app, a.learner)  # newest is the phone's; take the laptop's explicitly
    with app.app_context():
        rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == a.learner.id).order_by(UserSession.id)).all()
        laptop_row = rows[0]
        laptop_row.revoked_at = utcnow()
        db.session.commit()
    response = laptop.get("/dashboard")
    assert response.status_code == 302 and "ended=revoked" in response.headers["Location"]
    assert phone.get("/dashboard").status_code == 200


def test_revoke_all_sessions_helper(app, companies):
    a, _ = companies
    one, two = app.test_client(), app.test_client()
    login(one, a.learner)
    login(two, a.learner)
    with app.app_context():
        assert revoke_all_sessions(a.learner.id) == 2
        db.session.commit()
    assert one.get("/dashboard").status_code == 302 and two.get("/dashboard").status_code == 302


def test_logout_revokes_the_server_record(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    stolen_cookie = client.get_cookie("leadthe_session").value
    post_form(client, "/logout", {}, page="/dashboard")
    assert session_row(app, a.learner).revoked_at is not None
    thief = app.test_client()
    thief.set_cookie("leadthe_session", stolen_cookie)
    assert thief.get("/dashboard").status_code == 302


def test_deactivating_a_user_signs_them_out(client, app, companies):
    a, _ = companies
    login(client, a.learner)
    from leadthe.models import User

    with app.app_context():
        db.session.get(User, a.learner.id).status = "deactivated"
        db.session.commit()
    assert client.get("/dashboard").status_code == 302
