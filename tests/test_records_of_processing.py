"""Records of processing (GDPR Article 30), generated from the personal-data registry (issue 21).

The records must represent every registry entry (a new personal table without an activity fails here), name every
personal column's purpose, the legal basis and retention words of each activity, and the sub-processors as recipients
with their transfer safeguards. The company's view names the company as controller and is for its admins only; ours
is for staff and the DPO. The CSV and JSON downloads hold the same activities as the page.
"""
from __future__ import annotations

import csv
import html
import io
import json

import sqlalchemy as sa
from flask_babel import force_locale

from leadthe.extensions import db
from leadthe.privacy import registry
from leadthe.privacy.registry import LEGAL_BASES, RETENTION_RULES, SOURCES, Col, Source
from leadthe.trust import records as rec
from leadthe.trust.records import company_records, data_of, missing, not_personal, platform_records
from leadthe.trust.subprocessors import current as current_subprocessors
from tests.conftest import PASSWORD, login_with_code, make_staff

ADMIN_URL, STAFF_URL = "/admin/records-of-processing", "/staff/records-of-processing"


def _login(client, auth, person):
    auth.login(person.email, PASSWORD)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _by_table(activities) -> dict[str, rec.Activity]:
    return {t: a for a in activities for t in a.tables}


# --- coverage -----------------------------------------------------------------------------------------

def test_every_registry_entry_is_represented(app):
    with app.test_request_context():
        activities, appendix = platform_records(), not_personal()
        assert missing(activities, appendix) == []
        by_table = _by_table(activities)
        listed = {row["table"] for row in appendix}
    for source in SOURCES:
        assert (source.table in by_table) if source.subject else (source.table in listed), source.table


def test_a_new_personal_table_without_an_activity_is_caught(app, monkeypatch):
    """The check above can fail: a personal source of a category no activity describes is reported missing."""
    fake = Source("fake_biometrics", "Fake", "biometrics", purpose="testing", basis="consent",
                  retention="account_lifetime", subject=("user_id",), columns={"user_id": registry.ID})
    monkeypatch.setattr(rec, "SOURCES", [*SOURCES, fake])
    with app.test_request_context():
        assert missing(platform_records(), not_personal()) == ["fake_biometrics"]


def test_every_personal_column_purpose_legal_basis_and_retention_appear(app):
    with app.test_request_context():
        by_table = _by_table(platform_records())
        for source in registry.personal_sources():
            activity = by_table[source.table]
            for purpose in data_of(source):
                assert purpose in activity.data_categories, (source.table, purpose)
            assert str(LEGAL_BASES[source.basis]) in activity.legal_bases, source.table
            assert f"{source.label}: {RETENTION_RULES[source.retention]}" in activity.retention, source.table


def test_only_ids_and_bookkeeping_are_left_out_of_the_data_categories():
    source = Source("t", "T", "account", purpose="p", basis="contract", retention="account_lifetime", subject=("id",),
                    columns={"id": registry.ID, "email": Col("your address"), "secret": Col("a secret", export=False)})
    assert data_of(source) == ["your address", "a secret"]


def test_sub_processors_are_recipients_with_their_safeguards(app):
    subs = {sp.key: sp for sp in current_subprocessors()}
    assert {"hosting", "email", "stripe"} <= set(subs)
    with app.test_request_context():
        by_table = _by_table(platform_records())
        for table, key in (("outbox_mail", "email"), ("invoice", "stripe"), ("invoice", "email"), ("enrollment", "hosting")):
            sp = subs[key]
            assert f"{sp.name}: {sp.purpose}" in by_table[table].subprocessors, (table, key)
            if not sp.in_eea:
                assert f"{sp.name}: {sp.location}. {sp.safeguard}" in by_table[table].transfers
        # learning data goes to no one outside the EU/EEA
        assert by_table["enrollment"].transfers == []


def test_company_view_holds_only_what_we_process_for_the_company(app):
    with app.test_request_context():
        company = company_records()
    assert {a.role for a in company} == {rec.PROCESSOR}
    tables = {t for a in company for t in a.tables}
    assert "enrollment" in tables and "user_account" in tables
    # our own invoices, support and staff records are ours, not the company's
    assert not tables & {"invoice", "support_ticket", "staff_access_grant"}


# --- the pages ----------------------------------------------------------------------------------------

def test_company_page_names_the_company_and_is_for_admins_only(app, client, auth, companies):
    a, _b = companies
    for person in (a.manager, a.learner):
        _login(client, auth, person)
        for url in (ADMIN_URL, ADMIN_URL + ".csv", ADMIN_URL + ".json"):
            assert client.get(url).status_code == 403, (person.email, url)
        auth.logout()
    _login(client, auth, a.admin)
    page = client.get(ADMIN_URL)
    assert page.status_code == 200
    body = _text(page)
    assert "Company A is the controller; LeadThe.AI is its processor." in body
    assert "Article 30(2)" in body
    with app.test_request_context():
        for activity in company_records():
            assert activity.name in body
            for line in activity.retention + activity.legal_bases + activity.subprocessors:
                assert line in body, line
    assert "Tables without personal data" not in body
    assert "Invoices and customer support" not in body


