"""The one cookie declaration: every cookie the app may set, and the only way to set one; and everything else
the site's JavaScript may keep in the browser (``browser_storage``).

``set_declared_cookie`` refuses a name that is not declared here, and a non-essential cookie without the
visitor's consent for its category. The banner comes back whenever the cookie declaration changes (its
revision is a hash of it, stored in the consent cookie). tests/test_browser_storage.py fails when a script in
leadthe/static/js uses a localStorage key or cache name that ``browser_storage`` does not declare.
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


@dataclass(frozen=True)
class StorageSpec:
    """Something the site's scripts keep in the browser other than a cookie. It is never sent to the server by
    itself. All of it is essential: it exists only at the person's request (a course saved for offline use, or
    a change that could not be sent), so it needs no consent."""
    name: str
    kind: str  # localStorage | cache | service worker
    purpose: str
    lifetime: str
    category: str = "essential"


def browser_storage() -> list[StorageSpec]:
    """The browser storage of issue 22 (offline courses and changes made without a connection). The names are
    fixed in the shared protocol; the scripts that use them are static/js/session.js, offline.js, player.js
    and sw.js. Logging out removes all of it (``Clear-Site-Data: "storage"`` and session.js)."""
    until = _("Until you remove the course, log out or another person logs in on this browser.")
    return [
        StorageSpec("leadthe.queue", "localStorage",
                    _("Changes you made while the connection was down (a lesson marked as complete, an answer, time spent), waiting to be sent, with the pseudonymous key of your account. Written only when a change could not be sent."),
                    _("Until the changes are sent, you log out or another person logs in on this browser.")),
        StorageSpec("leadthe.owner", "localStorage",
                    _("A pseudonymous key (never your name or e-mail address) of the account whose saved courses and waiting changes are on this browser, so they are removed when another person logs in."),
                    until),
        StorageSpec("leadthe-offline-v1", "cache",
                    _("The courses you saved for offline use: their lessons and the files needed to show them. The copies contain no name, answers or progress."),
                    until),
        StorageSpec("/static/js/sw.js", "service worker",
                    _("Shows a saved lesson when there is no connection. Registered only once you save a course."),
                    until),
    ]


# Browser storage stays out of the revision, on purpose. The revision brings the consent banner back for
# everyone, and that is only worth asking when the answer can change something: a new cookie category or a new
# non-essential cookie. Browser storage is essential (it exists only at the person's request: a course saved
# for offline use, or a change that could not be sent), so it needs no consent, and a new item of it changes no
# one's choice. It is declared on the cookie settings page and the cookie policy instead, where people read it.
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
