"""The SAML 2.0 service provider with pysaml2: our metadata, the AuthnRequest (HTTP-Redirect), and the
response's checks (signed assertion, audience, recipient, NotOnOrAfter, InResponseTo, replay, clock skew).

Used by ``/admin/sso`` when an admin saves the settings (``fetch_metadata``, ``idp_entity_id``) and by
``saml_views``."""
from __future__ import annotations


def fetch_metadata(url: str) -> str:
    """The IdP's metadata XML from ``url``; raises ``leadthe.sso.http.IdpUnreachable``."""
    raise NotImplementedError


def idp_entity_id(xml: str) -> str:
    """The entity id of the IdP the metadata describes; raises ``ValueError`` with words for the admin when it
    is not usable IdP metadata (not XML, no IdP, no signing certificate, no single sign-on service)."""
    raise NotImplementedError
