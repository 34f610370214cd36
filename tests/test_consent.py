"""Cookie consent, the analytics gate, preferences, and versioned policies."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.consent import ConsentRecord, PageView, PolicyAcknowledgement
from leadthe.worker import run_once
from tests.conftest import PASSWORD, csrf_from, login_with_code, make_staff, make_user, outbox, post_form

BANNER = 'id="cookie-banner"'


def page_views(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PageView))


def decide(client, action=None, page="/", headers=None, **choices):
    html = client.get(page, headers=headers or {}).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "source": "banner", "next": page, **choices}
    if action:
        data["action"] = action
    return client.post("/consent", data=data, headers=headers or {})


def cookie_names(response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}


def test_first_visit_shows_the_banner_and_records_nothing(client, app):
    html = client.get("/").get_data(as_text=True)
    assert BANNER in html and "Reject all" in html and "Accept all" in html
    assert page_views(app) == 0
    response = client.get("/login")
    assert cookie_names(response) <= {"leadthe_session"}


def test_reject_all_sets_no_optional_cookie_and_records_no_analytics(client, app):
    response = decide(client, "reject_all")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert cookie_names(response) == {"leadthe_consent", "leadthe_session"} or cookie_names(response) == {"leadthe_consent"}
    html = client.get("/").get_data(as_text=True)
    assert BANNER not in html
    client.get("/login")
    assert page_views(app) == 0
    with app.app_context():
        record = db.session.scalar(sa.select(ConsentRecord))
        assert (record.analytics, record.preferences, record.method) == (False, False, "banner")


def test_accept_all_records_analytics_with_coarse_data(client, app):
    response = decide(client, "accept_all")
    assert {"leadthe_consent", "leadthe_aid"} <= cookie_names(response)
    client.get("/login?x=secret-query", headers={"Referer": "http://localhost/signup",
                                                 "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"},
               environ_base={"REMOTE_ADDR": "8.8.8.8"})
    with app.app_context():
        view = db.session.scalar(sa.select(PageView).order_by(PageView.id.desc()))
    assert (view.feature, view.route, view.referrer) == ("auth", "/login", "site:auth.signup")
    assert view.browser == "Chrome" and view.os == "Windows" and view.country == "US" and view.ip_prefix == "8.8.8.0"
    assert len(view.visitor_id) == 32


def test_choices_survive_and_the_banner_returns_when_the_cookie_list_changes(client, app, monkeypatch):
    decide(client, analytics="on")
    assert BANNER not in client.get("/").get_data(as_text=True)
    import leadthe.consent.services as consent_services

    monkeypatch.setattr(consent_services, "revision", lambda: "changed-list")
    assert BANNER in client.get("/").get_data(as_text=True)


def test_htmx_banner_answer_is_empty_and_sets_the_cookie(client):
    html = client.get("/").get_data(as_text=True)
    response = client.post("/consent", data={"csrf_token": csrf_from(html), "source": "banner", "action": "reject_all"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data() == b"" and "leadthe_consent" in cookie_names(response)


@pytest.mark.parametrize("header", ["Sec-GPC", "DNT"])
def test_browser_signal_is_a_refusal_until_an_explicit_choice(client, app, header):
    signal = {header: "1"}
    html = client.get("/", headers=signal).get_data(as_text=True)
    assert "signal is honoured" in html
    client.get("/login", headers=signal)
    assert page_views(app) == 0
    assert "treat it as a refusal" in client.get("/consent", headers=signal).get_data(as_text=True)
    decide(client, "accept_all", headers=signal)  # the visitor's own choice on this site wins
    client.get("/login", headers=signal)
    assert page_views(app) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(ConsentRecord.signal)) == ("GPC" if header == "Sec-GPC" else "DNT")


def test_objection_or_restriction_stops_analytics_at_the_source(client, app, companies):
    a, _ = companies
    decide(client, "accept_all")
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    client.get("/dashboard")
    before = page_views(app)
    assert before >= 1
    with app.app_context():
        assert db.session.scalar(sa.select(PageView.user_id).order_by(PageView.id.desc())) == a.learner.id
    post_form(client, "/privacy/processing", {"object_analytics": "y"})
    after_objection = page_views(app)  # (the form page itself was viewed before the objection)
    for path in ("/dashboard", "/privacy", "/account/profile"):
        assert client.get(path).status_code == 200  # every feature still works
    assert page_views(app) == after_objection  # no new rows
    post_form(client, "/privacy/processing", {"restrict_processing": "y"})  # objection off, restriction on
    client.get("/dashboard")
    client.get("/privacy")
    assert page_views(app) == after_objection


def test_consent_ledger_is_linked_to_the_account_on_sign_in(client, app, companies):
    a, _ = companies
    decide(client, "reject_all")
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    with app.app_context():
        assert db.session.scalar(sa.select(ConsentRecord.user_id)) == a.learner.id


def test_settings_page_lists_every_declared_cookie(client, app):
    html = client.get("/consent").get_data(as_text=True)
    for name in ("leadthe_session", "leadthe_consent", "leadthe_prefs", "leadthe_aid"):
        assert name in html
    response = post_form(client, "/consent", {"preferences": "on"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(ConsentRecord.method)) == "settings"


def test_no_response_sets_an_undeclared_or_unconsented_cookie(client, app, companies):
    """Walk the pages signed out and in, before and after consent: only declared cookies, optional ones only with consent."""
    from leadthe.consent.cookies import declaration

    with app.test_request_context():
        declared = {c.name: c.category for c in declaration()}
    a, _ = companies
    seen = []
    for path in ("/", "/login", "/signup", "/consent", "/privacy/policy", "/account/preferences"):
        seen.append(client.get(path))
    seen.append(post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD}))
    for path in ("/dashboard", "/privacy", "/account/profile", "/account/preferences"):
        seen.append(client.get(path))
    for response in seen:
        for name in cookie_names(response):
            assert name in declared, f"undeclared cookie {name}"
            assert declared[name] == "essential", f"{name} set without consent"
    with app.test_request_context():
        from leadthe.consent.cookies import ConsentMissing, set_declared_cookie
        from flask import Response

        with pytest.raises(LookupError):
            set_declared_cookie(Response(), "tracker", "x")
        with pytest.raises(ConsentMissing):
            set_declared_cookie(Response(), "leadthe_aid", "x")


# --- preferences ----------------------------------------------------------------------------------

def test_signed_in_preferences_are_kept_in_the_account(client, app, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    response = post_form(client, "/account/preferences", {"language": "en", "theme": "contrast", "density": "compact",
                                                          "low_data": "y", "email_progress": "y"})
    assert response.status_code == 303
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-theme="contrast"' in html and 'data-density="compact"' in html and "data-low-data" in html
    assert "leadthe_prefs" not in {c.split("=")[0] for c in response.headers.getlist("Set-Cookie")}


def test_visitor_preferences_need_preference_consent(client):
    response = post_form(client, "/account/preferences", {"language": "en", "theme": "dark", "density": "comfortable"})
    assert response.headers["Location"] == "/consent"
    decide(client, preferences="on")
    response = post_form(client, "/account/preferences", {"language": "en", "theme": "dark", "density": "comfortable"})
    assert "leadthe_prefs" in cookie_names(response)
    assert 'data-theme="dark"' in client.get("/").get_data(as_text=True)
    decide(client, "reject_all")  # withdrawing consent removes the cookie
    assert 'data-theme="system"' in client.get("/").get_data(as_text=True)


# --- versioned policies ------------------------------------------------------------------------------

def test_current_and_earlier_policy_versions_and_changes(client, app):
    html = client.get("/privacy/policy").get_data(as_text=True)
    assert "Version 1" in html and "Your privacy rights" in html
    for kind in ("cookies", "terms"):
        assert client.get(f"/legal/{kind}").status_code == 200
    staff = make_staff(app, email="legal@leadthe.example")
    s = app.test_client()
    login_with_code(s, app, staff)
    page = s.get("/staff/policies?kind=privacy").get_data(as_text=True)
    assert "Publish a new version" in page
    response = post_form(s, "/staff/policies", {"kind": "privacy", "title": "Privacy policy", "summary": "We added a processor.",
                                                "body": "## Who we share it with\n\nA new e-mail provider, Mailco.",
                                                "effective": utcnow().date().isoformat()}, page="/staff/policies")
    assert response.status_code == 303
    assert "A new e-mail provider" in client.get("/privacy/policy").get_data(as_text=True)
    assert "Version 1" in client.get("/privacy/policy/1").get_data(as_text=True)
    history = client.get("/privacy/policy/history?from=1&to=2").get_data(as_text=True)
    assert "Added:" in history and "Mailco" in history and "Removed:" in history
    assert client.get("/privacy/policy/9").status_code == 404 and client.get("/legal/nonsense").status_code == 404


def test_policy_pages_are_for_staff_only(app, companies):
    a, _ = companies
    c = app.test_client()
    post_form(c, "/login", {"email": a.admin.email, "password": PASSWORD})
    assert c.get("/staff/policies").status_code == 404


def publish_material(app, categories_changed=False):
    from leadthe.legal import services

    with app.test_request_context():
        staff = make_user(app, None, email=f"pub{utcnow().timestamp()}@leadthe.example", role="staff")
        services.current_policy("privacy")
        doc = services.publish("privacy", title="Privacy policy", body="New text about analytics.", summary="Analytics changed.",
                               effective_at=utcnow() - timedelta(seconds=1), material=True,
                               categories_changed=categories_changed, staff_user=staff)
        db.session.commit()
        return doc.id


def test_material_change_mails_everyone_once_even_after_a_restart(app, companies, monkeypatch):
    import leadthe.legal.services as legal

    monkeypatch.setattr(legal, "NOTICE_BATCH", 2)
    publish_material(app)
    # the worker dies after the first batch
    calls = {"n": 0}
    real_commit = db.session.commit

    def crash_after_first_batch():
        real_commit()
        calls["n"] += 1
        if calls["n"] == 3:  # claim, first batch, then die
            raise SystemExit("worker killed")

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", crash_after_first_batch)
        with pytest.raises(SystemExit):
            run_once()
        monkeypatch.undo()
        monkeypatch.setattr(legal, "NOTICE_BATCH", 2)
        db.session.rollback()
        run_once(utcnow() + timedelta(minutes=20))  # the job's lease ran out: another worker resumes it
    mails = [m.to_addr for m in outbox(app, kind="policy")]
    with app.app_context():
        from leadthe.models import User

        active = db.session.scalars(sa.select(User.email).where(User.status == "active")).all()
    assert sorted(mails) == sorted(active) and len(mails) == len(set(mails))


def test_material_change_notice_until_acknowledged(client, app, companies):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    doc_id = publish_material(app)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="policy-notice"' in html and "Analytics changed." in html
    assert post_form(client, f"/legal/acknowledge/{doc_id}", {"next": "/dashboard"}, page="/dashboard").status_code == 303
    assert 'id="policy-notice"' not in client.get("/dashboard").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(PolicyAcknowledgement.user_id)) == a.learner.id


def test_changed_categories_ask_for_consent_again(client, app):
    decide(client, "accept_all")
    assert BANNER not in client.get("/").get_data(as_text=True)
    publish_material(app, categories_changed=True)
    assert BANNER in client.get("/").get_data(as_text=True)


def test_a_version_published_by_another_process_shows_within_the_refresh_time(client, app, companies, monkeypatch):
    """Pages read the policy versions from a per-process table; a version another process wrote (here:
    a plain INSERT, which this process's ORM does not see) appears once that table is refreshed."""
    import leadthe.legal.services as legal
    from leadthe import process_tables
    from leadthe.models.consent import PolicyDocument

    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    clock = [1000.0]
    monkeypatch.setattr(process_tables.time, "monotonic", lambda: clock[0])
    assert 'id="policy-notice"' not in client.get("/dashboard").get_data(as_text=True)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.insert(PolicyDocument).values(
                kind="privacy", version=7, title="Privacy policy", body_md="x", body_html="<p>x</p>",
                summary="Written by another process.", effective_at=utcnow() - timedelta(seconds=1), material=True,
                categories_changed=False, created_at=utcnow()))
    assert 'id="policy-notice"' not in client.get("/dashboard").get_data(as_text=True)  # not yet refreshed
    clock[0] += legal.POLICY_FACTS_SECONDS + 1
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'id="policy-notice"' in html and "Written by another process." in html


