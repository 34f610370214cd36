"""SAML 2.0 service provider: ``/sso/saml/<key>/metadata``, ``…/start``, ``…/acs`` (the assertion consumer
service) and ``/sso/saml/finish`` (the browser's own request that completes the log-in).

The flow, and where each thing is kept:
1. ``GET /sso/saml/<key>/start``: an AuthnRequest (HTTP-Redirect binding) and an ``SsoLoginAttempt`` row
   with its ID; the attempt's id goes into the browser's signed session, then 303 to the IdP. A GET writes
   nothing through the request's session here (``leadthe.database.guard_read_requests``): the attempt row,
   bookkeeping that expires in minutes, is written in a short ``write_transaction()`` of its own.
2. ``POST /sso/saml/<key>/acs``: the IdP's page posts the SAMLResponse. The post comes from another site, so
   the browser does not send our SameSite=Lax session cookie (and there is no CSRF token: the response's
   signature, InResponseTo and replay checks stand in for it). The outstanding requests are therefore the
   company's attempts in the database, not expired, not answered. The verified claims are stored in the
   attempt with the hash of a one-time token, and the browser is sent (303) to ``/sso/saml/finish?t=…``.
   An IdP-initiated response (no InResponseTo) is accepted only when the company allows it; its attempt is
   made on the spot.
3. ``GET /sso/saml/finish?t=…``: a top-level GET of our own site, so the session cookie comes along. For a
   log-in started here the session must hold the attempt (another browser that got the link is refused).
   Signing in writes (the session row, the audit, maybe a new account), and a GET writes nothing in this
   app, so the page shows who is signing in and a "Continue" button: ``POST /sso/saml/finish`` (CSRF-checked,
   the person's own click) marks the attempt used, once, and calls ``leadthe.sso.login.finish``. This is the
   same two-step end as the OpenID Connect callback, and it works without JavaScript.

Never logged or audited: the SAMLResponse, the assertion, the finish token.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, redirect, request, session, url_for
from sqlalchemy.orm import Session

from leadthe.database import write_transaction
from leadthe.extensions import csrf, db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import render
from leadthe.models import utcnow
from leadthe.models.enums import SsoProtocol
from leadthe.models.sso import SsoLoginAttempt, SsoSettings
from leadthe.net import has_control_characters, safe_next
from leadthe.sso import bp, login, saml
from leadthe.sso.claims import REASONS, Claims, Refused
from leadthe.sso.settings import by_public_key
from leadthe.tenancy import scoped, unscoped

SESSION_KEY = "sso_saml"  # ids of the log-ins started in this browser (a few tabs at once)
MAX_PENDING = 3
ATTEMPT_MINUTES = 10
# the company is the one the URL (or the log-in's token) names, whoever may be signed in in this browser
BY_KEY = "the company named by the SP's public URL or the log-in's token, not the visitor's own"


def _settings(key: str, *, configured: bool = True) -> SsoSettings:
    """The company's settings behind a public key, or 404 (unknown key, another protocol, not set up)."""
    settings = by_public_key(key) if key and len(key) <= 32 else None
    if settings is None or settings.protocol != SsoProtocol.SAML or (configured and not settings.enabled):
        abort(404)
    return settings


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@bp.route("/sso/saml/<key>/metadata")
def saml_metadata(key):
    settings = _settings(key, configured=False)  # the IdP needs ours before the admin has theirs
    return Response(saml.sp_metadata(settings), mimetype="application/samlmetadata+xml")


@bp.route("/sso/saml/<key>/start")
@limiter.limit("30 per minute")
def saml_start(key):
    settings = _settings(key)
    next_url = safe_next(request.args.get("next"), "")
    hint = (request.args.get("login_hint") or "").strip()
    if len(hint) > 254 or has_control_characters(hint):
        hint = ""
    try:
        request_id, location = saml.authn_request(settings, hint, force=request.args.get("reauth") == "1")
    except Refused as refused:
        return login.refuse(settings.org_id, refused.reason, **refused.details)
    # an ORM session of its own on the short write transaction (the request's session only reads in a GET)
    with write_transaction() as conn, Session(bind=conn) as own:
        attempt = SsoLoginAttempt(org_id=settings.org_id, protocol=SsoProtocol.SAML, request_id=request_id,
                                  next_url=next_url[:500], expires_at=utcnow() + timedelta(minutes=ATTEMPT_MINUTES))
        own.add(attempt)
        own.flush()
        attempt_id = attempt.id
    session[SESSION_KEY] = ([*session.get(SESSION_KEY, [])] + [attempt_id])[-MAX_PENDING:]
    return redirect(location, code=303)


