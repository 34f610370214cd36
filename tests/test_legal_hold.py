"""Legal holds (issue 21): a hold stops erasure and retention of exactly the held data, and the deletion happens
after the hold ends; staff and the DPO place, change and release holds, each step audited."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, PrivacyRequest, SearchQuery, User, UserSession, utcnow
from leadthe.models.holds import LegalHold
from leadthe.privacy.erasure import run_erasure_request
from leadthe.privacy.retention import apply_retention
from tests.conftest import PASSWORD, audit_actions, login_with_code, make_staff, post_form
from tests.helpers import login

LATER = timedelta(days=8)  # past the 7 days' grace of a self-service deletion


def hold_on(app, *, user=None, org=None, ends_at=None) -> int:
    with app.app_context():
        hold = LegalHold(user_id=getattr(user, "id", None), org_id=getattr(org, "id", None), reason="Claim by a former employee",
                         reference="LG-1", starts_at=utcnow() - timedelta(minutes=1), ends_at=ends_at)
        db.session.add(hold)
        db.session.commit()
        return hold.id


def release(app, hold_id):
    with app.app_context():
        db.session.get(LegalHold, hold_id).released_at = utcnow()
        db.session.commit()


def exists(app, model, row_id) -> bool:
    with app.app_context():
        return db.session.get(model, row_id) is not None


def ask_deletion(app, person):
    client = app.test_client()
    login(client, person.email)
    response = post_form(client, "/privacy/delete", {"password": PASSWORD, "confirm_email": person.email}, page="/privacy")
    assert response.status_code == 303


def retention_cli(app, when) -> str:
    result = app.test_cli_runner().invoke(args=["leadthe", "retention", "--now", when.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_held_persons_deletion_is_recorded_kept_and_carried_out_after_release(app, companies):
    a, b = companies
    hold_id = hold_on(app, user=a.learner)
    ask_deletion(app, a.learner)
    ask_deletion(app, b.learner)  # not held: the same run erases them
    with app.app_context():
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.user_id == a.learner.id))
        assert req.kind == "erasure" and req.status == "scheduled"  # recorded as usual
    output = retention_cli(app, utcnow() + LATER)
    assert re.search(r"scheduled erasures carried out: 1 \(held: 1 ", output), output
    assert exists(app, User, a.learner.id) and not exists(app, User, b.learner.id)
    # the job of the request, run by the worker at its time, does not erase either
    with app.app_context():
        run_erasure_request(req.id)
    assert exists(app, User, a.learner.id)
    release(app, hold_id)
    output = retention_cli(app, utcnow() + LATER)
    assert "scheduled erasures carried out: 1" in output and "held:" not in output
    assert not exists(app, User, a.learner.id)


def test_a_hold_with_an_end_date_stops_holding_when_it_passes(app, companies):
    a, _ = companies
    hold_on(app, user=a.learner, ends_at=utcnow() + timedelta(days=20))
    ask_deletion(app, a.learner)
    retention_cli(app, utcnow() + LATER)
    assert exists(app, User, a.learner.id)
    retention_cli(app, utcnow() + timedelta(days=21))
    assert not exists(app, User, a.learner.id)


def _old_rows(app, people):
    """A session and a stored search for each person, both past their retention."""
    long_ago = utcnow() - timedelta(days=400)
    with app.app_context():
        ids = {}
        for person in people:
            session = UserSession(user_id=person.id, token_hash=f"{person.id:064d}", expires_at=long_ago,
                                  created_at=long_ago, last_seen_at=long_ago)
            search = SearchQuery(user_id=person.id, query="prompting", created_at=long_ago)
            db.session.add_all([session, search])
            db.session.flush()
            ids[person.id] = (session.id, search.id)
        db.session.commit()
        return ids


def test_retention_skips_exactly_the_held_rows_and_deletes_them_after_release(app, companies):
    a, b = companies
    rows = _old_rows(app, [a.learner, a.manager, b.learner])
    hold_id = hold_on(app, user=a.learner)
    held = {}
    with app.app_context():
        results = apply_retention(held=held)
    assert held["session_30d"] == 1 and held["search_90d"] == 1 and results["session_30d"] == 2
    assert exists(app, UserSession, rows[a.learner.id][0]) and exists(app, SearchQuery, rows[a.learner.id][1])
    for other in (a.manager.id, b.learner.id):
        assert not exists(app, UserSession, rows[other][0]) and not exists(app, SearchQuery, rows[other][1])
    release(app, hold_id)
    with app.app_context():
        apply_retention()
    assert not exists(app, UserSession, rows[a.learner.id][0]) and not exists(app, SearchQuery, rows[a.learner.id][1])


def test_a_company_hold_keeps_its_people_and_the_closed_company(app, companies):
    a, b = companies
    rows = _old_rows(app, [a.learner, b.learner])
    with app.app_context():
        for org_id in (a.org.id, b.org.id):
            org = db.session.get(Organization, org_id)
            org.status, org.closed_at = "closed", utcnow()
        old = utcnow() - timedelta(days=800)
        db.session.add_all([AuditEvent(action="login.success", org_id=a.org.id, actor_id=a.learner.id, created_at=old),
                            AuditEvent(action="login.success", org_id=b.org.id, actor_id=b.learner.id, created_at=old)])
        db.session.commit()
    hold_id = hold_on(app, org=a.org)
    output = retention_cli(app, utcnow() + timedelta(days=91))
    assert re.search(r"closed companies erased: 1 \(held: 1 ", output), output
    assert exists(app, Organization, a.org.id) and exists(app, User, a.learner.id)
    assert exists(app, UserSession, rows[a.learner.id][0])
    assert not exists(app, Organization, b.org.id) and not exists(app, User, b.learner.id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "login.success", AuditEvent.org_id == a.org.id)) == 1
    release(app, hold_id)
    retention_cli(app, utcnow() + timedelta(days=91))
    assert not exists(app, Organization, a.org.id) and not exists(app, User, a.learner.id)


def test_a_hold_on_one_person_keeps_their_closed_company_whole(app, companies):
    a, _ = companies
    with app.app_context():
        org = db.session.get(Organization, a.org.id)
        org.status, org.closed_at = "closed", utcnow()
        db.session.commit()
    hold_on(app, user=a.manager)
    retention_cli(app, utcnow() + timedelta(days=91))
    assert exists(app, Organization, a.org.id) and exists(app, User, a.manager.id)


# --- the staff pages -------------------------------------------------------------------------------------------

def staff_client(app, role="dpo"):
    person = make_staff(app, role=role)
    client = app.test_client()
    login_with_code(client, app, person)
    return client


def test_staff_place_change_and_release_a_hold_each_audited(app, companies):
    a, _ = companies
    dpo = staff_client(app)
    response = post_form(dpo, "/staff/legal-holds/new", {"target": "person", "person": a.learner.email.upper(),
                                                         "reason": "Litigation", "reference": "Case 7"})
    assert response.status_code == 303
    hold_url = response.headers["Location"]
    hold_id = int(hold_url.rsplit("/", 1)[1])
    listing = dpo.get("/staff/legal-holds").get_data(as_text=True)
    assert a.learner.email in listing and "Litigation" in listing and "Case 7" in listing
    queue = dpo.get("/staff/privacy-requests").get_data(as_text=True)
    assert "1 legal hold is active" in queue
    end = (utcnow() + timedelta(days=30)).date().isoformat()
    changed = post_form(dpo, hold_url, {"reason": "Litigation", "reference": "Case 7", "ends_on": end,
                                        "change_reason": "Court set a date"})
    assert changed.status_code == 303
    with app.app_context():
        assert db.session.get(LegalHold, hold_id).ends_at.date().isoformat() == end
    page = dpo.get(f"{hold_url}/release")
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    unconfirmed = post_form(dpo, f"{hold_url}/release", {"release_reason": "Settled"})
    assert unconfirmed.status_code == 422 and "Confirm that erasure and retention resume." in unconfirmed.get_data(as_text=True)
    assert post_form(dpo, f"{hold_url}/release", {"release_reason": "Settled", "confirm": "y"}).status_code == 303
    with app.app_context():
        hold = db.session.get(LegalHold, hold_id)
        assert hold.released_at is not None and hold.release_reason == "Settled"
    actions = audit_actions(app)
    assert {"legal_hold.placed", "legal_hold.changed", "legal_hold.released"} <= set(actions)
    # the held person's own security events do not tell them
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("legal_hold.%"), sa.or_(AuditEvent.subject_id == a.learner.id, AuditEvent.org_id.is_not(None)))) == 0


def test_a_company_hold_by_name_and_the_queue_badge(app, companies):
    a, _ = companies
    staff = staff_client(app, role="staff")
    assert post_form(staff, "/staff/legal-holds/new", {"target": "company", "company": "company a",
                                                       "reason": "Authority order"}).status_code == 303
    ask_deletion(app, a.learner)
    queue = staff.get("/staff/legal-holds").get_data(as_text=True)
    assert "Company A" in queue
    requests = staff.get("/staff/privacy-requests").get_data(as_text=True)
    assert "on legal hold" in requests


def test_validation_errors_are_beside_the_fields(app, companies):
    staff = staff_client(app)
    response = post_form(staff, "/staff/legal-holds/new", {"target": "person", "person": "nobody@nowhere.example",
                                                           "reason": "", "ends_on": "2000-01-01"}, page="/staff/legal-holds/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="reason-error"' in html and "Give the reason for the hold." in html
    assert 'id="ends_on-error"' in html
    response = post_form(staff, "/staff/legal-holds/new", {"target": "person", "person": "nobody@nowhere.example",
                                                           "reason": "Claim"}, page="/staff/legal-holds/new")
    assert response.status_code == 422 and 'id="person-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LegalHold)) == 0


def test_everyone_else_gets_404(app, companies):
    a, _ = companies
    hold_id = hold_on(app, user=a.learner)
    admin = app.test_client()
    login(admin, a.admin.email)
    for url in ("/staff/legal-holds", "/staff/legal-holds/new", f"/staff/legal-holds/{hold_id}",
                f"/staff/legal-holds/{hold_id}/release"):
        assert admin.get(url).status_code == 404
        assert app.test_client().get(url).status_code == 404
    assert staff_client(app).get("/staff/legal-holds/999999").status_code == 404


def test_the_held_person_is_told_only_that_their_deletion_will_be_carried_out(app, companies):
    a, _ = companies
    hold_on(app, user=a.learner)
    ask_deletion(app, a.learner)
    with app.app_context():
        req = db.session.scalar(sa.select(PrivacyRequest).where(PrivacyRequest.user_id == a.learner.id))
        req.scheduled_for = utcnow() - timedelta(days=1)  # the grace period is over; the hold keeps it waiting
        db.session.commit()
    retention_cli(app, utcnow())
    response = post_form(app.test_client(), "/login", {"email": a.learner.email, "password": PASSWORD})
    html = response.get_data(as_text=True)
    assert "it will be carried out as soon as the law allows" in html
    assert "hold" not in html.lower()


def test_a_released_hold_is_a_record_that_cannot_be_changed(app, companies):
    a, _ = companies
    hold_id = hold_on(app, org=a.org)
    release(app, hold_id)
    dpo = staff_client(app)
    page = dpo.get(f"/staff/legal-holds/{hold_id}").get_data(as_text=True)
    assert "Company A" in page and "Change the hold" not in page and "released" in page
    assert post_form(dpo, f"/staff/legal-holds/{hold_id}", {"reason": "Other", "change_reason": "x"},
                     page=f"/staff/legal-holds/{hold_id}").status_code == 200
    with app.app_context():
        assert db.session.get(LegalHold, hold_id).reason == "Claim by a former employee"
    assert dpo.get(f"/staff/legal-holds/{hold_id}/release").status_code == 303
