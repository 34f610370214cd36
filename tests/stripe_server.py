"""A local Stripe-compatible API server for the billing tests: localstripe (a pinned test dependency), started
once per test session on a free loopback port, stopped afterwards.

``stripe_server`` (session fixture) yields its URL; ``stripe_app`` (function fixture, for tests that also use
``app``) points the app at it with test keys. When localstripe cannot start, the tests FAIL: it is pinned in
requirements, so a missing server is a broken set-up, never a reason to skip.

localstripe keeps its objects in memory (its dump to /tmp/localstripe.pickle on every write is switched off:
several runs at once would share that file). It has customers, products, plans (Stripe accepts a plan's id
wherever a price id goes), payment methods, subscriptions with a quantity, and invoices (pay, void); it has
no Checkout Sessions and no Customer Portal: the tests create the subscription the way Checkout would and
then deliver a signed ``checkout.session.completed`` event (``signed_event``)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import stripe

from tests.conftest import free_port

SECRET_KEY = "sk_test_leadthe_localstripe"
WEBHOOK_SECRET = "whsec_test_leadthe"
START_SECONDS = 20

# localstripe's own app, with its per-write dump to disk switched off, on loopback only (its ``start()`` binds
# every interface, over an IPv6 socket that a host without IPv6 cannot open)
LAUNCH = ("import sys; import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
          "from aiohttp import web; from localstripe.server import app; "
          "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def stripe_server():
    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe nobody reads would stall the server
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(port)], stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + START_SECONDS
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.seek(0)
            err = log.read().decode(errors="replace")[-2000:]
            log.close()
            pytest.fail(f"localstripe (a pinned test dependency) did not start on port {port}: {err}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def stripe_app(app, stripe_server):
    """The app with Stripe configured against localstripe (restored afterwards: the app is per session)."""
    settings = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": stripe_server, "BILLING_HTTP_TIMEOUT": 5.0}
    before = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    yield app
    app.config.update(before)


def stripe_client(url: str) -> stripe.StripeClient:
    """The tests' own client, for what Checkout or a customer would do on Stripe's side."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": url},
                               http_client=stripe.RequestsClient(timeout=5), max_network_retries=0)


def signed_event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None,
                 secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    """A webhook body and its headers as Stripe sends them (``Stripe-Signature: t=…,v1=…``)."""
    created = created or int(time.time())
    body = json.dumps({"id": event_id or f"evt_{time.time_ns()}", "object": "event", "type": event_type,
                       "created": created, "api_version": "2025-01-27", "livemode": False,
                       "data": {"object": obj}}).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp)
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}