def test_a_version_that_takes_effect_later_shows_from_its_date(client, app, companies, monkeypatch):
    from leadthe.legal import services

    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    with app.test_request_context():
        staff = make_user(app, None, email="later@leadthe.example", role="staff")
        services.current_policy("privacy")
        services.publish("privacy", title="Privacy policy", body="Later text.", summary="Takes effect later.",
                         effective_at=utcnow() + timedelta(seconds=30), material=True, categories_changed=False,
                         staff_user=staff)
        db.session.commit()
    assert "Takes effect later." not in client.get("/dashboard").get_data(as_text=True)
    # the effective date is checked against the clock on every page (the cached table holds the dates)
    monkeypatch.setattr(services, "utcnow", lambda: utcnow() + timedelta(minutes=1))
    assert "Takes effect later." in client.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_control_character_in_next_is_a_safe_redirect_not_a_500(client, app, companies, htmx):
    a, _ = companies
    headers = {"HX-Request": "true"} if htmx else {}
    where = "HX-Redirect" if htmx else "Location"
    consent = post_form(client, "/consent", {"action": "accept_all", "next": "/courses\r\nSet-Cookie: x=1"}, headers=headers)
    assert consent.headers[where] == "/consent"
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    doc_id = publish_material(app)
    ack = post_form(client, f"/legal/acknowledge/{doc_id}", {"next": "/courses\n"}, page="/dashboard")
    assert ack.status_code == 303 and ack.headers["Location"] == "/dashboard"
