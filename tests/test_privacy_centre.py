"""What a person sees of their privacy: the centre's summary and actions, the readable export, choices and
audit events in words, and one analytics switch in three places."""
from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, User
from leadthe.worker import run_once
from tests.conftest import PASSWORD, csrf_from, make_user, post_form
from tests.helpers import complete, enrol, login, write_course, load

ROOT = Path(__file__).resolve().parent.parent
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _set_locale(app, user_id, locale):
    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


def _learning(app, client, tmp_path, title="Prompting for managers"):
    write_course(tmp_path / "content", "prompting", 3, title=title)
    load(app, tmp_path / "content")
    enrol(client, "prompting")
    complete(client, "prompting", "l1")
    complete(client, "prompting", "l2")


def _report(client, app) -> str:
    response = post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy")
    assert response.status_code == 303
    with app.app_context():
        run_once()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/privacy/exports/\d+/download\?token=[^"]+)"', page).group(1).replace("&amp;", "&")
    with client.get(link) as download:
        zf = zipfile.ZipFile(io.BytesIO(download.get_data()))
    return zf.read("report.html").decode("utf-8"), zf


# --- the privacy centre -----------------------------------------------------------------------------

def test_centre_opens_with_the_actions_and_a_summary_in_words(client, app, companies, tmp_path):
    a, _ = companies
    login(client, a.learner.email)
    _learning(app, client, tmp_path)
    html = client.get("/privacy").get_data(as_text=True)
    top = html.split('id="viewers"')[0]  # what comes before "who can see it": the first screen
    for action in ("Download my data", "Correct it", "My choices", "Delete my account"):
        assert action in top
    assert 'href="/account/profile"' in top
    assert "2 lessons completed" in top and "1 course started" in top
    # the full registry sits behind a disclosure, with its legal text once per group
    details = html.split('<details class="registry"')[1].split("</details>")[0]
    assert "Sign-in sessions" in details and "While the account is active" in details
    assert html.count("Needed to provide the service your employer signed up for") < 6
    # who can see it: the person, their company's admins and managers by name, staff and processors
    viewers = _text(html.split('id="viewers"')[1].split("</section>")[0])
    assert "Admin A" in viewers and "Manager of Team A" in viewers and "LeadThe.AI staff" in viewers
    assert "service providers" in viewers


def test_centre_mentions_cookie_consent_and_links_to_cookie_settings(client, companies):
    a, _ = companies
    login(client, a.learner.email)
    choices = client.get("/privacy").get_data(as_text=True).split('id="choices"')[1].split("</section>")[0]
    assert "Cookies:" in choices and 'href="/consent"' in choices
    assert "Leaderboard: you are shown" in choices and "object" not in _text(choices).lower()


def test_centre_counts_come_from_one_aggregate_query(client, app, companies):
    from leadthe.privacy.registry import personal_sources

    a, _ = companies
    login(client, a.learner.email)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/privacy").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    counting = [s for s in statements if "count(" in s.lower()]
    assert len(counting) == 1 and len(statements) < len(personal_sources())


def test_centre_in_german_says_choices_and_counts_in_german(client, app, companies, tmp_path):
    a, _ = companies
    _set_locale(app, a.learner.id, "de")
    login(client, a.learner.email)
    _learning(app, client, tmp_path)
    text = _text(client.get("/privacy").get_data(as_text=True))
    assert "Meine Daten herunterladen" in text and "2 Lektionen abgeschlossen" in text
    assert "Bestenliste: Sie werden angezeigt" in text and "Cookie-Einstellungen" in text


# --- report.html ---------------------------------------------------------------------------------------

def _hidden_columns() -> set[str]:
    from leadthe.privacy.registry import personal_sources

    return {name for s in personal_sources() for name, col in s.columns.items() if col.internal or not col.export}


def test_report_is_readable_holds_the_persons_data_and_no_internal_names(client, app, companies, tmp_path):
    a, _ = companies
    login(client, a.learner.email)
    _learning(app, client, tmp_path)
    html, zf = _report(client, app)
    text = _text(html)
    assert "Learner A" in text and "learner@a.example" in text and "Prompting for managers" in text
    assert "Lessons you completed" in text and "What is inside" in text
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}", text)  # a date in words
    assert not ISO.search(html)
    hidden = _hidden_columns()
    assert {"org_id", "totp_last_step", "password_hash", "totp_secret", "token_hash"} <= hidden
    # no hidden column's name anywhere (names like org_id), and none as a label of a value ("id", "seed")
    shown = [name for name in hidden if "_" in name and name in html]
    labels = {label.strip() for label in re.findall(r"<(?:dt|th)>([^<]*)<", html)}
    assert shown == [] and not labels & hidden
    # stored codes in words: what each mail was about, and its status
    assert "verify_email" not in text and "pending" not in text.split()
    assert "never contains secrets" in text  # their absence is explained once
    assert text.count("never contains secrets") == 1
    # a file on the person's disk: its own CSS, a phone-sized layout, nothing loaded from elsewhere
    assert "<style>" in html and "@media print" in html and 'name=\'viewport\'' in html
    assert not re.search(r"<(link|script|img)\b", html)
    # the machine-readable parts keep everything (the contract)
    assert b'"org_id"' in zf.read("export.json")


def test_report_speaks_the_persons_language(client, app, companies, tmp_path):
    a, _ = companies
    _set_locale(app, a.learner.id, "de")
    login(client, a.learner.email)
    _learning(app, client, tmp_path)
    html, zf = _report(client, app)
    text = _text(html)
    assert "<html lang='de'" in html and "Ihre Daten bei LeadThe.AI" in text and "Abgeschlossene Lektionen" in text
    assert re.search(r"\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}", text)
    assert not ISO.search(html)
    assert b"Lessons you completed" in zf.read("manifest.json")  # the manifest stays English (the contract)


# --- words instead of internal names -------------------------------------------------------------------

def _recorded_actions() -> set[str]:
    """Every audit action the code records: record("x.y") / record_apart("x.y") and event="x.y"."""
    found = set()
    for path in (ROOT / "leadthe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("record", "record_apart") and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
            found |= {k.value.value for k in node.keywords if k.arg == "event" and isinstance(k.value, ast.Constant)}
    return {a for a in found if isinstance(a, str)}


def test_every_audit_action_choice_request_kind_and_status_has_words():
    from leadthe.audit import EVENT_LABELS
    from leadthe.models.privacy import REQUEST_KINDS
    from leadthe.privacy import labels
    from leadthe.privacy.services import CHOICES

    actions = _recorded_actions()
    assert {"email.verified", "profile.updated", "password.reset", "staff.access_granted"} <= actions
    assert sorted(actions - set(EVENT_LABELS)) == []
    assert set(CHOICES) <= set(labels.CHOICE_LABELS) and set(CHOICES) <= set(labels.CHOICE_STATES)
    from leadthe.privacy.registry import personal_sources
    from leadthe.privacy.services import COUNT_WORDS

    assert [s.table for s in personal_sources() if s.table not in COUNT_WORDS] == []  # the summary's words
    migration = (ROOT / "migrations" / "versions" / "0010_value_checks.py").read_text()
    kinds = ast.literal_eval(re.search(r'"kind": (\([^)]*\))', migration).group(1))
    statuses = ast.literal_eval(re.search(r'"privacy_request": \{.*?"status": (\([^)]*\))', migration, re.S).group(1))
    assert set(kinds) <= set(REQUEST_KINDS) and set(statuses) <= set(labels.REQUEST_STATUSES)


def test_requests_and_security_events_read_in_words(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    post_form(client, "/privacy/processing", {"object_leaderboard": "y"})
    post_form(client, "/account/profile", {"name": "Lena Learner", "job_title": "Analyst", "department": "Ops"})
    with app.app_context():
        db.session.add(AuditEvent(action="email.verified", actor_id=a.learner.id, subject_id=a.learner.id,
                                  org_id=a.org.id, ip="", user_agent="", details={}))
        db.session.commit()
    text = _text(client.get("/privacy/requests").get_data(as_text=True))
    assert "Leaderboard: you are left out" in text and "Profile edited: name, job title" in text
    assert "Completed" in text
    for raw in ("object leaderboard", "job_title", "in_progress"):
        assert raw not in text
    security = _text(client.get("/account/security").get_data(as_text=True))
    assert "email.verified" not in security and "confirmed your e-mail address" in security


def test_admin_audit_log_shows_events_and_details_in_words(client, app, companies):
    a, _ = companies
    learner = app.test_client()
    login(learner, a.learner.email)
    post_form(learner, "/account/profile", {"name": "Lena Learner", "job_title": "Analyst", "department": "Ops"})
    with app.app_context():
        db.session.add(AuditEvent(action="email.verified", actor_id=a.learner.id, subject_id=a.learner.id,
                                  org_id=a.org.id, ip="", user_agent="", details={}))
        db.session.commit()
    login(client, a.admin.email)
    text = _text(client.get("/admin/audit").get_data(as_text=True))
    assert "E-mail address confirmed" in text and "Profile edited" in text and "Changed: name, job title" in text
    for raw in ("email.verified", "profile.updated", "job_title", "login.success"):
        assert raw not in text
    _set_locale(app, a.admin.id, "de")
    german = _text(client.get("/admin/audit").get_data(as_text=True))
    assert "E-Mail-Adresse bestätigt" in german and "Profil bearbeitet" in german


# --- one analytics switch -------------------------------------------------------------------------------

def _analytics_checked(html: str, field_id: str) -> bool:
    tag = re.search(r"<input[^>]*id=\"" + field_id + r"\"[^>]*>", html).group(0)
    return " checked" in tag


def test_the_analytics_switch_in_preferences_is_the_one_of_cookie_settings_and_privacy_choices(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    prefs = client.get("/account/preferences").get_data(as_text=True)
    assert not _analytics_checked(prefs, "analytics")
    base = {"language": "en", "theme": "system", "density": "comfortable", "analytics_switch": "1"}
    assert post_form(client, "/account/preferences", {**base, "analytics": "y"}).status_code == 303
    consent = client.get("/consent").get_data(as_text=True)
    assert _analytics_checked(consent, "c-analytics") and "analytics <strong>on</strong>" in consent
    assert _analytics_checked(client.get("/account/preferences").get_data(as_text=True), "analytics")
    # off in preferences: off in cookie settings, and an objection in the privacy choices
    post_form(client, "/account/preferences", base)
    consent = client.get("/consent").get_data(as_text=True)
    assert not _analytics_checked(consent, "c-analytics") and "analytics <strong>off</strong>" in consent
    assert _analytics_checked(client.get("/privacy/processing").get_data(as_text=True), "object_analytics")
    # switched on again in the cookie settings: preferences and privacy choices follow
    page = client.get("/consent").get_data(as_text=True)
    client.post("/consent", data={"csrf_token": csrf_from(page), "action": "choose", "analytics": "on"})
    assert _analytics_checked(client.get("/account/preferences").get_data(as_text=True), "analytics")
    assert not _analytics_checked(client.get("/privacy/processing").get_data(as_text=True), "object_analytics")
    with app.app_context():
        from leadthe.privacy.services import settings_for

        assert settings_for(a.learner.id).object_analytics is False


def test_an_objection_in_privacy_choices_turns_the_switch_off_everywhere(client, app, companies):
    a, _ = companies
    login(client, a.learner.email)
    base = {"language": "en", "theme": "system", "density": "comfortable", "analytics_switch": "1"}
    post_form(client, "/account/preferences", {**base, "analytics": "y"})
    # a client posting only the contract's fields (no switch on its page) leaves the choice alone
    post_form(client, "/account/preferences", {"language": "en", "theme": "dark", "density": "comfortable"})
    assert _analytics_checked(client.get("/consent").get_data(as_text=True), "c-analytics")
    post_form(client, "/privacy/processing", {"object_analytics": "y"})
    assert not _analytics_checked(client.get("/account/preferences").get_data(as_text=True), "analytics")
    assert not _analytics_checked(client.get("/consent").get_data(as_text=True), "c-analytics")


# --- the policies: date, sessions, German beside the authoritative English -------------------------------

def test_policy_says_when_it_was_updated_and_when_sessions_end(client, app):
    html = _text(client.get("/privacy/policy").get_data(as_text=True))
    assert re.search(r"Last updated: \d{1,2} Nov 2026", html)
    assert "signed out after 30 minutes without activity, and after 12 hours at the latest" in html
    app.config["SESSION_IDLE"] = app.config["SESSION_IDLE"] * 2
    try:
        assert "after 1 hour without activity" in _text(client.get("/privacy/policy").get_data(as_text=True))
    finally:
        app.config["SESSION_IDLE"] = app.config["SESSION_IDLE"] / 2
    assert "Information we collect" in html and "authoritative" not in html  # English: no translation notice


def test_policies_in_german_say_the_english_version_is_authoritative(client):
    german = {"Accept-Language": "de"}
    for url, heading, phrase in (("/privacy/policy", "Datenschutzerklärung", "Welche Daten wir erheben"),
                                 ("/legal/cookies", "Cookie-Richtlinie", "Notwendige Cookies"),
                                 ("/legal/terms", "Nutzungsbedingungen", "Zulässige Nutzung")):
        html = client.get(url, headers=german).get_data(as_text=True)
        text = _text(html)
        assert f"<h1>{heading}</h1>" in html and phrase in text, url
        assert "Die englische Fassung ist maßgeblich" in text and "Zuletzt aktualisiert:" in text
        english = client.get(url + "?lang=en", headers=german).get_data(as_text=True)
        assert 'lang="en"' in english and phrase not in english and "maßgebliche englische Fassung" in english
    assert "Sie werden nach 30 Minuten ohne Aktivität abgemeldet" in _text(client.get("/privacy/policy", headers=german).get_data(as_text=True))
    assert "Nutzungsbedingungen" not in client.get("/legal/terms").get_data(as_text=True).split("<main")[1].split("<footer")[0]


def test_the_german_policy_is_a_translation_of_the_current_version_only(client, app):
    from datetime import timedelta

    from leadthe.legal import services
    from leadthe.models import utcnow

    client.get("/privacy/policy")  # version 1 exists
    with app.app_context():
        staff = make_user(app, None, email="dpo@leadthe.example", role="dpo")
        services.publish("privacy", title="Privacy policy", body="Version two text.", summary="Shorter.",
                         effective_at=utcnow() - timedelta(minutes=1), material=False, categories_changed=False,
                         staff_user=db.session.get(User, staff.id))
        db.session.commit()
    html = client.get("/privacy/policy", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Version two text." in html and "Welche Daten wir erheben" not in html  # no stale translation
    assert "Welche Daten wir erheben" in client.get("/legal/privacy/1", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_staff_publish_a_version_with_its_german_translation(client, app):
    from leadthe.models import utcnow
    from tests.conftest import login_with_code, make_staff

    staff = make_staff(app, email="legal@leadthe.example")
    s = app.test_client()
    login_with_code(s, app, staff)
    assert "German translation" in s.get("/staff/policies?kind=terms").get_data(as_text=True)
    response = post_form(s, "/staff/policies", {"kind": "terms", "title": "Terms of use", "summary": "Shorter.",
                                                "body": "## Use\n\nBe kind.", "body_de": "## Nutzung\n\nSeien Sie freundlich.",
                                                "effective": utcnow().date().isoformat()}, page="/staff/policies")
    assert response.status_code == 303
    german = _text(client.get("/legal/terms", headers={"Accept-Language": "de"}).get_data(as_text=True))
    assert "Seien Sie freundlich." in german and "Die englische Fassung ist maßgeblich" in german
    assert "Be kind." in _text(client.get("/legal/terms").get_data(as_text=True))
