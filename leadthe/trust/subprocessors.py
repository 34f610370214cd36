"""The sub-processors LeadThe.AI uses: who else processes personal data on our behalf, where, and under which safeguard.

The list is versioned data (``leadthe.models.subprocessors``), like the policies: staff publish a new version with an
effective date at least ``NOTICE_DAYS`` ahead; publishing announces it to every company's admins (a banner on their
pages and one mail each, ``leadthe/trust/jobs.py``), who may object until the effective date. A version takes effect
on its date by itself: ``current()`` returns the entries of the newest version whose date has come. Version 1 is the
bundled list below (``BUNDLED``), created once by the first caller that needs it.

The bundled entries, as the privacy policy names them: cloud hosting, e-mail delivery, analytics and payment
processors. The platform's analytics are its own (page views in our database, after consent), so no analytics provider
is listed; Stripe is used only when a company pays through it (``LEADTHE_STRIPE_SECRET_KEY``).

``tables`` links an entry to the registry (``leadthe.privacy.registry``): the tables whose data it processes, or ``("*",)``
for all of them (hosting). The records of processing name a sub-processor as a recipient of an activity when it
processes one of the activity's tables, and as a transfer when it is outside the EU/EEA.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.database import in_read_request, write_transaction
from leadthe.extensions import db
from leadthe.models import Organization, User, utcnow
from leadthe.models.enums import OrgStatus, Role, UserStatus
from leadthe.models.subprocessors import SubprocessorEntry, SubprocessorNotice, SubprocessorObjection, SubprocessorVersion
from leadthe.tenancy import unscoped
from leadthe.worker import enqueue_job

SCC = _l("EU Standard Contractual Clauses (Commission Decision 2021/914)")
NOTICE_DAYS = 30  # a change is announced at least this many days before it takes effect
FIRST_EFFECTIVE = datetime(2026, 11, 27, tzinfo=timezone.utc)  # version 1: published with the first policies
NOTICE_BATCH = 500


@dataclass(frozen=True)
class SubProcessor:
    key: str  # stable id (JSON, CSV, anchors)
    name: str
    purpose: str
    data: str  # the categories of data, in words
    location: str
    in_eea: bool  # False: using it is a transfer to a third country
    safeguard: str
    since: date
    tables: tuple[str, ...]

    def processes(self, table: str) -> bool:
        return "*" in self.tables or table in self.tables


# What is compared between two versions, with the words the diff uses (``tables`` is internal).
FIELDS = {"name": _l("Name"), "purpose": _l("Purpose"), "data": _l("Data"), "location": _l("Location"),
          "in_eea": _l("In the EU/EEA"), "safeguard": _l("Transfer safeguard"), "since": _l("Since"),
          "tables": _l("Registry tables")}

BUNDLED: tuple[SubProcessor, ...] = (
    SubProcessor(
        "hosting", _l("Cloud hosting provider"),
        _l("Runs the servers, the database and the file storage the platform lives on."),
        _l("All data the platform stores (it stores them; it does not use them)."),
        _l("European Union"), True, _l("None needed: the data stays in the EU/EEA."),
        date(2024, 1, 1), ("*",)),
    SubProcessor(
        "email", _l("E-mail delivery service"),
        _l("Delivers the e-mails the platform sends: invitations, account and security mail, reminders, invoices."),
        _l("Recipients' names and e-mail addresses, and the content of the e-mails."),
        _l("United States"), False, SCC,
        date(2024, 1, 1), ("outbox_mail", "invitation", "progress_mail", "invoice", "invoice_recipient")),
    SubProcessor(
        "stripe", "Stripe",
        _l("Takes card and direct-debit payments and keeps the subscription when a company pays through Stripe."),
        _l("The billing contact's name and e-mail address, the company's billing address, invoices and payments."),
        _l("United States (Stripe Payments Europe, Ltd., Ireland, contracts for the EU)"), False,
        _l("EU Standard Contractual Clauses and the EU-U.S. Data Privacy Framework"),
        date(2025, 1, 1), ("invoice", "invoice_recipient", "billing_request", "billing_member")),
)


# --- reading ---------------------------------------------------------------------------------------------

def _words(text: str) -> str:
    """A stored text in the interface language: version 1's entries are the bundled English texts, which the
    catalogue translates; a text staff wrote later is shown as written."""
    return gettext(text) if text else text


def as_subprocessor(entry: SubprocessorEntry) -> SubProcessor:
    return SubProcessor(entry.key, _words(entry.name), _words(entry.purpose), _words(entry.data), _words(entry.location),
                        entry.in_eea, _words(entry.safeguard), entry.since, tuple(entry.tables.split()))


def _bundled_rows() -> tuple[dict, list[dict]]:
    with force_locale("en"):  # the stored texts are the English msgids
        entries = [{"position": i, "key": sp.key, "name": str(sp.name), "purpose": str(sp.purpose), "data": str(sp.data),
                    "location": str(sp.location), "in_eea": sp.in_eea, "safeguard": str(sp.safeguard), "since": sp.since,
                    "tables": " ".join(sp.tables)} for i, sp in enumerate(BUNDLED)]
    return {"version": 1, "effective_at": FIRST_EFFECTIVE, "summary": "First version.", "created_at": utcnow()}, entries


def bundled_version() -> SubprocessorVersion:
    """Version 1 as a new row (for ``ensure_initial_version``, and for tests that build a world in a session)."""
    head, entries = _bundled_rows()
    return SubprocessorVersion(**head, entries=[SubprocessorEntry(**e) for e in entries])


def ensure_initial_version() -> None:
    """Version 1 from ``BUNDLED``, created once (as leadthe.legal.services.ensure_initial_policies does): a read
    request writes it in its own short transaction; other requests, the worker and the CLI flush it with their work."""
    if db.session.scalar(sa.select(SubprocessorVersion.id).where(SubprocessorVersion.version == 1)) is not None:
        return
    head, entries = _bundled_rows()
    if not in_read_request(db.session()):
        db.session.add(bundled_version())
        db.session.flush()
        return
    try:
        with write_transaction() as conn:
            version_id = conn.execute(sa.insert(SubprocessorVersion).returning(SubprocessorVersion.id), head).scalar_one()
            conn.execute(sa.insert(SubprocessorEntry), [{**e, "version_id": version_id} for e in entries])
    except sa.exc.IntegrityError:
        pass  # another process created it first
    db.session.rollback()  # ends this request's read snapshot (SQLite), so its next query sees it


def versions() -> list[SubprocessorVersion]:
    """Every version, newest first."""
    ensure_initial_version()
    return list(db.session.scalars(sa.select(SubprocessorVersion).order_by(SubprocessorVersion.version.desc())))


def version(number: int) -> SubprocessorVersion | None:
    ensure_initial_version()
    return db.session.scalar(sa.select(SubprocessorVersion).where(SubprocessorVersion.version == number))


def current_version(now: datetime | None = None) -> SubprocessorVersion:
    """The version in effect: the newest one whose effective date has come."""
    stmt = (sa.select(SubprocessorVersion).where(SubprocessorVersion.effective_at <= (now or utcnow()))
            .order_by(SubprocessorVersion.version.desc()).limit(1))
    found = db.session.scalar(stmt)
    if found is None:
        ensure_initial_version()
        found = db.session.scalar(stmt)
    return found


def latest_version() -> SubprocessorVersion:
    """The newest version, announced or in effect: a new version starts from it."""
    ensure_initial_version()
    return db.session.scalar(sa.select(SubprocessorVersion).order_by(SubprocessorVersion.version.desc()).limit(1))


def upcoming(now: datetime | None = None) -> list[SubprocessorVersion]:
    """Announced versions whose date has not come yet, soonest first."""
    return list(db.session.scalars(sa.select(SubprocessorVersion).where(SubprocessorVersion.effective_at > (now or utcnow()))
                                   .order_by(SubprocessorVersion.effective_at)))


def previous(v: SubprocessorVersion) -> SubprocessorVersion | None:
    return db.session.scalar(sa.select(SubprocessorVersion).where(SubprocessorVersion.version < v.version)
                             .order_by(SubprocessorVersion.version.desc()).limit(1))


def current() -> tuple[SubProcessor, ...]:
    """The sub-processors in use today (once per request: the records of processing ask for every activity).
    Outside an application (no database at hand: a unit test, an import-time check) the bundled first version."""
    if not has_app_context():
        return BUNDLED
    if not has_request_context():
        return tuple(as_subprocessor(e) for e in current_version().entries)
    if "_subprocessors" not in g:
        g._subprocessors = tuple(as_subprocessor(e) for e in current_version().entries)
    return g._subprocessors


def is_open(v: SubprocessorVersion, now: datetime | None = None) -> bool:
    """Whether the notice period of ``v`` runs: companies may object until its effective date."""
    return v.version > 1 and v.effective_at > (now or utcnow())


# --- changes between two versions --------------------------------------------------------------------------

@dataclass
class Change:
    kind: str  # added | removed | changed
    entry: SubProcessor  # the new entry (the old one when removed)
    fields: list[str]  # for "changed": the names (FIELDS) of what differs


def _values(sp: SubProcessor) -> dict:
    return {f.name: getattr(sp, f.name) for f in fields(SubProcessor) if f.name != "key"}


def changes(old: list[SubProcessor], new: list[SubProcessor]) -> list[Change]:
    """What a version adds, removes and changes compared with the one before, by key."""
    before, after = {sp.key: sp for sp in old}, {sp.key: sp for sp in new}
    out = [Change("added", sp, []) for key, sp in after.items() if key not in before]
    out += [Change("removed", sp, []) for key, sp in before.items() if key not in after]
    for key, sp in after.items():
        if key in before:
            a, b = _values(before[key]), _values(sp)
            diff = [str(FIELDS[name]) for name in FIELDS if a[name] != b[name]]
            if diff:
                out.append(Change("changed", sp, diff))
    return out


def changes_of(v: SubprocessorVersion) -> list[Change]:
    old = previous(v)
    return changes([as_subprocessor(e) for e in old.entries] if old else [], [as_subprocessor(e) for e in v.entries])


# --- publishing --------------------------------------------------------------------------------------------

def earliest_effective(now: datetime | None = None) -> date:
    return ((now or utcnow()) + timedelta(days=NOTICE_DAYS)).date()


def publish(entries: list[SubProcessor], *, summary: str, effective_at: datetime, staff_user) -> SubprocessorVersion:
    """A new version of the list, announced to every company's admins: the banner shows from now on, and a job
    mails them (``subprocessors.notify``). The caller checked the notice period."""
    latest = latest_version()
    v = SubprocessorVersion(version=latest.version + 1, effective_at=effective_at, summary=summary,
                            published_by_id=staff_user.id, entries=[
                                SubprocessorEntry(position=i, key=sp.key, name=sp.name, purpose=sp.purpose, data=sp.data,
                                                  location=sp.location, in_eea=sp.in_eea, safeguard=sp.safeguard,
                                                  since=sp.since, tables=" ".join(sp.tables))
                                for i, sp in enumerate(entries)])
    db.session.add(v)
    db.session.flush()
    audit.record("subprocessors.published", actor=staff_user, version=v.version,
                 until=effective_at.isoformat(), entries=len(entries))
    db.session.add(SubprocessorNotice(version_id=v.id))
    enqueue_job("subprocessors.notify", {"version_id": v.id})
    return v


def admins_to_notify():
    """The people a change is announced to: active admins of active companies (for ``mail_everyone``)."""
    return (User.role == Role.ADMIN, User.status == UserStatus.ACTIVE,
            User.org_id.in_(sa.select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)))


# --- the banner on admins' pages ------------------------------------------------------------------------------

def notice_for(user) -> SubprocessorVersion | None:
    """The announced change a company admin is shown on their pages until its date (the soonest one); None for
    everyone else."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.ADMIN or user.org_id is None:
        return None
    if "_subprocessor_notice" not in g:
        g._subprocessor_notice = db.session.scalar(
            sa.select(SubprocessorVersion).where(SubprocessorVersion.effective_at > utcnow())
            .order_by(SubprocessorVersion.effective_at).limit(1))
    return g._subprocessor_notice


