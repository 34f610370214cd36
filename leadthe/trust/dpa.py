"""The data processing agreement (issue 21): versions, acceptance by a company's admin, and the gate on admin pages.

- Version 1 comes from ``leadthe/content/dpa/dpa-v1.md`` (English, authoritative) and ``dpa-v1.de.md`` (German),
  created once in the database by the first request that needs it, like the policies' first versions. Staff publish
  later versions at ``/staff/dpa`` (audited).
- A company accepts a version on sign-up (the sign-up form's box) or, when a new version is published, through the
  first admin who reaches an admin page: ``require_acceptance`` (a before_request hook) sends a company admin to
  ``/admin/dpa`` while the company has not accepted the current version. Managers are never sent there (they cannot
  accept); the DPA page itself, the billing pages and everything outside the admin areas stay reachable.
- Cost per admin request: the current version comes from a per-process table (``leadthe.process_tables``), and whether
  the company accepted it is one query on the unique (org_id, version_id) index, kept on ``g`` for the request.
- Staff see every open company's newest acceptance at ``/staff/dpa`` (counts by state, a filter, 50 a page, in a
  fixed number of queries) and download any company's record as a PDF; each download is audited on the company's
  log (``dpa.staff_downloaded``).
- ``DPA_REQUIRED`` (env ``LEADTHE_DPA_REQUIRED``, on by default) turns the gate and the sign-up box on; the test suite
  turns it off except in the DPA's own tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from leadthe import audit
from leadthe.billing.accounts import account_view
from leadthe.database import in_read_request, write_transaction
from leadthe.extensions import db
from leadthe.htmx import is_htmx, see_other
from leadthe.legal.services import render_policy
from leadthe.models import User, utcnow
from leadthe.models.dpa import DpaAcceptance, DpaVersion
from leadthe.models.enums import OrgStatus
from leadthe.models.org import Organization
from leadthe.privacy.registry import DPA_SIGNATORY as SIGNATORY  # noqa: F401  (an erased admin's name)
from leadthe.process_tables import ProcessTable
from leadthe.query_args import id_or_404, name_contains
from leadthe.tenancy import scoped, unscoped

DPA_DIR = Path(__file__).resolve().parent.parent / "content" / "dpa"
TRANSLATED = ("de",)
FIRST_SUMMARY = "First version."
# the blueprints of the admin areas (base.html's list); the billing pages stay open (paying must always be possible)
ADMIN_AREAS = frozenset({"admin", "admin_authoring", "literacy_admin", "lab_admin", "sso_admin", "trust_admin"})
OPEN_ENDPOINTS = frozenset({"trust_admin.dpa", "trust_admin.dpa_pdf"})


@dataclass(frozen=True)
class CurrentFact:
    id: int
    version: int


_current_table = ProcessTable("dpa_current", (DpaVersion,), 30.0)


def _bundled() -> dict[str, str]:
    return {"body_en": (DPA_DIR / "dpa-v1.md").read_text(encoding="utf-8"),
            "body_de": (DPA_DIR / "dpa-v1.de.md").read_text(encoding="utf-8")}


def ensure_first_version() -> None:
    """Version 1 from the shipped files, created once. A read request writes it in its own short transaction."""
    if db.session.scalar(sa.select(DpaVersion.id).where(DpaVersion.version == 1)) is not None:
        return
    row = {"version": 1, "summary": FIRST_SUMMARY, **_bundled(), "published_at": utcnow(), "created_at": utcnow()}
    if not in_read_request(db.session()):
        db.session.add(DpaVersion(**row))
        db.session.flush()
        return
    try:
        with write_transaction() as conn:
            conn.execute(sa.insert(DpaVersion), [row])
    except sa.exc.IntegrityError:
        pass  # another request created it first
    _current_table.invalidate()  # a Core insert: the ORM's commit hook does not see it
    db.session.rollback()  # ends this request's read snapshot (SQLite), so its next query sees it


def current_fact() -> CurrentFact:
    """The current (newest) version's id and number, from the per-process table."""
    def load():
        row = db.session.execute(sa.select(DpaVersion.id, DpaVersion.version)
                                 .order_by(DpaVersion.version.desc()).limit(1)).first()
        return CurrentFact(*row) if row is not None else None

    fact = _current_table.get(None, load)
    if fact is None:
        ensure_first_version()
        _current_table.invalidate()
        fact = _current_table.get(None, load)
    return fact


