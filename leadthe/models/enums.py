"""The closed sets of values stored as strings: roles, states and kinds.

``StrEnum`` members are their string values (``Role.ADMIN == "admin"``), so forms, templates, exports and
the command line keep seeing the same strings; the database accepts nothing else (a CHECK constraint per
column, declared with ``check_in`` on the model and created by migration 0010).
"""
from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class Role(StrEnum):
    LEARNER = "learner"
    MANAGER = "manager"
    ADMIN = "admin"
    # LeadThe.AI's own people, in no company
    STAFF = "staff"
    DPO = "dpo"


ORG_ROLES = (Role.LEARNER, Role.MANAGER, Role.ADMIN)
PLATFORM_ROLES = (Role.STAFF, Role.DPO)


class UserStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"  # by a company admin
    LOCKED = "locked"  # reported as a minor, or erasure without a grace period
    ERASURE_PENDING = "erasure_pending"
    CLOSED = "closed"


class OrgStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


class RequestKind(StrEnum):
    """Privacy requests (GDPR/CCPA)."""
    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    OPT_OUT = "opt_out"
    KNOW = "know"
    QUESTION = "question"


class RequestStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ERROR = "error"


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


class TicketStatus(StrEnum):
    OPEN = "open"
    WAITING = "waiting"
    ANSWERED = "answered"
    CLOSED = "closed"


class NoticeKind(StrEnum):
    """What a notice from LeadThe.AI to everyone is about: a general message, or a change of ownership
    (policy section 3: shown on every page until dismissed, and mailed)."""
    GENERAL = "general"
    OWNERSHIP = "ownership"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AiToolStatus(StrEnum):
    APPROVED = "approved"
    UNDER_REVIEW = "under_review"
    NOT_ALLOWED = "not_allowed"


class PolicyChange(StrEnum):
    """How a new version of the company's AI-use policy is published."""
    MINOR = "minor"  # shown, nobody is asked to acknowledge it again
    MATERIAL = "material"  # everyone is asked to read and acknowledge it


class RuleField(StrEnum):
    """What a requirement rule matches people on."""
    EVERYONE = "everyone"
    TEAM = "team"
    DEPARTMENT = "department"
    JOB_TITLE = "job_title"
    ROLE = "role"


class RuleOperator(StrEnum):
    EQUALS = "equals"  # case-insensitive, ignoring surrounding spaces
    CONTAINS = "contains"


class RequirementStatus(StrEnum):
    CURRENT = "current"  # completed and not expired
    DUE_SOON = "due_soon"  # due within 14 days
    OVERDUE = "overdue"
    NOT_STARTED = "not_started"  # due later than 14 days from now


class EvidenceStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


class LabProvider(StrEnum):
    NONE = "none"  # no model connected: learners write prompts and get the rubric checks only
    OPENAI = "openai"  # an OpenAI-compatible chat completions API (OpenAI, Azure OpenAI v1, Mistral, Ollama, vLLM…)


class GuardMode(StrEnum):
    WARN = "warn"  # personal data found: the learner sees it and confirms before the prompt leaves
    BLOCK = "block"  # personal data found: the prompt does not leave


class LabRunKind(StrEnum):
    ANSWER = "answer"  # the learner's prompt and the model's answer
    GRADING = "grading"  # the model grading a prompt against the exercise's rubric ("model feedback")


class LabRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SsoProtocol(StrEnum):
    NONE = "none"  # no single sign-on: people log in with their password
    OIDC = "oidc"  # OpenID Connect (authorisation code flow with PKCE)
    SAML = "saml"  # SAML 2.0 (we are the service provider)


class DomainMethod(StrEnum):
    DNS = "dns"  # a TXT record with the domain's token
    MAIL = "mail"  # an admin clicked the link mailed to an address at the domain


class BillingStatus(StrEnum):
    TRIALING = "trialing"  # the free trial (30 days, up to 25 people)
    ACTIVE = "active"
    PAST_DUE = "past_due"  # a payment failed or an invoice is overdue; read-only for admins after the grace period
    CANCELLED = "cancelled"  # ended (at the period's end), or a trial that ran out; reactivation starts again


class BillingProviderKind(StrEnum):
    MANUAL = "manual"  # invoices paid by bank transfer; no processor (the default without a Stripe key)
    STRIPE = "stripe"  # Stripe Checkout and the Customer Portal; card data never reaches us


class BillingInterval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class InvoiceStatus(StrEnum):
    OPEN = "open"  # issued, not paid yet
    PAID = "paid"
    VOID = "void"  # cancelled by a credit note; the number stays used


class BillingEventStatus(StrEnum):
    PENDING = "pending"  # recorded by the webhook, waiting for the worker
    DONE = "done"
    FAILED = "failed"  # kept with the error; retried by the worker


class BillingRequestKind(StrEnum):
    SUBSCRIBE = "subscribe"  # start paying (Checkout with Stripe; the first invoice with manual invoicing)
    SEATS = "seats"  # change the number of paid seats
    PORTAL = "portal"  # open the processor's customer portal (change the card, see its receipts)
    CANCEL = "cancel"  # cancel at the end of the period
    REACTIVATE = "reactivate"  # undo a cancellation, or start again after one


class BillingRequestStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class BillingAdjustmentKind(StrEnum):
    TRIAL_EXTENSION = "trial_extension"  # days added to a trial by staff
    CREDIT = "credit"  # an amount taken off the next invoice(s)


def check_in(column: str, allowed) -> sa.CheckConstraint:
    """CHECK (column IN (...)) over an enum or some of its members, named ``ck_<table>_<column>`` by the
    naming convention. Migration 0010 creates the same constraints (migrations import nothing of ours)."""
    values = ", ".join(f"'{member.value}'" for member in allowed)
    return sa.CheckConstraint(f"{column} IN ({values})", name=column)

