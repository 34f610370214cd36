"""Learning offline (issue 22), the queue: changes made without a connection, sent later to ``POST /progress/sync``,
count exactly once, at the time they happened (within the enrolment and not in the future), never for someone else
and never over a newer answer."""
from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import ActivityDay, Enrollment, Lesson, LessonCompletion, PracticeAnswer, SyncReceipt, User, utcnow
from tests.conftest import csrf_from
from tests.helpers import login
from tests.test_offline_pages import offline_course, signed_in_enrolled


class Device:
    """A signed-in browser with its queue: the device key and CSRF token from a page, JSON to /progress/sync."""

    def __init__(self, client):
        page = client.get("/dashboard").get_data(as_text=True)
        self.client, self.token = client, csrf_from(page)
        self.owner = re.search(r'data-device-key="([0-9a-f]+)"', page).group(1)

    def send(self, items, owner=None, headers=None):
        body = json.dumps({"owner": self.owner if owner is None else owner, "items": items})
        return self.client.post("/progress/sync", data=body, content_type="application/json",
                                headers={"X-CSRFToken": self.token, **(headers or {})})


def item(kind, at, course="mini", lesson=None, **extra):
    found = {"id": str(uuid.uuid4()), "kind": kind, "course": course, "at": at.isoformat().replace("+00:00", "Z"), **extra}
    if lesson:
        found["lesson"] = lesson
    return found


def enrolled_at(app, person, slug="mini"):
    with app.app_context():
        return db.session.scalar(sa.select(Enrollment.created_at).where(Enrollment.user_id == person.id))