def current_version() -> DpaVersion:
    return db.session.get(DpaVersion, current_fact().id)


def version(number: int) -> DpaVersion | None:
    if number == 1:
        current_fact()  # creates version 1 on first use
    return db.session.scalar(sa.select(DpaVersion).where(DpaVersion.version == number))


def shown_version(number: str | None) -> DpaVersion:
    """The version a form showed (its hidden field), or the current one when that is missing or unknown."""
    try:
        doc = version(int(number or ""))
    except ValueError:
        doc = None
    return doc or current_version()


def versions() -> list[DpaVersion]:
    current_fact()
    return list(db.session.scalars(sa.select(DpaVersion).order_by(DpaVersion.version.desc())))


def body_html(doc: DpaVersion, locale: str) -> tuple[str, bool]:
    """The text to show in ``locale``: (HTML, whether it is a translation)."""
    if locale in TRANSLATED and locale != "en" and (doc.body_de or "").strip():
        return render_policy(doc.body_de), True
    return render_policy(doc.body_en), False


def publish(*, body_en: str, body_de: str, summary: str, staff_user) -> DpaVersion:
    current_fact()  # version 1 exists before version 2
    latest = db.session.scalar(sa.select(sa.func.max(DpaVersion.version))) or 0
    doc = DpaVersion(version=latest + 1, body_en=body_en, body_de=body_de or "", summary=summary,
                     published_at=utcnow(), published_by_id=staff_user.id)
    db.session.add(doc)
    db.session.flush()
    audit.record("dpa.published", actor=staff_user, version=doc.version)
    return doc


# --- acceptance -----------------------------------------------------------------------------------------------

def has_accepted(org_id: int, version_id: int) -> bool:
    """One query on the unique (org_id, version_id) index, kept on ``g`` for the rest of the request."""
    cache = g.setdefault("_dpa_accepted", {})
    key = (org_id, version_id)
    if key not in cache:
        cache[key] = db.session.scalar(scoped(DpaAcceptance, org_id).with_only_columns(DpaAcceptance.id)
                                       .where(DpaAcceptance.version_id == version_id).limit(1)) is not None
    return cache[key]


def accept(user, doc: DpaVersion, *, legal_name: str, address: str = "", via: str = "admin") -> DpaAcceptance:
    """Record that ``user`` (an admin) accepted ``doc`` for their company; a second acceptance of the same version
    returns the first."""
    existing = db.session.scalar(scoped(DpaAcceptance, user.org_id).where(DpaAcceptance.version_id == doc.id))
    if existing is not None:
        return existing
    row = DpaAcceptance(org_id=user.org_id, version_id=doc.id, accepted_at=utcnow(), via=via,
                        legal_name=legal_name.strip(), address=(address or "").strip(), accepted_by_id=user.id,
                        accepted_by_name=user.name or "", accepted_by_email=user.email, accepted_by_role=user.role)
    db.session.add(row)
    db.session.flush()
    g.setdefault("_dpa_accepted", {})[(user.org_id, doc.id)] = True
    audit.record("dpa.accepted", actor=user, org_id=user.org_id, version=doc.version, via=via, acceptance_id=row.id)
    return row


def acceptances(org_id: int) -> list[tuple[DpaAcceptance, DpaVersion]]:
    return list(db.session.execute(scoped(DpaAcceptance, org_id).add_columns(DpaVersion)
                                   .join(DpaVersion, DpaVersion.id == DpaAcceptance.version_id)
                                   .order_by(DpaVersion.version.desc(), DpaAcceptance.id.desc())))


