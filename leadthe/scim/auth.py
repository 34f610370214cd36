"""Who is calling: a company's SCIM bearer token (``Authorization: Bearer …``), never a session or a cookie.

A valid token makes its company the tenant of the request; every request is an audit event (method, path,
answer; never a body, never the token) and stamps the token's last use, both written apart from the
request's transaction so that they stay whatever the answer (GET requests do not write through their
session at all)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, request

from leadthe import audit
from leadthe.alerts import detect
from leadthe.database import write_apart
from leadthe.models import utcnow
from leadthe.net import client_ip
from leadthe.models.sso import ScimToken
from leadthe.scim import tokens
from leadthe.scim.errors import error_response
from leadthe.tenancy import activate_tenant, deactivate_tenant

MAX_LOGGED_PATH = 200


def bearer_of(header: str) -> str:
    scheme, _, value = (header or "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate():
    """Before every SCIM request: the token's company, or a 401 in SCIM's format."""
    token = tokens.token_for(bearer_of(request.headers.get("Authorization", "")))
    if token is None:
        audit.record_apart("scim.refused", method=request.method, path=request.path[:MAX_LOGGED_PATH])
        return error_response(401, "A valid bearer token is required.",
                              headers={"WWW-Authenticate": 'Bearer realm="SCIM"'})
    g.scim_org_id, g.scim_token_id = token.org_id, token.id
    g.scim_tenant = activate_tenant(token.org_id)
    return None


def org_id() -> int:
    return g.scim_org_id


def log_request(response):
    """After every authenticated SCIM request: the audit event and the token's last use."""
    company = g.get("scim_org_id")
    if company is None:
        return response
    token_id = g.scim_token_id
    details = {"method": request.method, "path": request.path[:MAX_LOGGED_PATH], "status": response.status_code}
    ip = client_ip()

    def write(conn):
        # a Core UPDATE on write_apart's own connection: a GET writes nothing through its session, and a refused
        # POST's session is rolled back, yet every use of the token is stamped
        conn.execute(sa.update(ScimToken).where(ScimToken.id == token_id).values(last_used_at=utcnow()))
        event_id = audit.record_apart("scim.request", org_id=company, conn=conn, **details)
        # a network not seen for this token before raises a security alert for staff (issue 23)
        detect.credential_used(conn, "scim_token", token_id, company, event_id, ip)

    write_apart(write)
    return response


def release(_exc=None) -> None:
    token = g.pop("scim_tenant", None)
    if token is not None:
        deactivate_tenant(token)
