"""Words for stored values: what people read instead of a role, a status or a course topic as stored.

Every value of the closed sets in ``leadthe/models/enums.py`` has a lazily translated label here (a test checks
it), and so do the course topics, levels and audiences of the shipped curriculum. Templates use the ``label``
filter: ``{{ user.role|label("role") }}``, ``{{ ticket.status|label("ticket") }}``, ``{{ course.topic|label("topic") }}``.

A value without a label (a topic a company's author typed, say) is shown as written, with hyphens and
underscores as spaces, never as ``Responsible ai``-style capitalised slugs.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from leadthe.models.course import LEVEL_LABELS
from leadthe.models.enums import (AiToolStatus, BillingAdjustmentKind, BillingEventStatus, BillingInterval, BillingProviderKind,
                                  BillingRequestKind, BillingRequestStatus, BillingStatus, InvoiceStatus, DomainMethod, EvidenceStatus, ExportStatus, GuardMode, InvitationStatus, JobStatus, LabProvider,
                                  LabRunKind, LabRunStatus, MailStatus, OrgStatus, PolicyChange, RequirementStatus, Role, RuleField, RuleOperator, SsoProtocol,
                                  UserStatus)
from leadthe.models.support import TICKET_STATUSES

ROLE = {
    Role.LEARNER: _l("Learner"),
    Role.MANAGER: _l("Manager"),
    Role.ADMIN: _l("Company admin"),
    Role.STAFF: _l("LeadThe.AI staff"),
    Role.DPO: _l("Data protection officer"),
}

USER_STATUS = {
    UserStatus.ACTIVE: _l("Active"),
    UserStatus.DEACTIVATED: _l("Deactivated"),
    UserStatus.LOCKED: _l("Locked"),
    UserStatus.ERASURE_PENDING: _l("Deletion scheduled"),
    UserStatus.CLOSED: _l("Account closed"),
}

ORG_STATUS = {OrgStatus.ACTIVE: _l("Active"), OrgStatus.CLOSED: _l("Closed")}

INVITATION_STATUS = {
    InvitationStatus.PENDING: _l("Not yet accepted"),
    InvitationStatus.ACCEPTED: _l("Accepted"),
    InvitationStatus.REVOKED: _l("Withdrawn"),
}

TICKET_STATUS = TICKET_STATUSES  # the support area's own words (also its status filter's choices)

EXPORT_STATUS = {
    ExportStatus.QUEUED: _l("Waiting to start"),
    ExportStatus.RUNNING: _l("Being prepared"),
    ExportStatus.READY: _l("Ready to download"),
    ExportStatus.FAILED: _l("Failed"),
    ExportStatus.EXPIRED: _l("Expired"),
}

AI_TOOL_STATUS = {
    AiToolStatus.APPROVED: _l("Approved"),
    AiToolStatus.UNDER_REVIEW: _l("Under review"),
    AiToolStatus.NOT_ALLOWED: _l("Not allowed"),
}

POLICY_CHANGE = {
    PolicyChange.MINOR: _l("Minor change"),
    PolicyChange.MATERIAL: _l("Material change"),
}

RULE_FIELD = {
    RuleField.EVERYONE: _l("Everyone in the company"),
    RuleField.TEAM: _l("Team"),
    RuleField.DEPARTMENT: _l("Department"),
    RuleField.JOB_TITLE: _l("Job title"),
    RuleField.ROLE: _l("Role"),
}

RULE_OPERATOR = {
    RuleOperator.EQUALS: _l("is"),
    RuleOperator.CONTAINS: _l("includes"),
}

REQUIREMENT_STATUS = {
    RequirementStatus.CURRENT: _l("Current"),
    RequirementStatus.DUE_SOON: _l("Due soon"),
    RequirementStatus.OVERDUE: _l("Overdue"),
    RequirementStatus.NOT_STARTED: _l("Not started"),
}

EVIDENCE_STATUS = {
    EvidenceStatus.QUEUED: _l("Waiting to start"),
    EvidenceStatus.RUNNING: _l("Being prepared"),
    EvidenceStatus.READY: _l("Ready to download"),
    EvidenceStatus.FAILED: _l("Failed"),
    EvidenceStatus.EXPIRED: _l("Expired"),
}

LAB_PROVIDER = {
    LabProvider.NONE: _l("No model connected"),
    LabProvider.OPENAI: _l("OpenAI-compatible API"),
}

GUARD_MODE = {
    GuardMode.WARN: _l("Warn: the learner sees what was found and confirms"),
    GuardMode.BLOCK: _l("Block: the prompt is not sent"),
}

LAB_RUN_KIND = {LabRunKind.ANSWER: _l("Answer"), LabRunKind.GRADING: _l("Model feedback")}

LAB_RUN_STATUS = {
    LabRunStatus.QUEUED: _l("Waiting for the model"),
    LabRunStatus.RUNNING: _l("The model is answering"),
    LabRunStatus.DONE: _l("Complete"),
    LabRunStatus.FAILED: _l("Failed"),
    LabRunStatus.CANCELLED: _l("Cancelled"),
}

SSO_PROTOCOL = {
    SsoProtocol.NONE: _l("No single sign-on"),
    SsoProtocol.OIDC: _l("OpenID Connect"),
    SsoProtocol.SAML: _l("SAML 2.0"),
}

DOMAIN_METHOD = {DomainMethod.DNS: _l("DNS TXT record"), DomainMethod.MAIL: _l("link mailed to the domain")}

BILLING_STATUS = {BillingStatus.TRIALING: _l("Trial"), BillingStatus.ACTIVE: _l("Active"),
                  BillingStatus.PAST_DUE: _l("Past due"), BillingStatus.CANCELLED: _l("Cancelled")}
BILLING_PROVIDER = {BillingProviderKind.MANUAL: _l("Manual invoicing"), BillingProviderKind.STRIPE: _l("Stripe")}
BILLING_INTERVAL = {BillingInterval.MONTH: _l("Monthly"), BillingInterval.YEAR: _l("Yearly")}
INVOICE_STATUS = {InvoiceStatus.OPEN: _l("Open"), InvoiceStatus.PAID: _l("Paid"), InvoiceStatus.VOID: _l("Void")}
BILLING_EVENT_STATUS = {BillingEventStatus.PENDING: _l("Waiting"), BillingEventStatus.DONE: _l("Handled"),
                        BillingEventStatus.FAILED: _l("Failed")}
BILLING_REQUEST_KIND = {
    BillingRequestKind.SUBSCRIBE: _l("Subscribe"), BillingRequestKind.SEATS: _l("Change seats"),
    BillingRequestKind.PORTAL: _l("Payment details"), BillingRequestKind.CANCEL: _l("Cancel"),
    BillingRequestKind.REACTIVATE: _l("Reactivate"),
}
BILLING_REQUEST_STATUS = {BillingRequestStatus.PENDING: _l("Waiting"), BillingRequestStatus.DONE: _l("Done"),
                          BillingRequestStatus.FAILED: _l("Failed")}
BILLING_ADJUSTMENT = {BillingAdjustmentKind.TRIAL_EXTENSION: _l("Trial extended"), BillingAdjustmentKind.CREDIT: _l("Credit")}

JOB_STATUS = {
    JobStatus.PENDING: _l("Waiting"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
}

MAIL_STATUS = {
    MailStatus.PENDING: _l("Waiting to be sent"),
    MailStatus.SENDING: _l("Sending"),
    MailStatus.SENT: _l("Sent"),
    MailStatus.FAILED: _l("Failed"),
}

# what each mail is about (the kinds are the templates in templates/mail/): the export's report and /dev/mail
MAIL_KIND = {
    "company_closed": _l("Your company's account was closed"),
    "dpo_new_request": _l("A new privacy request (for the data protection officer)"),
    "email_change_confirm": _l("Confirm your new e-mail address"),
    "email_change_notice": _l("Your e-mail address is being changed"),
    "email_changed_old": _l("Your e-mail address was changed"),
    "erasure_scheduled": _l("Your account is due to be deleted"),
    "export_ready": _l("Your data export is ready"),
    "invitation": _l("Invitation to your company's LeadThe.AI account"),
    "literacy_digest": _l("Overdue required training in your teams"),
    "literacy_due": _l("Required training is due soon"),
    "literacy_overdue": _l("Required training is overdue"),
    "manager_digest": _l("Weekly summary of your teams"),
    "new_device": _l("Sign-in from a new device"),
    "notice": _l("Notice from LeadThe.AI"),
    "password_changed": _l("Your password was changed"),
    "policy_changed": _l("A policy has changed"),
    "subprocessors_changed": _l("Our sub-processors change"),
    "progress_completed": _l("You completed a course"),
    "progress_enrolled": _l("You started a course"),
    "progress_halfway": _l("Halfway through a course"),
    "progress_inactive": _l("A reminder to keep learning"),
    "recertify": _l("A certificate is about to expire"),
    "recovery_code_used": _l("A recovery code was used"),
    "request_answered": _l("Your privacy request was answered"),
    "reset_password": _l("Reset your password"),
    "support_new_ticket": _l("A new support ticket"),
    "support_reply": _l("A reply to your support ticket"),
    "twofa_disabled": _l("Two-step verification was turned off"),
    "twofa_enabled": _l("Two-step verification was turned on"),
    "verify_email": _l("Confirm your e-mail address"),
    "sso_verify_domain": _l("Confirm a domain for single sign-on"),
    "ai_policy_published": _l("Please read your company's AI-use policy"),
    "ai_policy_reminder": _l("Reminder: please read your company's AI-use policy"),
    "billing_invoice": _l("An invoice from LeadThe.AI"),
    "audit_chain_broken": _l("A break in the audit log's chain (to LeadThe.AI staff)"),
    "security_alert": _l("A security alert (to LeadThe.AI staff)"),  # issue 23, alerts
    "billing_trial_7d": _l("Your trial ends within a week"),
    "billing_trial_1d": _l("Your trial ends tomorrow"),
    "billing_payment_failed": _l("A payment did not come through"),
    "billing_card_expiring": _l("The card for your subscription expires soon"),
    "billing_read_only": _l("Your company's account is read-only for admins"),
    "works_council_changed": _l("Works-council mode was turned on or off for your company"),  # issue 21, wcsettings
}
NOTICE_KIND = {"general": _l("General notice"), "ownership": _l("Change of ownership")}  # issue 21, ownership
FEEDBACK_KIND = {"general": _l("About LeadThe.AI in general"), "course": _l("About a course")}

LEVEL = LEVEL_LABELS  # the authoring form's choices

TOPIC = {
    "general": _l("General"),
    "foundations": _l("Foundations"),
    "prompting": _l("Prompting"),
    "responsible-ai": _l("Responsible AI"),
    "roles": _l("AI in your role"),
    "leadership": _l("Leadership"),
}

AUDIENCE = {"everyone": _l("everyone"), "managers": _l("managers"), "admins": _l("company admins")}

# the kind names the ``label`` filter takes; privacy-request kinds and statuses, audit events and processing
# choices have their own words in the privacy area
KINDS = {
    "role": ROLE, "user_status": USER_STATUS, "org_status": ORG_STATUS, "invitation": INVITATION_STATUS,
    "ticket": TICKET_STATUS, "export": EXPORT_STATUS, "job": JOB_STATUS, "mail": MAIL_STATUS,
    "ai_tool": AI_TOOL_STATUS, "policy_change": POLICY_CHANGE, "rule_field": RULE_FIELD, "rule_operator": RULE_OPERATOR,
    "requirement": REQUIREMENT_STATUS, "evidence": EVIDENCE_STATUS,
    "lab_provider": LAB_PROVIDER, "guard_mode": GUARD_MODE, "lab_run_kind": LAB_RUN_KIND, "lab_run": LAB_RUN_STATUS,
    "sso_protocol": SSO_PROTOCOL, "domain_method": DOMAIN_METHOD,
    "billing_status": BILLING_STATUS, "billing_provider": BILLING_PROVIDER, "billing_interval": BILLING_INTERVAL,
    "invoice": INVOICE_STATUS, "billing_event": BILLING_EVENT_STATUS, "billing_request_kind": BILLING_REQUEST_KIND,
    "billing_request": BILLING_REQUEST_STATUS, "billing_adjustment": BILLING_ADJUSTMENT,
    "level": LEVEL, "topic": TOPIC, "audience": AUDIENCE, "mail_kind": MAIL_KIND, "feedback": FEEDBACK_KIND,
    "notice_kind": NOTICE_KIND,  # issue 21, ownership
}


def label(value, kind: str) -> str:
    """The words for ``value`` of ``kind`` (a key of ``KINDS``) in the interface language."""
    if value is None or value == "":
        return ""
    words = KINDS[kind].get(str(value))
    if words is not None:
        return str(words)
    return str(value).replace("-", " ").replace("_", " ")
