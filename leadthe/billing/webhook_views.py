"""POST /billing/webhooks/stripe: Stripe's signed webhooks, recorded in the event ledger (issue 20, Stripe part)."""