def acceptance(org_id: int, acceptance_id: int) -> tuple[DpaAcceptance, DpaVersion] | None:
    row = db.session.execute(scoped(DpaAcceptance, org_id).add_columns(DpaVersion)
                             .join(DpaVersion, DpaVersion.id == DpaAcceptance.version_id)
                             .where(DpaAcceptance.id == acceptance_id)).first()
    return tuple(row) if row is not None else None


# --- staff: acceptance per company ---------------------------------------------------------------------------

STAFF_PER_PAGE = 50
STAFF_WHY = "staff see every company's DPA acceptance"


class AcceptanceState(StrEnum):
    """Where a company stands with the agreement: its newest acceptance is of the current version, of an older
    one only, or it has accepted none."""
    CURRENT = "current"
    OUTDATED = "outdated"
    NONE = "none"


ACCEPTANCE_STATES = tuple(AcceptanceState)


@dataclass(frozen=True)
class CompanyFilters:
    q: str = ""  # part of the company's name, any case
    state: str = ""  # "" for every state, else an AcceptanceState
    page: int = 1


@dataclass(frozen=True)
class CompanyAcceptance:
    org_id: int
    name: str
    state: AcceptanceState
    acceptance: DpaAcceptance | None  # the newest (of the highest version), None when it has accepted none
    version: DpaVersion | None


def _newest_accepted():
    """Per company, the highest version number it has accepted (companies without an acceptance have no row)."""
    return (sa.select(DpaAcceptance.org_id, sa.func.max(DpaVersion.version).label("version"))
            .join(DpaVersion, DpaVersion.id == DpaAcceptance.version_id)
            .group_by(DpaAcceptance.org_id).subquery("newest_accepted"))


def _state_conditions(newest, current_number: int) -> dict[AcceptanceState, sa.ColumnElement[bool]]:
    return {AcceptanceState.CURRENT: newest.c.version >= current_number,
            AcceptanceState.OUTDATED: newest.c.version < current_number,
            AcceptanceState.NONE: newest.c.version.is_(None)}


def _open_companies(newest):
    """Companies that have not closed, each with the highest version it accepted (outer-joined)."""
    return (sa.select(Organization.id).outerjoin(newest, newest.c.org_id == Organization.id)
            .where(Organization.status != OrgStatus.CLOSED))


def acceptance_counts() -> dict[AcceptanceState, int]:
    """How many open companies have accepted the current version, an older one only, none (one query)."""
    newest = _newest_accepted()
    conditions = _state_conditions(newest, current_fact().version)
    stmt = _open_companies(newest).with_only_columns(
        *(sa.func.count().filter(conditions[state]) for state in ACCEPTANCE_STATES))
    row = db.session.execute(unscoped(stmt, reason=STAFF_WHY)).one()
    return {state: int(count or 0) for state, count in zip(ACCEPTANCE_STATES, row)}


def companies_page(f: CompanyFilters) -> tuple[list[CompanyAcceptance], int]:
    """One page of open companies (by name) with their newest acceptance, and how many match: two queries
    whatever the page holds."""
    current = current_fact()
    newest = _newest_accepted()
    stmt = _open_companies(newest)
    if f.q:
        stmt = stmt.where(name_contains(Organization.name, f.q))
    if f.state:
        stmt = stmt.where(_state_conditions(newest, current.version)[AcceptanceState(f.state)])
    total = db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(stmt.subquery()), reason=STAFF_WHY)) or 0
    stmt = (stmt.outerjoin(DpaVersion, DpaVersion.version == newest.c.version)
            .outerjoin(DpaAcceptance, sa.and_(DpaAcceptance.org_id == Organization.id,
                                              DpaAcceptance.version_id == DpaVersion.id))
            .with_only_columns(Organization.id, Organization.name, DpaAcceptance, DpaVersion)
            .order_by(sa.func.lower(Organization.name), Organization.id)
            .limit(STAFF_PER_PAGE).offset((f.page - 1) * STAFF_PER_PAGE))
    rows = []
    for org_id, name, record, doc in db.session.execute(unscoped(stmt, reason=STAFF_WHY)).all():
        if doc is None:
            state = AcceptanceState.NONE
        else:
            state = AcceptanceState.CURRENT if doc.version >= current.version else AcceptanceState.OUTDATED
        rows.append(CompanyAcceptance(org_id, name, state, record, doc))
    return rows, total