def backdate_enrolment(app, person, days):
    with app.app_context():
        db.session.execute(sa.update(Enrollment).where(Enrollment.user_id == person.id)
                           .values(created_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def completions(app, person):
    with app.app_context():
        return dict(db.session.execute(sa.select(LessonCompletion.lesson_id, LessonCompletion.completed_at)
                                       .where(LessonCompletion.user_id == person.id)).all())


def activity(app, person):
    with app.app_context():
        return {day: (seconds, lessons) for day, seconds, lessons in db.session.execute(
            sa.select(ActivityDay.day, ActivityDay.seconds, ActivityDay.lessons_completed)
            .where(ActivityDay.user_id == person.id))}


def setup(app, client, companies, tmp_path, days=10):
    offline_course(app, tmp_path)
    learner = companies[0].learner
    signed_in_enrolled(app, client, learner)
    backdate_enrolment(app, learner, days)
    return learner, Device(client)


def test_completions_count_once_at_the_time_they_happened_when_the_queue_is_sent_twice(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    three_days_ago = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    yesterday = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    queue = [item("complete", three_days_ago, lesson="l1"), item("complete", yesterday, lesson="l2")]
    for _ in range(2):
        response = device.send(queue)
        assert response.status_code == 200
        assert response.get_json() == {"done": [queue[0]["id"], queue[1]["id"]], "rejected": [], "waiting": 0}
    times = sorted(completions(app, learner).values())
    assert times == [three_days_ago, yesterday]
    days = activity(app, learner)
    assert days[three_days_ago.date()][1] == 1 and days[yesterday.date()][1] == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)) == 2
    # the course page counts them
    assert "2 of 4 lessons done" in client.get("/courses/mini").get_data(as_text=True)


def test_a_completion_already_made_online_is_not_counted_again(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    first = device.send([item("complete", utcnow() - timedelta(hours=2), lesson="l1")])
    again = device.send([item("complete", utcnow() - timedelta(hours=1), lesson="l1")])  # another id, same lesson
    assert first.status_code == again.status_code == 200 and again.get_json()["rejected"] == []
    assert len(completions(app, learner)) == 1
    assert sum(lessons for _s, lessons in activity(app, learner).values()) == 1


def test_times_are_clamped_to_the_enrolment_and_now(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path, days=2)
    enrolment = enrolled_at(app, learner)
    before = utcnow()
    response = device.send([item("complete", utcnow() + timedelta(days=30), lesson="l1"),
                            item("complete", utcnow() - timedelta(days=100), lesson="l2")])
    assert response.status_code == 200 and len(response.get_json()["done"]) == 2
    with app.app_context():
        by_slug = dict(db.session.execute(sa.select(Lesson.slug, LessonCompletion.completed_at)
                                          .join(Lesson, Lesson.id == LessonCompletion.lesson_id)).all())
    later, earlier = by_slug["l1"], by_slug["l2"]
    assert before <= later <= utcnow()  # the future is now
    assert earlier == enrolment  # before the enrolment is the enrolment


def test_another_accounts_queue_is_refused_whole(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    other = companies[0].manager
    with app.app_context():
        from leadthe.progress.sync import device_key

        their_key = device_key(db.session.get(User, other.id))
    response = device.send([item("complete", utcnow(), lesson="l1"), item("beat", utcnow())], owner=their_key)
    assert response.status_code == 409 and response.get_json() == {"error": "owner"}
    assert completions(app, learner) == {} and device.send([], owner="").status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)) == 0


def test_what_cannot_be_recorded_is_rejected_with_a_reason(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    offline_course(app, tmp_path, slug="other")  # not enrolled
    queue = [item("complete", utcnow(), lesson="lab"), item("complete", utcnow(), course="other", lesson="l1"),
             item("complete", utcnow(), lesson="nothing"), item("complete", utcnow(), course="nothing", lesson="l1"),
             item("answer", utcnow(), lesson="l3", answer="x" * 10_001), item("beat", utcnow() + timedelta(days=1)),
             item("beat", utcnow() - timedelta(days=31)), item("teleport", utcnow(), lesson="l1"),
             {"id": "no-time", "kind": "complete", "course": "mini", "lesson": "l1", "at": "yesterday"}]
    response = device.send(queue)
    assert response.status_code == 200
    assert response.get_json() == {"done": [], "waiting": 0, "rejected": [
        {"id": queue[0]["id"], "reason": "exercise"}, {"id": queue[1]["id"], "reason": "not-enrolled"},
        {"id": queue[2]["id"], "reason": "unknown"}, {"id": queue[3]["id"], "reason": "unknown"},
        {"id": queue[4]["id"], "reason": "too-long"}, {"id": queue[5]["id"], "reason": "out-of-range"},
        {"id": queue[6]["id"], "reason": "out-of-range"}, {"id": queue[7]["id"], "reason": "invalid"},
        {"id": "no-time", "reason": "invalid"}]}
    assert completions(app, learner) == {} and activity(app, learner) == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)) == 0


