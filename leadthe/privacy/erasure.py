"""Erasure ("right to be forgotten"), driven by the registry.

At the request: the person is signed out everywhere and disappears from every view at once (status
``erasure_pending``), and gets a mail with a link to cancel during the grace period. After it, the
worker runs the steps below. Each step is safe to repeat and the request records how far it got, so a
failure leaves a request in ``error`` (shown in the DPO queue) that the next worker run resumes, never a
half-erased account that looks done.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from leadthe import audit
from leadthe.auth.services import _fingerprint as address_fingerprint, normalize_email
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.extensions import db
from leadthe.literacy.evidence import expire_packs
from leadthe.net import absolute_url
from leadthe.mail import long_date, queue_mail
from leadthe.models import DataExport, Organization, PrivacyRequest, User, utcnow
from leadthe.models.enums import RequestStatus, Role, UserStatus
from leadthe.privacy.export import delete_export_file
from leadthe.privacy.registry import SOURCES, personal_sources
from leadthe.privacy.services import pseudonym, record_request, subject_clause
from leadthe.tenancy import scoped_get, unscoped
from leadthe.trust.holds import is_held
from leadthe.worker import enqueue_job

HIDDEN_STATUSES = (UserStatus.ERASURE_PENDING, UserStatus.LOCKED, UserStatus.CLOSED)


class LastAdmin(Exception):
    """The only admin of a company with other members cannot simply leave."""


def is_last_admin_with_members(user: User) -> bool:
    if user.role != Role.ADMIN or user.org_id is None:
        return False
    others = db.session.execute(
        sa.select(
            sa.func.count().filter(User.role == Role.ADMIN),
            sa.func.count(),
        ).where(User.org_id == user.org_id, User.id != user.id, User.status == UserStatus.ACTIVE)
    ).one()
    other_admins, other_members = others
    return other_admins == 0 and other_members > 0


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.erasure-cancel")


def grace() -> timedelta:
    return timedelta(days=current_app.config["ERASURE_GRACE_DAYS"])


def request_erasure(user: User, *, jurisdiction: str = "gdpr", grace_period: bool = True, reason: str = "") -> PrivacyRequest:
    """Hide and sign out the person now; schedule the erasure after the grace period (or at once)."""
    if grace_period and is_last_admin_with_members(user):
        raise LastAdmin()  # forced erasures (minors) go ahead; the company keeps its other members
    now = utcnow()
    when = now + grace() if grace_period else now
    req = record_request(user, "erasure", jurisdiction, self_service=grace_period, status="scheduled",
                         details=reason or "Self-service deletion from the privacy centre")
    req.scheduled_for = when
    user.status = UserStatus.ERASURE_PENDING if grace_period else UserStatus.LOCKED
    revoke_all_sessions(user.id)
    db.session.flush()
    enqueue_job("privacy.erase", {"request_id": req.id}, run_at=when)
    if grace_period:
        token = _serializer().dumps({"r": req.id, "u": user.id})
        queue_mail(user.email, _l("Your LeadThe.AI account will be deleted"), "erasure_scheduled", kind="privacy", user=user,
                   name=user.first_name, when=long_date(when),
                   link=absolute_url("privacy.cancel_erasure", token=token))
    audit.record("privacy.erasure_requested", actor=user, subject=user, request_id=req.id, grace=grace_period)
    return req


def request_for_cancel_token(token: str) -> PrivacyRequest | None:
    try:
        data = _serializer().loads(token, max_age=int(grace().total_seconds()))
    except (BadSignature, SignatureExpired):
        return None
    req = scoped_get(PrivacyRequest, data.get("r"))
    if req is None or req.user_id != data.get("u") or req.status != RequestStatus.SCHEDULED:
        return None
    return req


def scheduled_erasure(user: User) -> PrivacyRequest | None:
    """The person's own deletion, still in its grace period (so they may cancel it), if there is one."""
    if user.status != UserStatus.ERASURE_PENDING:
        return None
    return db.session.scalar(unscoped(
        sa.select(PrivacyRequest)
        .where(PrivacyRequest.user_id == user.id, PrivacyRequest.kind == "erasure", PrivacyRequest.self_service.is_(True),
               PrivacyRequest.status == RequestStatus.SCHEDULED, PrivacyRequest.scheduled_for > utcnow())
        .order_by(PrivacyRequest.id.desc()).limit(1),
        reason="at log-in, before any company is known; limited to the person's own requests"))


