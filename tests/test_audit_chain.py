"""The tamper-evident audit log (leadthe/audit_chain.py): `leadthe audit verify` finds every edit, removal and
reordering of audit events, but not an erasure's pseudonymisation; one chain per company; the daily job alerts
staff once per break; each company's admin can download the head of its own chain."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.audit import record, record_apart
from leadthe.audit_chain import seal
from leadthe.extensions import db
from leadthe.models import AuditChainHead, AuditEvent, utcnow
from leadthe.worker import enqueue_job, run_once
from tests.conftest import PASSWORD, outbox, post_form
from tests.helpers import login


@pytest.fixture(autouse=True)
def _seal_at_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_SEAL_DELAY_SECONDS", 0)


def write_events(app, org, n=4, **details) -> list[int]:
    """n events of a company: half in a transaction of their own (record_apart), half with record."""
    ids = []
    with app.test_request_context("/", headers={"User-Agent": "Tester/1.0"}):
        for i in range(n):
            if i % 2:
                record_apart("team.created", org_id=org.id, name=f"Team {i}", **details)
            else:
                record("team.renamed", org_id=org.id, name=f"Team {i}", **details)
                db.session.commit()
        ids = list(db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.org_id == org.id).order_by(AuditEvent.id)))
    return ids


def verify(app):
    return app.test_cli_runner().invoke(args=["leadthe", "audit", "verify"])


def change(app, statement) -> None:
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def test_a_fresh_chain_verifies_and_every_event_is_sealed_in_order(app, companies):
    a, b = companies
    ids = write_events(app, a.org)
    write_events(app, b.org)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "every chain is intact" in result.output
    with app.app_context():
        seqs = db.session.scalars(sa.select(AuditEvent.chain_seq).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)).all()
        assert seqs == [1, 2, 3, 4]
        # written later, appended to the same chain
    write_events(app, a.org, n=2)
    assert verify(app).exit_code == 0
    with app.app_context():
        head = db.session.get(AuditChainHead, f"org:{a.org.id}")
        assert head.seq == 6


def _edit_action(ids):
    return sa.update(AuditEvent).where(AuditEvent.id == ids[1]).values(action="login.success"), ids[1]


def _edit_time(ids):
    return sa.update(AuditEvent).where(AuditEvent.id == ids[1]).values(created_at=utcnow() - timedelta(days=3)), ids[1]


def _edit_details(ids):
    return sa.update(AuditEvent).where(AuditEvent.id == ids[1]).values(details={"name": "Someone else"}), ids[1]


def _edit_ip(ids):
    return sa.update(AuditEvent).where(AuditEvent.id == ids[2]).values(ip="10.9.9.9"), ids[2]


def _delete_middle(ids):
    return sa.delete(AuditEvent).where(AuditEvent.id == ids[1]), ids[2]  # the next event's link is broken


def _delete_last(ids):
    return sa.delete(AuditEvent).where(AuditEvent.id == ids[3]), ids[3]  # the head still names it


@pytest.mark.parametrize("tamper", [_edit_action, _edit_time, _edit_details, _edit_ip, _delete_middle, _delete_last])
def test_editing_or_removing_an_event_is_found_and_named(app, companies, tamper):
    a, _ = companies
    ids = write_events(app, a.org)
    assert verify(app).exit_code == 0
    statement, named = tamper(ids)
    change(app, statement)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN: chain org:{a.org.id}: event {named} " in result.output


def test_reordering_two_events_is_found(app, companies):
    a, _ = companies
    ids = write_events(app, a.org)
    assert verify(app).exit_code == 0
    with app.app_context():
        # swap the places of the 2nd and 3rd event (their sequence numbers, as a reordering would)
        change(app, sa.update(AuditEvent).where(AuditEvent.id == ids[1]).values(chain_seq=-1))
        change(app, sa.update(AuditEvent).where(AuditEvent.id == ids[2]).values(chain_seq=2))
        change(app, sa.update(AuditEvent).where(AuditEvent.id == ids[1]).values(chain_seq=3))
    result = verify(app)
    assert result.exit_code == 1 and f"event {ids[2]} (sequence 2)" in result.output


def test_a_broken_chain_of_one_company_does_not_report_another(app, companies):
    a, b = companies
    a_ids = write_events(app, a.org)
    write_events(app, b.org)
    assert verify(app).exit_code == 0
    change(app, sa.update(AuditEvent).where(AuditEvent.id == a_ids[0]).values(action="logout"))
    result = verify(app)
    assert result.exit_code == 1
    assert f"chain org:{a.org.id}" in result.output and f"chain org:{b.org.id}" not in result.output


def test_an_erasure_pseudonymises_events_without_breaking_the_chain(app, companies):
    a, _ = companies
    client = app.test_client()
    login(client, a.learner)  # login events about the learner
    write_events(app, a.org)
    assert verify(app).exit_code == 0  # the learner's events are sealed before the erasure
    response = post_form(client, "/privacy/delete", {"password": PASSWORD, "confirm_email": a.learner.email},
                         page="/privacy")
    assert response.status_code == 303
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "retention", "--now", (utcnow() + timedelta(days=7, minutes=1)).isoformat()]).exit_code == 0
    with app.app_context():
        run_once(utcnow() + timedelta(days=7, minutes=2))
        pseudonymised = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.actor_ref != "",
                                                                       AuditEvent.chain_seq.is_not(None))).all()
        assert pseudonymised and all(e.actor_id is None and e.ip == "" for e in pseudonymised)  # sealed, then erased
    result = verify(app)
    assert result.exit_code == 0, result.output
    # but putting a personal field back into a pseudonymised event is found
    change(app, sa.update(AuditEvent).where(AuditEvent.id == pseudonymised[0].id).values(ip="192.0.2.1"))
    assert verify(app).exit_code == 1


def test_concurrent_writers_and_sealers_make_one_unbroken_chain(app, companies, backend):
    if backend != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every write)")
    a, _ = companies
    errors = []

    def writer(n):
        try:
            with app.test_request_context("/"):
                for i in range(10):
                    record("team.created", org_id=a.org.id, name=f"{n}-{i}")
                    record_apart("team.renamed", org_id=a.org.id, name=f"{n}-{i}")  # while the request's is open
                    db.session.commit()
                    seal()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert verify(app).exit_code == 0
    with app.app_context():
        seqs = db.session.scalars(sa.select(AuditEvent.chain_seq).where(AuditEvent.org_id == a.org.id)
                                  .order_by(AuditEvent.chain_seq)).all()
        assert seqs == list(range(1, 81))


def run_daily_check(app) -> None:
    with app.app_context():
        enqueue_job("audit.verify")
        db.session.commit()
        assert run_once()["jobs"]["done"] >= 1


def test_the_daily_check_alerts_staff_once_per_break(app, companies):
    a, _ = companies
    ids = write_events(app, a.org)
    run_daily_check(app)
    assert outbox(app, kind="audit_staff") == []
    change(app, sa.update(AuditEvent).where(AuditEvent.id == ids[2]).values(details={}))
    for _ in range(2):
        run_daily_check(app)
    mails = outbox(app, kind="audit_staff")
    assert sorted(m.to_addr for m in mails) == sorted({app.config["SUPPORT_EMAIL"], app.config["DPO_EMAIL"]})
    assert f"event {ids[2]}" in mails[0].body_text
    with app.app_context():
        alerts = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.chain_broken")).all()
        assert len(alerts) == 1 and alerts[0].org_id is None and alerts[0].details["event_id"] == ids[2]


def test_the_daily_check_is_a_recurring_worker_job(app):
    from leadthe.worker import RECURRING

    assert RECURRING["audit.verify"].every == timedelta(days=1) and "audit.seal" in RECURRING


def test_each_admin_downloads_the_head_of_their_own_chain(app, companies):
    a, b = companies
    a_ids = write_events(app, a.org)
    assert verify(app).exit_code == 0
    for person in (a.learner, a.manager):
        client = app.test_client()
        login(client, person)
        assert client.get("/admin/audit/chain-head.json").status_code == 403
    assert app.test_client().get("/admin/audit/chain-head.json").status_code == 302  # signed out: to the log-in
    client = app.test_client()
    login(client, a.admin)
    assert "/admin/audit/chain-head.json" in client.get("/admin/audit").get_data(as_text=True)
    response = client.get("/admin/audit/chain-head.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    head = json.loads(response.get_data(as_text=True))
    with app.app_context():
        last = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.org_id == a.org.id, AuditEvent.chain_seq.is_not(None))
                                  .order_by(AuditEvent.chain_seq.desc())).first()
        assert head["org_id"] == a.org.id and head["sequence"] == last.chain_seq and head["hash"] == last.chain_hash
        assert last.id >= a_ids[-1]
    other = app.test_client()
    login(other, b.admin)
    theirs = json.loads(other.get("/admin/audit/chain-head.json").get_data(as_text=True))
    assert theirs["org_id"] == b.org.id and theirs["hash"] != head["hash"]


def test_a_chain_whose_events_all_expired_under_retention_still_verifies(app, companies):
    a, _ = companies
    ids = write_events(app, a.org, n=2)
    assert verify(app).exit_code == 0
    change(app, sa.update(AuditChainHead).values(event_created_at=utcnow() - timedelta(days=731)))
    change(app, sa.delete(AuditEvent).where(AuditEvent.id.in_(ids)))  # as retention removes them
    assert verify(app).exit_code == 0
