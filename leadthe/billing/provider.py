"""The one interface every payment provider implements, and which provider a company's account uses.

A provider changes the ``BillingAccount`` in the current transaction (through ``accounts.set_status`` for
states) and issues invoices through ``invoices.issue_invoice``. A provider that calls an outside service
(``slow``) is only ever called by the worker (``requests.run_request``), never in a web request.

Providers: ``manual`` (bank transfer; invoices issued by us, marked paid by staff; the default without a
Stripe key) and ``stripe`` (Checkout to subscribe, the Customer Portal for the card and cancellation,
webhooks for what happens afterwards).
"""
from __future__ import annotations

from typing import Protocol

from leadthe.models.billing import BillingAccount, PlanVersion


class ProviderError(Exception):
    """The provider refused or could not be reached; ``code`` is put in words on the admin's page
    (``requests.ERRORS``)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class Provider(Protocol):
    kind: str
    slow: bool  # calls an outside service: only the worker calls it

    def subscribe(self, account: BillingAccount, version: PlanVersion, interval: str, seats: int, user) -> str | None:
        """Start paying for ``seats`` seats of ``version``; the URL to send the admin to (Stripe Checkout), or
        None when the subscription is in place (manual: the first invoice is issued)."""

    def change_seats(self, account: BillingAccount, seats: int, user) -> None:
        """Pay for ``seats`` seats from now on (the processor prorates; manual: an invoice for the rest of the
        period when seats are added, fewer seats from the next period)."""

    def portal_url(self, account: BillingAccount, user) -> str | None:
        """Where the admin changes the card or sees the processor's receipts (Stripe's Customer Portal); None
        when the provider has no such page."""

    def cancel(self, account: BillingAccount, user) -> None:
        """Cancel at the end of the current period."""

    def reactivate(self, account: BillingAccount, user) -> str | None:
        """Undo a cancellation before the period ended, or subscribe again after it (may return a URL)."""

