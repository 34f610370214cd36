"""``GET /metrics``: the Prometheus text format, behind a bearer token (LEADTHE_METRICS_TOKEN).

Without the setting the route does not exist for anyone (404, the site's normal page); with it, a request without
``Authorization: Bearer <token>`` or with another token gets 401 (compared in constant time). The answer is never
stored (``Cache-Control: no-store``, the site's default), and the route touches no session, sets no cookie, is
not a page view and writes nothing.
"""
from __future__ import annotations

import hmac

from flask import Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from leadthe.database import read_request_mode
from leadthe.extensions import db, limiter
from leadthe.ops import bp
from leadthe.ops.telemetry import exposition


def _authorized(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


@bp.route("/metrics")
@limiter.exempt  # scraped every few seconds by the monitoring system; the token guards it
def metrics():
    expected = current_app.config.get("METRICS_TOKEN") or ""
    if not expected:
        abort(404)
    if not _authorized(expected):
        return Response("Unauthorized\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    read_request_mode(db.session)  # PostgreSQL: the aggregate reads in autocommit mode, like every GET
    return Response(exposition(), content_type=CONTENT_TYPE_LATEST)
