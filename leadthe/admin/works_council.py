"""Turning works-council mode on or off (issue 21): the change is audited, recorded with the admin's reason when the
mode is turned off, shown as a banner to everyone in the company for ``BANNER_DAYS`` days, and mailed to every active
person of the company once by the ``works_council.notify`` job (leadthe/admin/jobs.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from leadthe import audit
from leadthe.extensions import db
from leadthe.i18n import format_when
from leadthe.labels import ROLE
from leadthe.models import Organization, User, utcnow
from leadthe.models.works_council import WorksCouncilNotice
from leadthe.process_tables import ProcessTable
from leadthe.tenancy import scoped
from leadthe.worker import enqueue_job

BANNER_DAYS = 14  # how long the banner shows on every page of the company's people


def change_mode(org: Organization, admin: User, on: bool, reason: str = "") -> WorksCouncilNotice:
    """Set the mode (the caller checked that it changes, and that turning it off has a reason), audit it and queue the
    notice to everyone in the company."""
    now = utcnow()
    org.works_council_mode = on
    org.works_council_changed_at = now
    reason = "" if on else (reason or "").strip()
    if on:
        audit.record("org.works_council_on", actor=admin, org_id=org.id)
    else:
        audit.record("org.works_council_off", actor=admin, org_id=org.id, reason=reason)
    notice = WorksCouncilNotice(org_id=org.id, turned_on=on, reason=reason, actor_id=admin.id,
                                actor_role=str(admin.role),
                                created_at=now, expires_at=now + timedelta(days=BANNER_DAYS))
    db.session.add(notice)
    db.session.flush()
    enqueue_job("works_council.notify", {"notice_id": notice.id})
    return notice


@dataclass(frozen=True)
class Banner:
    """What the banner shows of a notice (kept per process, so no ORM object outlives its session)."""
    turned_on: bool
    reason: str
    actor_role: str
    created_at: datetime
    expires_at: datetime


# every page of a company's people asks for its banner: kept per process (another process's change shows within
# 30 s; this process's own at once), so most pages ask the database nothing for it
_banner_table = ProcessTable("works_council_banners", (WorksCouncilNotice,), 30.0)


def current_notices(user) -> list[Banner]:
    """The banners for a signed-in person of a company: the latest change of the mode within its banner days."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "org_id", None):
        return []
    org_id = user.org_id

    def load() -> Banner | None:
        row = db.session.execute(scoped(WorksCouncilNotice, org_id).with_only_columns(
            WorksCouncilNotice.turned_on, WorksCouncilNotice.reason, WorksCouncilNotice.actor_role,
            WorksCouncilNotice.created_at, WorksCouncilNotice.expires_at)
            .where(WorksCouncilNotice.expires_at > utcnow()).order_by(WorksCouncilNotice.id.desc()).limit(1)).first()
        return Banner(*row) if row is not None else None

    latest = _banner_table.get(org_id, load)
    return [latest] if latest is not None and latest.expires_at > utcnow() else []


def role_words(notice: WorksCouncilNotice | Banner) -> str:
    return str(ROLE.get(notice.actor_role, ROLE["admin"]))


def headline(notice: Banner) -> str:
    if notice.turned_on:
        return _("Works-council mode was turned on")
    return _("Works-council mode was turned off")


def text(notice: Banner) -> str:
    """What the banner says, in the interface language."""
    who = role_words(notice)
    when = format_when(notice.created_at)
    if notice.turned_on:
        return _("On %(when)s (UTC), works-council mode was turned on for your company (by: %(role)s). "
                 "Managers and admins now see only figures of groups of at least 5 people: no one's individual "
                 "results, and you appear on leaderboards only if you choose to in your privacy choices.",
                 when=when, role=who)
    return _("On %(when)s (UTC), works-council mode was turned off for your company (by: %(role)s). "
             "Managers and admins can again see each person's learning progress in the teams they look after, and "
             "leaderboards are no longer opt-in. The reason given: %(reason)s",
             when=when, role=who, reason=notice.reason)


def banners(user) -> list[tuple[str, str]]:
    """(headline, text) of the banner for base.html; nothing when the database cannot say (an error page)."""
    try:
        return [(headline(n), text(n)) for n in current_notices(user)]
    except Exception:  # noqa: BLE001 - the layout of an error page must render without the database
        return []
