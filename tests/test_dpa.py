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
from leadthe.models.enums import OrgStatus
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
    return accept_current(app, company, legal_name)


def accept_current(app, company, legal_name="Company A GmbH"):
    """The company's admin accepts the current version (version 1 until a test publishes another)."""
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


def staff_row(html: str, company: str) -> str | None:
    found = re.search(rf"<tr>\s*<th[^>]*>{re.escape(company)}</th>.*?</tr>", html, re.S)
    return found.group(0) if found else None


def kpi(html: str, label: str) -> int:
    return int(re.search(rf"<dt>{re.escape(label)}</dt><dd>(\d+)</dd>", html).group(1))


@pytest.fixture
def staff_dpa_client(app):
    staff = make_staff(app, email="dpa-staff@leadthe.example", name="Dora Staff")
    client = app.test_client()
    assert login_with_code(client, app, staff).status_code == 303
    client.staff = staff
    return client


def test_staff_filter_companies_by_acceptance_and_name_with_counts_at_the_top(app, companies, staff_dpa_client):
    a, b = companies
    accept_v1(app, a)
    accept_v1(app, b, legal_name="Company B AG")
    publish_v2(app)
    accept_current(app, a, legal_name="Company A Now GmbH")  # A: version 2; B: version 1 only
    with app.app_context():
        db.session.add_all([Organization(name="Delta Works"), Organization(name="Omega Closed", status=OrgStatus.CLOSED)])
        db.session.commit()
    client = staff_dpa_client
    html = client.get("/staff/dpa").get_data(as_text=True)
    assert (kpi(html, "Accepted the current version"), kpi(html, "Accepted an older version only"),
            kpi(html, "Not accepted yet")) == (1, 1, 1)  # the closed company is left out
    assert "3 companies" in html and staff_row(html, "Omega Closed") is None
    assert "Company A Now GmbH" in staff_row(html, "Company A") and "not the current one" not in staff_row(html, "Company A")
    assert "not the current one" in staff_row(html, "Company B") and "none yet" in staff_row(html, "Delta Works")
    for state, shown in (("current", "Company A"), ("outdated", "Company B"), ("none", "Delta Works")):
        found = client.get(f"/staff/dpa?state={state}").get_data(as_text=True)
        assert "1 company" in found and staff_row(found, shown), state
        assert [c for c in ("Company A", "Company B", "Delta Works") if c != shown and staff_row(found, c)] == [], state
        assert f'<option value="{state}" selected>' in found
        assert kpi(found, "Not accepted yet") == 1  # the counts stay those of every company
    by_name = client.get("/staff/dpa?q=++DELTA+wo++").get_data(as_text=True)
    assert "1 company" in by_name and staff_row(by_name, "Delta Works") and 'value="DELTA wo"' in by_name
    both = client.get("/staff/dpa?q=company&state=outdated").get_data(as_text=True)
    assert staff_row(both, "Company B") and not staff_row(both, "Company A")
    assert "3 companies" in client.get("/staff/dpa?state=bogus").get_data(as_text=True)  # an unknown state: all
    assert f'value="{"x" * 100}"' in client.get("/staff/dpa?q=" + "x" * 150).get_data(as_text=True)  # at most 100
    for nothing in ("/staff/dpa?q=company&state=none", "/staff/dpa?q=%25", "/staff/dpa?q=_"):
        empty = client.get(nothing).get_data(as_text=True)
        assert "No company matches these filters." in empty and 'href="/staff/dpa">Show every company' in empty, nothing


def test_staff_see_fifty_companies_a_page_in_a_fixed_number_of_queries(app, companies, staff_dpa_client):
    a, _ = companies
    accept_v1(app, a)
    with app.app_context():
        db.session.add_all(Organization(name=f"Zeta {n:02d}") for n in range(55))
        db.session.commit()
    client = staff_dpa_client
    first = client.get("/staff/dpa").get_data(as_text=True)
    assert "57 companies" in first and "Page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert first.count('<th scope="row"') == 50
    assert staff_row(first, "Company A") and staff_row(first, "Zeta 47") and not staff_row(first, "Zeta 48")  # A, B, Zeta 00-47
    second = client.get("/staff/dpa?page=2").get_data(as_text=True)
    assert second.count('<th scope="row"') == 7 and staff_row(second, "Zeta 54") and not staff_row(second, "Company A")
    assert 'rel="prev"' in second and 'rel="next"' not in second and "Page 2 of 2" in second
    assert 'href="/staff/dpa?page=2&amp;q=zeta&amp;state=none"' in client.get("/staff/dpa?q=zeta&state=none").get_data(as_text=True)
    # the statements do not grow with the companies on the page
    assert count_statements(app, client, "/staff/dpa?q=company") == count_statements(app, client, "/staff/dpa")


def test_staff_download_any_companys_acceptance_pdf_and_it_is_audited(app, companies, staff_dpa_client):
    a, b = companies
    record_id = accept_v1(app, a, legal_name="Company A Software GmbH")
    client = staff_dpa_client
    html = client.get("/staff/dpa").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" download>PDF<span class="visually-hidden"> ([^<]+)</span></a>',
                     staff_row(html, "Company A"))
    assert link and link.groups() == (f"/staff/dpa/acceptances/{record_id}.pdf", "of the acceptance of version 1 by Company A")
    assert "<a " not in staff_row(html, "Company B")  # nothing to download
    response = client.get(f"/staff/dpa/acceptances/{record_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert re.fullmatch(r'attachment; filename="leadthe-dpa-v1-acceptance-\d{4}-\d{2}-\d{2}\.pdf"',
                        response.headers["Content-Disposition"])
    assert "no-store" in response.headers["Cache-Control"]  # never kept by a browser or a proxy
    admins = signed_in(app, a.admin).get(f"/admin/dpa/acceptances/{record_id}.pdf")
    for header in ("Content-Disposition", "Cache-Control"):  # the same file as the company's admin downloads
        assert response.headers[header] == admins.headers[header], header
    assert "Company A Software GmbH" in pdf_text(response.data) and "Admin A" in pdf_text(response.data)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "dpa.staff_downloaded")).all()
        assert [(e.org_id, e.actor_id, e.details["acceptance_id"], e.details["version"]) for e in events] == [
            (a.org.id, client.staff.id, record_id, 1)]
    assert client.get(f"/staff/dpa/acceptances/{record_id + 1000}.pdf").status_code == 404
    assert client.get("/staff/dpa/acceptances/99999999999.pdf").status_code == 404
    # the company's own admin has the admin's link; the staff one is 404 for everyone else, as the staff area is
    assert signed_in(app, a.admin).get(f"/staff/dpa/acceptances/{record_id}.pdf").status_code == 404
    assert signed_in(app, b.admin).get(f"/staff/dpa/acceptances/{record_id}.pdf").status_code == 404
    assert app.test_client().get(f"/staff/dpa/acceptances/{record_id}.pdf").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "dpa.staff_downloaded")) == 1


def test_the_staff_filter_under_htmx_answers_the_results_only(app, companies, staff_dpa_client):
    a, _ = companies
    accept_v1(app, a)
    fragment = staff_dpa_client.get("/staff/dpa?state=none", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "Publish a new version" not in html
    assert "1 company" in html and staff_row(html, "Company B") and not staff_row(html, "Company A")
    page = staff_dpa_client.get("/staff/dpa?state=none").get_data(as_text=True)
    assert "<html" in page and 'id="dpa-results"' in page and 'data-hx-target="#dpa-results"' in page


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
