"""The company's AI-use policy: one draft, published versions, and who acknowledged which version.

Publishing gives the draft the next version number. A **material** change asks every active person of the
company to read and acknowledge it: one ``AiPolicyAck`` row per person (one INSERT ... SELECT), a notice on
every page until they do (``pending_for``), a mail (the ``ai_policy.mail`` job, in batches; ``mailed_at``
marks who has had it, so a restarted job never mails anyone twice) and one reminder after
``REMINDER_AFTER`` (the daily ``ai_policy.reminders`` job; ``reminded_at``). A **minor** change asks nobody.

Who must acknowledge what: the newest published version, whenever a material change was published since the
person last acknowledged a version (or they never did). So a newcomer (``person_changed`` with ``{"joined"}``)
is asked to acknowledge the newest version as soon as the company has published any material change; after a
material version N and a minor N+1, they acknowledge N+1, which includes N's change. Acknowledging closes every
open request of that person (the newest version covers the older ones).

Acknowledgement figures are aggregate queries per version ("acknowledged by N of M people", M = people asked).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.auth.sessions import forget_session_fact, session_fact
from leadthe.courses.content import render_markdown
from leadthe.extensions import db
from leadthe.labels import POLICY_CHANGE
from leadthe.literacy.policy_template import STARTER
from leadthe.mail import customer_text, queue_mail
from leadthe.models import AiPolicyAck, AiPolicyVersion, Organization, User, utcnow
from leadthe.models.enums import PolicyChange, UserStatus
from leadthe.net import absolute_url
from leadthe.signals import person_changed
from leadthe.tenancy import get_or_404, scoped, scoped_get
from leadthe.worker import enqueue_job

REMINDER_AFTER = timedelta(days=7)
MAIL_BATCH = 500
MAX_BODY = 50_000

CHANGE_LABELS = POLICY_CHANGE


@dataclass
class VersionRow:
    version: AiPolicyVersion
    publisher: str
    asked: int
    acknowledged: int


# --- reading --------------------------------------------------------------------------------------------

def current_version(org_id: int | None = None) -> AiPolicyVersion | None:
    """The newest published version, or None before the first publication."""
    return db.session.scalar(scoped(AiPolicyVersion, org_id).where(AiPolicyVersion.published_at.is_not(None))
                             .order_by(AiPolicyVersion.version.desc()).limit(1))


def draft_of(org_id: int | None = None) -> AiPolicyVersion | None:
    return db.session.scalar(scoped(AiPolicyVersion, org_id).where(AiPolicyVersion.published_at.is_(None))
                             .order_by(AiPolicyVersion.id).limit(1))


def history(org_id: int | None = None) -> list[VersionRow]:
    """Published versions, newest first, each with who published it and its acknowledgement figures
    (three queries whatever the size of the company)."""
    versions = list(db.session.scalars(scoped(AiPolicyVersion, org_id).where(AiPolicyVersion.published_at.is_not(None))
                                       .order_by(AiPolicyVersion.version.desc())))
    if not versions:
        return []
    ids = [v.id for v in versions]
    figures = {vid: (asked, done) for vid, asked, done in db.session.execute(
        sa.select(AiPolicyAck.version_id, sa.func.count(), sa.func.count(AiPolicyAck.acknowledged_at))
        .where(AiPolicyAck.version_id.in_(ids)).group_by(AiPolicyAck.version_id))}
    people = {v.published_by_id for v in versions if v.published_by_id}
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    return [VersionRow(v, names.get(v.published_by_id, ""), *figures.get(v.id, (0, 0))) for v in versions]


def version_or_404(version_id) -> AiPolicyVersion:
    """A published version of the current company (a draft or another company's version: 404)."""
    version = get_or_404(AiPolicyVersion, version_id)
    if version.published_at is None:
        abort(404)
    return version


def figures_of(version: AiPolicyVersion) -> tuple[int, int]:
    """(people asked, people who acknowledged) for one version."""
    asked, done = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(AiPolicyAck.acknowledged_at)).where(AiPolicyAck.version_id == version.id)).one()
    return asked, done


def pending_for(user) -> bool:
    """True while the person has a version to acknowledge: one indexed query (the notice on every page)."""
    if not getattr(user, "is_authenticated", False) or not user.org_id or user.is_platform_staff:
        return False
    known = session_fact(user, "policy_pending")  # asked with the session at the start of the request
    if known is not None:
        return known
    return db.session.scalar(sa.select(AiPolicyAck.id).where(
        AiPolicyAck.user_id == user.id, AiPolicyAck.org_id == user.org_id, AiPolicyAck.acknowledged_at.is_(None)).limit(1)) is not None


def own_acknowledgements(user) -> dict[int, datetime]:
    """version id -> when this person acknowledged it."""
    return dict(db.session.execute(sa.select(AiPolicyAck.version_id, AiPolicyAck.acknowledged_at).where(
        AiPolicyAck.user_id == user.id, AiPolicyAck.acknowledged_at.is_not(None))).all())


