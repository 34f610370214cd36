"""SCIM ``Users``: a company's people as its identity provider sees them.

``userName`` is the e-mail address (lower-cased), in a domain the company verified; ``active=false`` closes
the account (signed out everywhere, the 90-day closed-account retention clock starts) and ``active=true``
within those 90 days restores it. DELETE closes it too and takes it out of SCIM (a 404 from then on:
``User.scim_deleted_at``); the provider creating the same address again within the 90 days brings the account
back. People made here
have no usable password: they sign in through single sign-on (or set one with "forgot password")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from scim2_models import Context, Email, EnterpriseUser, Name, PatchOp
from scim2_models import User as ScimUser

from leadthe import audit
from leadthe.admin.people import EMAIL_RE, has_account
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.billing.seats import NoSeats, check_room
from leadthe.extensions import db
from leadthe.models import TeamMembership, User, utcnow
from leadthe.models.enums import Role, UserStatus
from leadthe.query_args import as_id
from leadthe.scim import auth, wire
from leadthe.scim.errors import ScimError
from leadthe.scim.resources import list_response, location, meta, resource_response
from leadthe.signals import person_changed
from leadthe.sso.settings import domain_of, verified_domain
from leadthe.tenancy import scoped

USER = ScimUser[EnterpriseUser]
NO_PASSWORD = "!scim"  # not a bcrypt hash: no password matches it
FIELDS = ("email", "name", "job_title", "department", "external_id")
RULE_FIELDS = {"department", "job_title"}  # the required-training rules follow these


@dataclass
class Wanted:
    email: str
    name: str
    job_title: str
    department: str
    external_id: str | None
    active: bool | None


def _deleted():
    """Deleted through SCIM and not created again since."""
    return User.scim_deleted_at.is_not(None)


def _people() -> sa.Select:
    return scoped(User, auth.org_id()).where(~_deleted())


def person(user_id) -> User:
    """The company's person with this id (as SCIM shows them), or a SCIM 404."""
    number = as_id(user_id) if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() else None
    found = db.session.scalar(_people().where(User.id == number)) if number else None
    if found is None:
        raise ScimError(404, "No such user.")
    return found


def to_resource(user: User):
    given, _, family = user.name.partition(" ")
    url = location("scim.user", user_id=user.id)
    resource = USER(id=str(user.id), external_id=user.external_id or None, user_name=user.email,
                    name=Name(formatted=user.name, given_name=given or None, family_name=family or None),
                    display_name=user.name, title=user.job_title or None, active=user.status == UserStatus.ACTIVE,
                    emails=[Email(value=user.email, type=Email.Type.work, primary=True)],
                    meta=meta("User", user.created_at, url))
    if user.department:
        resource[EnterpriseUser] = EnterpriseUser(department=user.department)
    return resource


# --- from a SCIM resource to our fields ------------------------------------------------------------------

def _address(resource) -> str:
    emails = resource.emails or []
    candidates = [resource.user_name] + [e.value for e in emails if e.primary] + [e.value for e in emails]
    for candidate in candidates:
        value = wire.text(candidate, "userName", 254).lower() if isinstance(candidate, str) else ""
        if EMAIL_RE.match(value):
            return value
    raise ScimError(400, "userName must be an e-mail address.", "invalidValue")


def _joined(name) -> str:
    return " ".join(part.strip() for part in (name.given_name, name.family_name) if isinstance(part, str) and part.strip())


def _changed_name(resource, current: User | None) -> str:
    """The name the request changes: given/family name first, then the formatted name, then displayName."""
    name = resource.name
    before = to_resource(current).name if current is not None else None
    if name is not None:
        joined = _joined(name)
        parts = (name.given_name, name.family_name)
        if joined and (before is None or parts != (before.given_name, before.family_name)):
            return wire.text(joined, "name", 120)
        if name.formatted and (before is None or name.formatted != before.formatted):
            return wire.text(name.formatted, "name.formatted", 120)
    if resource.display_name and (current is None or resource.display_name != current.name):
        return wire.text(resource.display_name, "displayName", 120)
    return ""


def _name(resource, current: User | None) -> str:
    """The person's name; a newcomer without one is called by the address's local part."""
    changed = _changed_name(resource, current)
    if changed:
        return changed
    return current.name if current is not None else _address(resource).split("@", 1)[0][:120]


def wanted(resource, current: User | None = None) -> Wanted:
    extension = resource[EnterpriseUser]
    department = extension.department if extension is not None else None
    return Wanted(email=_address(resource), name=_name(resource, current) or "-",
                  job_title=wire.text(resource.title, "title", 120),
                  department=wire.text(department, "department", 120),
                  external_id=wire.text(resource.external_id, "externalId", 255) or None,
                  active=resource.active)


def _check_domain(email: str) -> None:
    proof = verified_domain(domain_of(email))
    if proof is None or proof.org_id != auth.org_id():
        raise ScimError(400, "The address's domain is not verified by this company.", "invalidValue")


def _check_address(email: str) -> None:
    """A new address (a new person's, or a changed one): in a domain this company verified, and no account's
    anywhere (which company's is never said)."""
    _check_domain(email)
    if has_account(email):
        raise ScimError(409, "An account with this userName exists already.", "uniqueness")


# --- active / inactive -----------------------------------------------------------------------------------

def _other_active_admins(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.org_id == user.org_id, User.role == Role.ADMIN, User.status == UserStatus.ACTIVE, User.id != user.id))


