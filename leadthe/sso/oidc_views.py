"""OpenID Connect log-in: ``/sso/oidc/<key>/start`` and the callback ``/sso/oidc/callback``.

The flow, and where each thing is kept:
1. ``GET /sso/oidc/<key>/start``: a new ``state``, ``nonce`` and PKCE verifier go into the browser's signed
   session (several log-ins may be under way at once, in tabs: at most ``MAX_PENDING``, each for
   ``ATTEMPT_SECONDS``), then 303 to the identity provider.
2. ``GET /sso/oidc/callback?code&state``: the identity provider sends the browser back (a top-level GET, so
   the SameSite=Lax session cookie comes along). The state is taken out of the session (used once), the
   code exchanged, the ID token verified (``leadthe.sso.oidc``). A GET writes nothing in this app (see
   ``leadthe.database.guard_read_requests``), so the verified answer waits in the session and the page asks
   the person to continue.
3. ``POST /sso/oidc/callback``: the person's own click (CSRF-checked) finishes the log-in
   (``leadthe.sso.login.finish``) in the request's one transaction.
Every refusal is ``leadthe.sso.login.refuse``: the 403 page and the audit event ``sso.refused``.
"""
from __future__ import annotations

import time

from flask import abort, redirect, request, session, url_for

from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import render
from leadthe.models.enums import SsoProtocol
from leadthe.models.sso import SsoSettings
from leadthe.net import has_control_characters
from leadthe.sso import bp, login
from leadthe.sso.claims import Claims, Refused
from leadthe.sso.oidc import Attempt, authorization_url, claims_from_code
from leadthe.sso.settings import by_public_key
from leadthe.tenancy import scoped

PENDING_KEY = "sso_oidc"  # state -> the log-in under way
VERIFIED_KEY = "sso_oidc_verified"  # the verified answer waiting for the person's click
MAX_PENDING = 3
ATTEMPT_SECONDS = 600


def _clean(value: str | None, limit: int) -> str:
    value = (value or "").strip()
    return "" if has_control_characters(value) or len(value) > limit else value


def _fresh(entry, now: float) -> bool:
    return isinstance(entry, dict) and now - float(entry.get("at", 0)) <= ATTEMPT_SECONDS


def _pending() -> dict:
    stored = session.get(PENDING_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _settings_of(org_id) -> SsoSettings | None:
    if not isinstance(org_id, int):
        return None
    current = db.session.scalar(scoped(SsoSettings, org_id))
    return current if current is not None and current.protocol == SsoProtocol.OIDC and current.enabled else None


@bp.route("/sso/oidc/<key>/start")
@limiter.limit("30 per minute")
def oidc_start(key):
    settings = by_public_key(key)
    if settings is None or settings.protocol != SsoProtocol.OIDC or not settings.enabled:
        abort(404)
    attempt = Attempt.new()
    now = time.time()
    kept = sorted(((state, entry) for state, entry in _pending().items() if _fresh(entry, now)),
                  key=lambda item: item[1]["at"])[-(MAX_PENDING - 1):]
    pending = dict(kept)
    pending[attempt.state] = {"org": settings.org_id, "nonce": attempt.nonce, "verifier": attempt.code_verifier,
                              "next": _clean(request.args.get("next"), 500), "at": now,
                              "fresh": request.args.get("reauth") == "1"}
    session[PENDING_KEY] = pending
    return redirect(authorization_url(settings, attempt, _clean(request.args.get("login_hint"), 254),
                                      fresh=request.args.get("reauth") == "1"), 303)


def _take_attempt(state: str):
    """The log-in under way that ``state`` names, taken out of the session (a state works once)."""
    pending = _pending()
    entry = pending.pop(state, None) if state else None
    session[PENDING_KEY] = pending
    return entry


@bp.route("/sso/oidc/callback", methods=["GET", "POST"])
@limiter.limit("30 per minute")  # each GET may call the identity provider's token endpoint
def oidc_callback():
    if request.method == "POST":
        return _finish()
    entry = _take_attempt(_clean(request.args.get("state"), 200))
    if entry is None:
        return login.refuse(None, "state_mismatch")
    org_id = entry.get("org")
    if not _fresh(entry, time.time()):
        return login.refuse(org_id, "expired_attempt")
    if request.args.get("error"):
        return login.refuse(org_id, "idp_error", error=_clean(request.args.get("error"), 100))
    settings = _settings_of(org_id)
    if settings is None:
        return login.refuse(org_id, "not_configured")
    code = _clean(request.args.get("code"), 2000)
    if not code:
        return login.refuse(org_id, "invalid_response", problem="no code")
    try:
        claims = claims_from_code(settings, code, Attempt(state="", nonce=entry["nonce"], code_verifier=entry["verifier"]),
                                  fresh=bool(entry.get("fresh")))
    except Refused as refused:
        return login.refuse(org_id, refused.reason, **refused.details)
    session[VERIFIED_KEY] = {"org": org_id, "claims": claims.to_dict(), "next": entry.get("next", ""), "at": time.time()}
    return render("sso/continue.html", form=EmptyForm(), claims=claims, action=url_for("sso.oidc_callback"))


def _finish():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    verified = session.pop(VERIFIED_KEY, None)
    if not _fresh(verified, time.time()):
        return login.refuse(verified.get("org") if isinstance(verified, dict) else None, "expired_attempt")
    settings = _settings_of(verified.get("org"))
    if settings is None:
        return login.refuse(verified.get("org"), "not_configured")
    try:
        return login.finish(settings, Claims.from_dict(verified["claims"]), verified.get("next", ""))
    except Refused as refused:
        return login.refuse(settings.org_id, refused.reason, **refused.details)
