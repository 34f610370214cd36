from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.extensions import db
from leadthe.mail import customer_text, queue_mail
from leadthe.models import Invitation, Organization, PrivacyRequest, Team, User, utcnow
from leadthe.models.enums import InvitationStatus, NoticeKind, OrgStatus, RequestStatus, Role, TicketStatus, UserStatus
from leadthe.models.support import Notice, SupportTicket
from leadthe.process_tables import ProcessTable
from leadthe.query_args import name_contains
from leadthe.worker import enqueue_job

OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.SCHEDULED, RequestStatus.IN_PROGRESS, RequestStatus.ERROR)


def privacy_queue(show: str = "open", page: int = 1, per_page: int = 50):
    stmt = sa.select(PrivacyRequest)
    if show == "open":
        stmt = stmt.where(PrivacyRequest.status.in_(OPEN_STATUSES))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(PrivacyRequest.due_at, PrivacyRequest.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def close_company(org: Organization, staff_user: User, reason: str) -> int:
    """The company leaves: everyone is signed out and told, its pending invitations stop working; the data
    is erased after the retention period."""
    now = utcnow()
    org.status, org.closed_at = "closed", now
    revoked = db.session.execute(sa.update(Invitation).where(Invitation.org_id == org.id, Invitation.status == InvitationStatus.PENDING)
                                 .values(status="revoked")).rowcount
    people = db.session.scalars(sa.select(User).where(User.org_id == org.id, User.status != UserStatus.CLOSED)).all()
    days = current_app.config["RETENTION_CLOSED_DAYS"]
    for person in people:
        person.status, person.closed_at = "closed", now
        revoke_all_sessions(person.id)
        queue_mail(person.email, _l("Your company has left LeadThe.AI"), "company_closed", kind="privacy", user=person,
                   name=customer_text(person.first_name), org=customer_text(org.name), days=days)
    audit.record("org.closed", actor=staff_user, org_id=org.id, reason=reason, people=len(people), invitations_revoked=revoked)
    return len(people)


@dataclass(frozen=True)
class DashboardNotice:
    """What the dashboard shows of a general notice (kept per process: no ORM object outlives its session)."""
    title: str
    body: str
    created_at: datetime


NOTICE_DAYS = 14  # a general notice stays on the dashboard this long
# every dashboard view asks for them: kept per process (another process's new notice shows within 30 s)
_notice_table = ProcessTable("dashboard_notices", (Notice,), 30.0)


def recent_notices() -> list[DashboardNotice]:
    """General notices for the dashboard, newest first, at most 3 (a change of ownership has its own banner on
    every page)."""
    def load() -> tuple[DashboardNotice, ...]:
        return tuple(DashboardNotice(*row) for row in db.session.execute(
            sa.select(Notice.title, Notice.body, Notice.created_at)
            .where(Notice.created_at >= utcnow() - timedelta(days=NOTICE_DAYS), Notice.kind == NoticeKind.GENERAL)
            .order_by(Notice.id.desc()).limit(3)))

    since = utcnow() - timedelta(days=NOTICE_DAYS)
    return [n for n in _notice_table.get(None, load) if n.created_at >= since]


CONSOLE_PER_PAGE = 50
ORG_STATUSES = tuple(OrgStatus)


@dataclass(frozen=True)
class OrgFilters:
    q: str = ""  # part of the name, any case
    status: str = ""  # "" for every status
    page: int = 1


def organisations_page(f: OrgFilters) -> tuple[list[tuple], int]:
    """One page of companies (id, name, status, since, people, teams) and how many match: four queries whatever
    the page holds, and the counts read only the page's companies (by the org_id indexes), not every person."""
    stmt = sa.select(Organization.id, Organization.name, Organization.status, Organization.created_at)
    if f.q:
        stmt = stmt.where(name_contains(Organization.name, f.q))
    if f.status:
        stmt = stmt.where(Organization.status == f.status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    orgs = db.session.execute(stmt.order_by(sa.func.lower(Organization.name), Organization.id)
                              .limit(CONSOLE_PER_PAGE).offset((f.page - 1) * CONSOLE_PER_PAGE)).all()
    ids = [org.id for org in orgs]
    people = dict(db.session.execute(sa.select(User.org_id, sa.func.count()).where(User.org_id.in_(ids))
                                     .group_by(User.org_id)).all()) if ids else {}
    teams = dict(db.session.execute(sa.select(Team.org_id, sa.func.count()).where(Team.org_id.in_(ids))
                                    .group_by(Team.org_id)).all()) if ids else {}
    return [(org.id, org.name, org.status, org.created_at, people.get(org.id, 0), teams.get(org.id, 0))
            for org in orgs], total


def open_counts() -> tuple[int, int]:
    """Open privacy requests and open or waiting support tickets, for the console."""
    open_requests = db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)
                                      .where(PrivacyRequest.status.in_(OPEN_STATUSES)))
    open_tickets = db.session.scalar(sa.select(sa.func.count()).select_from(SupportTicket)
                                     .where(SupportTicket.status.in_((TicketStatus.OPEN, TicketStatus.WAITING))))
    return open_requests, open_tickets


def staff_choices() -> dict:
    """Whom a support ticket can be assigned to: active staff and DPO accounts."""
    return {"": _("Nobody"), **{str(u.id): u.name for u in db.session.scalars(
        sa.select(User).where(User.role.in_((Role.STAFF, Role.DPO)), User.status == UserStatus.ACTIVE).order_by(User.name))}}


def send_notice(staff_user: User, title: str, body: str) -> Notice:
    """A notice shown to everyone on their dashboard, and mailed to them by the ``notice.mail`` job."""
    notice = Notice(title=title, body=body, created_by_id=staff_user.id)
    db.session.add(notice)
    db.session.flush()
    enqueue_job("notice.mail", {"notice_id": notice.id})
    audit.record("staff.notice_sent", actor=staff_user, notice_id=notice.id)
    return notice


def send_ownership_notice(staff_user: User, notice: Notice) -> Notice:
    """A change of ownership (issue 21): shown on every page until each person closes it, and mailed to every
    active person once by the ``notice.mail`` job (resumable). ``notice`` is the previewed, unsaved notice."""
    notice.kind, notice.created_by_id = NoticeKind.OWNERSHIP, staff_user.id
    notice.title = _OWNERSHIP_TITLE  # fixed words: the banner and the mail are worded in each reader's language
    db.session.add(notice)
    db.session.flush()
    enqueue_job("notice.mail", {"notice_id": notice.id})
    audit.record("staff.ownership_notice_sent", actor=staff_user, notice_id=notice.id,
                 transfer_on=notice.transfer_on.isoformat() if notice.transfer_on else None)
    return notice


_OWNERSHIP_TITLE = "Change of ownership"


def ownership_preview(data: dict) -> Notice:
    """An unsaved notice from the staff form, for the preview (and, once confirmed, for sending)."""
    return Notice(kind=NoticeKind.OWNERSHIP, title=_OWNERSHIP_TITLE, new_owner=data["new_owner"].strip(),
                  transfer_on=data["transfer_on"], body=data["body"].strip(), contact=data["contact"].strip())


def latest_notices(limit: int = 50) -> list[Notice]:
    return list(db.session.scalars(sa.select(Notice).order_by(Notice.id.desc()).limit(limit)))
