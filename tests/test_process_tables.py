"""The per-process tables (leadthe/process_tables.py) are right after commit and rollback.

The clock of the tables is frozen in these tests, so nothing is refreshed by age: what a page shows comes
from the table unless a commit invalidated it."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from leadthe import process_tables
from leadthe.extensions import db
from leadthe.legal import services as legal
from leadthe.models import utcnow
from tests.conftest import PASSWORD, make_user, post_form

NOTICE = 'id="policy-notice"'


@pytest.fixture
def frozen_tables(monkeypatch):
    monkeypatch.setattr(process_tables.time, "monotonic", lambda: 1000.0)


@pytest.fixture
def learner_client(client, companies, frozen_tables):
    a, _ = companies
    post_form(client, "/login", {"email": a.learner.email, "password": PASSWORD})
    assert NOTICE not in client.get("/dashboard").get_data(as_text=True)  # the table is filled now
    return client


def _publish(app, summary: str):
    staff = make_user(app, None, email=f"staff{abs(hash(summary))}@leadthe.example", role="staff")
    return legal.publish("privacy", title="Privacy policy", body="New text.", summary=summary,
                         effective_at=utcnow() - timedelta(seconds=1), material=True, categories_changed=False,
                         staff_user=staff)


def test_a_version_committed_by_one_request_is_served_by_the_next_at_once(app, learner_client):
    with app.test_request_context("/staff/policies", method="POST"):
        _publish(app, "Published just now.")
        db.session.commit()
    html = learner_client.get("/dashboard").get_data(as_text=True)
    assert NOTICE in html and "Published just now." in html


def test_a_rolled_back_version_is_never_served(app, learner_client):
    with app.test_request_context("/staff/policies", method="POST"):
        doc_id = _publish(app, "Rolled back.").id
        # the request reads the table after its flush (it sees its own write) and then fails
        assert doc_id in {f.id for f in legal.policy_facts()}
        db.session.rollback()
    assert "Rolled back." not in learner_client.get("/dashboard").get_data(as_text=True)
    with app.test_request_context("/dashboard"):  # the next request of this process
        assert doc_id not in {f.id for f in legal.policy_facts()}


def test_a_load_between_another_sessions_flush_and_commit_is_not_kept(app, learner_client):
    """Another request fills the table while the publishing one has flushed but not committed: it reads the
    old versions, and after the commit they must not be served as current."""
    with app.test_request_context("/staff/policies", method="POST"):
        _publish(app, "Committed after a reader.")
        seen = []

        def other_request():
            with app.test_request_context("/dashboard"):  # a GET: reads without taking the write lock
                try:
                    seen.append(len(legal.policy_facts()))
                finally:
                    db.session.remove()

        reader = threading.Thread(target=other_request)
        reader.start()
        reader.join()
        assert seen, "the other request ran"
        db.session.commit()
    html = learner_client.get("/dashboard").get_data(as_text=True)
    assert "Committed after a reader." in html



def test_an_entry_stored_at_a_later_clock_reading_is_reloaded(app, monkeypatch):
    """The age of an entry is never negative: after the clock reads less than when the entry was stored
    (a test's frozen clock, or another clock source), the entry is reloaded rather than trusted forever."""
    table = process_tables.ProcessTable("clock_check", (), seconds=30.0)
    loads = []
    clock = [50_000.0]
    monkeypatch.setattr(process_tables.time, "monotonic", lambda: clock[0])
    with app.test_request_context():
        assert table.get("k", lambda: loads.append(1) or len(loads)) == 1
        assert table.get("k", lambda: loads.append(1) or len(loads)) == 1  # fresh: from the table
        clock[0] = 10_000.0
        assert table.get("k", lambda: loads.append(1) or len(loads)) == 2  # stored "in the future": reloaded
        clock[0] += 31
        assert table.get("k", lambda: loads.append(1) or len(loads)) == 3  # older than 30 s: reloaded
