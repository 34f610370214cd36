"""The audit log of security events: sign-ins, failures, lock-outs, password and role changes, ..."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import lazy_gettext as _l

from leadthe.audit_chain import personal_digest
from leadthe.database import write_apart
from leadthe.extensions import db
from leadthe.i18n import format_when
from leadthe.labels import ROLE as _ROLE_WORDS
from leadthe.models import AuditEvent
from leadthe.models.privacy import REQUEST_KINDS
from leadthe.privacy import labels
from leadthe.net import client_ip, user_agent


def _fields(action: str, actor, subject, org_id: int | None, details: dict) -> dict:
    if org_id is None:
        org_id = getattr(subject, "org_id", None) or getattr(actor, "org_id", None)
    values = {
        "action": action,
        "actor_id": getattr(actor, "id", None),
        "subject_id": getattr(subject, "id", None),
        "org_id": org_id,
        "ip": client_ip() if has_request_context() else "",
        "user_agent": user_agent() if has_request_context() else "",
        "details": details,
    }
    # the tamper-evident chain covers a keyed digest of the personal fields, taken now (leadthe.audit_chain)
    values["personal_digest"] = personal_digest(values["actor_id"], values["subject_id"], values["ip"],
                                                values["user_agent"], details)
    return values


def record(action: str, *, actor=None, subject=None, org_id: int | None = None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change)."""
    event = AuditEvent(**_fields(action, actor, subject, org_id, details))
    db.session.add(event)
    return event


def record_apart(action: str, *, actor=None, subject=None, org_id: int | None = None, conn=None,
                 only_if_refused: bool = False, **details) -> int | None:
    """Write an audit event in its own short transaction (``write_apart``), apart from the request's session,
    so that it is kept whatever becomes of the request: for read requests (a staff member viewed a person, an
    export was downloaded), which never write through their session, and for refusals (a failed log-in or
    step-up, a lock-out), whose request is rolled back. In a GET, the worker or the CLI it is written at once;
    in a POST once the request's own transaction has ended. ``conn``: an open ``write_transaction()`` to join;
    ``only_if_refused``: see ``write_apart``. With ``conn``, returns the new event's id. Watchers of the action
    (``watch``) run right after it is written."""
    values = _fields(action, actor, subject, org_id, details)
    if conn is not None:
        return _write(conn, action, values)
    write_apart(lambda own: _write(own, action, values), only_if_refused=only_if_refused)
    return None


# Watchers of events written apart (issue 23, leadthe/alerts): ``watch(action, fn)``; ``fn(conn, event_id, values)``
# runs in the event's own short transaction, right after it is written, each in a savepoint of its own, so a
# watcher that fails loses its own work only, never the audit event. Events written with ``record`` (inside the
# request's transaction) are not watched.
_WATCHERS: dict[str, list] = {}
_log = logging.getLogger(__name__)


def watch(action: str, receiver) -> None:
    receivers = _WATCHERS.setdefault(action, [])
    if receiver not in receivers:  # another app in the same process connects it again
        receivers.append(receiver)


def _write(conn, action: str, values: dict) -> int | None:
    """Insert the event on ``conn``; run the action's watchers; the new event's id."""
    event_id = conn.execute(sa.insert(AuditEvent).values(**values).returning(AuditEvent.id)).scalar_one()
    for receiver in _WATCHERS.get(action, ()):
        try:
            with conn.begin_nested():
                receiver(conn, event_id, values)
        except Exception:  # noqa: BLE001 - a watcher's failure must never cost the audit event
            _log.exception("audit watcher for %s failed", action)
    return event_id


