"""POST /billing/webhooks/stripe: Stripe's signed webhooks, recorded in the event ledger (issue 20, Stripe part).

The view only checks the signature (``STRIPE_WEBHOOK_SECRET``, 5 minutes' tolerance), records the event once
(``events.record``: the same event id again is answered 200 and changes nothing) and queues the worker's job;
it calls nobody and answers at once. Without a webhook secret the route does not exist (404); a bad
signature or payload is a 400 that changes nothing."""
from __future__ import annotations

import stripe
from flask import abort, current_app, jsonify, request

from leadthe.billing import events, hooks_bp
from leadthe.extensions import limiter

TOLERANCE_SECONDS = 300
NOT_SIGNED = (stripe.SignatureVerificationError, ValueError, IndexError, TypeError, KeyError, AttributeError)


@hooks_bp.post("/webhooks/stripe", endpoint="stripe")
@limiter.limit("1200 per minute", methods=["POST"])  # Stripe retries in bursts; generous, only against floods
def stripe_webhook():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        abort(404)
    payload = request.get_data(cache=False, as_text=False)
    try:
        event = stripe.Webhook.construct_event(payload, request.headers.get("Stripe-Signature", ""), secret,
                                               tolerance=TOLERANCE_SECONDS).to_dict()
        events.check_shape(event)
    except NOT_SIGNED:
        return jsonify(error="bad signature or payload"), 400
    ledger_id = events.record(event)
    return jsonify(received=True, duplicate=ledger_id is None), 200
