"""Subscriptions and billing (issue 20): plans and their price versions, each company's billing account
(subscription state, seats, billing details), billing contacts, invoices, the processor's event ledger.

- ``Plan`` / ``PlanVersion``: plans are data, edited by staff. A price change is a new version; a running
  period keeps the version it started with, and the next period takes the newest one.
- ``BillingAccount``: one row per company: which provider (manual invoicing or Stripe), the state
  (trialing, active, past due, cancelled), paid seats, the current period, the processor's ids, and the
  company's billing details (legal name, address, VAT ID). Company data, not personal data.
- ``BillingMember``: people who may see invoices without seeing people data (the "billing" permission);
  ``receives_mail`` makes them billing contacts, who get invoices and dunning mail.
- ``Invoice`` (+ ``InvoiceCounter``, ``InvoiceRecipient``): our own invoice record for every charge, with a
  gapless number per year; seller, buyer and lines are frozen when it is issued. Kept 10 years (tax law),
  also after the company has left (``org_id`` is then NULL). The person it is addressed to and the people
  it was mailed to are replaced by their role when they are erased, never deleted with them.
- ``BillingEvent``: the ledger of processor events (webhooks): the same event twice changes nothing.
- ``BillingRequest``: an admin's request that needs the processor (Checkout, portal, seats, cancel), done
  by the worker; the page waits for it.
- ``BillingAdjustment``: a trial extension or a credit granted by staff, with the reason.
- ``BillingNotice``: the dunning and trial mails already sent (one per kind and occasion).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, TenantScoped, Timestamped, utcnow
from leadthe.models.enums import (
    BillingAdjustmentKind, BillingEventStatus, BillingInterval, BillingProviderKind, BillingRequestKind,
    BillingRequestStatus, BillingStatus, InvoiceStatus, check_in,
)


class Plan(Timestamped, Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)  # stable: "team", "business"
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)  # offered to companies that subscribe now
    position: Mapped[int] = mapped_column(default=0)


class PlanVersion(Timestamped, Base):
    """A plan's prices from ``created_at`` on. Never edited once a company has used it: a new version instead."""

    __tablename__ = "plan_version"
    __table_args__ = (sa.UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    month_cents: Mapped[int] = mapped_column(default=0)  # net price per seat and month
    year_cents: Mapped[int] = mapped_column(default=0)  # net price per seat and year
    # the processor's price ids for this version (Stripe: created by the worker when first needed)
    stripe_price_month: Mapped[str] = mapped_column(sa.String(255), default="")
    stripe_price_year: Mapped[str] = mapped_column(sa.String(255), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # why the price changed (staff)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class BillingAccount(OrgOwned, Timestamped, Base):
    __tablename__ = "billing_account"
    __table_args__ = (sa.UniqueConstraint("org_id"), check_in("status", BillingStatus),
                      check_in("provider", BillingProviderKind), check_in("interval", BillingInterval),
                      sa.Index("ix_billing_account_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(12), default=BillingProviderKind.MANUAL)
    status: Mapped[str] = mapped_column(sa.String(12), default=BillingStatus.TRIALING)
    plan_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_version.id", ondelete="RESTRICT"))
    interval: Mapped[str] = mapped_column(sa.String(8), default=BillingInterval.MONTH)
    seats: Mapped[int] = mapped_column(default=25)  # paid seats (the trial: its limit)
    trial_ends_at: Mapped[datetime | None]
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    past_due_since: Mapped[datetime | None]  # read-only for admins' changes GRACE_DAYS after this
    cancelled_at: Mapped[datetime | None]
    credit_cents: Mapped[int] = mapped_column(default=0)  # granted by staff, taken off the next invoices
    # the processor's ids (Stripe customer and subscription) and when we last read them
    stripe_customer_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    synced_at: Mapped[datetime | None]
    # the company's billing details, printed on its invoices
    legal_name: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line1: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line2: Mapped[str] = mapped_column(sa.String(200), default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="")  # ISO 3166-1 alpha-2
    vat_id: Mapped[str] = mapped_column(sa.String(20), default="")  # normalised (python-stdnum)
    vat_id_valid: Mapped[bool] = mapped_column(default=False)
    purchase_order: Mapped[str] = mapped_column(sa.String(100), default="")  # the buyer's reference
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BillingMember(OrgOwned, Timestamped, Base):
    __tablename__ = "billing_member"
    __table_args__ = (sa.UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    receives_mail: Mapped[bool] = mapped_column(default=True)  # a billing contact: invoices and dunning mail
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class InvoiceCounter(Base):
    """The last invoice number used per year: taken with the row locked, in the transaction that issues the
    invoice, so numbers have no gaps (a rolled-back invoice gives its number back) and no duplicates."""

    __tablename__ = "invoice_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(TenantScoped, Timestamped, Base):
    __tablename__ = "invoice"
    __table_args__ = (sa.UniqueConstraint("year", "seq"), check_in("status", InvoiceStatus),
                      check_in("provider", BillingProviderKind), sa.Index("ix_invoice_org_issued", "org_id", "issued_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the company has left: the invoice stays (tax law), with the buyer frozen in ``buyer``
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)  # "2026-000042"
    year: Mapped[int]
    seq: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(8), default=InvoiceStatus.OPEN)
    provider: Mapped[str] = mapped_column(sa.String(12), default=BillingProviderKind.MANUAL)
    provider_invoice_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)  # Stripe's "in_…"
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    net_cents: Mapped[int] = mapped_column(default=0)
    tax_cents: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(default=0)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)  # basis points: 1900 = 19 %
    reverse_charge: Mapped[bool] = mapped_column(default=False)
    tax_note: Mapped[str] = mapped_column(sa.String(40), default="")  # a code, put in words on the PDF
    seller: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # name, address lines, country, VAT ID, bank
    buyer: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # the company: name, address lines, country, VAT ID
    lines: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{description, quantity, unit_cents, amount_cents}]
    # the person the invoice is addressed to ("for the attention of"); on their erasure the name becomes
    # their role and the address goes, the invoice stays
    contact_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    subject_ref: Mapped[str | None] = mapped_column(sa.String(64))  # the erased contact's pseudonym


class InvoiceRecipient(TenantScoped, Base):
    """One person an invoice was mailed to (the billing contacts when it was issued)."""

    __tablename__ = "invoice_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    subject_ref: Mapped[str | None] = mapped_column(sa.String(64))


class BillingEvent(Base):
    """A processor event, recorded once (unique per provider and event id) and handled by the worker."""

    __tablename__ = "billing_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"), check_in("status", BillingEventStatus),
                      sa.Index("ix_billing_event_status", "status", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(12), default=BillingProviderKind.STRIPE)
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100))
    object_id: Mapped[str] = mapped_column(sa.String(255), default="")  # the object to fetch afresh
    created: Mapped[datetime | None]  # when the processor made the event
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(8), default=BillingEventStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    processed_at: Mapped[datetime | None]


