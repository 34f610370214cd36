"""The data processing agreement (issue 21): accepted on sign-up, and by an admin before the admin pages after a new
version; the acceptance record as a PDF with both parties; staff see acceptance per company and publish versions.
The gate (DPA_REQUIRED) is on in these tests only."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, User
from leadthe.models.dpa import DpaAcceptance, DpaVersion
from tests.conftest import csrf_from, login_with_code, make_staff, make_user, post_form
from tests.helpers import SIGNUP, count_statements, signed_in

# one page of each admin area (blueprint): each sends an admin who has not accepted the current version to /admin/dpa
ADMIN_AREAS = {"admin": "/admin", "admin_settings": "/admin/settings", "admin_authoring": "/admin/courses",
               "literacy_admin": "/admin/literacy", "lab_admin": "/admin/ai-lab", "sso_admin": "/admin/sso",
               "trust_admin": "/admin/records-of-processing"}


@pytest.fixture
def dpa_on(app):
    app.config["DPA_REQUIRED"] = True
    yield app
    app.config["DPA_REQUIRED"] = False


def accept_v1(app, company, legal_name="Company A GmbH"):
    from leadthe.trust import dpa

    with app.test_request_context():
        admin = db.session.get(User, company.admin.id)
        record = dpa.accept(admin, dpa.current_version(), legal_name=legal_name, address="Hauptstraße 5\n10115 Berlin")
        db.session.commit()
        return record.id


def publish_v2(app) -> None:
    staff = make_staff(app)
    client = app.test_client()
    login_with_code(client, app, staff)
    response = post_form(client, "/staff/dpa", {"summary": "Clearer audit clause.", "body_en": "## 12. Audits\n\nNew audit text.",
                                                "body_de": "## 12. Kontrollen\n\nNeuer Text.", "confirm": "y"})
    assert response.status_code == 303


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_after_a_new_version_an_admin_accepts_it_before_every_admin_area(dpa_on, companies):
    app = dpa_on
    a, _ = companies
    accept_v1(app, a)
    admin = signed_in(app, a.admin)
    for url in ADMIN_AREAS.values():
        assert admin.get(url).status_code == 200, url
    publish_v2(app)
    for area, url in ADMIN_AREAS.items():
        response = admin.get(url)
        assert response.status_code == 302, area
        assert response.headers["Location"].startswith("/admin/dpa?next="), area
    # a change is refused the same way, and changes nothing
    refused = post_form(admin, "/admin/settings", {"require_2fa": "y"}, page="/admin/billing")
    assert refused.status_code == 303 and refused.headers["Location"] == "/admin/dpa"
    with app.app_context():
        assert not db.session.get(Organization, a.org.id).require_2fa
    # not trapped: the billing page, the DPA page and signing out stay open
    assert admin.get("/admin/billing").status_code == 200
    page = admin.get("/admin/dpa?next=/admin/sso").get_data(as_text=True)
    assert "Accept for your company" in page and "New audit text." in page
    assert 'value="Company A GmbH"' in page  # the last acceptance's legal name is offered
    # without the confirmation: the error beside the box, nothing recorded
    missing = post_form(admin, "/admin/dpa?next=/admin/sso", {"legal_name": "Company A GmbH"}, page="/admin/dpa")
    assert missing.status_code == 422
    assert re.search(r'id="confirm-error">Tick the box', missing.get_data(as_text=True))
    done = post_form(admin, "/admin/dpa?next=/admin/sso", {"legal_name": "Company A GmbH", "address": "Hauptstraße 5",
                                                          "confirm": "y"}, page="/admin/dpa")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/sso"
    for url in ADMIN_AREAS.values():
        assert admin.get(url).status_code == 200, url
    with app.app_context():
        versions = db.session.scalars(sa.select(DpaVersion.version).join(
            DpaAcceptance, DpaAcceptance.version_id == DpaVersion.id).where(DpaAcceptance.org_id == a.org.id)).all()
        assert sorted(versions) == [1, 2]
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"dpa.published", "dpa.accepted"} <= actions


def test_an_unsafe_next_goes_to_the_dpa_page(dpa_on, companies):
    a, _ = companies
    admin = signed_in(dpa_on, a.admin)
    done = post_form(admin, "/admin/dpa?next=//evil.example/x", {"legal_name": "A Ltd", "confirm": "y"}, page="/admin/dpa")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/dpa"


def test_a_manager_is_not_blocked_and_cannot_accept(dpa_on, companies):
    a, _ = companies
    manager = signed_in(dpa_on, a.manager)
    assert manager.get("/admin/users").status_code == 200
    assert manager.get("/admin").status_code == 200
    assert manager.get("/admin/dpa").status_code == 403


def test_the_check_costs_one_query_per_admin_page(dpa_on, companies):
    app = dpa_on
    a, _ = companies
    accept_v1(app, a)
    admin = signed_in(app, a.admin)
    with_gate = count_statements(app, admin, "/admin/sso")
    app.config["DPA_REQUIRED"] = False
    without = count_statements(app, admin, "/admin/sso")
    assert with_gate - without == 1


def signup_form(client) -> dict:
    html = client.get("/signup").get_data(as_text=True)
    version = re.search(r'name="dpa_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="dpa_version"', html)
    assert version and 'href="/legal/dpa"' in html
    return {"csrf_token": csrf_from(html), "dpa_version": version.group(1) or version.group(2)}


def test_sign_up_without_the_box_creates_nothing_and_with_it_records_the_acceptance(dpa_on):
    app = dpa_on
    client = app.test_client()
    refused = client.post("/signup", data={**signup_form(client), **SIGNUP})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    field = re.search(r'<div class="field check invalid">\s*<input[^>]*name="accept_dpa".*?</div>', html, re.S)
    assert field and "Please read and accept the data processing agreement" in field.group(0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
    accepted = client.post("/signup", data={**signup_form(client), **SIGNUP, "accept_dpa": "y"})
    assert accepted.status_code == 303
    with app.app_context():
        record = db.session.scalar(sa.select(DpaAcceptance))
        user = db.session.scalar(sa.select(User))
        assert (record.org_id, record.accepted_by_id, record.via) == (user.org_id, user.id, "signup")
        assert record.legal_name == "Example Ltd"  # defaults to the company's name
        assert (record.accepted_by_name, record.accepted_by_email, record.accepted_by_role) == (
            "Ann Example", "ann.example@example.com", "admin")
        assert db.session.get(DpaVersion, record.version_id).version == 1
    assert client.get("/admin").status_code == 200  # accepted: no gate


def test_sign_up_with_a_legal_name(dpa_on):
    client = dpa_on.test_client()
    response = client.post("/signup", data={**signup_form(client), **SIGNUP, "legal_name": "Example Holding Ltd",
                                            "accept_dpa": "y"})
    assert response.status_code == 303
    with dpa_on.app_context():
        assert db.session.scalar(sa.select(DpaAcceptance.legal_name)) == "Example Holding Ltd"


def test_a_sign_up_with_only_the_contracts_fields_is_asked_on_the_admin_pages(dpa_on):
    client = dpa_on.test_client()
    response = post_form(client, "/signup", SIGNUP)  # the fields CONTRACT.md lists, without the page's version
    assert response.status_code == 303
    with dpa_on.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DpaAcceptance)) == 0
    assert client.get("/admin/users").headers["Location"].startswith("/admin/dpa")


def test_the_acceptance_pdf_names_both_parties(app, companies):
    a, _ = companies
    record_id = accept_v1(app, a, legal_name="Company A Software GmbH")
    admin = signed_in(app, a.admin)
    page = admin.get("/admin/dpa").get_data(as_text=True)
    assert f"/admin/dpa/acceptances/{record_id}.pdf" in page and "Company A Software GmbH" in page
    response = admin.get(f"/admin/dpa/acceptances/{record_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    for expected in ("LeadThe.AI GmbH", "Torstraße 1", "10119 Berlin", "Company A Software GmbH", "Hauptstraße 5",
                     "10115 Berlin", "Admin A", "admin@a.example", "Version 1", "Sub-processors", "UTC"):
        assert expected in text, expected


def test_another_companys_acceptance_is_a_404(app, companies):
    a, b = companies
    accept_v1(app, a)
    other = accept_v1(app, b, legal_name="Company B AG")
    admin = signed_in(app, a.admin)
    assert admin.get(f"/admin/dpa/acceptances/{other}.pdf").status_code == 404
    assert "Company B AG" not in admin.get("/admin/dpa").get_data(as_text=True)


def test_staff_see_acceptance_per_company_and_a_publication_needs_its_confirmation(app, companies):
    a, b = companies
    accept_v1(app, a, legal_name="Company A Legal GmbH")
    staff = make_staff(app)
    client = app.test_client()
    login_with_code(client, app, staff)
    html = client.get("/staff/dpa").get_data(as_text=True)
    row_a = re.search(r"<tr>\s*<th[^>]*>Company A</th>.*?</tr>", html, re.S).group(0)
    assert "Company A Legal GmbH" in row_a and "Admin A" in row_a and "admin@a.example" in row_a
    row_b = re.search(r"<tr>\s*<th[^>]*>Company B</th>.*?</tr>", html, re.S).group(0)
    assert "none yet" in row_b
    unconfirmed = post_form(client, "/staff/dpa", {"summary": "x", "body_en": "## New", "body_de": ""})
    assert unconfirmed.status_code == 422 and "Tick the box to publish." in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(DpaVersion.version))) == 1
    assert post_form(client, "/staff/dpa", {"summary": "x", "body_en": "## New", "confirm": "y"}).status_code == 303
    html = client.get("/staff/dpa").get_data(as_text=True)
    row_a = re.search(r"<tr>\s*<th[^>]*>Company A</th>.*?</tr>", html, re.S).group(0)
    assert "not the current one" in row_a
    # learners and company admins do not reach it
    assert signed_in(app, a.admin).get("/staff/dpa").status_code == 404


def test_the_german_text_says_the_english_one_governs(app):
    german = app.test_client().get("/legal/dpa", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert "Auftragsverarbeitungsvertrag" in german and "Unterauftragsverarbeiter" in german
    english = app.test_client().get("/legal/dpa?lang=en", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    english = english.split('<main id="main"', 1)[1].split("</main>", 1)[0]  # the text (the footer stays German)
    assert "Sub-processors" in english and "Unterauftragsverarbeiter" not in english
    plain = app.test_client().get("/legal/dpa").get_data(as_text=True)
    assert "Sub-processors" in plain and "authoritative" not in plain


def test_erasing_the_accepting_admin_keeps_the_record_with_their_role(app, companies):
    from leadthe.privacy.erasure import _pseudonymise

    a, _ = companies
    record_id = accept_v1(app, a)
    with app.test_request_context():
        _pseudonymise(a.admin.id)
        db.session.commit()
        record = db.session.get(DpaAcceptance, record_id)
        assert (record.accepted_by_name, record.accepted_by_email, record.accepted_by_id) == ("Company admin", None, None)
        assert record.legal_name == "Company A GmbH" and record.subject_ref
    other_admin = make_user(app, a.org, email="second@a.example", role="admin", name="Second Admin")
    text = pdf_text(signed_in(app, other_admin).get(f"/admin/dpa/acceptances/{record_id}.pdf").data)
    assert "Company admin (the name was removed when the account was erased)" in text and "admin@a.example" not in text and "Company A GmbH" in text


def test_seed_demo_accepts_the_current_version(dpa_on):
    from leadthe.demo import DEMO_PASSWORD

    app = dpa_on
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "seed-demo"]).exit_code == 0
    assert runner.invoke(args=["leadthe", "seed-demo"]).exit_code == 0  # idempotent
    with app.app_context():
        records = db.session.scalars(sa.select(DpaAcceptance)).all()
        assert len(records) == 1 and records[0].legal_name == "Acme Europe GmbH" and records[0].via == "seed"
    assert signed_in(app, "admin@acme.example", DEMO_PASSWORD).get("/admin").status_code == 200  # no gate
