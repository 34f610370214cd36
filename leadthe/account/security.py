"""Account security: the person's signed-in devices, their security events in words, new-device mail,
and the company rule that every member uses two-step verification."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.extensions import db
from leadthe.htmx import is_htmx, see_other
from leadthe.net import absolute_url
from leadthe.mail import long_date, queue_mail
from leadthe.models import AuditEvent, User, UserSession, utcnow

RECENT_EVENTS = 20
SESSIONS_SHOWN = 50
# Distinct browsers compared for "new device": far more than anyone uses, bounded so it stays cheap.
KNOWN_AGENTS_CHECKED = 200


# --- user agents and places ------------------------------------------------------------------------

UNKNOWN_BROWSER = "Unknown browser"
UNKNOWN_OS = "an unknown system"


@dataclass(frozen=True)
class Device:
    browser: str
    os: str
    mobile: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.browser, self.os)

    def describe(self) -> str:
        """In English, for audit records and mails."""
        return f"{self.browser} on {self.os}"

    def display(self) -> str:
        """In the interface language, for pages."""
        browser = _("Unknown browser") if self.browser == UNKNOWN_BROWSER else self.browser
        os = _("an unknown system") if self.os == UNKNOWN_OS else self.os
        return _("%(browser)s on %(os)s", browser=browser, os=os)


@lru_cache(maxsize=2048)
def parse_agent(user_agent: str) -> Device:
    """Browser and OS family from a User-Agent header (ua-parser, with its bundled, maintained rules)."""
    from ua_parser import parse  # lazy: loading its rules takes about 35 ms, only sign-ins parse agents

    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else UNKNOWN_BROWSER
    if browser == "HeadlessChrome":
        browser = "Chrome (headless)"
    os = result.os.family if result.os else UNKNOWN_OS
    mobile = bool(result.device and result.device.family not in ("Other", "Spider"))
    return Device(browser, os, mobile)


def approximate_network(ip: str) -> str:
    """The address with its host part cut off (IPv4 /24, IPv6 /48): where, roughly, not who."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# --- sessions ----------------------------------------------------------------------------------------

@dataclass
class SessionView:
    id: int
    device: Device
    network: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def active_sessions(user: User, current_id: int | None) -> list[SessionView]:
    now = utcnow()
    idle_since = now - current_app.config["SESSION_IDLE"]
    rows = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
               UserSession.expires_at > now, UserSession.last_seen_at > idle_since)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        .limit(SESSIONS_SHOWN)
    )
    views = [SessionView(r.id, parse_agent(r.user_agent), approximate_network(r.ip), r.created_at, r.last_seen_at,
                         r.id == current_id) for r in rows]
    views.sort(key=lambda v: not v.current)  # this device first
    return views