def erasure_waits(user: User) -> bool:
    """The person's deletion is past its grace period but not carried out yet (a legal hold keeps it waiting, or
    the worker has not got to it): they are told only that it will be carried out as soon as the law allows."""
    if user.status != UserStatus.ERASURE_PENDING:
        return False
    return bool(db.session.scalar(unscoped(
        sa.select(sa.exists().where(PrivacyRequest.user_id == user.id, PrivacyRequest.kind == "erasure",
                                    PrivacyRequest.status == RequestStatus.SCHEDULED, PrivacyRequest.scheduled_for <= utcnow())),
        reason="at log-in, before any company is known; limited to the person's own requests")))


def cancel_erasure(req: PrivacyRequest) -> User:
    user = scoped_get(User, req.user_id)
    req.status, req.completed_at, req.response = "cancelled", utcnow(), "Cancelled by the person during the grace period."
    user.status = UserStatus.ACTIVE
    audit.record("privacy.erasure_cancelled", actor=user, subject=user, request_id=req.id)
    return user


def report_minor(user: User, reporter: User) -> PrivacyRequest:
    """Someone under 18: locked at once and erased without a grace period."""
    audit.record("privacy.minor_reported", actor=reporter, subject=user)
    req = request_erasure(user, grace_period=False, reason=f"Reported as under 18 by {reporter.role}")
    req.self_service = False
    return req


# --- the steps -----------------------------------------------------------------------------------

def person_addresses(user_id: int) -> list[str]:
    """Every e-mail address the person is known by: the "address" columns (registry ``matched_by``) of the
    rows keyed by their id: the account's address and pending address, their invitations, mail sent to them."""
    addresses = set()
    for source in personal_sources():
        columns = [name for name, how in source.matched_by.items() if how == "address"]
        if columns:
            table = db.metadata.tables[source.table]
            stmt = sa.select(*[table.c[name] for name in columns]).where(subject_clause(source, user_id))
            addresses.update(normalize_email(value) for row in db.session.execute(stmt) for value in row if value)
    return sorted(addresses)


def matched_clause(source, addresses: list[str]):
    """The rows of ``source`` tied to the person by one of their addresses rather than by their id."""
    table = db.metadata.tables[source.table]
    parts = []
    for spec, how in source.matched_by.items():
        name, _, key = spec.partition(".")
        column = table.c[name]
        if how == "address":
            parts.append(column.in_(addresses))
        elif how == "address_hash":
            parts.append(column[key].as_string().in_([address_fingerprint(a) for a in addresses]))
        elif how == "address_in":
            parts += [sa.cast(column, sa.Text).contains(a, autoescape=True) for a in addresses]
        else:
            raise ValueError(f"unknown match {how!r} for {source.table}.{spec}")
    return sa.or_(*parts) if parts and addresses else sa.false()


def _person_rows(source, user_id: int, addresses: list[str]):
    return sa.or_(subject_clause(source, user_id), matched_clause(source, addresses))


def _pseudonymise(user_id: int) -> None:
    ref = pseudonym(user_id)
    addresses = person_addresses(user_id)
    for source in SOURCES:
        if source.erasure != "pseudonymise":
            continue
        table = db.metadata.tables[source.table]
        values = {name: col.replace_with or _blank(table.c[name]) for name, col in source.columns.items()
                  if col.erase == "anonymise"}
        if source.matched_by:  # rows about the person without their id (e.g. a failed log-in with their address)
            db.session.execute(sa.update(table).where(matched_clause(source, addresses)).values({**values, "subject_ref": ref}))
        for subject_col in source.subject:
            ref_col = subject_col.replace("_id", "_ref")
            ref_col = ref_col if ref_col in table.c else "subject_ref"
            stmt = sa.update(table).where(table.c[subject_col] == user_id)
            if source.table == "privacy_request":
                # the erasure request itself is closed last (it still needs to know whom it is about)
                stmt = stmt.where(table.c.kind != "erasure")
            db.session.execute(stmt.values({**values, ref_col: ref}))


