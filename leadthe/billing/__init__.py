"""Subscriptions and billing (issue 20): plans and seats, a payment processor behind one interface, invoices.

- ``admin_bp`` (``/admin/billing``): the company's plan, seats, billing details, billing contacts and
  invoices, for its admins and the people with the billing permission (``BillingMember``), who see
  invoices but no people data.
- ``staff_bp`` (``/staff/billing``): companies by state with MRR and seats, trial extensions and credits
  (with a reason, audited), plans and their price versions, manual invoices marked paid.
- ``hooks_bp`` (``/billing/webhooks/stripe``): the processor's signed webhooks, recorded in the event ledger
  and handled by the worker.

Modules:
- ``accounts``: the company's ``BillingAccount`` (the trial when there is none yet), seats used, state
  changes (audited), read-only after the grace period.
- ``plans``: plans and price versions; the default plans.
- ``provider``: the one interface every payment provider implements, and which one a company uses;
  ``manual`` (bank transfer, the default without a Stripe key) and ``stripe_provider`` (Checkout, the
  Customer Portal, webhooks; card data never reaches us).
- ``requests``: an admin's request that needs the processor, done by the worker while the page waits.
- ``seats``: the seat limit for invitations, CSV imports and SCIM (one company at a time, under a lock).
- ``guard``: read-only for admins' changes while the company is past due beyond the grace period.
- ``invoices``, ``tax``, ``invoice_pdf``: our invoice records (gapless numbers per year, VAT, reverse charge)
  and their PDF.
- ``events``: the event ledger and the worker's handling of processor events.
- ``dunning``: trial, payment-failed and card-expiring mails to the billing contacts; the daily checks.
- ``members``: billing contacts and the billing permission.
- ``admin_views``, ``staff_views``, ``webhook_views`` (+ ``forms``): the routes.
"""
from flask import Blueprint

admin_bp = Blueprint("billing_admin", __name__, url_prefix="/admin/billing")
staff_bp = Blueprint("billing_staff", __name__, url_prefix="/staff/billing")
hooks_bp = Blueprint("billing_hooks", __name__, url_prefix="/billing")