def session_of(user: User, session_id: int) -> UserSession:
    """One of the person's own sessions; someone else's is a 404, like a missing one."""
    record = db.session.scalar(
        sa.select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    if record is None:
        abort(404)
    return record


def revoke_session(user: User, session_id: int) -> UserSession:
    """Sign one of the person's own browsers out; someone else's session is a 404, like a missing one."""
    record = session_of(user, session_id)
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record("session.revoked", actor=user, subject=user, session_id=record.id,
                     device=parse_agent(record.user_agent).describe())
    return record


def revoke_other_sessions(user: User, current_id: int) -> int:
    count = revoke_all_sessions(user.id, except_id=current_id)
    audit.record("session.revoked_others", actor=user, subject=user, sessions_revoked=count)
    return count


def is_new_device(user: User, user_agent: str) -> bool:
    """True when this browser+OS was never seen in the person's sessions (and they had some before:
    the very first sign-in is not news to anyone)."""
    agents = db.session.scalars(
        sa.select(UserSession.user_agent).where(UserSession.user_id == user.id)
        .group_by(UserSession.user_agent).order_by(sa.func.max(UserSession.id).desc()).limit(KNOWN_AGENTS_CHECKED)
    ).all()
    if not agents:
        return False
    key = parse_agent(user_agent).key
    return all(parse_agent(agent).key != key for agent in agents)


def notify_new_device(user: User, user_agent: str, ip: str) -> None:
    device = parse_agent(user_agent)
    audit.record("login.new_device", actor=user, subject=user, device=device.describe())
    queue_mail(user.email, _l("New sign-in to your LeadThe.AI account"), "new_device", kind="security_notice", user=user,
               name=user.first_name, device=device.describe(), network=approximate_network(ip),
               when=long_date(utcnow(), with_time=True), link_security=absolute_url("account.security_page"))


# --- security events in words --------------------------------------------------------------------------

EVENT_WORDS = {
    "signup": _l("You created your account"),
    "login.success": _l("You signed in"),
    "login.failed": _l("Someone tried to sign in with a wrong password"),
    "login.locked": _l("Sign-in was paused after too many wrong passwords"),
    "login.refused": _l("A sign-in was refused because the account was not active"),
    "login.2fa_failed": _l("A sign-in stopped at a wrong two-step verification code"),
    "login.new_device": _l("You signed in from a new device"),
    "logout": _l("You signed out"),
    "password.changed": _l("You changed your password"),
    "password.reset": _l("Your password was reset with an e-mailed link"),
    "password.reset_requested": _l("A password reset link was requested"),
    "password.change_failed": _l("A password change failed: wrong current password"),
    "email.changed": _l("Your e-mail address was changed"),
    "email.change_requested": _l("A change of your e-mail address was requested"),
    "email.verified": _l("You confirmed your e-mail address"),
    "2fa.setup_started": _l("You started setting up two-step verification"),
    "2fa.enabled": _l("You turned two-step verification on"),
    "2fa.disabled": _l("You turned two-step verification off"),
    "2fa.enable_failed": _l("A code to turn on two-step verification was wrong"),
    "2fa.recovery_code_used": _l("A recovery code was used"),
    "2fa.recovery_codes_regenerated": _l("You made new recovery codes (the old ones stopped working)"),
    "reauth.success": _l("You confirmed your identity for a sensitive action"),
    "reauth.failed": _l("A confirmation of your identity failed"),
    "session.revoked": _l("You signed a device out"),
    "session.revoked_others": _l("You signed out all your other devices"),
    "privacy.export_requested": _l("You asked for a copy of your data"),
    "privacy.export_ready": _l("Your data export was ready"),
    "privacy.export_downloaded": _l("You downloaded your data export"),
    "privacy.erasure_requested": _l("Deletion of your account was requested"),
    "privacy.erasure_cancelled": _l("You cancelled the deletion of your account"),
    "profile.updated": _l("You edited your profile"),
}


@dataclass
class EventView:
    when: datetime
    text: str
    device: str
    network: str


def recent_events(user: User, limit: int = RECENT_EVENTS) -> list[EventView]:
    rows = db.session.scalars(
        sa.select(AuditEvent)
        .where(sa.or_(AuditEvent.actor_id == user.id, AuditEvent.subject_id == user.id))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    events = []
    for event in rows:
        text = str(EVENT_WORDS.get(event.action) or audit.event_label(event.action))
        if event.actor_id not in (None, user.id):
            text += " " + str(_l("(by someone at your company or LeadThe.AI)"))
        events.append(EventView(event.created_at, text,
                                parse_agent(event.user_agent).display() if event.user_agent else "",
                                approximate_network(event.ip) if event.ip else ""))
    return events


# --- required two-step verification: by the company, and always for staff and DPO ------------------------

# What someone without two-step verification may open while it is required of them.
ALLOWED_DURING_2FA_SETUP = frozenset({
    "static", "core.healthz", "ops.metrics", "account.twofa_setup", "account.twofa_start", "account.twofa_enable", "auth.logout",
})


def must_set_up_2fa(user) -> bool:
    if not user.is_authenticated or user.has_2fa:
        return False
    return must_keep_2fa(user)


def require_2fa_setup():
    """before_request: members of a company that requires 2FA, and staff and DPO accounts (who reach
    personal data of every company), see only the set-up until they have it."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in ALLOWED_DURING_2FA_SETUP:
        return None  # unknown URLs go on to their 404 page
    user = current_user._get_current_object()
    if not must_set_up_2fa(user):
        return None
    if session.get("sso_mfa") and not user.is_platform_staff:
        return None  # this browser signed in with the identity provider's second factor (leadthe.sso.login.MFA_KEY)

    flash(str(_l("Staff and DPO accounts must use two-step verification. Set it up to continue.") if user.is_platform_staff
              else _l("Your company requires two-step verification. Set it up to continue.")), "info")
    target = url_for("account.twofa_setup")
    return see_other(target) if is_htmx() or request.method != "GET" else redirect(target)


def must_keep_2fa(user) -> bool:
    if user.is_platform_staff:
        return True
    org = user.organization if user.org_id is not None else None
    return bool(org is not None and org.require_2fa)
