"""OpenID Connect with Authlib (the relying party): discovery from the issuer URL, the authorisation code flow
with PKCE, ``state`` and ``nonce``, and the ID token's signature, issuer, audience, expiry and nonce checked.

Used by ``/admin/sso`` when an admin saves the settings (``discover``) and by ``oidc_views``."""
from __future__ import annotations


def discover(issuer: str) -> tuple[dict, dict]:
    """The issuer's discovery document and its keys (JWKS); raises ``leadthe.sso.http.IdpUnreachable`` with
    words for the admin when they cannot be had or are not what OpenID Connect requires."""
    raise NotImplementedError
