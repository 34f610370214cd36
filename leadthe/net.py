"""Small helpers about the request's origin."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def client_ip() -> str:
    # ProxyFix (configured in create_app when behind a proxy) has already rewritten remote_addr.
    return request.remote_addr or "0.0.0.0"


def user_agent() -> str:
    return (request.user_agent.string or "")[:400]


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after log-in (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