def test_staff_page_is_for_staff_and_lists_everything(app, client, auth, companies):
    _login(client, auth, companies[0].admin)
    for url in (STAFF_URL, STAFF_URL + ".csv", STAFF_URL + ".json"):
        assert client.get(url).status_code == 404
    auth.logout()
    for role in ("staff", "dpo"):
        person = make_staff(app, role)
        login_with_code(client, app, person)
        body = _text(client.get(STAFF_URL))
        with app.test_request_context():
            for activity in platform_records():
                assert f'id="{activity.key}"' in body and activity.name in body
        assert "Our staff's accounts" in body and "Article 30(1)" in body
        assert "alembic_version" in body  # the appendix of tables without personal data
        auth.logout()


def _csv_rows(response) -> list[dict]:
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_and_json_match_the_pages_activities(app, client, auth, companies):
    _login(client, auth, companies[0].admin)
    body = _text(client.get(ADMIN_URL))
    rows = _csv_rows(client.get(ADMIN_URL + ".csv"))
    doc = json.loads(client.get(ADMIN_URL + ".json").get_data(as_text=True))
    with app.test_request_context():
        expected = [(a.key, a.name) for a in company_records()]
    assert [(r["key"], r["activity"]) for r in rows] == expected
    assert [(a["key"], a["name"]) for a in doc["activities"]] == expected
    for key, name in expected:
        assert f'id="{key}"' in body and name in body
    assert {r["controller"] for r in rows} == {"Company A"} and doc["company"] == "Company A"
    assert {a["controller"] for a in doc["activities"]} == {"Company A"}
    outbox = next(a for a in doc["activities"] if "outbox_mail" in a["tables"])
    assert any("Standard Contractual Clauses" in t for t in outbox["transfers"])
    assert "Standard Contractual Clauses" in next(r for r in rows if r["key"] == outbox["key"])["transfers"]
    assert {"format", "generated_at", "view", "company", "processor", "security_measures", "subprocessors",
            "activities"} <= set(doc)
    auth.logout()

    staff = make_staff(app)
    login_with_code(client, app, staff)
    rows = _csv_rows(client.get(STAFF_URL + ".csv"))
    doc = json.loads(client.get(STAFF_URL + ".json").get_data(as_text=True))
    with app.test_request_context():
        expected = [(a.key, a.name) for a in platform_records()]
    assert [(r["key"], r["activity"]) for r in rows] == expected == [(a["key"], a["name"]) for a in doc["activities"]]
    assert {r["controller"] for r in rows if r["role"] == "controller"} == {"LeadThe.AI"}
    assert {row["table"] for row in doc["not_personal"]} == {s.table for s in SOURCES if not s.subject}


def test_csv_defuses_formulas_in_the_company_name(app, client, auth, companies):
    a = companies[0]
    with app.app_context():
        db.session.execute(sa.text("UPDATE organization SET name = :n WHERE id = :id"),
                           {"n": "=HYPERLINK(\"http://x\")", "id": a.org.id})
        db.session.commit()
    _login(client, auth, a.admin)
    rows = _csv_rows(client.get(ADMIN_URL + ".csv"))
    assert {r["controller"] for r in rows} == {"'=HYPERLINK(\"http://x\")"}


def test_security_measures_name_the_encrypted_columns(app, client, auth, companies):
    _login(client, auth, companies[0].admin)
    body = _text(client.get(ADMIN_URL))
    for table, column in registry.sensitive_columns():
        assert f"{table}.{column}" in body
    assert "bcrypt" in body and "secure_delete" in body


def test_german_page_is_in_german(app, client, auth, companies):
    a = companies[0]
    with app.app_context():
        db.session.execute(sa.text("UPDATE user_account SET locale = 'de' WHERE id = :id"), {"id": a.admin.id})
        db.session.commit()
    _login(client, auth, a.admin)
    body = _text(client.get(ADMIN_URL, headers={"Accept-Language": "de-DE,de;q=0.9"}))
    assert 'lang="de"' in body
    with app.test_request_context(), force_locale("de"):
        source = registry.BY_TABLE["user_account"]
        german = [str(source.label), str(LEGAL_BASES[source.basis]), str(RETENTION_RULES[source.retention])]
    with app.test_request_context(), force_locale("en"):
        english = str(LEGAL_BASES[source.basis])
    assert german[1] != english
    for text in german:
        assert text in body, text
    assert english not in body
    # the column purposes are English in the registry: the page says so to screen readers
    assert '<span lang="en">' in body
