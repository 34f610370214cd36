"""Sub-processors (issue 21): the list is versioned; staff announce a change at least 30 days ahead, every company's
admins get a notice on their pages and a mail (learners do not), one company objects (the objection lands in the staff
queue with its deadline, another company cannot open it, objecting after the date is refused), and the change takes
effect on its date: in ``current()``, on the public page and in the records of processing."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.subprocessors import SubprocessorObjection, SubprocessorVersion
from leadthe.trust import subprocessors as sp
from leadthe.worker import run_due_jobs
from tests.conftest import audit_actions, csrf_from, login_with_code, make_staff, outbox
from tests.helpers import signed_in

NEW = {"key": "acme-analytics", "name": "Acme Analytics GmbH", "purpose": "Hosts the search index of the courses.",
       "categories": "Search terms and course titles.", "location": "Germany", "in_eea": "y",
       "safeguard": "None needed: the data stays in the EU/EEA.", "since": "2027-02-01", "tables": "search_query enrollment"}


def staff_client(app):
    client = app.test_client()
    assert login_with_code(client, app, make_staff(app)).status_code == 303
    return client


def form_of(app, entries, *, summary="We add Acme Analytics for the course search.", days=31, action="preview") -> dict:
    """The staff form's fields: the entries (dicts of EntryForm fields), the summary, the date and the button."""
    data = {"summary": summary, "effective": (utcnow() + timedelta(days=days)).date().isoformat(), "action": action}
    for i, entry in enumerate(entries):
        for name, value in entry.items():
            if name == "in_eea" and not value:
                continue
            data[f"entries-{i}-{name}"] = value
    return data


def bundled_entries(app) -> list[dict]:
    with app.test_request_context():
        version = sp.latest_version()
        return [{"key": e.key, "name": e.name, "purpose": e.purpose, "categories": e.data, "location": e.location,
                 "in_eea": "y" if e.in_eea else "", "safeguard": e.safeguard, "since": e.since.isoformat(),
                 "tables": e.tables} for e in version.entries]


def post_staff(client, data):
    token = csrf_from(client.get("/staff/subprocessors/new").get_data(as_text=True))
    return client.post("/staff/subprocessors/new", data={"csrf_token": token, **data})


def post_with_token(client, url, data, page=None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def versions(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(SubprocessorVersion.version).order_by(SubprocessorVersion.version)))


def in_effect_part(html: str) -> str:
    """The public page's list in effect (after its heading; announced changes come before it)."""
    return html.split("In effect today", 1)[1].split("All versions", 1)[0]


def test_version_one_is_the_bundled_list_on_a_public_page(app, client):
    page = client.get("/legal/subprocessors")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("Cloud hosting provider", "E-mail delivery service", "Stripe"):
        assert name in in_effect_part(html)
    assert "EU Standard Contractual Clauses" in html and "Version 1" in html
    with app.test_request_context():
        assert [s.key for s in sp.current()] == ["hosting", "email", "stripe"]
    # reachable from every page's footer, and version 1 has its own page
    assert 'href="/legal/subprocessors"' in client.get("/privacy/policy").get_data(as_text=True)
    assert client.get("/legal/subprocessors/1").status_code == 200
    assert client.get("/legal/subprocessors/9").status_code == 404
    assert versions(app) == [1]  # created once