def close(user: User, action: str = "scim.user_deactivated") -> None:
    """Closed: signed out everywhere at once; the closed-account retention clock starts."""
    if user.role == Role.ADMIN and user.status == UserStatus.ACTIVE and _other_active_admins(user) == 0:
        raise ScimError(400, "The company's last active admin cannot be deactivated.", "invalidValue")
    was_active = user.status == UserStatus.ACTIVE
    if user.status != UserStatus.CLOSED:
        user.status, user.closed_at = UserStatus.CLOSED, utcnow()
    revoked = revoke_all_sessions(user.id)
    audit.record(action, subject=user, org_id=user.org_id, sessions_revoked=revoked)
    if was_active:
        db.session.flush()
        person_changed.send(user, changed={"status"})  # requirements count active people only


def reopen(user: User) -> None:
    days = current_app.config["RETENTION_CLOSED_DAYS"]
    closed_at = user.closed_at
    if closed_at is not None and closed_at.tzinfo is None:
        closed_at = closed_at.replace(tzinfo=utcnow().tzinfo)
    if user.status != UserStatus.CLOSED or (closed_at is not None and utcnow() - closed_at > timedelta(days=days)):
        raise ScimError(400, "This account cannot be reactivated through SCIM.", "invalidValue")
    _take_seat(user.org_id)
    user.status, user.closed_at = UserStatus.ACTIVE, None
    audit.record("scim.user_reactivated", subject=user, org_id=user.org_id)
    db.session.flush()
    person_changed.send(user, changed={"status"})


def _take_seat(org_id: int) -> None:
    """An active person takes one of the company's paid seats: a 403 for the identity provider's admin when none
    is free (or the company is read-only); nothing was changed."""
    try:
        check_room(org_id)
    except NoSeats as exc:
        raise ScimError(403, exc.scim_detail()) from exc


def _set_active(user: User, active: bool | None) -> None:
    if active is None or active == (user.status == UserStatus.ACTIVE):
        return
    if active:
        reopen(user)
    else:
        close(user)


# --- the endpoints ---------------------------------------------------------------------------------------

def list_users():
    filters = {
        "username": lambda v: User.email == wire.as_text(v).strip().lower(),
        "emails.value": lambda v: User.email == wire.as_text(v).strip().lower(),
        "emails": lambda v: User.email == wire.as_text(v).strip().lower(),
        "externalid": lambda v: User.external_id == wire.as_text(v),
        "active": lambda v: (User.status == UserStatus.ACTIVE) if wire.as_bool(v) else (User.status != UserStatus.ACTIVE),
    }
    return list_response(USER, _people(), to_resource, filters, User.id)


def get_user(user_id):
    return resource_response(to_resource(person(user_id)))


def _create_again(user: User, want: Wanted):
    """The provider creates a person it deleted (assigned again) while the closed account is kept: it comes back."""
    _check_domain(want.email)
    reopen(user)
    user.scim_deleted_at = None
    for name in FIELDS:
        setattr(user, name, getattr(want, name))
    audit.record("scim.user_created", subject=user, org_id=user.org_id, again=True)
    db.session.flush()
    person_changed.send(user, changed={"department", "job_title"})
    if want.active is False:
        close(user)
    return resource_response(to_resource(user), 201)


def create_user():
    resource = wire.validate(USER, wire.body(), Context.RESOURCE_CREATION_REQUEST)
    want = wanted(resource)
    deleted = db.session.scalar(scoped(User, auth.org_id()).where(User.email == want.email, _deleted()))
    if deleted is not None:
        return _create_again(deleted, want)
    _check_address(want.email)
    if want.active is not False:
        _take_seat(auth.org_id())
    now = utcnow()
    user = User(org_id=auth.org_id(), email=want.email, name=want.name, job_title=want.job_title,
                department=want.department, external_id=want.external_id, role=Role.LEARNER,
                password_hash=NO_PASSWORD, email_verified_at=now, locale="en")
    db.session.add(user)
    db.session.flush()
    audit.record("scim.user_created", subject=user, org_id=user.org_id)
    person_changed.send(user, changed={"joined"})  # required training and the AI-use policy follow newcomers
    if want.active is False:
        close(user)
    return resource_response(to_resource(user), 201)


def _update(user: User, want: Wanted):
    changed = {name for name in FIELDS if getattr(want, name) != getattr(user, name)}
    if "email" in changed:
        _check_address(want.email)
        user.email_verified_at = utcnow()  # the identity provider vouches for an address in a verified domain
    for name in changed:
        setattr(user, name, getattr(want, name))
    if changed:
        audit.record("scim.user_updated", subject=user, org_id=user.org_id, fields=sorted(changed))
        db.session.flush()
    if changed & RULE_FIELDS:
        person_changed.send(user, changed=changed & RULE_FIELDS)
    _set_active(user, want.active)
    return resource_response(to_resource(user))


def replace_user(user_id):
    user = person(user_id)
    resource = wire.validate(USER, wire.body(), Context.RESOURCE_REPLACEMENT_REQUEST)
    return _update(user, wanted(resource, user))


def patch_user(user_id):
    user = person(user_id)
    patch = wire.validate(PatchOp[USER], wire.body(), Context.RESOURCE_PATCH_REQUEST)
    resource = to_resource(user)
    wire.apply_patch(patch, resource)
    return _update(user, wanted(resource, user))


def delete_user(user_id):
    user = person(user_id)
    close(user, action="scim.user_deleted")
    user.scim_deleted_at = utcnow()
    memberships = db.session.execute(sa.delete(TeamMembership).where(TeamMembership.user_id == user.id)).rowcount
    if memberships:
        person_changed.send(user, changed={"team"})
    return None
