"""The one cookie declaration: every cookie the app may set, and the only way to set one.

``set_declared_cookie`` refuses a name that is not declared here, and a non-essential cookie without the
visitor's consent for its category. The banner comes back whenever this declaration changes (its
revision is a hash of it, stored in the consent cookie).
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass

from flask import current_app
from flask_babel import force_locale, gettext as _


@dataclass(frozen=True)
class CookieSpec:
    name: str
    category: str  # essential | analytics | preferences
    purpose: str
    lifetime: str
    max_age: int | None  # seconds; None = until the browser closes


YEAR = 365 * 24 * 3600


def declaration() -> list[CookieSpec]:
    session_name = current_app.config["SESSION_COOKIE_NAME"]
    return [
        CookieSpec(session_name, "essential", _("Keeps you signed in and protects forms against forgery (CSRF). A form you send after the sign-in ended is kept in it until you log in again (at most two hours; never passwords or codes)."),
                   _("Until you close the browser; the sign-in itself ends after 30 minutes without activity."), None),
        CookieSpec("leadthe_consent", "essential", _("Remembers your cookie choices and an anonymous id for the consent record."),
                   _("12 months"), YEAR),
        CookieSpec("leadthe_prefs", "preferences", _("Remembers your language, theme, density and low-data mode when you are not signed in."),
                   _("12 months"), YEAR),
        CookieSpec("leadthe_aid", "analytics", _("A random id that lets us count visits and follow navigation within LeadThe.AI, to improve it."),
                   _("13 months"), 395 * 24 * 3600),
    ]


@functools.cache
def revision() -> str:
    """Changes whenever a cookie is added, removed or its category or purpose changes (that is, with the
    code: computed once per process; the session cookie's name, which varies by setting, is left out)."""
    with force_locale("en"):  # the same revision whatever the visitor's language
        cookies = declaration()
    data = json.dumps([{k: v for k, v in asdict(c).items() if k != "name" or c.category != "essential"}
                       for c in cookies], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:12]


def spec(name: str) -> CookieSpec:
    for cookie in declaration():
        if cookie.name == name:
            return cookie
    raise LookupError(f"cookie {name!r} is not declared in leadthe/consent/cookies.py")


class ConsentMissing(RuntimeError):
    pass


def set_declared_cookie(response, name: str, value: str, *, consent=None) -> None:
    cookie = spec(name)
    if cookie.category != "essential" and not (consent and getattr(consent, cookie.category)):
        raise ConsentMissing(f"no {cookie.category} consent for cookie {name}")
    response.set_cookie(
        name, value, max_age=cookie.max_age, httponly=True, samesite="Lax", path="/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def delete_declared_cookie(response, name: str) -> None:
    spec(name)
    response.delete_cookie(name, path="/", samesite="Lax", httponly=True,
                           secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
