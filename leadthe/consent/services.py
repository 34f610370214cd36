"""Cookie consent: reading the visitor's choice, recording decisions, and the analytics gate."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

from leadthe.consent.cookies import delete_declared_cookie, revision, set_declared_cookie
from leadthe.extensions import db
from leadthe.legal.services import consent_policy_version, current_policy
from leadthe.models.consent import ConsentRecord
from leadthe.privacy.services import CHOICES, settings_for, update_choices
from leadthe.privacy.services import may_record_analytics as person_allows

CONSENT_COOKIE = "leadthe_consent"
ANALYTICS_COOKIE = "leadthe_aid"
PREFS_COOKIE = "leadthe_prefs"


@dataclass
class Consent:
    consent_id: str
    analytics: bool = False
    preferences: bool = False
    decided: bool = False  # an explicit choice for the current cookie revision and policy
    policy_version: int = 0
    revision: str = ""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="leadthe.consent")


def browser_signal() -> str:
    """"GPC" or "DNT" when the browser asks not to be tracked (the server reads the header itself)."""
    if request.headers.get("Sec-GPC", "").strip() == "1":
        return "GPC"
    if request.headers.get("DNT", "").strip() == "1":
        return "DNT"
    return ""


def current_consent() -> Consent:
    """The visitor's consent, read once per request from the signed consent cookie."""
    if "consent" in g:
        return g.consent

    raw = request.cookies.get(CONSENT_COOKIE)
    data = {}
    if raw:
        try:
            data = _serializer().loads(raw)
        except BadSignature:
            data = {}
    consent = Consent(consent_id=data.get("id") or secrets.token_hex(16))
    current = data.get("r") == revision() and data.get("v", 0) >= consent_policy_version()
    if current:
        consent.analytics, consent.preferences = bool(data.get("a")), bool(data.get("p"))
        consent.decided, consent.policy_version, consent.revision = True, data.get("v", 0), data.get("r")
    g.consent = consent
    return consent


def banner_needed() -> bool:
    return not current_consent().decided


def record_decision(*, analytics: bool, preferences: bool, method: str, user=None) -> Consent:
    consent = current_consent()
    policy = current_policy("privacy")
    consent.analytics, consent.preferences, consent.decided = analytics, preferences, True
    consent.policy_version, consent.revision = policy.version if policy else 1, revision()
    db.session.add(ConsentRecord(
        consent_id=consent.consent_id, user_id=getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None,
        analytics=analytics, preferences=preferences, policy_version=consent.policy_version,
        cookie_revision=consent.revision, method=method, signal=browser_signal(),
    ))
    g.consent_changed = True
    return consent


def write_consent_cookies(response) -> None:
    """After a decision: store it, and remove the cookies of refused categories."""
    consent = current_consent()
    payload = {"id": consent.consent_id, "a": consent.analytics, "p": consent.preferences,
               "r": consent.revision, "v": consent.policy_version}
    set_declared_cookie(response, CONSENT_COOKIE, _serializer().dumps(payload))
    if consent.analytics:
        if not request.cookies.get(ANALYTICS_COOKIE):
            set_declared_cookie(response, ANALYTICS_COOKIE, secrets.token_hex(16), consent=consent)
    elif request.cookies.get(ANALYTICS_COOKIE):
        delete_declared_cookie(response, ANALYTICS_COOKIE)
    if not consent.preferences and request.cookies.get(PREFS_COOKIE):
        delete_declared_cookie(response, PREFS_COOKIE)


def link_ledger_to_user(user) -> None:
    """After sign-in the visitor's earlier decisions belong to the account (and to its export and erasure)."""
    raw = request.cookies.get(CONSENT_COOKIE)
    if not raw:
        return
    try:
        consent_id = _serializer().loads(raw).get("id")
    except BadSignature:
        return
    if consent_id:
        db.session.execute(sa.update(ConsentRecord).where(ConsentRecord.consent_id == consent_id,
                                                           ConsentRecord.user_id.is_(None)).values(user_id=user.id))


def analytics_consented() -> bool:
    """Cookie consent for analytics, with GPC/DNT as a refusal unless the visitor explicitly chose on this site."""
    consent = current_consent()
    if consent.decided:
        return consent.analytics
    return False


def may_record_analytics(user=None) -> bool:
    """The one gate: consent given, no browser signal overriding it, no objection or restriction."""
    if not analytics_consented():
        return False
    if user is not None and getattr(user, "is_authenticated", False):
        return person_allows(user)
    return True


# --- the analytics choice: one value, shown and changed in three places ------------------------------------
# Cookie settings, Privacy -> choices and Preferences show the same thing: whether usage analytics are
# recorded for this person. It is stored where the law puts it: the browser's consent (the consent ledger
# and cookie) and, for an account, the objection to analytics. Reading goes through ``analytics_allowed``
# and every switch writes through ``choose_analytics``, which keeps both in step.

def analytics_allowed(user=None) -> bool:
    """Whether analytics are on for this visitor or person: consented here and not objected to."""
    if not analytics_consented():
        return False
    if user is not None and getattr(user, "is_authenticated", False):
        return not settings_for(user.id).object_analytics
    return True


def choose_analytics(user, allowed: bool, *, method: str, preferences: bool | None = None) -> None:
    """Switch analytics on or off for this browser and, when signed in, for the account. The caller writes
    the consent cookies into its response (``write_consent_cookies``)."""
    consent = current_consent()
    keep_prefs = consent.preferences if preferences is None else preferences
    if not consent.decided or consent.analytics != allowed or keep_prefs != consent.preferences:
        record_decision(analytics=allowed, preferences=keep_prefs, method=method, user=user)
    if user is not None and getattr(user, "is_authenticated", False):
        settings = settings_for(user.id)
        if settings.object_analytics == allowed:  # objecting while allowing (or the reverse): bring in step
            choices = {name: getattr(settings, name) for name in CHOICES}
            update_choices(user, {**choices, "object_analytics": not allowed})
