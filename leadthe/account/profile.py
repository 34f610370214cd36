"""Rectification: editing the profile and changing the e-mail address (confirmed at the new address)."""
from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from leadthe import audit
from leadthe.auth.services import find_user_by_email, normalize_email
from leadthe.net import absolute_url
from leadthe.mail import queue_mail
from leadthe.models import User, utcnow
from leadthe.privacy.services import record_request
from leadthe.signals import person_changed
from leadthe.tenancy import scoped_get

EMAIL_CHANGE_MAX_AGE = 24 * 3600


def update_profile(user: User, *, name: str, job_title: str, department: str, photo: bytes | None, remove_photo: bool) -> list[str]:
    changed = [f for f, v in (("name", name), ("job_title", job_title), ("department", department)) if getattr(user, f) != v]
    user.name, user.job_title, user.department = name, job_title, department
    if photo is not None:
        user.photo, user.photo_updated_at = photo, utcnow()
        changed.append("photo")
    elif remove_photo and user.photo_updated_at is not None:
        user.photo, user.photo_updated_at = None, None
        changed.append("photo removed")
    if changed:
        record_request(user, "rectification", details="Profile edited: " + ", ".join(changed), self_service=True, completed=True)
        audit.record("profile.updated", actor=user, subject=user, fields=changed)
    moved = {"job_title", "department"} & set(changed)
    if moved and user.org_id is not None:
        person_changed.send(user, changed=moved)  # required training follows a new department or job title
    return changed


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.email-change")


def _fp(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class EmailInUse(Exception):
    pass


def request_email_change(user: User, new_email: str) -> None:
    new_email = normalize_email(new_email)
    if find_user_by_email(new_email) is not None:
        raise EmailInUse(new_email)
    user.pending_email = new_email
    token = _serializer().dumps({"u": user.id, "to": new_email, "from": _fp(user.email)})
    queue_mail(new_email, _l("Confirm your new e-mail address for LeadThe.AI"), "email_change_confirm", kind="email_change",
               user=user, name=user.first_name, link=absolute_url("account.confirm_email_change", token=token))
    queue_mail(user.email, _l("A change of your LeadThe.AI e-mail address was requested"), "email_change_notice",
               kind="security_notice", user=user, name=user.first_name, new_email=new_email)
    audit.record("email.change_requested", actor=user, subject=user)


def user_for_email_change(token: str) -> tuple[User, str] | None:
    try:
        data = _serializer().loads(token, max_age=EMAIL_CHANGE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = scoped_get(User, data.get("u"))
    if user is None or not user.is_active or data.get("from") != _fp(user.email) or user.pending_email != data.get("to"):
        return None
    return user, data["to"]


def confirm_email_change(user: User, new_email: str) -> None:
    if find_user_by_email(new_email) is not None:
        raise EmailInUse(new_email)
    old = user.email
    user.email, user.pending_email, user.email_verified_at = new_email, None, utcnow()
    record_request(user, "rectification", details="E-mail address changed", self_service=True, completed=True)
    audit.record("email.changed", actor=user, subject=user)
    queue_mail(old, _l("Your LeadThe.AI e-mail address was changed"), "email_changed_old", kind="security_notice",
               user=user, name=user.first_name, new_email=new_email)