def _blank(column):
    if column.nullable:
        return None
    if isinstance(column.type, sa.JSON):
        return {}
    return ""


def _delete_export_files(user_id: int) -> None:
    for export in db.session.scalars(sa.select(DataExport).where(DataExport.user_id == user_id)):
        delete_export_file(export)
    # the company's AI-literacy evidence packs hold the person's name and records (or, as the admin who made
    # one, their name): their files go too
    org_id = db.session.scalar(sa.select(User.org_id).where(User.id == user_id))
    if org_id is not None:
        expire_packs(utcnow(), org_id=org_id)


def _delete_rows(user_id: int) -> None:
    addresses = person_addresses(user_id)  # before the rows that hold them go
    # children before parents: the person's own row goes last
    order = {t.name: i for i, t in enumerate(db.metadata.sorted_tables)}
    for source in sorted(personal_sources(), key=lambda s: -order[s.table]):
        if source.erasure == "delete" and source.table != "user_account":
            table = db.metadata.tables[source.table]
            db.session.execute(sa.delete(table).where(_person_rows(source, user_id, addresses)))


def _delete_person(user_id: int) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    org_id = user.org_id
    db.session.delete(user)
    db.session.flush()
    if org_id is not None:
        left = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.org_id == org_id))
        org = db.session.get(Organization, org_id)
        if left == 0 and org is not None:
            db.session.delete(org)  # nobody left: the company goes too (its teams cascade)


def _close_request(req: PrivacyRequest, user_id: int) -> None:
    req.subject_ref = pseudonym(user_id)
    req.user_id = None
    req.details = ""
    req.status, req.completed_at, req.last_error = "completed", utcnow(), ""


STEPS = [
    ("pseudonymise kept records", lambda req, uid: _pseudonymise(uid)),
    ("delete export files", lambda req, uid: _delete_export_files(uid)),
    ("delete personal rows", lambda req, uid: _delete_rows(uid)),
    ("delete the account", lambda req, uid: _delete_person(uid)),
    ("close the request", _close_request),
]


def run_erasure(req: PrivacyRequest, now=None) -> None:
    """Run (or resume) the steps of an erasure request; each is committed with the step counter. A person under a
    legal hold is not erased: the request stays as it is, and the first retention run after the hold ends carries
    it out (the rule ``erasure_due``). ``now``: the time holds are judged at (retention's ``--now``)."""
    user_id = req.user_id
    if is_held(user_id, now):
        return
    if user_id is None and req.step < len(STEPS):
        # resumed after "delete the account": only the bookkeeping is left
        user_id = int(req.details or 0) if (req.details or "").isdigit() else None
    if req.step == 0:
        req.details = str(user_id)  # whom it is about, kept until the request is closed
    req.status = RequestStatus.IN_PROGRESS
    db.session.commit()
    try:
        while req.step < len(STEPS):
            name, step = STEPS[req.step]
            step(req, user_id)
            req.step += 1
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        req = db.session.get(PrivacyRequest, req.id)
        req.status, req.last_error = "error", f"step {req.step + 1} ({STEPS[req.step][0]}): {type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        raise
    audit.record("privacy.erasure_completed", request_id=req.id, subject_ref=req.subject_ref)
    db.session.commit()
    checkpoint()


def checkpoint() -> None:
    """SQLite: move the WAL into the database and truncate it, so no old page image keeps erased values."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_erasure_request(request_id: int) -> None:
    """The ``privacy.erase`` job: erase what the request asks for, unless it was cancelled or finished meanwhile."""
    req = db.session.get(PrivacyRequest, request_id)
    if req is None or req.status in (RequestStatus.CANCELLED, RequestStatus.COMPLETED, RequestStatus.REJECTED):
        return
    run_erasure(req)