# --- writing --------------------------------------------------------------------------------------------

def save_draft(actor: User, data: dict) -> AiPolicyVersion:
    """Create or update the company's one draft from the editor's fields."""
    draft = draft_of(actor.org_id)
    if draft is None:
        draft = AiPolicyVersion(org_id=actor.org_id, version=0, created_by_id=actor.id)
        db.session.add(draft)
    draft.title, draft.summary = data["title"], data.get("summary", "")
    draft.body_md = data["body_md"]
    draft.body_html = render_markdown(draft.body_md)
    draft.change = data["change"]
    db.session.flush()
    return draft


def publish(actor: User, draft: AiPolicyVersion, now: datetime | None = None) -> tuple[AiPolicyVersion, int]:
    """Give the draft the next version number; a material change asks everyone (and queues their mail)."""
    now = now or utcnow()
    last = db.session.scalar(sa.select(sa.func.max(AiPolicyVersion.version)).where(AiPolicyVersion.org_id == actor.org_id)) or 0
    draft.version, draft.published_at, draft.published_by_id = last + 1, now, actor.id
    draft.body_html = render_markdown(draft.body_md)
    db.session.flush()
    asked = 0
    if draft.change == PolicyChange.MATERIAL:
        asked = ask_everyone(draft, now)
        enqueue_job("ai_policy.mail", {"version_id": draft.id})
    audit.record("ai_policy.published", actor=actor, org_id=actor.org_id, reference=f"v{draft.version}", kind=draft.change)
    return draft, asked


def ask_everyone(version: AiPolicyVersion, now: datetime) -> int:
    """One request per active person of the company who has none for this version yet (one INSERT ...
    SELECT). Older open requests are superseded: they get no reminder of their own."""
    db.session.execute(sa.update(AiPolicyAck).where(
        AiPolicyAck.org_id == version.org_id, AiPolicyAck.acknowledged_at.is_(None), AiPolicyAck.reminded_at.is_(None),
        AiPolicyAck.version_id != version.id).values(reminded_at=now).execution_options(synchronize_session=False))
    already = sa.select(AiPolicyAck.id).where(AiPolicyAck.user_id == User.id, AiPolicyAck.version_id == version.id)
    people = sa.select(User.org_id, User.id, sa.literal(version.id), sa.literal(now, sa.DateTime(timezone=True))).where(
        User.org_id == version.org_id, User.status == UserStatus.ACTIVE, ~sa.exists(already))
    result = db.session.execute(sa.insert(AiPolicyAck).from_select(
        ["org_id", "user_id", "version_id", "asked_at"], people))
    forget_session_fact("policy_pending")  # the publisher is asked too
    return result.rowcount or 0


def acknowledge(user: User, now: datetime | None = None) -> bool:
    """Record that the person read the policy: closes each of their open requests. Doing it again changes
    nothing. True when something was recorded."""
    now = now or utcnow()
    result = db.session.execute(sa.update(AiPolicyAck).where(
        AiPolicyAck.user_id == user.id, AiPolicyAck.org_id == user.org_id, AiPolicyAck.acknowledged_at.is_(None))
        .values(acknowledged_at=now).execution_options(synchronize_session=False))
    forget_session_fact("policy_pending")
    if not result.rowcount:
        return False
    version = current_version(user.org_id)
    audit.record("ai_policy.acknowledged", actor=user, subject=user, reference=f"v{version.version}" if version else "")
    return True


def needs_asking(user: User) -> AiPolicyVersion | None:
    """The version this person must acknowledge and is not yet asked to (see the module's rule), or None."""
    material_at = db.session.scalar(sa.select(sa.func.max(AiPolicyVersion.published_at)).where(
        AiPolicyVersion.org_id == user.org_id, AiPolicyVersion.change == PolicyChange.MATERIAL,
        AiPolicyVersion.published_at.is_not(None)))
    if material_at is None:
        return None
    last_ack, open_request = db.session.execute(sa.select(
        sa.func.max(AiPolicyAck.acknowledged_at),
        sa.func.count(AiPolicyAck.id).filter(AiPolicyAck.acknowledged_at.is_(None))).where(AiPolicyAck.user_id == user.id)).one()
    if open_request or (last_ack is not None and _aware(last_ack) >= _aware(material_at)):
        return None
    return current_version(user.org_id)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def ask_newcomer(user: User, now: datetime | None = None) -> bool:
    """A person who joined: asked (and mailed) at once when the company has a material change for them."""
    if user.status != UserStatus.ACTIVE or not user.org_id:
        return False
    version = needs_asking(user)
    if version is None:
        return False
    now = now or utcnow()
    row = AiPolicyAck(org_id=user.org_id, user_id=user.id, version_id=version.id, asked_at=now, mailed_at=now)
    db.session.add(row)
    org_name = db.session.scalar(sa.select(Organization.name).where(Organization.id == user.org_id))
    _mail(user.id, user.email, user.name, user.locale, version, org_name, reminder=False)
    db.session.flush()
    return True


