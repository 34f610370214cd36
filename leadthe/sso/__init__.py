"""Single sign-on (issue 19): a company's people log in through its identity provider, by OpenID Connect
or SAML 2.0, for the e-mail domains the company has proved it owns.

- ``bp`` (public): the log-in through the identity provider: ``/login/sso`` (an address in a verified SSO
  domain goes to its company's identity provider), ``/sso/oidc/…`` (start, the callback), ``/sso/saml/<key>/…``
  (our metadata, start, the assertion consumer service, finish), ``/sso/welcome`` (the first log-in of a
  person created just in time: the 18+ confirmation and the policy, asked once), ``/sso/verify-domain/<token>``
  (the link mailed to an address at a claimed domain).
- ``admin_bp`` (under ``/admin``, company admins, step-up to change): ``/admin/sso``: domains, the identity
  provider, log-in rules, SCIM tokens.

Modules:
- ``claims``: what a protocol hands over once the identity provider's answer is verified (``Claims``) and
  why a log-in is refused (``Refused``, ``REASONS``).
- ``settings``: the company's ``SsoSettings`` row; the company of a verified domain.
- ``http``: the only way to an identity provider (configured URLs only, timeouts, no private addresses in
  production, bounded size).
- ``login``: the end every protocol shares: find or link or create the person, 2FA, the session; refusals.
- ``domains``: claiming and proving domains (DNS TXT with dnspython, or a mailed link); free-mail domains.
- ``oidc``, ``oidc_views``: OpenID Connect with Authlib (discovery, PKCE, state, nonce, ID token checks).
- ``saml``, ``saml_views``: the SAML 2.0 service provider with pysaml2 (signed assertions, audience,
  recipient, NotOnOrAfter, InResponseTo, replay, clock skew, IdP-initiated log-in only when allowed).
- ``views``: ``/login/sso`` and ``/sso/welcome``; ``admin_views``, ``admin_forms``: ``/admin/sso``.
"""
from flask import Blueprint

bp = Blueprint("sso", __name__)
admin_bp = Blueprint("sso_admin", __name__, url_prefix="/admin")
