"""Who looked at my data (issue 21): a view of a person's individual data by someone else (their manager, an
admin, staff under a break-glass grant, an evidence pack, a people report) appears in that person's access log at
/privacy/access-log; their own visits do not; nobody else sees it; it is kept a year, exported, and keeps the
viewer's role when the viewer is erased."""
from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AccessLogEntry, DataExport, User, utcnow
from leadthe.worker import run_once
from tests.conftest import PASSWORD, login_with_code, make_staff, post_form
from tests.helpers import login, plant_literacy_programme, signed_in

LOG = "/privacy/access-log"


def log_of(app, person) -> list[tuple]:
    with app.app_context():
        return db.session.execute(sa.select(AccessLogEntry.viewer_id, AccessLogEntry.viewer_role, AccessLogEntry.what)
                                  .where(AccessLogEntry.subject_id == person.id).order_by(AccessLogEntry.id)).all()


def rows_on_page(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_a_managers_view_of_a_persons_page_appears_in_their_access_log(app, companies):
    a, _b = companies
    manager = signed_in(app, a.manager)
    assert manager.get(f"/admin/users/{a.learner.id}").status_code == 200
    assert log_of(app, a.learner) == [(a.manager.id, "manager", "person_page")]
    page = signed_in(app, a.learner).get(LOG)
    assert page.status_code == 200
    rows = rows_on_page(page.get_data(as_text=True))
    assert len(rows) == 1 and "Manager A (manager)" in rows[0] and "your profile page" in rows[0]


def test_an_admins_view_appears_and_the_persons_own_view_does_not(app, companies):
    a, _b = companies
    assert signed_in(app, a.admin).get(f"/admin/users/{a.manager.id}").status_code == 200
    # a manager opening their own page is not someone else looking
    assert signed_in(app, a.manager).get(f"/admin/users/{a.manager.id}").status_code == 200
    assert log_of(app, a.manager) == [(a.admin.id, "admin", "person_page")]
    assert "Admin A (admin)" in signed_in(app, a.manager).get(LOG).get_data(as_text=True)


def test_in_works_council_mode_the_person_page_holds_no_learning_data_and_records_nothing(app, companies):
    from leadthe.models import Organization

    a, _b = companies
    with app.app_context():
        db.session.get(Organization, a.org.id).works_council_mode = True
        db.session.commit()
    assert signed_in(app, a.admin).get(f"/admin/users/{a.learner.id}").status_code == 200
    assert log_of(app, a.learner) == []


def test_a_page_the_viewer_may_not_see_records_nothing(app, companies):
    a, b = companies
    assert signed_in(app, b.admin).get(f"/admin/users/{a.learner.id}").status_code == 404
    assert signed_in(app, a.learner).get(f"/admin/users/{a.manager.id}").status_code in (403, 404)
    assert log_of(app, a.learner) == [] and log_of(app, a.manager) == []


def test_staff_with_a_break_glass_grant_appear_as_support_without_their_name(app, companies):
    a, _b = companies
    staff = make_staff(app, "staff", email="support@leadthe.example", name="Sam Support")
    client = app.test_client()
    assert login_with_code(client, app, staff).status_code == 303
    assert client.get(f"/staff/users/{a.learner.id}").status_code == 200
    assert log_of(app, a.learner) == []  # no grant yet: the page shows nothing of the person's data
    response = post_form(client, f"/staff/users/{a.learner.id}/access",
                         {"reason": "Support ticket about a certificate", "reference": "#42"},
                         page=f"/staff/users/{a.learner.id}")
    assert response.status_code == 303
    assert client.get(f"/staff/users/{a.learner.id}").status_code == 200
    assert log_of(app, a.learner) == [(staff.id, "staff", "staff_person_page")]
    html = signed_in(app, a.learner).get(LOG).get_data(as_text=True)
    assert "LeadThe.AI support (with your permission)" in html and "Sam Support" not in html


def test_the_evidence_pack_records_one_entry_per_person_in_it(app, companies, tmp_path, monkeypatch):
    a, b = companies
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        plant_literacy_programme(a.org.id, [a.learner.id, a.manager.id], a.admin.id)
        db.session.commit()
    admin = signed_in(app, a.admin)
    page = "/admin/literacy/evidence"
    assert post_form(admin, page, {"password": PASSWORD}, page=page).status_code == 303
    with app.app_context():
        run_once()
        entries = db.session.execute(sa.select(AccessLogEntry.subject_id, AccessLogEntry.viewer_id, AccessLogEntry.what)
                                     .where(AccessLogEntry.what == "evidence_pack")).all()
    # the learner and the manager are in people.csv; the admin who made it is not someone else; nobody of B
    assert sorted(entries) == sorted([(a.learner.id, a.admin.id, "evidence_pack"), (a.manager.id, a.admin.id, "evidence_pack")])
    html = signed_in(app, a.learner).get(LOG).get_data(as_text=True)
    assert "An AI-literacy evidence pack of your company, made by Admin A" in html
    assert log_of(app, b.learner) == []


def test_the_people_report_records_everyone_in_it_in_one_statement(app, companies):
    a, _b = companies
    response = signed_in(app, a.manager).get("/admin/reports.csv?report=people")
    assert response.status_code == 200 and "learner@a.example" in response.get_data(as_text=True)
    assert log_of(app, a.learner) == [(a.manager.id, "manager", "people_csv")]
    assert log_of(app, a.manager) == [] and log_of(app, a.admin) == []  # the manager's own row; outside their team


def test_another_person_never_sees_someones_log(app, companies):
    a, b = companies
    signed_in(app, a.admin).get(f"/admin/users/{a.learner.id}")
    for other in (a.manager, b.learner, b.admin):
        html = signed_in(app, other).get(LOG).get_data(as_text=True)
        assert "Admin A" not in html and rows_on_page(html) == []
        assert "Nobody else has looked at your data" in html


def test_newest_first_paginated_and_a_fragment_under_htmx(app, companies):
    a, _b = companies
    now = utcnow()
    with app.app_context():
        db.session.add_all([AccessLogEntry(org_id=a.org.id, subject_id=a.learner.id, viewer_id=a.admin.id, viewer_role="admin",
                                           what="person_page", ref="/admin/users/x", created_at=now - timedelta(minutes=i))
                            for i in range(30)])
        db.session.commit()
    client = signed_in(app, a.learner)
    first = client.get(LOG).get_data(as_text=True)
    assert len(rows_on_page(first)) == 25 and 'href="/privacy/access-log?page=2"' in first
    second = client.get(LOG + "?page=2", headers={"HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in html and len(rows_on_page(html)) == 5
    assert 'rel="prev"' in html


def test_retention_deletes_entries_after_a_year(app, companies):
    from leadthe.privacy.retention import apply_retention

    a, _b = companies
    now = utcnow()
    with app.app_context():
        for days in (366, 300):
            db.session.add(AccessLogEntry(org_id=a.org.id, subject_id=a.learner.id, viewer_id=a.admin.id, viewer_role="admin",
                                          what="person_page", ref="", created_at=now - timedelta(days=days)))
        db.session.commit()
        assert apply_retention(now)["access_1y"] == 1
        left = db.session.scalars(sa.select(AccessLogEntry.created_at)).all()
    assert len(left) == 1


def test_the_export_contains_the_access_log(app, companies, tmp_path, monkeypatch):
    from leadthe.privacy.export import file_path, start_export

    a, _b = companies
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "exports"))
    signed_in(app, a.manager).get(f"/admin/users/{a.learner.id}")
    with app.app_context():
        export_id = start_export(db.session.get(User, a.learner.id)).id
        db.session.commit()
        run_once()
        path = file_path(db.session.get(DataExport, export_id))
    with zipfile.ZipFile(path) as zf:
        data = json.loads(zf.read("export.json"))
    rows = data["categories"]["device"]["access_log_entry"]
    assert [(r["viewer_role"], r["what"]) for r in rows] == [("manager", "person_page")]


def test_erasing_the_viewer_keeps_the_entry_with_the_role_only_and_erasing_the_subject_removes_it(app, companies):
    from leadthe.privacy.erasure import request_erasure, run_erasure

    a, _b = companies
    signed_in(app, a.manager).get(f"/admin/users/{a.learner.id}")
    signed_in(app, a.learner).get(f"/admin/users/{a.learner.id}")  # nothing: not theirs to see, nor someone else
    signed_in(app, a.admin).get(f"/admin/users/{a.manager.id}")
    with app.app_context():
        run_erasure(request_erasure(db.session.get(User, a.manager.id), grace_period=False))
        db.session.commit()
    assert log_of(app, a.learner) == [(None, "manager", "person_page")]
    html = signed_in(app, a.learner).get(LOG).get_data(as_text=True)
    assert "A manager of your team" in html and "Manager A" not in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)
                                 .where(AccessLogEntry.subject_id == a.manager.id)) == 0


def test_the_privacy_centre_links_to_the_log_and_signed_out_visitors_are_sent_to_log_in(app, companies, client):
    a, _b = companies
    assert client.get(LOG).status_code in (302, 303)
    login(client, a.learner)
    assert 'href="/privacy/access-log"' in client.get("/privacy").get_data(as_text=True)