def _on_person_changed(sender, changed=frozenset(), **_extra) -> None:
    if "joined" in (changed or ()):
        ask_newcomer(sender)


def connect_signals() -> None:
    person_changed.connect(_on_person_changed)


# --- mail -----------------------------------------------------------------------------------------------

def _mail(user_id: int, email: str, name: str, locale: str, version: AiPolicyVersion, org_name: str, *, reminder: bool) -> None:
    # the policy's title and the company's name are customer text: only in the body, made safe there
    subject = (_l("Reminder: please read your company's AI-use policy") if reminder
               else _l("Please read your company's AI-use policy"))
    queue_mail(email, subject, "ai_policy_reminder" if reminder else "ai_policy_published",
               kind="ai_policy", user_id=user_id, locale=locale, name=customer_text((name or "").split(" ")[0], 60),
               company=customer_text(org_name), title=customer_text(version.title, 200), number=version.version,
               summary=customer_text(version.summary, 500), link=absolute_url("literacy.ai_policy"))


def _open_requests(version_ids, *extra):
    return (sa.select(AiPolicyAck.id, AiPolicyAck.version_id, User.id, User.email, User.name, User.locale)
            .join(User, User.id == AiPolicyAck.user_id)
            .where(AiPolicyAck.version_id.in_(version_ids), AiPolicyAck.acknowledged_at.is_(None),
                   User.status == UserStatus.ACTIVE, *extra).order_by(AiPolicyAck.id))


def send_publication_mails(version_id: int, batch: int = MAIL_BATCH, now: datetime | None = None) -> int:
    """Mail everyone asked to acknowledge ``version_id`` who has not had the mail, in batches: each batch's
    mails and its ``mailed_at`` marks commit together, so a worker stopped half-way resumes where it was."""
    version = scoped_get(AiPolicyVersion, version_id)  # the worker: no company in context, so any company's
    if version is None:
        return 0
    org_name = db.session.scalar(sa.select(Organization.name).where(Organization.id == version.org_id))
    return _in_batches(_open_requests([version_id], AiPolicyAck.mailed_at.is_(None)), "mailed_at", batch, now,
                       lambda row: _mail(*row[2:], version, org_name, reminder=False))


def send_reminders(now: datetime | None = None, batch: int = MAIL_BATCH) -> int:
    """One reminder to each person asked at least ``REMINDER_AFTER`` ago who has not acknowledged, never a
    second one (``reminded_at``)."""
    now = now or utcnow()
    due = sa.select(AiPolicyAck.version_id).where(
        AiPolicyAck.acknowledged_at.is_(None), AiPolicyAck.reminded_at.is_(None), AiPolicyAck.mailed_at.is_not(None),
        AiPolicyAck.asked_at <= now - REMINDER_AFTER).distinct()
    version_ids = list(db.session.scalars(due))
    if not version_ids:
        return 0
    versions = {v.id: v for v in db.session.scalars(sa.select(AiPolicyVersion).where(AiPolicyVersion.id.in_(version_ids)))}
    orgs = dict(db.session.execute(sa.select(Organization.id, Organization.name).where(
        Organization.id.in_({v.org_id for v in versions.values()}))).all())
    query = _open_requests(version_ids, AiPolicyAck.reminded_at.is_(None), AiPolicyAck.mailed_at.is_not(None),
                           AiPolicyAck.asked_at <= now - REMINDER_AFTER)
    return _in_batches(query, "reminded_at", batch, now, lambda row: _mail(
        *row[2:], versions[row[1]], orgs.get(versions[row[1]].org_id, ""), reminder=True))


def _in_batches(query, mark: str, batch: int, now: datetime | None, send_one) -> int:
    """Run ``send_one`` for each row of ``query`` (rows of open requests, ordered by id) and set ``mark`` on
    them, committing each batch; the cursor (the last id) moves on, and the mark keeps a rerun from resending."""
    now, sent, cursor = now or utcnow(), 0, 0
    while True:
        rows = db.session.execute(query.where(AiPolicyAck.id > cursor).limit(batch)).all()
        if not rows:
            return sent
        for row in rows:
            send_one(row)
        ids = [row[0] for row in rows]
        db.session.execute(sa.update(AiPolicyAck).where(AiPolicyAck.id.in_(ids)).values({mark: now})
                           .execution_options(synchronize_session=False))
        db.session.commit()
        sent, cursor = sent + len(rows), ids[-1]


# --- the starter template -------------------------------------------------------------------------------

def starter(locale: str) -> tuple[str, str]:
    """(title, Markdown body) of the starter policy in the admin's language, to adapt."""
    return STARTER.get(locale, STARTER["en"])