# --- audit events in words ------------------------------------------------------------------------------
# Every action recorded above has a label here: people (the admin's audit log, a person's security events)
# never see the internal name. tests/test_labels.py finds every ``record("...")`` in the code and fails for
# an action without a label.
EVENT_LABELS = {
    "signup": _l("Account created"),
    "login.success": _l("Signed in"),
    "login.password_ok": _l("Password accepted, waiting for the two-step code"),
    "login.failed": _l("Sign-in failed: wrong password"),
    "login.locked": _l("Sign-in paused after too many wrong passwords"),
    "login.refused": _l("Sign-in refused: the account is not active"),
    "login.new_device": _l("Signed in from a new device"),
    "login.2fa_failed": _l("Sign-in stopped: wrong two-step code"),
    "login.2fa_locked": _l("Sign-in paused after too many wrong two-step codes"),
    "logout": _l("Signed out"),
    "password.changed": _l("Password changed"),
    "password.reset": _l("Password reset with an e-mailed link"),
    "password.reset_requested": _l("Password reset link requested"),
    "password.change_failed": _l("Password change failed: wrong current password"),
    "email.changed": _l("E-mail address changed"),
    "email.change_requested": _l("Change of e-mail address requested"),
    "email.verified": _l("E-mail address confirmed"),
    "2fa.setup_started": _l("Two-step verification set-up started"),
    "2fa.enabled": _l("Two-step verification turned on"),
    "2fa.disabled": _l("Two-step verification turned off"),
    "2fa.enable_failed": _l("Wrong code while turning on two-step verification"),
    "2fa.recovery_code_used": _l("Recovery code used"),
    "2fa.recovery_codes_regenerated": _l("New recovery codes made"),
    "reauth.success": _l("Identity confirmed for a sensitive action"),
    "reauth.failed": _l("Identity confirmation failed"),
    "session.revoked": _l("A device signed out"),
    "session.revoked_others": _l("All other devices signed out"),
    "profile.updated": _l("Profile edited"),
    "role.changed": _l("Role changed"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "user.closed": _l("Account closed"),
    "invitation.accepted": _l("Invitation accepted"),
    "invitation.resent": _l("Invitation sent again"),
    "invitation.revoked": _l("Invitation withdrawn"),
    "people.imported": _l("People imported from a file"),
    "team.created": _l("Team created"),
    "team.renamed": _l("Team renamed"),
    "team.deleted": _l("Team deleted"),
    "team.member_added": _l("Team member added"),
    "team.member_removed": _l("Team member removed"),
    "team.manager_changed": _l("Team manager changed"),
    "assignment.created": _l("Course assigned"),
    "requirement_rule.created": _l("Requirement rule added"),
    "requirement_rule.updated": _l("Requirement rule changed"),
    "requirement_rule.deleted": _l("Requirement rule deleted"),
    "org.settings_changed": _l("Company settings changed"),
    "org.works_council_on": _l("Works-council mode turned on"),  # issue 21, wcsettings
    "org.works_council_off": _l("Works-council mode turned off"),  # issue 21, wcsettings
    "org.closed": _l("Company closed"),
    "privacy.choices_changed": _l("Processing choices changed"),
    "privacy.request_filed": _l("Privacy request filed"),
    "privacy.request_answered": _l("Privacy request answered"),
    "privacy.export_requested": _l("Data export requested"),
    "privacy.export_ready": _l("Data export ready"),
    "privacy.export_downloaded": _l("Data export downloaded"),
    "evidence_pack.requested": _l("Evidence pack requested"),
    "evidence_pack.downloaded": _l("Evidence pack downloaded"),
    "privacy.erasure_requested": _l("Account deletion requested"),
    "privacy.erasure_cancelled": _l("Account deletion cancelled"),
    "privacy.erasure_completed": _l("Account deleted"),
    "privacy.minor_reported": _l("Reported as under age"),
    "policy.published": _l("Policy version published"),
    "policy.acknowledged": _l("Policy change acknowledged"),
    "staff.granted": _l("Staff role given"),
    "staff.access_granted": _l("LeadThe.AI staff opened the account's data"),
    "staff.viewed_user": _l("LeadThe.AI staff viewed the account"),
    "staff.minor_report_reason": _l("LeadThe.AI staff recorded why an account was reported as under age"),
    "staff.notice_sent": _l("Notice sent to every user"),
    "staff.ownership_notice_sent": _l("Change-of-ownership notice sent to every user"),  # issue 21, ownership
    # the AI-literacy programme: AI tools and the company's AI-use policy
    "ai_tool.created": _l("AI tool added to the inventory"),
    "ai_tool.updated": _l("AI tool changed in the inventory"),
    "ai_tool.deleted": _l("AI tool removed from the inventory"),
    "ai_policy.published": _l("AI-use policy version published"),
    "ai_policy.acknowledged": _l("AI-use policy acknowledged"),
    # the practice lab's settings (/admin/ai-lab)
    "lab.connection_changed": _l("Practice lab: model connection changed"),
    "lab.key_set": _l("Practice lab: API key saved"),
    "lab.key_removed": _l("Practice lab: API key removed"),
    "lab.quotas_changed": _l("Practice lab: quotas changed"),
    "lab.guard_changed": _l("Practice lab: personal-data guard changed"),
    "lab.retention_changed": _l("Practice lab: how long prompts are kept changed"),
    # single sign-on (/admin/sso, the log-in through the identity provider) and SCIM provisioning
    "sso.settings_changed": _l("Single sign-on: log-in rules changed"),
    "sso.oidc_changed": _l("Single sign-on: OpenID Connect settings changed"),
    "sso.saml_changed": _l("Single sign-on: SAML settings changed"),
    "sso.domain_added": _l("Single sign-on: e-mail domain claimed"),
    "sso.domain_removed": _l("Single sign-on: e-mail domain removed"),
    "sso.domain_verified": _l("Single sign-on: e-mail domain verified"),
    "sso.domain_check_failed": _l("Single sign-on: e-mail domain not verified yet"),
    "sso.domain_mail_sent": _l("Single sign-on: verification link mailed to the domain"),
    "sso.linked": _l("Single sign-on: account linked to the identity provider"),
    "sso.user_created": _l("Single sign-on: account created on first log-in"),
    "sso.refused": _l("Single sign-on: log-in refused"),
    "sso.password_refused": _l("Password log-in refused: the company requires single sign-on"),
    "scim.token_created": _l("SCIM: provisioning token made"),
    "scim.token_revoked": _l("SCIM: provisioning token revoked"),
    "scim.request": _l("SCIM: request from the identity provider"),
    "scim.refused": _l("SCIM: request refused (token not valid)"),
    "scim.user_created": _l("SCIM: person provisioned"),
    "scim.user_updated": _l("SCIM: person's details changed"),
    "scim.user_deactivated": _l("SCIM: person deactivated"),
    "scim.user_reactivated": _l("SCIM: person reactivated"),
    "scim.user_deleted": _l("SCIM: person deleted"),
    "scim.group_created": _l("SCIM: team created"),
    "scim.group_updated": _l("SCIM: team changed"),
    "scim.group_deleted": _l("SCIM: team deleted"),
    # billing: the staff console (/staff/billing)
    "billing.subscribed": _l("Billing: subscribed to a plan"),
    "billing.seats_changed": _l("Billing: number of seats changed"),
    "billing.cancelled": _l("Billing: subscription cancelled at the end of the period"),
    "billing.reactivated": _l("Billing: subscription reactivated"),
    "billing.status_changed": _l("Billing: subscription state changed"),
    "billing.details_changed": _l("Billing: billing details changed"),
    "billing.member_added": _l("Billing: billing access given"),
    "billing.member_removed": _l("Billing: billing access removed"),
    "billing.invoice_issued": _l("Billing: invoice issued"),
    "billing.invoice_paid": _l("Billing: invoice paid"),
    "billing.trial_extended": _l("Billing: trial extended by LeadThe.AI staff"),
    "billing.credit_granted": _l("Billing: credit granted by LeadThe.AI staff"),
    "billing.plan_created": _l("Billing: plan added"),
    "billing.plan_changed": _l("Billing: plan changed"),
    "billing.prices_changed": _l("Billing: new prices for a plan"),
    # the tamper-evident audit log (leadthe/audit_chain.py)
    "audit.chain_broken": _l("Audit log: a break in the chain was found"),
}
# issue 21: legal holds (hold helper's block)
EVENT_LABELS.update({
    "legal_hold.placed": _l("Legal hold placed"),
    "legal_hold.changed": _l("Legal hold changed"),
    "legal_hold.released": _l("Legal hold released"),
})
# issue 21: the data processing agreement (dpa helper's block)
EVENT_LABELS.update({
    "dpa.accepted": _l("Data processing agreement accepted for the company"),
    "dpa.published": _l("New version of the data processing agreement published"),
    "dpa.staff_downloaded": _l("LeadThe.AI staff downloaded the company's acceptance of the data processing agreement"),
})

# issue 21: sub-processor changes (subproc helper's block)
EVENT_LABELS.update({
    "subprocessors.published": _l("Sub-processors: a new version of the list was published"),
    "subprocessors.objected": _l("Sub-processors: the company objected to a change"),
    "subprocessors.objection_answered": _l("Sub-processors: an objection was answered"),
})

# issue 23: signs of attack (alerts helper's block; leadthe/alerts)
EVENT_LABELS.update({
    "tenancy.cross_company_miss": _l("Asked for a record of another company (answered: not found)"),
    "credential.new_network": _l("SCIM token used from a network not seen for it before"),
    "security_alert.acknowledged": _l("Security alert acknowledged by LeadThe.AI staff"),
    "security_alert.closed": _l("Security alert closed by LeadThe.AI staff"),
})

# The details an audit page shows, with their names in words (other details stay in the record only).
DETAIL_LABELS = {
    "reason": _l("Reason"), "reference": _l("Reference"), "role": _l("Role"), "via": _l("Through"),
    "kind": _l("Kind"), "outcome": _l("Outcome"), "domain": _l("Domain"), "until": _l("Until"), "fields": _l("Changed"), "changed": _l("Changed"),
}
_VIA_WORDS = {"team": _l("made a team's manager"), "invitation": _l("invitation"), "signup": _l("sign-up"),
              "oidc": _l("single sign-on (OpenID Connect)"), "saml": _l("single sign-on (SAML)"), "scim": _l("SCIM provisioning"),
              "cli": _l("command line")}
_POLICY_WORDS = {"privacy": _l("privacy policy"), "cookies": _l("cookie policy"), "terms": _l("terms of use"),
                 "minor": _l("minor change"), "material": _l("material change")}


# the practice lab's settings, as its audit events name what changed
_LAB_FIELDS = {"provider": _l("model connected or not"), "base_url": _l("base URL"), "model": _l("model name"),
               "provider_name": _l("name learners see"), "model_feedback": _l("model feedback"),
               "person_daily_tokens": _l("tokens per person per day"),
               "company_monthly_tokens": _l("tokens per company per month")}


def _value_words(key: str, value) -> str:
    if key in ("fields", "changed"):
        names = {**labels.PROFILE_FIELDS, **labels.CHOICE_LABELS, **_LAB_FIELDS}
        return ", ".join(str(names.get(v, str(v).replace("_", " "))) for v in (value or []))
    if key == "until":
        try:
            return format_when(datetime.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    words = {"role": _ROLE_WORDS, "via": _VIA_WORDS, "outcome": labels.REQUEST_STATUSES,
             "kind": {**REQUEST_KINDS, **_POLICY_WORDS}}.get(key, {})
    return str(words.get(value, value))


def details_in_words(details: dict | None) -> str:
    """"Changed: name, job title, photo; Reason: ..." from an event's details."""
    return "; ".join(f"{DETAIL_LABELS[key]}: {_value_words(key, value)}"
                     for key, value in (details or {}).items() if key in DETAIL_LABELS and value not in (None, "", []))


def event_label(action: str) -> str:
    """The action in words; an unknown one (a bug: the label test prevents it) as a neutral phrase."""
    label = EVENT_LABELS.get(action)
    return str(label) if label is not None else str(_l("Other security event"))
