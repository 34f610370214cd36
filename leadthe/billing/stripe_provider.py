"""Stripe through its official SDK: Checkout to subscribe, the Customer Portal for the card and cancellation,
seat changes on the subscription (Stripe prorates). Card data never reaches us (PCI SAQ A). Only the worker
calls it (``slow``); timeouts from ``BILLING_HTTP_TIMEOUT``; the API base from ``STRIPE_API_BASE`` (tests: a
local localstripe server)."""
from __future__ import annotations

from leadthe.models.enums import BillingProviderKind


class StripeProvider:
    kind = BillingProviderKind.STRIPE
    slow = True

    def subscribe(self, account, version, interval, seats, user):
        raise NotImplementedError  # issue 20: the Stripe part

    def change_seats(self, account, seats, user):
        raise NotImplementedError

    def portal_url(self, account, user):
        raise NotImplementedError

    def cancel(self, account, user):
        raise NotImplementedError

    def reactivate(self, account, user):
        raise NotImplementedError