def staff_acceptance_or_404(acceptance_id) -> tuple[DpaAcceptance, DpaVersion]:
    """Any company's acceptance with its version, for staff (also of a company that has closed); else 404."""
    row = db.session.execute(unscoped(
        sa.select(DpaAcceptance, DpaVersion).join(DpaVersion, DpaVersion.id == DpaAcceptance.version_id)
        .where(DpaAcceptance.id == id_or_404(acceptance_id)),
        reason="staff download any company's DPA acceptance record")).first()
    if row is None:
        abort(404)
    return tuple(row)


def record_staff_download(staff_user, record: DpaAcceptance, doc: DpaVersion) -> None:
    """Audit a staff member's download on the company's log, in a short transaction of its own: the download is a
    GET, which never writes through its session."""
    audit.record_apart("dpa.staff_downloaded", actor=staff_user, org_id=record.org_id, acceptance_id=record.id,
                       version=doc.version)


def proposed_party(org_id: int) -> tuple[str, str]:
    """The legal name and address to offer on the accept form: the last acceptance's, else the billing details,
    else the company's name."""
    last = db.session.scalar(scoped(DpaAcceptance, org_id).order_by(DpaAcceptance.id.desc()).limit(1))
    if last is not None:
        return last.legal_name, last.address
    account = account_view(org_id)
    lines = [account.address_line1 or "", account.address_line2 or "",
             " ".join(p for p in (account.postcode or "", account.city or "") if p), account.country or ""]
    name = account.legal_name or db.session.get(Organization, org_id).name
    return name, "\n".join(line for line in lines if line.strip())


def seed_acceptance(org_id: int) -> None:
    """The demo and scale companies: their first admin accepts the current version (so turning the gate on in
    development shows no gate for them). Nothing happens when it is accepted already."""
    doc = current_version()
    if db.session.scalar(scoped(DpaAcceptance, org_id).where(DpaAcceptance.version_id == doc.id)) is not None:
        return
    admin = db.session.scalar(sa.select(User).where(User.org_id == org_id, User.role == "admin").order_by(User.id).limit(1))
    if admin is None:
        return
    legal_name, address = proposed_party(org_id)
    accept(admin, doc, legal_name=legal_name, address=address, via="seed")


# --- the gate on admin pages ----------------------------------------------------------------------------------

def must_accept(user) -> bool:
    """Whether ``user`` is a company admin whose company has not accepted the current version."""
    if not current_app.config.get("DPA_REQUIRED"):
        return False
    if not getattr(user, "is_authenticated", False) or user.is_platform_staff or not user.org_id or user.role != "admin":
        return False
    return not has_accepted(user.org_id, current_fact().id)


def require_acceptance():
    """before_request: a company admin reaching an admin page while the company has not accepted the current
    version goes to /admin/dpa, and comes back to where they were going after accepting."""
    if request.blueprint not in ADMIN_AREAS or request.endpoint in OPEN_ENDPOINTS:
        return None
    user = current_user._get_current_object()
    if not must_accept(user):
        return None
    flash(str(_l("Please accept the data processing agreement for your company to continue to the admin pages.")), "info")
    going = request.full_path.rstrip("?") if request.method == "GET" else None  # never back to a POST
    target = url_for("trust_admin.dpa", next=going) if going else url_for("trust_admin.dpa")
    return see_other(target) if is_htmx() or request.method != "GET" else redirect(target)
