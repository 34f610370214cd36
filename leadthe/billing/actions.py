"""An admin's billing request (subscribe, seats, portal, cancel, reactivate) carried out by the account's provider.

A provider that calls an outside service (Stripe) is only called by the worker: ``submit`` stores a
``BillingRequest`` and a job, and the admin's page (``/admin/billing/requests/<id>``) waits for it, then
sends the admin on (Checkout, the portal) or back to the billing page. The manual provider needs no outside
call: ``submit`` carries the request out at once, in the request's own transaction.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe.billing import accounts, plans
from leadthe.billing.provider import ProviderError
from leadthe.billing.providers import provider_for
from leadthe.extensions import db
from leadthe.models import User, utcnow
from leadthe.models.billing import BillingAccount, BillingRequest, PlanVersion
from leadthe.models.enums import BillingRequestKind, BillingRequestStatus
from leadthe.tenancy import scoped_get, tenant, unscoped
from leadthe.worker import enqueue_job

log = logging.getLogger(__name__)

# why a request failed, in words for the admin (codes are stored)
ERRORS = {
    "unreachable": _l("The payment processor could not be reached. Nothing was changed; please try again in a few minutes."),
    "refused": _l("The payment processor refused the change. Nothing was changed; please check your details and try again."),
    "no_customer": _l("Your company has no payment account with the processor yet: subscribe first."),
    "no_plan": _l("That plan is not offered any more: please choose another."),
    "seats_below_used": _l("You cannot pay for fewer seats than your company uses now (active people and open invitations). Nothing was changed."),
    "no_subscription": _l("Your company has no running subscription to change: subscribe first."),
    "internal": _l("Something went wrong on our side. Nothing was changed; please try again, or write to support."),
}


def submit(account: BillingAccount, user, kind: str, params: dict | None = None) -> BillingRequest:
    """Record the request and carry it out now (manual) or in the worker (a processor)."""
    req = BillingRequest(org_id=account.org_id, user_id=getattr(user, "id", None), kind=kind, params=params or {},
                         status=BillingRequestStatus.PENDING, url="", error="")
    db.session.add(req)
    db.session.flush()
    provider = provider_for(account)
    if provider.slow:
        enqueue_job("billing.request", {"request_id": req.id, "org_id": account.org_id})
    else:
        _carry_out(req, account, provider, user)
    return req


def _carry_out(req: BillingRequest, account: BillingAccount, provider, user) -> None:
    params = req.params or {}
    url = None
    try:
        if req.kind == BillingRequestKind.SUBSCRIBE:
            version = db.session.get(PlanVersion, params.get("plan_version_id"))
            if version is None:
                raise ProviderError("no_plan")
            url = provider.subscribe(account, version, params.get("interval", "month"), int(params.get("seats", 1)), user)
        elif req.kind == BillingRequestKind.SEATS:
            provider.change_seats(account, int(params["seats"]), user)
        elif req.kind == BillingRequestKind.PORTAL:
            url = provider.portal_url(account, user)
        elif req.kind == BillingRequestKind.CANCEL:
            provider.cancel(account, user)
        elif req.kind == BillingRequestKind.REACTIVATE:
            url = provider.reactivate(account, user)
    except ProviderError as exc:
        req.status, req.error = BillingRequestStatus.FAILED, exc.code if exc.code in ERRORS else "refused"
    else:
        req.status, req.url = BillingRequestStatus.DONE, url or ""
    req.finished_at = utcnow()
    db.session.flush()


def run_request(job) -> None:
    """The worker's side of ``submit`` for a slow provider. A failure is an answer for the admin, not a
    failure of the job: the request says why, and the page shows it."""
    payload = job.payload or {}
    req = db.session.scalar(unscoped(sa.select(BillingRequest).where(BillingRequest.id == payload.get("request_id")),
                                     reason="the worker, carrying out a company's billing request"))
    if req is None or req.status != BillingRequestStatus.PENDING:
        return
    with tenant(req.org_id):
        account = accounts.account_for(req.org_id)
        user = scoped_get(User, req.user_id) if req.user_id else None
        plans.ensure_default_plans()
        try:
            _carry_out(req, account, provider_for(account), user)
        except Exception:  # noqa: BLE001 - the admin's page must get an answer instead of waiting forever
            db.session.rollback()
            log.exception("billing: request %s failed", payload.get("request_id"))
            req = scoped_get(BillingRequest, payload.get("request_id"))
            req.status, req.error, req.finished_at = BillingRequestStatus.FAILED, "internal", utcnow()
        db.session.commit()
