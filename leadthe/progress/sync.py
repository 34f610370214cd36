"""Changes made offline, sent later (issue 22): ``POST /progress/sync`` records a browser's queue.

The browser keeps what a learner did without a connection (a lesson marked complete, a practice answer, time
spent reading) in a queue, each change with an id of its own and the time it happened, and sends the queue
when it is back online. Every change counts at most once per person and id: a ``sync_receipt`` row inserted
with ON CONFLICT DO NOTHING RETURNING decides, so a queue sent twice, or by two tabs at the same moment, records
each change once (on PostgreSQL the second insert waits for the first transaction and then finds the row).

A change that cannot be recorded (an exercise, a course the person is not enrolled in, an unknown lesson, an
answer that is too long, time from the future) is rejected with a reason and leaves no receipt.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app
from werkzeug.exceptions import NotFound

from leadthe.courses import services as courses
from leadthe.courses.forms import MAX_ANSWER
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.models import ActivityDay, PracticeAnswer, SyncReceipt, User, utcnow

MAX_ITEMS = 200
MAX_BODY = 256 * 1024
MAX_ID = 40
KINDS = ("complete", "answer", "beat")
# beats older than this are not counted any more (and receipts are kept this long: a queue cannot be older)
BEAT_WINDOW = timedelta(days=30)
RECEIPT_DAYS = 30


def device_key(user) -> str:
    """The pseudonymous key of the account whose data a browser holds: never the id or the e-mail address."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, f"device-key:{user.id}".encode(), hashlib.sha256).hexdigest()[:16]


class Refused(Exception):
    """The whole request is refused: ``status`` and the JSON answer."""

    def __init__(self, status: int, body: dict):
        super().__init__(body)
        self.status, self.body = status, body


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"done": self.done, "rejected": self.rejected, "waiting": 0}


def parse_time(value) -> datetime | None:
    """An ISO 8601 time; without a zone it is UTC. None when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def sync(user: User, payload, now: datetime | None = None) -> Outcome:
    """Record the queue ``payload`` (the decoded JSON body) for ``user``. Raises ``Refused`` for a body that is not
    a queue (400), too many items (413) or another account's queue (409)."""
    now = now or utcnow()
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise Refused(400, {"error": "body"})
    if len(payload["items"]) > MAX_ITEMS:
        raise Refused(413, {"error": "too-many", "max": MAX_ITEMS})
    if not isinstance(payload.get("owner"), str) or not hmac.compare_digest(payload["owner"], device_key(user)):
        raise Refused(409, {"error": "owner"})
    outcome = Outcome()
    beats: list[tuple[datetime, str]] = []
    seen: set[str] = set()
    lookups: dict[tuple[str, str], tuple | None] = {}
    for item in payload["items"]:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not 0 < len(item_id) <= MAX_ID or item_id in seen:
            continue  # nothing the browser could match an answer to, or said already
        seen.add(item_id)
        reason = _item(user, item, item_id, now, lookups, beats, outcome)
        if reason:
            outcome.rejected.append({"id": item_id, "reason": reason})
    _beats(user, sorted(beats), now, outcome)
    return outcome


def _item(user, item, item_id, now, lookups, beats, outcome) -> str | None:
    """One change: recorded (a completion, an answer), kept for ``_beats`` (a beat), or the reason it is rejected."""
    kind, at = item.get("kind"), parse_time(item.get("at"))
    if kind not in KINDS or at is None:
        return "invalid"
    if kind == "beat":
        if at > now + timedelta(minutes=1) or at < now - BEAT_WINDOW:
            return "out-of-range"
        beats.append((min(at, now), item_id))
        return None
    return _lesson_change(user, item, item_id, kind, at, now, lookups, outcome)