def _outstanding(settings: SsoSettings, request_id: str) -> dict[str, SsoLoginAttempt]:
    """The company's attempt with this AuthnRequest ID, whatever its state (``_answerable`` checks it after the
    response is verified, so that a replayed response is told apart from an unknown request)."""
    if not request_id:
        return {}
    attempt = db.session.scalar(unscoped(scoped(SsoLoginAttempt, settings.org_id).where(
        SsoLoginAttempt.protocol == SsoProtocol.SAML, SsoLoginAttempt.request_id == request_id[:100],
    ).with_for_update(), reason=BY_KEY))
    return {request_id: attempt} if attempt is not None else {}


def _answerable(attempt: SsoLoginAttempt) -> None:
    if attempt.result_token_hash is not None or attempt.consumed_at is not None:
        raise Refused("replayed")  # a second answer to one request
    if attempt.expires_at <= utcnow():
        raise Refused("expired_attempt")


@bp.route("/sso/saml/<key>/acs", methods=["POST"])
@csrf.exempt  # posted by the IdP's page: the signed assertion, InResponseTo and replay checks protect it
def saml_acs(key):
    settings = _settings(key)
    try:
        encoded = request.form.get("SAMLResponse", "")
        outstanding = _outstanding(settings, saml.peek_in_response_to(saml.decode(encoded)))
        verified = saml.verify(settings, encoded, {request_id: str(a.id) for request_id, a in outstanding.items()})
        saml.remember_assertion(settings, verified)
        attempt = outstanding.get(verified.in_response_to)
        if attempt is not None:
            _answerable(attempt)
    except Refused as refused:
        return login.refuse(settings.org_id, refused.reason, **refused.details)
    if attempt is None:  # IdP-initiated (allowed: verify refused it otherwise); RelayState may name our page
        attempt = SsoLoginAttempt(org_id=settings.org_id, protocol=SsoProtocol.SAML, request_id="",
                                  next_url=safe_next(request.form.get("RelayState"), "")[:500],
                                  expires_at=utcnow() + timedelta(minutes=ATTEMPT_MINUTES))
        db.session.add(attempt)
    token = secrets.token_urlsafe(32)
    attempt.result = verified.claims.to_dict()
    attempt.email = verified.claims.email
    attempt.result_token_hash = _token_hash(token)
    db.session.flush()
    return redirect(url_for("sso.saml_finish", t=token), code=303)


def _attempt_for(token: str) -> SsoLoginAttempt | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(unscoped(
        sa.select(SsoLoginAttempt).where(SsoLoginAttempt.result_token_hash == _token_hash(token),
                                         SsoLoginAttempt.protocol == SsoProtocol.SAML),
        reason="the finish link names the log-in by its one-time token, before anyone is signed in"))


def _no_attempt():
    """A finish link we do not know (mistyped, or the log-in was deleted): nothing to audit, no company."""
    return render("sso/refused.html", status=403, reason="expired_attempt", message=str(REASONS["expired_attempt"]))


def _problem(attempt: SsoLoginAttempt) -> str | None:
    if attempt.consumed_at is not None:
        return "replayed"
    if attempt.expires_at <= utcnow() or not attempt.result:
        return "expired_attempt"
    if attempt.request_id and attempt.id not in session.get(SESSION_KEY, []):
        return "state_mismatch"  # started in another browser: the link alone does not sign in
    return None


@bp.route("/sso/saml/finish", methods=["GET", "POST"])
def saml_finish():
    token = (request.form.get("t") if request.method == "POST" else request.args.get("t")) or ""
    attempt = _attempt_for(token)
    if attempt is None:
        return _no_attempt()
    settings = db.session.scalar(unscoped(scoped(SsoSettings, attempt.org_id), reason=BY_KEY))
    if settings is None or settings.protocol != SsoProtocol.SAML or not settings.enabled:
        return login.refuse(attempt.org_id, "not_configured")
    problem = _problem(attempt)
    if problem:
        return login.refuse(settings.org_id, problem)
    claims = Claims.from_dict(attempt.result)
    form = EmptyForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render("sso/continue.html", form=form, token=token, claims=claims, action=url_for("sso.saml_finish"))
    used = db.session.execute(unscoped(sa.update(SsoLoginAttempt).where(
        SsoLoginAttempt.id == attempt.id, SsoLoginAttempt.org_id == attempt.org_id,
        SsoLoginAttempt.consumed_at.is_(None)).values(consumed_at=utcnow()), reason=BY_KEY))
    if used.rowcount != 1:  # another request used it meanwhile
        return login.refuse(settings.org_id, "replayed")
    session[SESSION_KEY] = [known for known in session.get(SESSION_KEY, []) if known != attempt.id]
    try:
        return login.finish(settings, claims, attempt.next_url)
    except Refused as refused:
        return login.refuse(settings.org_id, refused.reason, **refused.details)
