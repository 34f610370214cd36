"""People in a company: the searchable list, invitations, CSV import, roles, deactivation and closing."""
from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from leadthe import audit
from leadthe.admin.access import is_admin, managed_team_ids, scope_user_ids
from leadthe.admin.reports import team_names_for
from leadthe.auth.passwords import hash_password
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.billing import seats
from leadthe.extensions import db
from leadthe.mail import customer_text, queue_mail
from leadthe.models import AuditEvent, ImportBatch, Invitation, Organization, Team, TeamMembership, User, utcnow
from leadthe.models.enums import InvitationStatus, Role, UserStatus
from leadthe.net import absolute_url
from leadthe.signals import person_changed
from leadthe.tenancy import unscoped

ROLES = ("learner", "manager", "admin")
INVITE_DAYS = 7
PER_PAGE = 50
ACTIVE_FILTERS = ("7", "30", "inactive30", "never")


# --- the list ------------------------------------------------------------------------------------------

@dataclass
class PeopleFilter:
    q: str = ""
    team_id: int | None = None
    role: str = ""
    status: str = "active"
    active: str = ""
    page: int = 1


def people_page(viewer, f: PeopleFilter):
    """(rows, total, teams per person) for one page: three statements whatever the company's size."""
    status = f.status if f.status in ("active", "deactivated") else "active"
    ids = scope_user_ids(viewer, team_id=f.team_id, statuses=(status,))
    stmt = sa.select(User.id, User.name, User.email, User.role, User.status, User.last_seen_at, User.job_title).where(User.id.in_(ids))
    if f.q:
        like = f"%{f.q.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    if f.role in ROLES:
        stmt = stmt.where(User.role == f.role)
    now = utcnow()
    if f.active == "7":
        stmt = stmt.where(User.last_seen_at >= now - timedelta(days=7))
    elif f.active == "30":
        stmt = stmt.where(User.last_seen_at >= now - timedelta(days=30))
    elif f.active == "inactive30":
        stmt = stmt.where(sa.or_(User.last_seen_at < now - timedelta(days=30), User.last_seen_at.is_(None)))
    elif f.active == "never":
        stmt = stmt.where(User.last_seen_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(User.name, User.id).offset((f.page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return rows, total, team_names_for([r.id for r in rows], viewer)


def team_choices(viewer) -> dict[str, str]:
    stmt = sa.select(Team.id, Team.name).where(Team.org_id == viewer.org_id).order_by(Team.name)
    if not is_admin(viewer):
        stmt = stmt.where(Team.id.in_(managed_team_ids(viewer)))
    return {str(i): n for i, n in db.session.execute(stmt)}


# --- invitations ---------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.invitation")


def invitation_link(inv: Invitation) -> str:
    token = _serializer().dumps({"i": inv.id, "n": inv.nonce})
    return absolute_url("invite.accept", token=token)


class InviteProblem(ValueError):
    """The invitation cannot be made; the message (translated) says why, beside the e-mail field."""


class InUse(StrEnum):
    ACCOUNT = "account"
    PENDING_INVITATION = "pending_invitation"


def in_use_message(problem: InUse) -> str:
    return {InUse.ACCOUNT: _("This person already has an account."),
            InUse.PENDING_INVITATION: _("This person already has a pending invitation.")}[problem]


def email_in_use(org_id: int, email: str) -> InUse | None:
    """Why this address cannot be invited, or None. Only the company's own people count: an address with
    an account in another company (or of our staff) is invited like any other, so that an admin learns
    nothing about other companies; accepting such an invitation creates no second account."""
    if db.session.scalar(sa.select(User.id).where(User.org_id == org_id, User.email == email)) is not None:
        return InUse.ACCOUNT
    pending = db.session.scalar(sa.select(Invitation.id).where(
        Invitation.org_id == org_id, Invitation.email == email, Invitation.status == InvitationStatus.PENDING,
        Invitation.expires_at > utcnow()))
    if pending is not None:
        return InUse.PENDING_INVITATION
    return None


def has_account(email: str) -> bool:
    """Whether the address has an account anywhere (the accepting side only: never shown to an admin)."""
    return db.session.scalar(unscoped(sa.select(User.id).where(User.email == email),
                                      reason="an address is one account across companies")) is not None


INVITE_SUBJECT = _l("You are invited to LeadThe.AI")  # fixed: customer text never goes into a subject


def _send(inv: Invitation, org_name: str, inviter_name: str) -> None:
    # no account yet, so no language of their own: the one the inviting admin is using (colleagues share one)
    queue_mail(inv.email, INVITE_SUBJECT, "invitation", kind="invitation", locale=str(get_locale() or "en"),
               name=customer_text(inv.name),
               org=customer_text(org_name), inviter=customer_text(inviter_name), link=invitation_link(inv), days=INVITE_DAYS)


# --- what a company may send: a confirmed address, and a daily allowance ---------------------------------

class SendingRefused(ValueError):
    """Invitations cannot be sent now; the message says why and what to do."""


def _start_of_today() -> datetime:
    return datetime.combine(utcnow().date(), time.min, tzinfo=timezone.utc)


def invitations_sent_today(org_id: int) -> int:
    """Invitation mails of the company since midnight UTC: new invitations (one form, one import row) and
    resends. Counted from the rows themselves, so the allowance holds across processes and servers."""
    since = _start_of_today()
    created = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation).where(
        Invitation.org_id == org_id, Invitation.created_at >= since))
    resent = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.org_id == org_id, AuditEvent.action == "invitation.resent", AuditEvent.created_at >= since))
    return int(created or 0) + int(resent or 0)


