"""Server-side session records behind each signed-in browser.

The browser's (signed) cookie holds a random token; the ``user_session`` row holds its SHA-256, when it
was created and last seen, and whether it was revoked. Every request checks the row, so the idle timeout
and the absolute lifetime are enforced by the server, and revoking a row signs that browser out on its
next request.
"""
from __future__ import annotations

import functools
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from leadthe.auth import drafts
from leadthe.consent.services import link_ledger_to_user
from leadthe.database import SAFE_METHODS, write_transaction
from leadthe.extensions import db, login_manager
from leadthe.models import AiPolicyAck, User, UserSession, utcnow
from leadthe.models.billing import BillingMember
from leadthe.net import client_ip, user_agent
from leadthe.tenancy import unscoped

# Last-seen times are written at most this often, so reads stay reads.
TOUCH_EVERY_SECONDS = 60
# Requests that are no activity: the idle warning asking how long the session has left (its "Stay signed
# in", auth.session_refresh, always counts).
UNTOUCHED = frozenset({"auth.session_status"})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(user: User, *, proved_now: bool = False) -> UserSession:
    """Sign ``user`` in with a brand-new session (no fixation: nothing of the old cookie survives but
    the person's own kept form, see leadthe.auth.drafts). ``proved_now``: the person typed their password (and
    code) for this sign-in, so the session begins inside the re-authentication window (leadthe.auth.reauth)."""
    kept = drafts.take_for(user.id)
    session.clear()
    drafts.put_back(kept)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + current_app.config["SESSION_MAX"],
        ip=client_ip(),
        user_agent=user_agent(),
        reauth_at=now if proved_now else None,
    )
    db.session.add(record)
    user.last_seen_at = now
    user.session_token = token
    login_user(user)
    g.user_session = record

    link_ledger_to_user(user)  # this browser's cookie decisions now belong to the account
    return record


def end_session() -> None:
    record = g.get("user_session")
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
    logout_user()
    session.clear()


def revoke_all_sessions(user_id: int, except_id: int | None = None) -> int:
    stmt = sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


def _ended_because(record: UserSession | None, now) -> str | None:
    if record is None:
        return "unknown"
    if record.revoked_at is not None:
        return "revoked"
    if now >= record.expires_at:
        return "expired"
    if now - record.last_seen_at >= current_app.config["SESSION_IDLE"]:
        return "idle"
    if not record.user.is_active:
        return "inactive"
    return None


@functools.cache
def _session_statement():
    """Built once (every request runs it): the session with its person, their company (the 2FA guard reads
    it) and their preferences (the layout reads them), in one query."""
    # What only a few pages read stays in the database until they do (the password hash, the 2FA
    # secret, where the session came from): fewer columns on every request, and no secret in memory.
    person = joinedload(UserSession.user)
    # two facts the layout asks on every page, in the same round trip (each was a query of its own): an AI-use
    # policy version waiting for the person's acknowledgement, and the billing permission (the account menu)
    org = sa.select(User.org_id).where(User.id == UserSession.user_id).correlate(UserSession).scalar_subquery()
    policy_pending = sa.exists().where(AiPolicyAck.user_id == UserSession.user_id, AiPolicyAck.org_id == org,
                                       AiPolicyAck.acknowledged_at.is_(None))
    billing_member = sa.exists().where(BillingMember.user_id == UserSession.user_id, BillingMember.org_id == org)
    return unscoped(
        sa.select(UserSession, policy_pending.label("policy_pending"), billing_member.label("billing_member"))
        .options(defer(UserSession.ip), defer(UserSession.user_agent),
                 person.defer(User.password_hash), person.defer(User.totp_secret), person.defer(User.pending_email),
                 person.joinedload(User.organization), person.joinedload(User.preference))
        .where(UserSession.token_hash == sa.bindparam("token_hash")),
        reason="finds whose session this is, before any company is known",
    )


@login_manager.user_loader
def load_user_from_session(token: str) -> User | None:
    now = utcnow()
    row = db.session.execute(_session_statement(), {"token_hash": _hash(token)}).first()
    record = row[0] if row is not None else None
    reason = _ended_because(record, now)
    if reason:
        g.session_ended = reason
        g.session_ended_user = record.user_id if record is not None else None
        session.clear()
        return None
    due = (now - record.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS or request.endpoint == "auth.session_refresh"
    if due and request.endpoint not in UNTOUCHED:
        _touch(record, now)
    user = record.user
    user.session_token = token
    g.user_session = record
    g.session_facts = {"user_id": user.id, "policy_pending": bool(row.policy_pending),
                       "billing_member": bool(row.billing_member)}
    return user


def session_fact(user, name: str) -> bool | None:
    """What the session's query found out about ``user`` when this request began (``policy_pending``,
    ``billing_member``), or None: another person, no session, or forgotten since (``forget_session_fact``)."""
    facts = g.get("session_facts") if has_request_context() else None
    if not facts or facts.get("user_id") != getattr(user, "id", None):
        return None
    return facts.get(name)


def forget_session_fact(name: str) -> None:
    """Called where a request changes the fact: its later reads ask the database again."""
    facts = g.get("session_facts") if has_request_context() else None
    if facts:
        facts.pop(name, None)


def _touch(record: UserSession, now) -> None:
    values = {"last_seen_at": now}
    if request.method in SAFE_METHODS:
        # A read request: write in a short transaction of its own (see leadthe.database).
        with write_transaction() as conn:
            conn.execute(sa.update(UserSession).where(UserSession.id == record.id).values(**values))
            conn.execute(sa.update(User).where(User.id == record.user_id).values(**values))
        set_committed_value(record, "last_seen_at", now)
    else:
        record.last_seen_at = now
        record.user.last_seen_at = now


def seconds_left(idle_only: bool = False) -> int | None:
    """How long this browser's session has left before it ends: the idle timeout or the absolute lifetime,
    whichever comes first (or the idle timeout alone)."""
    record = g.get("user_session")
    if record is None:
        return None
    end = record.last_seen_at + current_app.config["SESSION_IDLE"]
    if not idle_only:
        end = min(end, record.expires_at)
    return max(0, int((end - utcnow()).total_seconds()))