def _lookup(user: User, course_slug, lesson_slug, lookups) -> tuple | None:
    """(course, lesson, enrollment) the person may open, or None."""
    if not isinstance(course_slug, str) or not isinstance(lesson_slug, str) or len(course_slug) > 200 or len(lesson_slug) > 200:
        return None
    key = (course_slug, lesson_slug)
    if key not in lookups:
        try:
            lookups[key] = courses.lesson_for_post(course_slug, lesson_slug, user)
        except NotFound:
            lookups[key] = None
    return lookups[key]


def _claim(user: User, item_id: str, kind: str, at: datetime, now: datetime) -> bool:
    """True for the one request that records this change first."""
    stmt = (upsert(SyncReceipt).values(user_id=user.id, client_id=item_id, kind=kind, happened_at=at, received_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "client_id"]).returning(SyncReceipt.id))
    return db.session.execute(stmt).scalar() is not None


def _lesson_change(user, item, item_id, kind, at, now, lookups, outcome) -> str | None:
    """Record a completion or an answer; the reason when it is rejected."""
    found = _lookup(user, item.get("course"), item.get("lesson"), lookups)
    if found is None:
        return "unknown"
    course, lesson, enrollment = found
    if enrollment is None:
        return "not-enrolled"
    # it happened after the enrolment and not in the future
    at = max(min(at, now), enrollment.created_at)
    if kind == "complete":
        if lesson.kind == "exercise":
            return "exercise"  # completed by passing it in the lab, never offline
        if _claim(user, item_id, kind, at, now):
            courses.complete_lesson(user, course, lesson, now=at)
    else:
        text = item.get("answer")
        if lesson.kind != "practice" or not isinstance(text, str):
            return "unknown"
        if len(text) > MAX_ANSWER:
            return "too-long"
        if not text.strip():
            return "empty"
        if _claim(user, item_id, kind, at, now):
            _save_answer(user, lesson, text, at)
    outcome.done.append(item_id)
    return None


def _save_answer(user: User, lesson, text: str, at: datetime) -> None:
    """Like ``save_answer``, but an answer saved on the server after ``at`` stays."""
    db.session.execute(
        upsert(PracticeAnswer).values(user_id=user.id, lesson_id=lesson.id, answer=text, created_at=at, updated_at=at)
        .on_conflict_do_update(index_elements=["user_id", "lesson_id"], set_={"answer": text, "updated_at": at},
                               where=PracticeAnswer.updated_at <= at))


def _beats(user: User, beats: list[tuple[datetime, str]], now: datetime, outcome: Outcome) -> None:
    """Time spent offline: each beat adds the gap to the beat before it, at most HEARTBEAT_CAP, when the gap is
    within a visit (VISIT_GAP); the first beat of a run adds nothing. Per day, one upsert."""
    if not beats:
        return
    # one insert for all of them: the ones this request records first come back
    claimed = set(db.session.scalars(
        upsert(SyncReceipt).values([{"user_id": user.id, "client_id": item_id, "kind": "beat", "happened_at": at, "received_at": now}
                                    for at, item_id in beats])
        .on_conflict_do_nothing(index_elements=["user_id", "client_id"]).returning(SyncReceipt.client_id)))
    per_day: dict = {}
    previous = None
    for at, item_id in beats:
        gap = at - previous if previous is not None else None
        previous = at
        outcome.done.append(item_id)
        if item_id in claimed and gap is not None and timedelta(0) < gap <= courses.VISIT_GAP:
            per_day[at.date()] = per_day.get(at.date(), 0) + int(min(gap, courses.HEARTBEAT_CAP).total_seconds())
    for day, seconds in per_day.items():
        if seconds:
            db.session.execute(
                upsert(ActivityDay).values(user_id=user.id, day=day, seconds=seconds, lessons_completed=0)
                .on_conflict_do_update(index_elements=["user_id", "day"], set_={"seconds": ActivityDay.seconds + seconds}))


def expired_receipts(now: datetime):
    """The receipts the retention rule deletes."""
    return SyncReceipt.received_at <= now - timedelta(days=RECEIPT_DAYS)