def check_may_send(admin: User, count: int = 1) -> None:
    """Raise SendingRefused unless ``admin`` may send ``count`` more invitation mails today: a new
    sign-up must first confirm its own address, and every company has a daily allowance."""
    if admin.email_verified_at is None:
        raise SendingRefused(_("Confirm your own e-mail address before you invite people: "
                               "use the link we sent to %(email)s.", email=admin.email))
    limit = current_app.config.get("INVITATIONS_PER_DAY", 1000)
    left = limit - invitations_sent_today(admin.org_id)
    if count > left:
        raise SendingRefused(_("Your company can send %(limit)s invitations a day and has %(left)s left today "
                               "(this would send %(count)s). Try again tomorrow or ask our support for a higher limit.",
                               limit=limit, left=max(left, 0), count=count))


def create_invitation(admin: User, *, email: str, role: str, team_id: int | None, name: str = "", job_title: str = "",
                      department: str = "", check: bool = True) -> Invitation:
    email = email.strip().lower()
    check_may_send(admin)
    if check:
        problem = email_in_use(admin.org_id, email)
        if problem:
            raise InviteProblem(in_use_message(problem))
    seats.check_room(admin.org_id)  # an open invitation holds a seat (raises seats.NoSeats)
    now = utcnow()
    inv = Invitation(org_id=admin.org_id, email=email, role=role, team_id=team_id, name=name, job_title=job_title,
                     department=department, invited_by_id=admin.id, nonce=secrets.token_hex(16), status="pending",
                     sent_at=now, expires_at=now + timedelta(days=INVITE_DAYS), created_at=now)
    db.session.add(inv)
    db.session.flush()
    _send(inv, admin.organization.name, admin.name)
    return inv


def resend_invitation(admin: User, inv: Invitation) -> None:
    """A new link (the old one stops working) valid for another 7 days."""
    check_may_send(admin)
    now = utcnow()
    inv.nonce, inv.sent_at, inv.expires_at = secrets.token_hex(16), now, now + timedelta(days=INVITE_DAYS)
    _send(inv, admin.organization.name, admin.name)
    audit.record("invitation.resent", actor=admin, org_id=admin.org_id, invitation_id=inv.id)