# --- objections ----------------------------------------------------------------------------------------------

def objection_of(v: SubprocessorVersion) -> SubprocessorObjection | None:
    """The current company's objection to ``v`` (scoped to the signed-in admin's company)."""
    return db.session.scalar(sa.select(SubprocessorObjection).where(SubprocessorObjection.version_id == v.id))


def company_objections() -> list[SubprocessorObjection]:
    return list(db.session.scalars(sa.select(SubprocessorObjection).order_by(SubprocessorObjection.created_at.desc())))


class TooLate(Exception):
    """The notice period of the version has ended: objections are no longer taken."""


def object_to(v: SubprocessorVersion, admin, reason: str) -> SubprocessorObjection:
    """Record the admin's company's objection to ``v`` (one per company; a second returns the first)."""
    if not is_open(v):
        raise TooLate()
    existing = objection_of(v)
    if existing is not None:
        return existing
    objection = SubprocessorObjection(org_id=admin.org_id, version_id=v.id, objected_by_id=admin.id, reason=reason)
    db.session.add(objection)
    db.session.flush()
    audit.record("subprocessors.objected", actor=admin, org_id=admin.org_id, version=v.version, reason=reason[:300])
    return objection


def objection_queue() -> list[SubprocessorObjection]:
    """Every company's objections for staff: open ones first, the soonest deadline (the effective date, so overdue
    ones) first; answered ones after them, newest first."""
    stmt = (sa.select(SubprocessorObjection).join(SubprocessorVersion)
            .order_by(SubprocessorObjection.answered_at.is_not(None), SubprocessorVersion.effective_at,
                      SubprocessorObjection.created_at))
    return list(db.session.scalars(unscoped(stmt, reason="staff answer every company's objections")))


def get_objection(objection_id: int) -> SubprocessorObjection | None:
    """For staff (no company in context): any company's objection."""
    return db.session.scalar(unscoped(sa.select(SubprocessorObjection).where(SubprocessorObjection.id == objection_id),
                                      reason="staff answer any company's objection"))


def answer(objection: SubprocessorObjection, staff_user, note: str) -> None:
    objection.answered_at, objection.answered_by_id, objection.answer = utcnow(), staff_user.id, note
    db.session.flush()
    audit.record("subprocessors.objection_answered", actor=staff_user, org_id=objection.org_id,
                 version=objection.version.version)


def objection_counts() -> dict[int, int]:
    """Per version id: how many companies objected (for the staff list)."""
    stmt = sa.select(SubprocessorObjection.version_id, sa.func.count()).group_by(SubprocessorObjection.version_id)
    return dict(db.session.execute(unscoped(stmt, reason="staff see every company's objections")).all())
