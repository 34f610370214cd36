"""Who looked at my data (issue 21): every view of a person's individual data by someone else is recorded, kept
one year (retention rule ``access_1y``) and shown to that person at /privacy/access-log.

Recorded: the person page of /admin/users/<id> (an admin, or a manager of one of the person's teams: profile,
courses, quiz attempts), the per-person CSV report ``people`` (one entry per person in it), the staff page of a
person opened under a break-glass grant, and an AI-literacy evidence pack with per-person files (one entry per
person in it). Not recorded: lists of names (the people list, a team's members) which show who works here, not
what they did; aggregate figures; and a person looking at their own data.

Recording is one INSERT (a single row, or INSERT ... SELECT for many) with no extra reads. A view is a GET, which
never writes through the request's session (``leadthe.database``), so the row goes through ``write_apart``, in its
own short transaction at once; a POST that shows a person page again is not recorded again (``_write``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import gettext as _, lazy_gettext as _l

from leadthe.database import SAFE_METHODS, write_apart
from leadthe.extensions import db
from leadthe.models import User, utcnow
from leadthe.models.base import UTCDateTime
from leadthe.models.trust import AccessLogEntry

# what was seen (the ``what`` codes), in words for the person
WHAT = {
    "person_page": _l("your profile page: progress, courses and quiz results"),
    "people_csv": _l("your progress, in a downloaded people report (CSV)"),
    "staff_person_page": _l("your account, to answer a support or privacy request"),
    "evidence_pack": _l("your training status and quiz results, in an AI-literacy evidence pack"),
}

# who, when the viewer's account no longer exists (or for staff, whose names we do not show)
ROLE_WORDS = {
    "learner": _l("A colleague"),
    "manager": _l("A manager of your team"),
    "admin": _l("An admin of your company"),
    "staff": _l("LeadThe.AI support (with your permission)"),
    "dpo": _l("LeadThe.AI's data protection officer (with your permission)"),
    "evidence_pack": _l("An AI-literacy evidence pack of your company"),
}
PLATFORM = ("staff", "dpo")  # their names are not shown: the role says enough, and they are not colleagues

PER_PAGE = 25


def _ref(ref: str | None) -> str:
    """The path seen, never its query string (which might carry a search or a token)."""
    if ref is None:
        ref = request.path if has_request_context() else ""
    return ref.split("?", 1)[0][:200]


def _write(stmt) -> None:
    """A GET (or the worker) writes apart at once. A POST that shows a person page again (a form with errors) is
    not recorded: the page was seen, and recorded, on the GET that showed the form."""
    if has_request_context() and request.method not in SAFE_METHODS:
        return  # the page was seen (and recorded) on the GET before the form; a refused form writes nothing
    write_apart(lambda conn: conn.execute(stmt))


def record_view(viewer: User, subject: User, what: str, ref: str | None = None) -> None:
    """Record that ``viewer`` looked at ``subject``'s data (nothing when they are the same person)."""
    if viewer.id == subject.id:
        return
    values = {"org_id": subject.org_id, "subject_id": subject.id, "viewer_id": viewer.id,
              "viewer_role": str(viewer.role), "what": what, "ref": _ref(ref), "created_at": utcnow()}
    _write(sa.insert(AccessLogEntry).values(**values))


def _insert_many(subject_ids: sa.Select, viewer_id: int | None, role: str, what: str, ref: str):
    """INSERT ... SELECT: one entry per person whose id ``subject_ids`` selects (the viewer excluded)."""
    chosen = subject_ids.scalar_subquery() if hasattr(subject_ids, "scalar_subquery") else subject_ids
    rows = (sa.select(User.org_id, User.id, sa.literal(viewer_id, sa.Integer), sa.literal(role), sa.literal(what),
                      sa.literal(ref), sa.literal(utcnow(), UTCDateTime()))
            .where(User.id.in_(chosen)))
    if viewer_id is not None:
        rows = rows.where(User.id != viewer_id)
    return sa.insert(AccessLogEntry).from_select(
        ["org_id", "subject_id", "viewer_id", "viewer_role", "what", "ref", "created_at"], rows)


def record_many(viewer: User, subject_ids: sa.Select, what: str, ref: str | None = None) -> None:
    """Record one entry per person in ``subject_ids`` (a SELECT of user ids) seen by ``viewer``, in one INSERT."""
    _write(_insert_many(subject_ids, viewer.id, str(viewer.role), what, _ref(ref)))


def record_pack(pack, subject_ids: sa.Select) -> None:
    """An evidence pack with per-person files was made (the worker): one entry per person in it, through the
    worker's session (committed with the pack, rolled back with a failed one)."""
    db.session.execute(_insert_many(subject_ids, pack.requested_by_id, "evidence_pack", "evidence_pack",
                                    f"evidence-pack:{pack.id}"))


def entries_page(user: User, page: int):
    """(rows, total) of ``user``'s own log, newest first: (entry, the viewer's name or None)."""
    mine = AccessLogEntry.subject_id == user.id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry).where(mine))
    viewer = sa.orm.aliased(User)
    stmt = (sa.select(AccessLogEntry, viewer.name).outerjoin(viewer, viewer.id == AccessLogEntry.viewer_id)
            .where(mine).order_by(AccessLogEntry.created_at.desc(), AccessLogEntry.id.desc())
            .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return db.session.execute(stmt).all(), total


def who(entry: AccessLogEntry, name: str | None) -> str:
    """The viewer in words: a colleague's name with their role, or the role only (staff, an erased viewer)."""
    role = ROLE_WORDS.get(entry.viewer_role, entry.viewer_role)
    if entry.viewer_role == "evidence_pack":
        return _("%(what)s, made by %(name)s", what=role, name=name) if name else str(role)
    if name and entry.viewer_role not in PLATFORM:
        return _("%(name)s (%(role)s)", name=name, role=ROLE_SHORT.get(entry.viewer_role, entry.viewer_role))
    return str(role)


ROLE_SHORT = {"learner": _l("colleague"), "manager": _l("manager"), "admin": _l("admin")}


def what_words(entry: AccessLogEntry) -> str:
    return str(WHAT.get(entry.what, entry.what))