def revoke_invitation(admin: User, inv: Invitation) -> None:
    inv.status = InvitationStatus.REVOKED
    audit.record("invitation.revoked", actor=admin, org_id=admin.org_id, invitation_id=inv.id)


def pending_invitations(org_id: int, limit: int = 200) -> list:
    return db.session.execute(
        sa.select(Invitation, Team.name).outerjoin(Team, Team.id == Invitation.team_id)
        .where(Invitation.org_id == org_id, Invitation.status == InvitationStatus.PENDING).order_by(Invitation.sent_at.desc()).limit(limit)).all()


def invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation a link is for, or None (forged, expired, resent since, revoked, used)."""
    try:
        data = _serializer().loads(token, max_age=INVITE_DAYS * 24 * 3600)
    except (BadSignature, SignatureExpired):
        return None
    inv = db.session.scalar(unscoped(sa.select(Invitation).where(Invitation.id == data.get("i")),
                                     reason="the signed link names the invitation, whoever is signed in here"))
    if inv is None or inv.nonce != data.get("n") or inv.status != InvitationStatus.PENDING or inv.expires_at <= utcnow():
        return None
    if db.session.scalar(sa.select(Organization.status).where(Organization.id == inv.org_id)) != "active":
        return None  # the company has closed (its invitations were revoked then; this guards the rest)
    return inv


def accept_invitation(inv: Invitation, *, name: str, password: str) -> User:
    seats.check_seat_for_invitee(inv.org_id)  # only fails when the company reduced its seats below its invitations
    now = utcnow()
    user = User(org_id=inv.org_id, email=inv.email, name=name, job_title=inv.job_title or "", department=inv.department or "",
                role=inv.role, password_hash=hash_password(password), password_changed_at=now,
                email_verified_at=now,  # the link in the mail proves the address
                locale=str(get_locale() or "en"))  # the language the person accepted in, until they choose another
    db.session.add(user)
    db.session.flush()
    if inv.team_id is not None:
        db.session.add(TeamMembership(org_id=inv.org_id, team_id=inv.team_id, user_id=user.id, is_manager=False))
    inv.status, inv.accepted_at, inv.user_id = "accepted", now, user.id
    db.session.flush()
    person_changed.send(user, changed={"joined"})  # required training follows newcomers (invited or imported)
    audit.record("invitation.accepted", actor=user, subject=user, org_id=inv.org_id, role=inv.role)
    return user


# --- CSV import ----------------------------------------------------------------------------------------

IMPORT_COLUMNS = ("email", "name", "job_title", "department", "team", "role")
MAX_IMPORT_ROWS = 20_000
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass
class ImportRow:
    line: int
    email: str
    name: str
    job_title: str
    department: str
    team: str
    role: str
    problems: list[str]
    team_id: int | None = None


class ImportFileProblem(ValueError):
    pass


def parse_import(org_id: int, raw: bytes) -> list[ImportRow]:
    """Every row of the file with its problems; nothing is written. A fixed number of statements:
    the company's teams and the addresses already in use are read once, for all rows."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileProblem(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from exc
    # newline="": the csv module itself reads \r\n, \n and a bare \r as line ends (and keeps them in quoted cells)
    reader = csv.reader(io.StringIO(text, newline=""))
    pos = _import_header(reader)
    teams = {name.strip().lower(): tid for tid, name in db.session.execute(sa.select(Team.id, Team.name).where(Team.org_id == org_id))}
    rows = _import_rows(reader, pos)
    taken = _addresses_in_use(org_id, [r.email for r in rows if r.email])
    seen: dict[str, int] = {}
    for row in rows:
        _check_import_row(row, seen, taken, teams)
    return rows


