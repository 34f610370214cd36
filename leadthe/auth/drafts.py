"""No lost work: a form posted into an ended session keeps its text.

When a POST meets a session that ended (idle, too old, revoked) but whose CSRF token was still valid, the
posted text fields are kept in the signed session cookie together with the page the form was on and the
person whose session it was. The browser goes to the log-in with that page as ``next``; after the log-in
the page's form is filled from the draft (``leadthe.forms.FlaskForm`` asks :func:`restore`) and the person
sends it again (with a fresh CSRF token). Kept only for the same person and browser, for two hours, once.

Never kept: passwords, codes, tokens and other secrets (by field name), file uploads (they are not in
``request.form``), and anything that would make the cookie too large for browsers (about 4 KB; text
compresses, so that is several thousand characters).
"""
from __future__ import annotations

import json
import re
import time
import zlib
from urllib.parse import urlsplit

from flask import g, request, session
from werkzeug.datastructures import MultiDict

from leadthe.net import safe_next

KEY = "kept_form"
KEEP_SECONDS = 2 * 3600
MAX_BYTES = 2800  # compressed, before the cookie's base64: leaves room for the rest of the session cookie
SECRET_FIELD = re.compile(r"pass|code|token|secret|otp|recovery|csrf|key", re.IGNORECASE)


def same_site_path(url: str | None) -> str | None:
    """The path and query of ``url`` if it points at this site (an absolute URL must name this host)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path, "") or None


def page_of_request() -> str | None:
    """The page the person is looking at: htmx says so in HX-Current-URL; a plain form post's page is
    its Referer, or the address posted to when that page also answers GET."""
    if request.headers.get("HX-Request") == "true":
        page = same_site_path(request.headers.get("HX-Current-URL"))
        if page:
            return page
    if request.method == "GET":
        return same_site_path(request.full_path.rstrip("?"))
    page = same_site_path(request.headers.get("Referer"))
    if page:
        return page
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return same_site_path(request.full_path.rstrip("?"))
    return None


def _fits(draft: dict) -> bool:
    return len(zlib.compress(json.dumps(draft).encode("utf-8"))) <= MAX_BYTES


def keep_posted_form(page: str | None) -> bool:
    """Keep what this POST carried for the person whose session just ended; True when something was kept."""
    user_id = g.get("session_ended_user")
    if user_id is None or request.method != "POST" or not page or not g.get("csrf_valid"):
        return False
    fields = [[name, value] for name, value in request.form.items(multi=True)
              if not SECRET_FIELD.search(name) and isinstance(value, str) and value.strip()]
    if not fields:
        return False
    draft = {"u": user_id, "p": urlsplit(page).path, "f": fields, "t": int(time.time())}
    if not _fits(draft):
        return False
    session[KEY] = draft
    return True


def pending() -> bool:
    """Whether this browser holds kept text (the log-in page says so)."""
    draft = session.get(KEY)
    return bool(draft) and time.time() - draft.get("t", 0) < KEEP_SECONDS


def kept_page() -> str | None:
    """The page of the kept form: where a log-in without ``next`` goes back to."""
    return session[KEY].get("p") if pending() else None


def take_for(user_id: int) -> dict | None:
    """Before a new session clears the cookie: the draft, if it belongs to ``user_id`` (else it goes)."""
    draft = session.pop(KEY, None)
    return draft if draft and draft.get("u") == user_id else None


def put_back(draft: dict | None) -> None:
    if draft:
        session[KEY] = draft


def restore(field_names, user_id: int | None) -> MultiDict | None:
    """Form data to fill a form with on this GET: the kept draft of this page, for its person, if it names
    one of the form's fields. Used once: it leaves the cookie when it is restored."""
    draft = session.get(KEY)
    if not draft or user_id is None or request.method != "GET" or draft.get("p") != request.path:
        return None
    if draft.get("u") != user_id or time.time() - draft.get("t", 0) >= KEEP_SECONDS:
        session.pop(KEY, None)
        return None
    names = set(field_names) - {"csrf_token"}
    fields = [(name, value) for name, value in draft.get("f", []) if not SECRET_FIELD.search(name)]
    if not names & {name for name, _value in fields}:
        return None
    session.pop(KEY, None)
    return MultiDict(fields)
