"""Tokens of mailed links (password reset, e-mail confirmation, invitation) leave the address at once.

The GET of ``/password/reset/<token>`` keeps the token in the (signed) session cookie and redirects to
``/password/reset``; the page and its form work from there. The token is then only in the one request the
mail's link makes (``deploy/`` keeps it out of the access log), not in the browser's history, in a
``Referer`` header, or in the log lines of the form's posts. A POST to the token URL still works.
"""
from __future__ import annotations

from flask import redirect, request, session, url_for

_KEY = "link_token."


def park_token(kind: str, token: str):
    """Remember a valid link token and redirect to the same page without it (the route's ``token=None`` rule)."""
    session[_KEY + kind] = token
    return redirect(url_for(request.endpoint, **{**(request.view_args or {}), "token": None}), code=303)


def parked_token(kind: str, token: str | None) -> str:
    """The token of the address, else the one parked in the session ("" if none: an invalid token)."""
    return token or session.get(_KEY + kind, "")


def forget_token(kind: str) -> None:
    """The link was used: its token has no business in the session any more."""
    session.pop(_KEY + kind, None)