def _import_header(reader) -> dict[str, int]:
    """Where each import column is, from the file's first line."""
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration as exc:
        raise ImportFileProblem(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise _unreadable(reader, exc) from exc
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise ImportFileProblem(_("The first line must name the columns email,name,job_title,department,team,role "
                                                  "(missing: %(missing)s).", missing=", ".join(missing)))
    return {c: header.index(c) for c in IMPORT_COLUMNS}


def _import_rows(reader, pos: dict[str, int]) -> list[ImportRow]:
    """The file's non-blank lines as rows, not yet checked."""
    rows: list[ImportRow] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ImportFileProblem(_("The file has more than %(n)s people. Split it into smaller files.", n=MAX_IMPORT_ROWS))
            get = lambda c: (cells[pos[c]].strip() if pos[c] < len(cells) else "")  # noqa: E731
            row = ImportRow(number, get("email").lower(), get("name")[:120], get("job_title")[:120], get("department")[:120],
                            get("team"), (get("role") or "learner").lower(), [])
            rows.append(row)
    except csv.Error as exc:
        raise _unreadable(reader, exc) from exc
    return rows


def _addresses_in_use(org_id: int, emails: list[str]) -> set[str]:
    """Those of ``emails`` that a person of the company has, or a pending invitation of it is for."""
    taken: set[str] = set()
    for chunk in range(0, len(emails), 900):  # stay under SQLite's bound-parameter limit
        part = emails[chunk:chunk + 900]
        # the company's own people only: whether an address has an account elsewhere is none of its business
        taken |= set(db.session.scalars(sa.select(User.email).where(User.org_id == org_id, User.email.in_(part))))
        taken |= set(db.session.scalars(sa.select(Invitation.email).where(
            Invitation.org_id == org_id, Invitation.email.in_(part), Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at > utcnow())))
    return taken


def _check_import_row(row: ImportRow, seen: dict[str, int], taken: set[str], teams: dict[str, int]) -> None:
    """Add the row's problems (``seen``: the line each address was first on) and find its team."""
    if not row.email:
        row.problems.append(_("no e-mail address"))
    elif len(row.email) > 254 or not EMAIL_RE.match(row.email):
        row.problems.append(_("“%(email)s” is not a valid e-mail address", email=row.email))
    elif row.email in seen:
        row.problems.append(_("the same address is on line %(line)s", line=seen[row.email]))
    elif row.email in taken:
        row.problems.append(_("this person already has an account or a pending invitation"))
    if row.email and row.email not in seen:
        seen[row.email] = row.line
    if row.role not in ROLES:
        row.problems.append(_("unknown role “%(role)s” (use learner, manager or admin)", role=row.role))
    if row.team:
        row.team_id = teams.get(row.team.lower())
        if row.team_id is None:
            row.problems.append(_("no team called “%(team)s” (create it first)", team=row.team))


def _unreadable(reader, exc: csv.Error) -> ImportFileProblem:
    if "field larger than field limit" in str(exc):
        return ImportFileProblem(_("Line %(line)s has a cell longer than %(kib)s KiB. Check the file: perhaps a quote "
                                   "mark is never closed.", line=reader.line_num, kib=csv.field_size_limit() // 1024))
    return ImportFileProblem(_("Line %(line)s cannot be read as CSV. Save the file as “CSV UTF-8” and try again.",
                               line=reader.line_num))


def store_import(admin: User, rows: list[ImportRow]) -> ImportBatch:
    now = utcnow()
    batch = ImportBatch(org_id=admin.org_id, created_by_id=admin.id, created_at=now, expires_at=now + timedelta(days=1),
                        rows=[{"email": r.email, "name": r.name, "job_title": r.job_title, "department": r.department,
                               "team_id": r.team_id, "team": r.team, "role": r.role} for r in rows])
    db.session.add(batch)
    db.session.flush()
    return batch


def apply_import(admin: User, batch: ImportBatch) -> int:
    """Invite everyone of a checked file, in the caller's one transaction. Addresses that were taken in
    the meantime are checked again (all at once) and the whole import refused if any is."""
    rows = batch.rows
    emails = [r["email"] for r in rows]
    for chunk in range(0, len(emails), 900):
        part = emails[chunk:chunk + 900]
        clash = db.session.scalar(sa.select(User.email).where(User.org_id == admin.org_id, User.email.in_(part)).limit(1)) or \
            db.session.scalar(sa.select(Invitation.email).where(Invitation.org_id == admin.org_id, Invitation.email.in_(part),
                                                                Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > utcnow()).limit(1))
        if clash:
            raise InviteProblem(_("%(email)s was invited or joined since the file was checked. Upload the file again.", email=clash))
    check_may_send(admin, len(rows))
    seats.check_room(admin.org_id, len(rows))  # all or nothing: seats.NoSeats before anything is created
    now = utcnow()
    org_name, inviter = admin.organization.name, admin.name
    values = [dict(org_id=admin.org_id, email=r["email"], name=r["name"], job_title=r["job_title"], department=r["department"],
                   role=r["role"], team_id=r["team_id"], invited_by_id=admin.id, nonce=secrets.token_hex(16), status="pending",
                   sent_at=now, expires_at=now + timedelta(days=INVITE_DAYS), created_at=now) for r in rows]
    # executemany in one round trip; then read the ids back by address for the links
    db.session.execute(sa.insert(Invitation), values)
    ids = {}
    for chunk in range(0, len(emails), 900):
        ids.update(db.session.execute(sa.select(Invitation.email, Invitation.id).where(
            Invitation.org_id == admin.org_id, Invitation.email.in_(emails[chunk:chunk + 900]),
            Invitation.status == InvitationStatus.PENDING, Invitation.created_at == now)).all())
    for v in values:
        _send(Invitation(id=ids[v["email"]], email=v["email"], name=v["name"], nonce=v["nonce"]), org_name, inviter)
    batch.applied_at = now
    audit.record("people.imported", actor=admin, org_id=admin.org_id, count=len(rows))
    return len(rows)


# --- roles, deactivation, closing ---------------------------------------------------------------------

class LastAdmin(ValueError):
    pass


def _other_admins(person: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.org_id == person.org_id, User.role == Role.ADMIN, User.status == UserStatus.ACTIVE, User.id != person.id))


def change_role(admin: User, person: User, role: str) -> bool:
    if role == person.role:
        return False
    if person.role == Role.ADMIN and _other_admins(person) == 0:
        raise LastAdmin(_("A company needs at least one admin."))
    old, person.role = person.role, role
    if role == "learner":  # managing a team needs the manager role: a learner manages none
        db.session.execute(sa.update(TeamMembership).where(TeamMembership.user_id == person.id, TeamMembership.is_manager.is_(True))
                           .values(is_manager=False))
    audit.record("role.changed", actor=admin, subject=person, role=role, previous=old)
    person_changed.send(person, changed={"role"})
    return True


def deactivate(admin: User, person: User) -> None:
    if person.role == Role.ADMIN and _other_admins(person) == 0:
        raise LastAdmin(_("A company needs at least one active admin."))
    person.status = UserStatus.DEACTIVATED
    revoked = revoke_all_sessions(person.id)
    audit.record("user.deactivated", actor=admin, subject=person, sessions_revoked=revoked)
    person_changed.send(person, changed={"status"})  # requirements count active people only


def reactivate(admin: User, person: User) -> None:
    if person.status != UserStatus.ACTIVE:
        seats.check_room(person.org_id)  # an active person takes a seat (raises seats.NoSeats)
    person.status = UserStatus.ACTIVE
    audit.record("user.reactivated", actor=admin, subject=person)
    person_changed.send(person, changed={"status"})


def close_account(admin: User, person: User) -> None:
    """Closed: signed out everywhere, gone from every list; the retention rule erases it after
    RETENTION_CLOSED_DAYS (the 90-day clock starts now)."""
    if person.role == Role.ADMIN and _other_admins(person) == 0:
        raise LastAdmin(_("A company needs at least one active admin."))
    person.status, person.closed_at = "closed", utcnow()
    revoked = revoke_all_sessions(person.id)
    audit.record("user.closed", actor=admin, subject=person, sessions_revoked=revoked)
    person_changed.send(person, changed={"status"})
