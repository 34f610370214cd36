"""The SAML 2.0 service provider with pysaml2: our metadata, the AuthnRequest (HTTP-Redirect), and the
response's checks (signed assertion, audience, recipient, NotOnOrAfter, InResponseTo, replay, clock skew).

Used by ``/admin/sso`` when an admin saves the settings (``fetch_metadata``, ``idp_entity_id``) and by
``saml_views``.

Each company is its own service provider: the entity id is the absolute URL of its metadata
(``/sso/saml/<public_key>/metadata``) and the assertion consumer service ``/sso/saml/<public_key>/acs``
(HTTP-POST). The pysaml2 configuration is built in memory for each request from ``SsoSettings`` (the IdP's
metadata inline), so nothing about a company lives in files or in a process-wide cache.

What a response must be to be accepted (each failure has its own reason of ``leadthe.sso.claims.REASONS``):
- exactly one assertion, not encrypted (our metadata offers no encryption key), whose Issuer (and the
  Response's, when present) is the IdP entity id the company configured (``wrong_issuer``);
- the assertion itself signed (``unsigned``) with the certificate of the IdP's metadata, never a key carried
  in the message (``bad_signature``); a signed Response around an unsigned assertion is not enough, since the
  assertion is what we keep;
- Destination and the bearer SubjectConfirmationData's Recipient our ACS URL (``wrong_recipient``), the
  AudienceRestriction our entity id (``wrong_audience``; an assertion without one is refused too);
- NotBefore / NotOnOrAfter of the Conditions and of the SubjectConfirmationData within
  ``SSO_CLOCK_SKEW_SECONDS`` (``not_yet_valid``, ``expired``);
- InResponseTo one of our outstanding AuthnRequests (``state_mismatch``); none at all only when the company
  allows IdP-initiated log-in (``unsolicited``);
- its assertion ID not seen before for the company (``replayed``; remembered in ``SsoReplay`` until the
  assertion expires).

SAML has no ``email_verified``: the address an IdP asserts counts as confirmed, because log-in links an
account by address only in a domain the company proved it owns, and the company chose that IdP for it.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, md, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, SCM_BEARER
from saml2.sigver import MissingKey, SignatureError
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly

from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.sso import SsoReplay, SsoSettings
from leadthe.net import absolute_url
from leadthe.sso import http
from leadthe.sso.claims import Claims, Refused
from leadthe.tenancy import scoped

# pysaml2 writes whole messages (assertions, with names and addresses) into its debug and error logs; never
# log them (a refusal's audit event says what was wrong without them)
logging.getLogger("saml2").setLevel(logging.CRITICAL)

PROTOCOL = "saml"
MAX_RESPONSE_BYTES = 500_000

# AuthnContextClassRef values that say the person used more than one factor (Entra ID, REFEDS, the SAML 2.0
# classes that need a second factor by definition). Password-only classes are not among them.
MFA_CONTEXTS = frozenset({
    "http://schemas.microsoft.com/claims/multipleauthn",
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/x509",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SoftwarePKI",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
})

# attribute names, compared in lower case; pysaml2 turns the urn:oid names it knows into the friendly ones
EMAIL_ATTRIBUTES = ("mail", "email", "emailaddress", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    "urn:oid:0.9.2342.19200300.100.1.3", "urn:oid:1.2.840.113549.1.9.1")
DISPLAY_NAME_ATTRIBUTES = ("displayname", "urn:oid:2.16.840.1.113730.3.1.241",
                           "http://schemas.microsoft.com/identity/claims/displayname", "name",
                           "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "cn", "urn:oid:2.5.4.3")
GIVEN_NAME_ATTRIBUTES = ("givenname", "urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                         "firstname")
SURNAME_ATTRIBUTES = ("sn", "surname", "urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                      "lastname")
TITLE_ATTRIBUTES = ("title", "jobtitle", "urn:oid:2.5.4.12", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/title",
                    "http://schemas.microsoft.com/ws/2008/06/identity/claims/jobtitle")
DEPARTMENT_ATTRIBUTES = ("department", "ou", "urn:oid:2.5.4.11", "departmentnumber",
                         "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/department",
                         "http://schemas.microsoft.com/ws/2008/06/identity/claims/department")


# --- our side: URLs, the pysaml2 configuration, our metadata ------------------------------------------

def entity_id(settings: SsoSettings) -> str:
    return absolute_url("sso.saml_metadata", key=settings.public_key)


def acs_url(settings: SsoSettings) -> str:
    return absolute_url("sso.saml_acs", key=settings.public_key)


def sp_config(settings: SsoSettings, *, with_idp: bool = True) -> SPConfig:
    """The pysaml2 SP configuration of the company (the IdP's metadata inline when ``with_idp``); raises
    ``Refused("not_configured")`` when the stored IdP metadata is no longer usable (the admin saves it again)."""
    config = {
        "entityid": entity_id(settings),
        "xmlsec_binary": current_app.config["SAML_XMLSEC_BINARY"],
        "accepted_time_diff": int(current_app.config["SSO_CLOCK_SKEW_SECONDS"]),
        "allow_unknown_attributes": True,
        "delete_tmpfiles": True,
        "service": {"sp": {
            "name": "LeadThe.AI",
            "endpoints": {"assertion_consumer_service": [(acs_url(settings), BINDING_HTTP_POST)]},
            "want_assertions_signed": True,
            "want_response_signed": False,
            "authn_requests_signed": False,
            "allow_unsolicited": bool(settings.saml_allow_idp_initiated),
            "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
            "name_id_format_allow_create": True,
            "required_attributes": ["mail"],
            "optional_attributes": ["displayName", "givenName", "sn", "title", "department"],
        }},
    }
    if with_idp and settings.saml_idp_metadata:
        config["metadata"] = {"inline": [settings.saml_idp_metadata]}
    loaded = SPConfig()
    try:
        loaded.load(config)
    except Exception as exc:  # noqa: BLE001 - stored metadata pysaml2 no longer takes
        raise Refused("not_configured") from exc
    if with_idp and (loaded.metadata is None or settings.saml_idp_entity_id not in loaded.metadata.keys()):
        raise Refused("not_configured")  # pysaml2 leaves out metadata past its validUntil
    loaded.only_use_keys_in_metadata = True  # never a certificate that comes with the message
    return loaded


def sp_metadata(settings: SsoSettings) -> str:
    """Our SP metadata XML (entity id, ACS, NameID formats, signed assertions wanted)."""
    descriptor = entity_descriptor(sp_config(settings, with_idp=False))
    return descriptor.to_string().decode("utf-8")


def client(settings: SsoSettings) -> Saml2Client:
    return Saml2Client(config=sp_config(settings))


def authn_request(settings: SsoSettings, login_hint: str = "", *, force: bool = False) -> tuple[str, str]:
    """(the AuthnRequest ID, the IdP URL to send the browser to: HTTP-Redirect binding).

    ``login_hint`` is added as a query parameter, which Entra ID and others use to fill in the address; the
    request is not signed, so the extra parameter changes nothing an IdP checks."""
    request_id, info = client(settings).prepare_for_authenticate(
        entityid=settings.saml_idp_entity_id, binding=BINDING_HTTP_REDIRECT, nameid_format=NAMEID_FORMAT_PERSISTENT,
        force_authn="true" if force else None)  # step-up: ForceAuthn, the IdP checks the person afresh
    location = dict(info["headers"])["Location"]
    if login_hint:
        location += ("&" if "?" in location else "?") + "login_hint=" + _quote(login_hint)
    return request_id, location


def _quote(value: str) -> str:
    return quote(value[:254], safe="@")


# --- the IdP's metadata -----------------------------------------------------------------------------

def fetch_metadata(url: str) -> str:
    """The IdP's metadata XML from ``url``; raises ``leadthe.sso.http.IdpUnreachable``."""
    status, body, content_type = http.get(url, headers={"Accept": "application/samlmetadata+xml, application/xml, text/xml"})
    host = urlsplit(url).hostname
    if status != 200:
        raise http.IdpUnreachable(_("%(host)s answered with status %(status)s.", host=host, status=status))
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not text.startswith("<") or "json" in content_type.lower() or "html" in content_type.lower():
        raise http.IdpUnreachable(_("%(host)s did not answer with SAML metadata (XML).", host=host))
    return text


def _parse_metadata(xml: str):
    try:
        parsed = md.entity_descriptor_from_string(xml)
        if parsed is not None:
            return [parsed]
        many = md.entities_descriptor_from_string(xml)
    except Exception as exc:  # noqa: BLE001 - defusedxml refuses entities; anything unparsable is "not XML"
        raise ValueError(_("This is not SAML metadata: the XML could not be read.")) from exc
    if many is None:
        raise ValueError(_("This is not SAML metadata: it has no EntityDescriptor."))
    return list(many.entity_descriptor)


def idp_entity_id(xml: str) -> str:
    """The entity id of the IdP the metadata describes; raises ``ValueError`` with words for the admin when it
    is not usable IdP metadata (not XML, no IdP, no signing certificate, no single sign-on service)."""
    if not (xml or "").strip():
        raise ValueError(_("The metadata is empty."))
    idps = [entity for entity in _parse_metadata(xml.strip()) if entity.idpsso_descriptor]
    if not idps:
        raise ValueError(_("The metadata describes no identity provider (no IDPSSODescriptor)."))
    if len(idps) > 1:
        raise ValueError(_("The metadata describes more than one identity provider; use the metadata of yours only."))
    entity = idps[0]
    _check_idp(entity)
    return entity.entity_id.strip()


def _check_idp(entity) -> None:
    """ValueError, in words for the admin, for an IdP entry we cannot use."""
    if entity.valid_until and calendar.timegm(str_to_time(entity.valid_until)) < time.time():
        raise ValueError(_("The metadata expired on %(date)s (its validUntil); download it again from your identity "
                           "provider.", date=entity.valid_until[:10]))
    if not entity.entity_id:
        raise ValueError(_("The identity provider in the metadata has no entity ID."))
    descriptors = entity.idpsso_descriptor
    if not any(_signing_certificates(descriptor) for descriptor in descriptors):
        raise ValueError(_("The metadata has no signing certificate of the identity provider."))
    if not any(service.binding == BINDING_HTTP_REDIRECT and service.location
               for descriptor in descriptors for service in descriptor.single_sign_on_service):
        raise ValueError(_("The metadata has no single sign-on service with the HTTP-Redirect binding."))


def _signing_certificates(descriptor) -> list[str]:
    found = []
    for key in descriptor.key_descriptor:
        if key.use not in (None, "", "signing") or key.key_info is None:
            continue
        for data in key.key_info.x509_data:
            if data.x509_certificate is not None and (data.x509_certificate.text or "").strip():
                found.append(data.x509_certificate.text)
    return found


# --- the response -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verified:
    claims: Claims
    assertion_id: str
    in_response_to: str  # "" for an IdP-initiated log-in
    expires_at: datetime  # the assertion's NotOnOrAfter (no replay until then)


def decode(saml_response: str) -> str:
    """The XML of the form field ``SAMLResponse`` (base64, HTTP-POST binding)."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES:
        raise Refused("invalid_response")
    try:
        return base64.b64decode(saml_response, validate=False).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise Refused("invalid_response") from exc


def peek_in_response_to(xml: str) -> str:
    """The InResponseTo of a response not verified yet (to pick the outstanding requests); "" when none."""
    try:
        response = samlp.response_from_string(xml)
    except Exception as exc:  # noqa: BLE001 - unreadable XML of any kind
        raise Refused("invalid_response") from exc
    if response is None:
        raise Refused("invalid_response")
    return (response.in_response_to or "").strip()


def verify(settings: SsoSettings, saml_response: str, outstanding: dict[str, str]) -> Verified:
    """Check the response (the form field ``SAMLResponse``, base64; see the module's docstring) and return
    what it says; raises ``Refused``. ``outstanding``: our AuthnRequest IDs waiting for an answer (id -> any)."""
    unverified = _precheck(settings, decode(saml_response))
    try:
        answer = client(settings).parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding=dict(outstanding),
            # non-empty: pysaml2 checks the SubjectConfirmationData Recipient against our ACS only then
            conv_info={"acs": acs_url(settings)})
    except (SignatureError, IncorrectlySigned, MissingKey) as exc:
        raise Refused("bad_signature") from exc
    except ResponseLifetimeExceed as exc:
        raise Refused("expired") from exc
    except ToEarly as exc:
        raise Refused("not_yet_valid") from exc
    except UnsolicitedResponse as exc:
        raise Refused("state_mismatch" if unverified.in_response_to else "unsolicited") from exc
    except StatusError as exc:
        raise Refused("idp_error") from exc
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises bare Exception/ValueError for several checks
        raise Refused(_diagnose(settings, unverified, outstanding)) from exc
    if answer is None or answer.assertion is None:
        raise Refused(_diagnose(settings, unverified, outstanding))
    return _accepted(settings, answer, outstanding)


def _precheck(settings: SsoSettings, xml: str):
    """What can be told before any signature is checked: unreadable, another issuer, no assertion signature."""
    try:
        response = samlp.response_from_string(xml)
    except Exception as exc:  # noqa: BLE001
        raise Refused("invalid_response") from exc
    if response is None:
        raise Refused("invalid_response")
    _check_issuers(settings, response)
    status = response.status.status_code.value if response.status and response.status.status_code else ""
    if status and status != samlp.STATUS_SUCCESS:
        raise Refused("idp_error", status=status[:200])
    if response.encrypted_assertion or len(response.assertion) != 1:
        raise Refused("invalid_response")
    if response.assertion[0].signature is None:
        raise Refused("unsigned")
    return response


def _check_issuers(settings: SsoSettings, response) -> None:
    """The Response's Issuer (optional) and the assertion's (required) must be the configured IdP."""
    issuers = [_text(response.issuer)] if response.issuer is not None else []
    issuers += [_text(assertion.issuer) for assertion in response.assertion]
    strangers = [issuer for issuer in issuers if issuer != settings.saml_idp_entity_id]
    if strangers:
        raise Refused("wrong_issuer", issuer=strangers[0][:200])


def _text(element) -> str:
    return (getattr(element, "text", None) or "").strip()


def _diagnose(settings: SsoSettings, response, outstanding) -> str:
    """The reason for a response pysaml2 refused without a telling exception (its signature was fine or
    not reached): destination, recipient, audience, InResponseTo, in that order."""
    acs = acs_url(settings)
    if response.destination and response.destination != acs:
        return "wrong_recipient"
    assertion = response.assertion[0]
    confirmations = assertion.subject.subject_confirmation if assertion.subject else []
    if any(c.subject_confirmation_data is not None and c.subject_confirmation_data.recipient != acs
           for c in confirmations):
        return "wrong_recipient"
    if not _for_us(assertion, entity_id(settings)):
        return "wrong_audience"
    requested = (response.in_response_to or "").strip()
    if requested and requested not in outstanding:
        return "state_mismatch"
    return "invalid_response"


def _for_us(assertion, ours: str) -> bool:
    """An AudienceRestriction naming us is required (pysaml2 accepts an assertion without any)."""
    conditions = assertion.conditions
    audiences = [_text(audience) for restriction in (conditions.audience_restriction if conditions else [])
                 for audience in restriction.audience]
    return ours in audiences


def _accepted(settings: SsoSettings, answer, outstanding) -> Verified:
    """The checks pysaml2 leaves to us on a response it accepted, then the claims."""
    response, assertion = answer.response, answer.assertion
    if not _for_us(assertion, entity_id(settings)):
        raise Refused("wrong_audience")
    acs = acs_url(settings)
    if response.destination and response.destination != acs:
        raise Refused("wrong_recipient")
    requested = (response.in_response_to or "").strip()
    if requested and requested not in outstanding:
        raise Refused("state_mismatch")
    if not requested and not settings.saml_allow_idp_initiated:
        raise Refused("unsolicited")
    expires = _not_on_or_after(assertion)
    if expires is None or not assertion.id:
        raise Refused("invalid_response")
    return Verified(claims=claims_of(settings, answer), assertion_id=assertion.id, in_response_to=requested,
                    expires_at=expires)


def _not_on_or_after(assertion) -> datetime | None:
    """The latest NotOnOrAfter of the Conditions and the bearer confirmations: the assertion is dead then."""
    values = [assertion.conditions.not_on_or_after] if assertion.conditions else []
    values += [c.subject_confirmation_data.not_on_or_after for c in assertion.subject.subject_confirmation
               if c.method == SCM_BEARER and c.subject_confirmation_data is not None]
    stamps = [calendar.timegm(str_to_time(value)) for value in values if value]
    if not stamps:
        return None
    return datetime.fromtimestamp(max(stamps), tz=timezone.utc)


def _first(attributes: dict, names) -> str:
    for name in names:
        values = attributes.get(name)
        if values:
            value = values[0] if isinstance(values, list) else values
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def claims_of(settings: SsoSettings, answer) -> Claims:
    name_id = answer.name_id
    subject = _text(name_id)
    if not subject:
        raise Refused("invalid_response")
    attributes = {str(key).lower(): value for key, value in (answer.ava or {}).items()}
    email = _first(attributes, EMAIL_ATTRIBUTES)
    if not email and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        email = subject
    name = _first(attributes, DISPLAY_NAME_ATTRIBUTES) or " ".join(
        part for part in (_first(attributes, GIVEN_NAME_ATTRIBUTES), _first(attributes, SURNAME_ATTRIBUTES)) if part)
    contexts = {context for context, _authorities, _instant in answer.authn_info()}
    return Claims(protocol=PROTOCOL, issuer=settings.saml_idp_entity_id, subject=subject[:255],
                  email=email.lower()[:254], email_verified=True, name=name[:200],
                  mfa=bool(contexts & MFA_CONTEXTS), job_title=_first(attributes, TITLE_ATTRIBUTES)[:200],
                  department=_first(attributes, DEPARTMENT_ATTRIBUTES)[:200])


# --- replay -----------------------------------------------------------------------------------------

def remember_assertion(settings: SsoSettings, verified: Verified) -> None:
    """Remember the assertion ID until it expires; ``Refused("replayed")`` when it was seen before.

    The insert runs in a SAVEPOINT: a concurrent request with the same assertion hits the unique constraint
    (org_id, assertion_id) and only that savepoint is rolled back."""
    seen = db.session.scalar(scoped(SsoReplay, settings.org_id).where(SsoReplay.assertion_id == verified.assertion_id))
    if seen is not None:
        raise Refused("replayed")
    try:
        with db.session.begin_nested():
            db.session.add(SsoReplay(org_id=settings.org_id, assertion_id=verified.assertion_id[:255],
                                     expires_at=max(verified.expires_at, utcnow()) + timedelta(
                                         seconds=current_app.config["SSO_CLOCK_SKEW_SECONDS"])))
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise Refused("replayed") from exc
