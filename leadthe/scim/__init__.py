"""SCIM 2.0 provisioning (RFC 7643/7644) at ``/scim/v2/``: a company's identity provider creates, changes,
deactivates and deletes its people (``Users``) and teams (``Groups``), with a bearer token per company (shown
once, stored hashed, rotatable, scoped to that company: another company's id is a 404). Requests and answers
are validated with ``scim2-models``; errors are in SCIM's error format. Every request is an audit event
(method, path, status; never a body). No CSRF (a bearer token, no cookie)."""
from flask import Blueprint

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
