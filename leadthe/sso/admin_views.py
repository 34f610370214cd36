"""``/admin/sso``: a company's verified domains, identity provider, log-in rules and SCIM tokens (company
admins; step-up to change); ``/sso/verify-domain/<token>``, the link mailed to an address at a domain."""
from __future__ import annotations
