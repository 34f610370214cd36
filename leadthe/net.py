"""Small helpers about the request's origin."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request


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


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL for mail: from the request when there is one, else from LEADTHE_BASE_URL (worker, CLI)."""
    from flask import current_app, has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["SERVER_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def reject_nul_bytes() -> None:
    """A NUL character in the address, a query argument or a form value is a 400 for every route.

    No person types one, PostgreSQL's text columns refuse it (the query fails, which would be a 500),
    and SQLite would store it and cut strings short in other tools; refusing it here, before any view
    or the session loader runs, covers every form and search box at once."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in _FORM_TYPES and _has_nul(request.form):
        abort(400)


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))
