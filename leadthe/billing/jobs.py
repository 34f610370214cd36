"""Billing's worker jobs: each handler is a thin entry point into the module that does the work."""
from __future__ import annotations

from datetime import time, timedelta

from leadthe.billing import actions, dunning, events, renewals
from leadthe.worker import job_handler


@job_handler("billing.request")
def run_request(job) -> None:
    """An admin's request to a slow provider (Checkout, Portal, seats), carried out off the web worker."""
    actions.run_request(job)


@job_handler("billing.event")
def handle_event(job) -> None:
    """One webhook event from the ledger: fetch the current object from the provider and sync."""
    events.handle_event_job(job)


@job_handler("billing.events", every=timedelta(minutes=5))
def sweep_events(job) -> None:
    """Ledger events still pending or failed, retried up to their limit."""
    events.sweep(job)


@job_handler("billing.renewals", every=timedelta(days=1), at=time(5, 0))
def run_renewals(job) -> None:
    """Daily at 05:00 UTC (before the day's dunning checks see the new invoices)."""
    renewals.run_daily(job)


@job_handler("billing.daily", every=timedelta(days=1), at=time(6, 30))
def run_daily(job) -> None:
    """Daily at 06:30 UTC: trial-ending mails, overdue manual invoices, read-only mails."""
    dunning.run_daily(job)
