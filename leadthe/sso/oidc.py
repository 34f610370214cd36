"""OpenID Connect with Authlib and joserfc (the relying party): discovery from the issuer URL, the authorisation
code flow with PKCE, ``state`` and ``nonce``, and the ID token's signature, issuer, audience, expiry and nonce
checked.

Used by ``/admin/sso`` when an admin saves the settings (``discover``) and by ``oidc_views`` (``Attempt``,
``authorization_url``, ``claims_from_code``). Every call to the identity provider goes through
``leadthe.sso.http`` (configured URLs only, timeouts, no private addresses in production).

Decisions:
- Only asymmetric signatures are accepted (``ALGORITHMS``): never ``none``, never HS* (a client secret as
  the key would let anyone who knows it, the IdP's admins included, mint tokens for any person).
- MFA (``mfa_from_amr``): RFC 8176 ``amr`` values. True when the IdP says ``mfa``, or when the methods
  cover two different kinds of factor (something known: pwd, pin, kba; something held: otp, hwk, swk, sms,
  tel, sc, fido; something one is: fpt, face, iris, retina, vbm, user). A single method, even ``otp`` or
  ``hwk`` alone, is one factor.
- An unknown key id (``kid``) fetches the JWKS once more (the IdP rotated its keys) and keeps it in
  ``SsoSettings.oidc_jwks``; a second miss is a bad signature.
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app
from flask_babel import gettext as _
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.orm.attributes import set_committed_value

from leadthe.database import write_transaction
from leadthe.models import utcnow
from leadthe.models.enums import SsoProtocol
from leadthe.models.sso import SsoSettings
from leadthe.net import absolute_url
from leadthe.sso import http
from leadthe.sso.claims import Claims, Refused
from leadthe.sso.http import IdpUnreachable

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
SCOPE = "openid email profile"
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")

KNOWLEDGE = frozenset({"pwd", "pin", "kba"})
POSSESSION = frozenset({"otp", "hwk", "swk", "sms", "tel", "sc", "fido"})
INHERENCE = frozenset({"fpt", "face", "iris", "retina", "vbm", "user"})


# --- discovery ----------------------------------------------------------------------------------

def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def discover(issuer: str) -> tuple[dict, dict]:
    """The issuer's discovery document and its keys (JWKS); raises ``leadthe.sso.http.IdpUnreachable`` with
    words for the admin when they cannot be had or are not what OpenID Connect requires."""
    issuer = (issuer or "").strip()
    problem = http.url_problem(issuer)
    if problem:
        raise IdpUnreachable(problem)
    metadata = http.get_json(discovery_url(issuer))
    check_metadata(issuer, metadata)
    return metadata, fetch_jwks(metadata["jwks_uri"])


def check_metadata(issuer: str, metadata: dict) -> None:
    if metadata.get("issuer") != issuer:
        raise IdpUnreachable(_("The discovery document names the issuer %(found)s, not %(issuer)s. Enter the issuer "
                               "exactly as your identity provider writes it.",
                               found=str(metadata.get("issuer") or "-")[:200], issuer=issuer))
    for name in REQUIRED_ENDPOINTS:
        value = metadata.get(name)
        if not isinstance(value, str) or not value:
            raise IdpUnreachable(_("The discovery document has no %(name)s.", name=name))
        problem = http.url_problem(value)
        if problem:
            raise IdpUnreachable(_("The %(name)s in the discovery document is not usable: %(problem)s",
                                   name=name, problem=problem))
    types = metadata.get("response_types_supported")
    if not isinstance(types, list) or "code" not in types:
        raise IdpUnreachable(_("The identity provider does not offer the authorisation code flow (response type "
                               "\"code\")."))
    methods = metadata.get("code_challenge_methods_supported")
    if methods is not None and (not isinstance(methods, list) or "S256" not in methods):
        raise IdpUnreachable(_("The identity provider does not support PKCE with S256."))


def fetch_jwks(jwks_uri: str) -> dict:
    jwks = http.get_json(jwks_uri)
    if not signing_keys(jwks):
        raise IdpUnreachable(_("The identity provider's key set (JWKS) has no key for signatures."))
    return jwks


def signing_keys(jwks: dict) -> list[dict]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        return []
    return [key for key in keys if isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP")
            and key.get("use", "sig") == "sig"]


# --- the authorisation request ------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """What the browser keeps (in its signed session) between the start and the callback."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64))


