"""The route matrix's entries for the tamper-evident audit log (issue 21): the admin's download of their company's
chain head; see tests/test_route_matrix.py for what each key means. It takes no ids: each admin gets the head
of their own company's chain (tests/test_audit_chain.py checks that company B's admin gets B's)."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "admin.audit_chain_head": {"auth": "admin"},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing: the route takes no ids."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """No URL values: the sweep skips the JSON download (tests/browser/test_sweep.py NOT_HTML)."""
    return {}
