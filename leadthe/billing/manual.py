"""Manual invoicing: the company pays our invoices by bank transfer; no processor (the default when no Stripe key
is configured, so ``make run`` works offline). Invoices are issued by us at the start of each period and when
seats are added; staff mark them paid (``/staff/billing``); an invoice unpaid after its due date makes the
account past due (the daily check in ``dunning``)."""
from __future__ import annotations

from leadthe.models.enums import BillingProviderKind


class ManualProvider:
    kind = BillingProviderKind.MANUAL
    slow = False

    def subscribe(self, account, version, interval, seats, user):
        raise NotImplementedError  # issue 20: the admin part

    def change_seats(self, account, seats, user):
        raise NotImplementedError

    def portal_url(self, account, user):
        return None

    def cancel(self, account, user):
        raise NotImplementedError

    def reactivate(self, account, user):
        raise NotImplementedError