class BillingRequest(OrgOwned, Timestamped, Base):
    __tablename__ = "billing_request"
    __table_args__ = (check_in("kind", BillingRequestKind), check_in("status", BillingRequestStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # plan version, interval, seats
    status: Mapped[str] = mapped_column(sa.String(8), default=BillingRequestStatus.PENDING)
    url: Mapped[str] = mapped_column(sa.String(2000), default="")  # where to send the admin (Checkout, portal)
    error: Mapped[str] = mapped_column(sa.String(40), default="")  # a code, put in words on the page
    finished_at: Mapped[datetime | None]


class BillingAdjustment(OrgOwned, Timestamped, Base):
    __tablename__ = "billing_adjustment"
    __table_args__ = (check_in("kind", BillingAdjustmentKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    days: Mapped[int] = mapped_column(default=0)  # trial extension
    amount_cents: Mapped[int] = mapped_column(default=0)  # credit
    reason: Mapped[str] = mapped_column(sa.String(500))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    applied_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice.id", ondelete="SET NULL"))


class BillingNotice(OrgOwned, Base):
    """A billing mail sent to a company's contacts: ``kind`` ("trial_7d", "trial_1d", "payment_failed",
    "card_expiring", "read_only") and ``key`` (the occasion: the trial's end date, the invoice) make it once."""

    __tablename__ = "billing_notice"
    __table_args__ = (sa.UniqueConstraint("org_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(100), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
