"""Which provider a company's billing account uses (an account keeps the provider it subscribed with)."""
from __future__ import annotations

from leadthe.billing.manual import ManualProvider
from leadthe.billing.provider import Provider
from leadthe.billing.stripe_provider import StripeProvider
from leadthe.models.billing import BillingAccount
from leadthe.models.enums import BillingProviderKind


def provider_for(account: BillingAccount) -> Provider:
    if account.provider == BillingProviderKind.STRIPE:
        return StripeProvider()
    return ManualProvider()
