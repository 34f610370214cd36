"""An OpenID provider on 127.0.0.1 for the tests: discovery, JWKS, an authorisation endpoint (a tiny HTML page
with a "Sign in as <email>" button that works without JavaScript, and ``code_for`` for tests without a
browser) and a token endpoint that checks client authentication, the code, ``redirect_uri`` and the PKCE
verifier (S256), then answers with an ID token signed with its RSA key.

Knobs (``provider.knobs``, for every log-in, or ``provider.users[email]`` for one person) make it misbehave:
``iss``, ``aud``, ``azp``, ``exp_in`` / ``nbf_in`` / ``iat_in`` (seconds from now), ``other_key`` (signed
with a key that is not in the JWKS, same kid unless ``kid`` names another), ``unsigned`` ("alg": "none"), ``hs256`` (HMAC with the client secret), ``nonce``, ``email_verified``,
``amr``, ``email`` and ``sub`` (a different address for the same subject), ``name``.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "leadthe-test-client"
CLIENT_SECRET = "s3cret:with/odd&chars"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeProvider:
    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = new_key("key-1")
        self.other_key = new_key("key-1")  # the same kid, not published: a forged signature
        self.knobs: dict = {}
        self.users: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.approved: list[dict] = []  # the authorisation requests said yes to (prompt, max_age, ...)
        self.jwks_fetches = 0
        self.discovery_extra: dict = {}
        self.discovery_status = 200
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-oidc", daemon=True)

    # --- life cycle
    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def rotate_key(self) -> None:
        """A new signing key with a new kid; the JWKS publishes only the new one."""
        self.key = new_key(f"key-{secrets.token_hex(4)}")

    # --- what a test asks
    def metadata(self) -> dict:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
        document.update(self.discovery_extra)
        return {k: v for k, v in document.items() if v is not None}

    def code_for(self, authorization_url: str, email: str) -> str:
        """What the browser would be sent back to after "Sign in as <email>": the callback URL with code and
        state (the API for tests without HTML)."""
        params = dict(parse_qsl(urlsplit(authorization_url).query))
        return self._approve(params, email)

    # --- the endpoints
    def wsgi(self, environ, start_response):
        request = Request(environ)
        handler = {
            "/.well-known/openid-configuration": self._discovery,
            "/jwks": self._jwks,
            "/jwks-without-signing-keys": lambda _request: self._json({"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]}),
            "/authorize": self._authorize,
            "/token": self._token,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def _json(self, data: dict, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json",
                        headers={"Cache-Control": "no-store"})

    def _discovery(self, _request) -> Response:
        return self._json(self.metadata(), self.discovery_status)

    def _jwks(self, _request) -> Response:
        self.jwks_fetches += 1
        return self._json({"keys": [self.key.as_dict(private=False)]})

    def _authorize(self, request) -> Response:
        params = request.form if request.method == "POST" else request.args
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return Response("unknown client or response type", status=400)
        if request.method == "POST":
            return Response(status=303, headers={"Location": self._approve(dict(params), params.get("email", ""))})
        email = params.get("login_hint") or "ann@example.com"
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fake IdP</title></head><body><main>'
                f'<h1>Fake identity provider</h1><form method="post" action="/authorize">{hidden}'
                f'<input type="hidden" name="email" value="{html.escape(email)}">'
                f'<button>Sign in as {html.escape(email)}</button></form></main></body></html>')
        return Response(page, content_type="text/html; charset=utf-8")

    def _approve(self, params: dict, email: str) -> str:
        self.approved.append(dict(params))
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"email": email, "nonce": params.get("nonce"), "redirect_uri": params.get("redirect_uri"),
                            "challenge": params.get("code_challenge"), "method": params.get("code_challenge_method"),
                            "client_id": params.get("client_id")}
        back = {"code": code, "state": params.get("state", "")}
        return params["redirect_uri"] + ("&" if "?" in params["redirect_uri"] else "?") + urlencode(back)

    def _client_ok(self, request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return unquote(client_id) == self.client_id and unquote(secret) == self.client_secret

    def _token(self, request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        if not self._client_ok(request):
            return self._json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant["method"] != "S256" or challenge != grant["challenge"] or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._json({"error": "invalid_grant", "error_description": "PKCE or redirect_uri"}, 400)
        return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                           "id_token": self.id_token(grant["email"], grant["nonce"])})

    def id_token(self, email: str, nonce: str | None) -> str:
        knobs = {**self.knobs, **self.users.get(email, {})}
        now = int(time.time())
        claims = {
            "iss": knobs.get("iss", self.issuer),
            "sub": knobs.get("sub", "sub-" + hashlib.sha256(email.encode()).hexdigest()[:16]),
            "aud": knobs.get("aud", self.client_id),
            "exp": now + knobs.get("exp_in", 300),
            "iat": now + knobs.get("iat_in", 0),
            "nonce": knobs.get("nonce", nonce),
            "email": knobs.get("email", email),
            "email_verified": knobs.get("email_verified", True),
            "name": knobs.get("name", "Ann Example"),
            "amr": knobs.get("amr", ["pwd"]),
        }
        if not knobs.get("no_auth_time"):  # when the person last signed in at the provider
            claims["auth_time"] = now + knobs.get("auth_time_in", 0)
        if "nbf_in" in knobs:
            claims["nbf"] = now + knobs["nbf_in"]
        if "azp" in knobs:
            claims["azp"] = knobs["azp"]
        if knobs.get("unsigned"):
            return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        if knobs.get("hs256"):  # a symmetric signature with the client secret as the key
            return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(self.client_secret.encode()),
                              algorithms=["HS256"])
        key = self.other_key if knobs.get("other_key") else self.key
        return jwt.encode({"alg": "RS256", "kid": knobs.get("kid", key.kid), "typ": "JWT"}, claims, key)

    def subject_of(self, email: str) -> str:
        return self.users.get(email, {}).get("sub") or self.knobs.get("sub") or "sub-" + hashlib.sha256(email.encode()).hexdigest()[:16]
