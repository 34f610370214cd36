"""Small helpers about the request's origin."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import abort, current_app, request
from werkzeug.urls import iri_to_uri


def client_ip() -> str:
    # ProxyFix (configured in create_app when behind a proxy) has already rewritten remote_addr.
    return request.remote_addr or "0.0.0.0"


def user_agent() -> str:
    return (request.user_agent.string or "")[:400]


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after log-in (no open redirect). A control character
    (a line break would end the Location header) gives the default too, never a 500."""
    if not target or has_control_characters(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return iri_to_uri(target)  # ASCII only: it also goes into the HX-Redirect header as it is


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(value: str) -> bool:
    """C0 and C1 controls and the Unicode line separators: nothing a person types into one line, and each
    of them ends a mail or HTTP header line (Python's e-mail package refuses them in a header)."""
    return CONTROL_CHARACTERS.search(value) is not None


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL for mail, always from LEADTHE_BASE_URL: never from the request's Host header, which
    whoever sends the request chooses (a reset link to their own host would hand them the token)."""
    base = urlsplit(current_app.config["SERVER_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


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