def redirect_uri() -> str:
    return absolute_url("sso.oidc_callback")


FRESH_SECONDS = 300  # step-up: the identity provider must have checked the person within this time


def authorization_url(settings: SsoSettings, attempt: Attempt, login_hint: str = "", *, fresh: bool = False) -> str:
    params = [
        ("response_type", "code"),
        ("scope", SCOPE),
        ("client_id", settings.oidc_client_id),
        ("redirect_uri", redirect_uri()),
        ("state", attempt.state),
        ("nonce", attempt.nonce),
        ("code_challenge", create_s256_code_challenge(attempt.code_verifier)),
        ("code_challenge_method", "S256"),
    ]
    if login_hint:
        params.append(("login_hint", login_hint))
    if fresh:  # step-up: sign in again at the identity provider, whatever session it has
        params += [("prompt", "login"), ("max_age", str(FRESH_SECONDS))]
    return add_params_to_uri(settings.oidc_metadata["authorization_endpoint"], params)


# --- the token request and the ID token ---------------------------------------------------------

def basic_auth(client_id: str, secret: str) -> str:
    """client_secret_basic: both parts form-encoded first (RFC 6749 section 2.3.1), then Base64."""
    pair = f"{quote(client_id, safe='')}:{quote(secret or '', safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def exchange_code(settings: SsoSettings, code: str, code_verifier: str) -> str:
    """The ID token (compact JWS) for the authorisation ``code``; raises ``Refused``."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(),
            "code_verifier": code_verifier}
    headers = {"Accept": "application/json",
               "Authorization": basic_auth(settings.oidc_client_id, settings.oidc_client_secret or "")}
    try:
        status, body, _type = http.post(settings.oidc_metadata["token_endpoint"], data=data, headers=headers)
    except IdpUnreachable as exc:
        raise Refused("idp_unreachable", problem=str(exc)[:200]) from exc
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Refused("invalid_response", status=status)
    if status != 200 or "error" in answer:
        raise Refused("idp_error", status=status, error=str(answer.get("error", ""))[:100])
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise Refused("invalid_response", problem="no id_token")
    return id_token


def _decode(id_token: str, jwks: dict):
    return jwt.decode(id_token, KeySet.import_key_set({"keys": signing_keys(jwks)}), algorithms=ALGORITHMS)


def verified_token(settings: SsoSettings, id_token: str):
    """The ID token's signature checked with the IdP's keys (fetched once more for an unknown key id)."""
    try:
        try:
            return _decode(id_token, settings.oidc_jwks or {})
        except jose_errors.InvalidKeyIdError:
            return _decode(id_token, refresh_jwks(settings))
    except IdpUnreachable as exc:
        raise Refused("idp_unreachable", problem=str(exc)[:200]) from exc
    except jose_errors.UnsupportedAlgorithmError as exc:
        raise Refused("unsigned" if _alg_of(id_token) == "none" else "bad_signature", alg=_alg_of(id_token)) from exc
    except (jose_errors.BadSignatureError, jose_errors.InvalidKeyIdError, jose_errors.MissingKeyError) as exc:
        raise Refused("bad_signature", problem=exc.error) from exc
    except (jose_errors.JoseError, ValueError) as exc:
        raise Refused("invalid_response", problem=getattr(exc, "error", "undecodable")) from exc


def _alg_of(id_token: str) -> str:
    try:
        header = id_token.split(".", 1)[0]
        return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("alg"))[:20]
    except (ValueError, AttributeError):
        return ""


def refresh_jwks(settings: SsoSettings) -> dict:
    """The IdP's current keys, kept for the next log-ins. Written in a short transaction of its own: the
    callback is a GET, which never writes through the request's session."""
    jwks = fetch_jwks(settings.oidc_metadata["jwks_uri"])
    now = utcnow()
    with write_transaction() as conn:
        conn.execute(sa.update(SsoSettings).where(SsoSettings.id == settings.id, SsoSettings.org_id == settings.org_id)
                     .values(oidc_jwks=jwks, oidc_fetched_at=now))
    set_committed_value(settings, "oidc_jwks", jwks)
    set_committed_value(settings, "oidc_fetched_at", now)
    return jwks