def test_an_offline_answer_never_replaces_a_newer_one(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    two_hours_ago = utcnow() - timedelta(hours=2)
    # written offline two hours ago: saved with that time
    first = item("answer", two_hours_ago, lesson="l3", answer="Offline draft")
    assert device.send([first]).get_json()["done"] == [first["id"]]
    with app.app_context():
        saved = db.session.scalar(sa.select(PracticeAnswer).where(PracticeAnswer.user_id == learner.id))
        assert saved.answer == "Offline draft" and saved.updated_at == two_hours_ago.replace(microsecond=saved.updated_at.microsecond)
    # then saved online
    page = client.get("/courses/mini/lessons/l3").get_data(as_text=True)
    assert client.post("/courses/mini/lessons/l3/answer",
                       data={"csrf_token": csrf_from(page), "answer": "Written online just now"}).status_code == 303
    # an older offline answer arrives later: recorded (done) but the newer one stays
    late = item("answer", utcnow() - timedelta(hours=1), lesson="l3", answer="Older offline answer")
    assert device.send([late]).get_json()["done"] == [late["id"]]
    with app.app_context():
        assert db.session.scalar(sa.select(PracticeAnswer.answer).where(PracticeAnswer.user_id == learner.id)) == \
            "Written online just now"
    # a newer offline answer replaces it
    newer = item("answer", utcnow(), lesson="l3", answer="Newest, offline")
    assert device.send([newer]).get_json()["done"] == [newer["id"]]
    with app.app_context():
        assert db.session.scalar(sa.select(PracticeAnswer.answer).where(PracticeAnswer.user_id == learner.id)) == \
            "Newest, offline"


def test_beats_add_capped_time_to_the_day_they_happened(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    start = (utcnow() - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    offsets = [0, 30, 60, 180, 1000, 1030]  # 30 + 30 + 60 (a 2-minute gap, capped) + 0 (a new visit) + 30
    beats = [item("beat", start + timedelta(seconds=s)) for s in offsets]
    response = device.send(list(reversed(beats)))  # the order in the queue does not matter
    assert response.status_code == 200 and sorted(response.get_json()["done"]) == sorted(b["id"] for b in beats)
    assert activity(app, learner) == {start.date(): (150, 0)}
    assert device.send(beats).status_code == 200  # sent again: nothing more
    assert activity(app, learner) == {start.date(): (150, 0)}


def test_bounds_of_a_queue(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    too_many = [item("beat", utcnow()) for _ in range(201)]
    response = device.send(too_many)
    assert response.status_code == 413 and activity(app, learner) == {}
    assert device.send(too_many[:200]).status_code == 200
    huge = device.client.post("/progress/sync", data=b"{" + b" " * (256 * 1024) + b"}", content_type="application/json",
                              headers={"X-CSRFToken": device.token})
    assert huge.status_code == 413
    not_json = device.client.post("/progress/sync", data=b"items", content_type="application/json",
                                  headers={"X-CSRFToken": device.token})
    assert not_json.status_code == 400
    assert device.client.post("/progress/sync", json={"owner": device.owner}, headers={"X-CSRFToken": device.token}).status_code == 400


def test_a_queue_without_the_csrf_token_is_refused(app, client, companies, tmp_path):
    learner, device = setup(app, client, companies, tmp_path)
    response = client.post("/progress/sync", data=json.dumps({"owner": device.owner, "items": [
        item("complete", utcnow(), lesson="l1")]}), content_type="application/json")
    assert response.status_code == 400 and completions(app, learner) == {}


def test_the_same_queue_sent_twice_at_once_counts_once(app, companies, tmp_path):
    from leadthe.progress.sync import sync

    offline_course(app, tmp_path)
    learner = companies[0].learner
    client = app.test_client()
    signed_in_enrolled(app, client, learner)
    backdate_enrolment(app, learner, 5)
    when = utcnow() - timedelta(days=1)
    with app.app_context():
        from leadthe.progress.sync import device_key

        owner = device_key(db.session.get(User, learner.id))
    queue = {"owner": owner, "items": [item("complete", when, lesson="l1"), item("complete", when, lesson="l2"),
                                       item("beat", when), item("beat", when + timedelta(seconds=30))]}
    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        try:
            with app.test_request_context("/progress/sync", method="POST"):  # a POST: its transaction writes
                user = db.session.get(User, learner.id)
                db.session.commit()
                barrier.wait(timeout=10)
                results.append(sync(user, queue))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert [sorted(r.done) for r in results] == [sorted(i["id"] for i in queue["items"])] * 2
    assert len(completions(app, learner)) == 2
    assert activity(app, learner) == {when.date(): (30, 2)}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)) == 4


def test_receipts_are_kept_30_days_and_go_with_the_account(app, client, companies, tmp_path):
    from leadthe.privacy.registry import BY_TABLE
    from leadthe.privacy.retention import apply_retention

    learner, device = setup(app, client, companies, tmp_path)
    assert device.send([item("complete", utcnow(), lesson="l1"), item("beat", utcnow())]).status_code == 200
    with app.app_context():
        db.session.execute(sa.update(SyncReceipt).where(SyncReceipt.kind == "beat")
                           .values(received_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    with app.app_context():
        assert apply_retention()["sync_30d"] == 1
        assert db.session.scalars(sa.select(SyncReceipt.kind)).all() == ["complete"]
    source = BY_TABLE["sync_receipt"]
    assert source.retention == "sync_30d" and source.erasure == "delete" and source.subject == ("user_id",)
    assert all(col.export for col in source.columns.values())
