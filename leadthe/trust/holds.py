"""Legal holds: what erasure and retention must skip, and placing, changing and releasing holds.

A hold is active from ``starts_at`` until it is released or its ``ends_at`` passes. It covers a person (their own
hold) or every person of a company (the company's hold) and the company's own rows. Erasure and retention ask
SQL, not Python: ``held_users`` and ``held_orgs`` are subqueries that the rules put into their own WHERE clauses,
so a rule deletes everything due except the held rows in one statement, and counts what it skipped in another.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import Organization, User, utcnow
from leadthe.models.holds import LegalHold
from leadthe.tenancy import unscoped

_ACROSS = "legal holds are platform-level: staff and the retention job see them across companies"


def active_clause(now: datetime | None = None):
    now = now or utcnow()
    return sa.and_(LegalHold.released_at.is_(None), LegalHold.starts_at <= now,
                   sa.or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now))


def held_orgs(now: datetime | None = None):
    """Ids of companies under an active hold."""
    return sa.select(LegalHold.org_id).where(active_clause(now), LegalHold.org_id.is_not(None))


def held_users(now: datetime | None = None):
    """Ids of people under an active hold: their own, or their company's."""
    own = sa.select(LegalHold.user_id).where(active_clause(now), LegalHold.user_id.is_not(None))
    by_company = sa.select(User.id).where(User.org_id.in_(held_orgs(now)))
    return sa.union(own, by_company)


def held_clause(model, now: datetime | None = None):
    """The rows of ``model`` that a hold keeps: rows about a held person (``user_id``) or of a held company
    (``org_id``). NULL ids are never held, so ``~held_clause`` is a plain filter, not a three-valued trap."""
    parts = []
    for name in ("user_id", "contact_user_id", "actor_id", "subject_id"):
        column = getattr(model, name, None)
        if column is not None:
            parts.append(sa.and_(column.is_not(None), column.in_(held_users(now))))
    if getattr(model, "org_id", None) is not None:
        parts.append(sa.and_(model.org_id.is_not(None), model.org_id.in_(held_orgs(now))))
    return sa.or_(*parts) if parts else sa.false()


def orgs_with_holds(now: datetime | None = None):
    """Companies that a hold touches at all: their own hold, or one of their people's (a company with a held person
    is not deleted as a whole)."""
    return sa.union(held_orgs(now), sa.select(User.org_id).where(User.id.in_(held_users(now)), User.org_id.is_not(None)))


def is_held(user_id: int | None, now: datetime | None = None) -> bool:
    if user_id is None:
        return False
    held = held_users(now).subquery()
    stmt = sa.select(sa.exists(sa.select(held.c[0]).where(held.c[0] == user_id)))
    return bool(db.session.scalar(unscoped(stmt, reason=_ACROSS)))


# --- the staff pages' reads --------------------------------------------------------------------------------------

def list_holds():
    """Every hold with its target's e-mail or company name and who placed it (one query, newest first)."""
    target = sa.orm.aliased(User)
    creator = sa.orm.aliased(User)
    stmt = (sa.select(LegalHold, target.email, Organization.name, creator.email)
            .outerjoin(target, target.id == LegalHold.user_id)
            .outerjoin(Organization, Organization.id == LegalHold.org_id)
            .outerjoin(creator, creator.id == LegalHold.created_by_id)
            .order_by(LegalHold.released_at.is_not(None), LegalHold.id.desc()))
    return db.session.execute(unscoped(stmt, reason=_ACROSS)).all()


def get_hold(hold_id: int) -> LegalHold | None:
    return db.session.scalar(unscoped(sa.select(LegalHold).where(LegalHold.id == hold_id), reason=_ACROSS))


def target_of(hold: LegalHold):
    """The held person or company (None once erased after the hold)."""
    if hold.user_id is not None:
        return db.session.scalar(unscoped(sa.select(User).where(User.id == hold.user_id), reason=_ACROSS))
    if hold.org_id is not None:
        return db.session.scalar(unscoped(sa.select(Organization).where(Organization.id == hold.org_id), reason=_ACROSS))
    return None


def find_person(email: str) -> User | None:
    stmt = sa.select(User).where(sa.func.lower(User.email) == email.strip().lower(), User.org_id.is_not(None))
    return db.session.scalar(unscoped(stmt, reason="staff name a person of any company by address"))


def find_company(text: str) -> Organization | None:
    text = text.strip()
    cond = Organization.id == int(text) if text.isdigit() else sa.func.lower(Organization.name) == text.lower()
    return db.session.scalars(unscoped(sa.select(Organization).where(cond).order_by(Organization.id).limit(1),
                                       reason="staff name any company")).first()


def held_people_ids(user_ids) -> set[int]:
    """Which of these people are held now (one query; for the DPO queue's badges)."""
    ids = [i for i in user_ids if i is not None]
    if not ids:
        return set()
    stmt = sa.select(User.id).where(User.id.in_(ids), User.id.in_(held_users()))
    return set(db.session.scalars(unscoped(stmt, reason=_ACROSS)))


def active_count() -> int:
    return db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(LegalHold).where(active_clause()),
                                      reason=_ACROSS)) or 0


# --- changes (each one audited) ----------------------------------------------------------------------------------

def _audit_target(hold: LegalHold) -> dict:
    return {"hold_id": hold.id, "target_user_id": hold.user_id, "target_org_id": hold.org_id}


def place_hold(actor: User, *, person: User | None, company: Organization | None, reason: str, reference: str,
               ends_at: datetime | None) -> LegalHold:
    hold = LegalHold(user_id=person.id if person else None, org_id=company.id if company else None, reason=reason,
                     reference=reference, starts_at=utcnow(), ends_at=ends_at, created_by_id=actor.id)
    db.session.add(hold)
    db.session.flush()
    # no subject nor company on the event: the person's security page and the company's audit log must not show it
    audit.record("legal_hold.placed", actor=actor, reason=reason, reference=reference, ends_at=ends_at.isoformat() if ends_at else None,
                 **_audit_target(hold))
    return hold


def change_hold(hold: LegalHold, actor: User, *, reason: str, reference: str, ends_at: datetime | None,
                change_reason: str) -> None:
    before = {"reason": hold.reason, "reference": hold.reference, "ends_at": hold.ends_at.isoformat() if hold.ends_at else None}
    hold.reason, hold.reference, hold.ends_at = reason, reference, ends_at
    after = {"reason": reason, "reference": reference, "ends_at": ends_at.isoformat() if ends_at else None}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit.record("legal_hold.changed", actor=actor, change_reason=change_reason, changed=changed, **_audit_target(hold))


def release_hold(hold: LegalHold, actor: User, release_reason: str) -> None:
    hold.released_at, hold.released_by_id, hold.release_reason = utcnow(), actor.id, release_reason
    audit.record("legal_hold.released", actor=actor, reason=release_reason, **_audit_target(hold))