def check_claims(settings: SsoSettings, claims: dict, nonce: str, now: float | None = None) -> None:
    """The ID token's claims (OpenID Connect Core 3.1.3.7); raises ``Refused``."""
    if claims.get("iss") != settings.oidc_issuer:
        raise Refused("wrong_issuer", issuer=str(claims.get("iss"))[:200])
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    client_id = settings.oidc_client_id
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise Refused("wrong_audience", audience=str(audience)[:200])
    check_times(claims, time.time() if now is None else now, current_app.config["SSO_CLOCK_SKEW_SECONDS"])
    if not nonce or claims.get("nonce") != nonce:
        raise Refused("nonce_mismatch")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Refused("invalid_response", problem="no sub")


def _number(claims: dict, name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused("invalid_response", problem=f"bad {name}")
    return float(value)


def check_times(claims: dict, now: float, leeway: int) -> None:
    expires = _number(claims, "exp", required=True)
    issued = _number(claims, "iat", required=True)
    not_before = _number(claims, "nbf", required=False)
    if expires + leeway < now:
        raise Refused("expired")
    if issued - leeway > now or (not_before is not None and not_before - leeway > now):
        raise Refused("not_yet_valid")


def mfa_from_amr(amr) -> bool:
    methods = {str(value).lower() for value in amr} if isinstance(amr, list) else set()
    if "mfa" in methods:
        return True
    return sum(bool(methods & kind) for kind in (KNOWLEDGE, POSSESSION, INHERENCE)) >= 2


def email_verified(value) -> bool:
    """Only the JSON boolean true (or the string "true" that some IdPs send) confirms the address."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def claims_from(token_claims: dict) -> Claims:
    email = token_claims.get("email")
    name = token_claims.get("name")
    return Claims(
        protocol=SsoProtocol.OIDC.value,
        issuer=token_claims["iss"],
        subject=token_claims["sub"],
        email=email.strip().lower() if isinstance(email, str) else "",
        email_verified=email_verified(token_claims.get("email_verified")),
        name=name.strip()[:200] if isinstance(name, str) else "",
        mfa=mfa_from_amr(token_claims.get("amr")),
    )


def check_fresh(claims: dict, now: float, leeway: int) -> None:
    """After ``max_age`` the ID token must say when the person last signed in (``auth_time``, OpenID Connect Core
    3.1.2.1), and that must be recent."""
    auth_time = _number(claims, "auth_time", required=False)
    if auth_time is None or auth_time < now - FRESH_SECONDS - leeway:
        raise Refused("not_fresh")


def claims_from_code(settings: SsoSettings, code: str, attempt: Attempt, *, fresh: bool = False) -> Claims:
    """The callback's work: the code exchanged, the ID token verified; raises ``Refused``."""
    token = verified_token(settings, exchange_code(settings, code, attempt.code_verifier))
    check_claims(settings, token.claims, attempt.nonce)
    if fresh:
        check_fresh(token.claims, time.time(), current_app.config["SSO_CLOCK_SKEW_SECONDS"])
    return claims_from(token.claims)