def test_publishing_with_less_than_30_days_notice_is_refused_beside_the_date(app):
    client = staff_client(app)
    page = client.get("/staff/subprocessors/new").get_data(as_text=True)
    assert 'value="hosting"' in page and 'value="stripe"' in page  # it starts from the current list
    response = post_staff(client, form_of(app, [*bundled_entries(app), NEW], days=10, action="publish"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split('id="effective-error"', 1)[1].split("</p>", 1)[0]
    assert "at least 30 days" in error
    assert 'value="acme-analytics"' in html  # nothing typed is lost
    # and a summary is required, beside its field
    response = post_staff(client, form_of(app, [*bundled_entries(app), NEW], summary="", action="publish"))
    assert response.status_code == 422 and 'id="summary-error"' in response.get_data(as_text=True)
    # the same list again is no change
    response = post_staff(client, form_of(app, bundled_entries(app), action="publish"))
    assert response.status_code == 422 and "Nothing changes compared with version 1" in response.get_data(as_text=True)
    assert versions(app) == [1]


def publish_change(app, staff):
    """Staff preview, then publish: Acme Analytics added, Stripe removed, 31 days ahead."""
    entries = [e for e in bundled_entries(app) if e["key"] != "stripe"] + [NEW]
    preview = post_staff(staff, form_of(app, entries, action="preview"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Preview: what changes compared with version 1" in html
    assert "Acme Analytics GmbH" in html.split('id="preview"', 1)[1] and ">removed<" in html
    assert versions(app) == [1]  # a preview publishes nothing
    response = post_staff(staff, form_of(app, entries, action="publish"))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert versions(app) == [1, 2]
    assert "subprocessors.published" in audit_actions(app)


def test_a_change_is_announced_objected_to_and_takes_effect_on_its_date(app, companies):
    a, b = companies
    staff = staff_client(app)
    publish_change(app, staff)

    # announced: every company's admins get one mail each, nobody else
    with app.app_context():
        run_due_jobs()
        db.session.commit()
    mails = outbox(app, kind="subprocessors")
    assert sorted(m.to_addr for m in mails) == ["admin@a.example", "admin@b.example"]
    assert all("/admin/subprocessors" in m.body_text and "/legal/subprocessors" in m.body_text for m in mails)

    # ... and a notice on their pages, which learners and managers do not see
    admin_a, admin_b = signed_in(app, a.admin), signed_in(app, b.admin)
    assert "Our sub-processors change on" in admin_a.get("/dashboard").get_data(as_text=True)
    for person in (a.learner, a.manager):
        assert "Our sub-processors change on" not in signed_in(app, person).get("/dashboard").get_data(as_text=True)

    # before the date, the list in effect is unchanged everywhere; the change is shown as announced
    public = app.test_client().get("/legal/subprocessors").get_data(as_text=True)
    assert "Announced change: version 2" in public and "Acme Analytics GmbH" in public
    assert "Acme Analytics GmbH" not in in_effect_part(public) and "Stripe" in in_effect_part(public)
    with app.test_request_context():
        assert "acme-analytics" not in {s.key for s in sp.current()}
    records = admin_a.get("/admin/records-of-processing").get_data(as_text=True)
    assert "Acme Analytics GmbH" not in records and "Stripe" in staff.get("/staff/records-of-processing").get_data(as_text=True)
    assert 'href="/legal/subprocessors"' in records

    # company A objects: the reason is required, then the objection is received, once
    assert "Object to this change" in admin_a.get("/admin/subprocessors").get_data(as_text=True)
    assert post_with_token(admin_a, "/admin/subprocessors/2/object", {"reason": ""}).status_code == 422
    response = post_with_token(admin_a, "/admin/subprocessors/2/object",
                               {"reason": "Our works council has not agreed to a new processor."})
    assert response.status_code == 303
    receipt_url = response.headers["Location"]
    receipt = admin_a.get(receipt_url).get_data(as_text=True)
    assert "We received your company" in receipt and "works council has not agreed" in receipt
    again = admin_a.get("/admin/subprocessors/2/object")
    assert again.status_code == 303 and again.headers["Location"] == receipt_url  # one objection per company
    assert "subprocessors.objected" in audit_actions(app)
    with app.app_context():
        objection = db.session.scalar(sa.select(SubprocessorObjection))
        deadline = db.session.scalar(sa.select(SubprocessorVersion).where(SubprocessorVersion.version == 2)).effective_at
    # company B cannot see it
    assert admin_b.get(f"/admin/subprocessors/objections/{objection.id}").status_code == 404
    assert audit_actions(app).count("tenancy.cross_company_miss") == 1  # noted: a sign of probing when it repeats
    assert "Company A" not in admin_b.get("/admin/subprocessors").get_data(as_text=True)

    # the staff queue lists it with its company, version, who, reason, when and the deadline
    queue = staff.get("/staff/subprocessors/objections").get_data(as_text=True)
    with app.test_request_context():
        from leadthe.i18n import format_day

        deadline_words = format_day(deadline)
    row = queue.split("<tbody>", 1)[1]
    for words in ("Company A", "Admin A", "works council has not agreed", deadline_words, ">open<"):
        assert words in row, words
    answered = post_with_token(staff, f"/staff/subprocessors/objections/{objection.id}",
                               {"note": "Acme Analytics signed our standard terms; we sent you its contract."})
    assert answered.status_code == 303
    assert "we sent you its contract" in admin_a.get(receipt_url).get_data(as_text=True)
    assert "subprocessors.objection_answered" in audit_actions(app)

    # the date comes (the version's date moved into the past): the new list is in effect everywhere
    with app.app_context():
        db.session.execute(sa.update(SubprocessorVersion).where(SubprocessorVersion.version == 2)
                           .values(effective_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    with app.test_request_context():
        assert [s.key for s in sp.current()] == ["hosting", "email", "acme-analytics"]
    public = app.test_client().get("/legal/subprocessors").get_data(as_text=True)
    assert "Acme Analytics GmbH" in in_effect_part(public) and "Stripe" not in in_effect_part(public)
    assert "Announced change" not in public
    assert "Acme Analytics GmbH" in admin_a.get("/admin/records-of-processing").get_data(as_text=True)
    assert "Stripe" not in staff.get("/staff/records-of-processing").get_data(as_text=True)
    assert "Our sub-processors change on" not in admin_b.get("/dashboard").get_data(as_text=True)

    # objecting after the date: no button, and a POST is refused with a clear message, writing nothing
    page = admin_b.get("/admin/subprocessors/2/object").get_data(as_text=True)
    assert "Send the objection" not in page and "the time to object has ended" in page
    late = post_with_token(admin_b, "/admin/subprocessors/2/object", {"reason": "Too late?"},
                           page="/admin/subprocessors")
    assert late.status_code == 409 and "the time to object has ended" in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubprocessorObjection)) == 1


def test_overdue_objections_come_first_in_the_queue(app, companies):
    a, b = companies
    now = utcnow()
    with app.app_context():
        sp.ensure_initial_version()
        later = SubprocessorVersion(version=2, effective_at=now + timedelta(days=40), summary="Later change")
        past = SubprocessorVersion(version=3, effective_at=now + timedelta(days=50), summary="Another change")
        db.session.add_all([later, past])
        db.session.flush()
        db.session.add_all([SubprocessorObjection(org_id=a.org.id, version_id=later.id, objected_by_id=a.admin.id, reason="first"),
                            SubprocessorObjection(org_id=b.org.id, version_id=past.id, objected_by_id=b.admin.id, reason="overdue one")])
        past.effective_at = now - timedelta(days=1)  # its deadline has passed without an answer
        db.session.commit()
    queue = staff_client(app).get("/staff/subprocessors/objections").get_data(as_text=True)
    body = queue.split("<tbody>", 1)[1]
    assert body.index("overdue one") < body.index("first")
    assert ">overdue<" in body


def test_the_objecting_admins_data_is_exported_and_pseudonymised_on_erasure(app, companies):
    """The objection names its admin: it is in their export's rows and, when they are erased, the company keeps
    its objection without them (the id becomes a keyed pseudonym)."""
    from leadthe.models import User
    from leadthe.privacy.erasure import request_erasure, run_erasure_request
    from leadthe.privacy.export import _rows
    from leadthe.privacy.registry import BY_TABLE
    from leadthe.privacy.services import pseudonym

    a, _b = companies
    with app.app_context():
        sp.ensure_initial_version()
        v = SubprocessorVersion(version=2, effective_at=utcnow() + timedelta(days=40), summary="A change")
        db.session.add(v)
        db.session.flush()
        db.session.add(SubprocessorObjection(org_id=a.org.id, version_id=v.id, objected_by_id=a.admin.id, reason="No."))
        db.session.commit()
        rows = list(_rows(BY_TABLE["subprocessor_objection"], a.admin.id))
        assert [r["reason"] for r in rows] == ["No."]
        req = request_erasure(db.session.get(User, a.admin.id), grace_period=False)
        db.session.commit()
        run_erasure_request(req.id)
        db.session.commit()
        kept = db.session.scalar(sa.select(SubprocessorObjection))
        assert kept.objected_by_id is None and kept.subject_ref == pseudonym(a.admin.id)
        assert kept.org_id == a.org.id and kept.reason == "No."
