"""Single sign-on and provisioning (issue 19): a company's verified e-mail domains, its identity provider
(OpenID Connect or SAML 2.0), the people's links to their identity-provider subjects, and SCIM tokens.

- ``SsoSettings``: one row per company. ``protocol`` says which identity provider is in use (none, oidc,
  saml). The OIDC client secret is encrypted at rest with the data key (``leadthe rotate-data-key``
  re-encrypts it) and never shown again. ``public_key`` names the company in the service provider's public
  URLs (SAML metadata and assertion consumer service), so they say nothing about the company and are stable.
- ``SsoDomain``: an e-mail domain a company claims. It counts only once proved (``verified_at``), by a DNS
  TXT record or a link mailed to an address at the domain. ``verified_domain`` is set to the domain when it
  is proved: its unique constraint makes a domain verified by one company only.
- ``SsoIdentity``: a person's link to an identity-provider subject (``issuer`` + ``subject``: OIDC ``iss``
  and ``sub``, or the SAML IdP's entity id and the persistent NameID). Once linked, log-in finds the person
  by it, never by a changed e-mail alone. Personal data: exported, erased with the person.
- ``SsoLoginAttempt``: one log-in under way (what the identity provider must answer: the SAML AuthnRequest
  ID; the verified result waiting for the browser's own request). Lives minutes; retention deletes it.
- ``SsoReplay``: SAML assertion IDs already accepted, kept until the assertion expires (no replay).
- ``ScimToken``: a company's SCIM bearer token: only its SHA-256 is stored, shown once, rotatable.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.crypto import EncryptedString
from leadthe.models.base import Base, OrgOwned, Timestamped, utcnow
from leadthe.models.enums import DomainMethod, SsoProtocol, check_in


class SsoSettings(OrgOwned, Timestamped, Base):
    __tablename__ = "sso_settings"
    __table_args__ = (sa.UniqueConstraint("org_id"), check_in("protocol", SsoProtocol))

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key: Mapped[str] = mapped_column(sa.String(32), unique=True)  # in the SP's public URLs
    protocol: Mapped[str] = mapped_column(sa.String(8), default=SsoProtocol.NONE)
    # OpenID Connect: the issuer URL (discovery at <issuer>/.well-known/openid-configuration), client id and
    # secret; the discovery document and the JWKS are cached here when an admin saves (and refreshed on a
    # key id we do not know yet)
    oidc_issuer: Mapped[str] = mapped_column(sa.String(500), default="")
    oidc_client_id: Mapped[str] = mapped_column(sa.String(255), default="")
    oidc_client_secret: Mapped[str | None] = mapped_column(EncryptedString(1000))  # write-only
    oidc_secret_set_at: Mapped[datetime | None]
    oidc_metadata: Mapped[dict | None] = mapped_column(sa.JSON)
    oidc_jwks: Mapped[dict | None] = mapped_column(sa.JSON)
    oidc_fetched_at: Mapped[datetime | None]
    # SAML 2.0: the IdP's metadata, by URL (fetched when saved) or uploaded; its entity id, read from it
    saml_metadata_url: Mapped[str] = mapped_column(sa.String(500), default="")
    saml_idp_metadata: Mapped[str] = mapped_column(sa.Text, default="")
    saml_idp_entity_id: Mapped[str] = mapped_column(sa.String(500), default="")
    saml_fetched_at: Mapped[datetime | None]
    saml_allow_idp_initiated: Mapped[bool] = mapped_column(default=False)
    # log-in rules
    jit_enabled: Mapped[bool] = mapped_column(default=True)  # create people on their first log-in
    sso_required: Mapped[bool] = mapped_column(default=False)  # no password log-in for the company's domains...
    break_glass_user_id: Mapped[int | None] = mapped_column(  # ...except for this one admin
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def enabled(self) -> bool:
        if self.protocol == SsoProtocol.OIDC:
            return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_metadata)
        if self.protocol == SsoProtocol.SAML:
            return bool(self.saml_idp_metadata and self.saml_idp_entity_id)
        return False


class SsoDomain(OrgOwned, Timestamped, Base):
    __tablename__ = "sso_domain"
    __table_args__ = (sa.UniqueConstraint("org_id", "domain"), check_in("method", DomainMethod))

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(253))  # lower case, IDNA (punycode) form
    token: Mapped[str] = mapped_column(sa.String(64))  # the TXT record's value is "leadthe-verification=<token>"
    verified_domain: Mapped[str | None] = mapped_column(sa.String(253), unique=True)  # = domain once proved
    verified_at: Mapped[datetime | None]
    method: Mapped[str | None] = mapped_column(sa.String(8))
    checked_at: Mapped[datetime | None]  # the last DNS look-up
    check_message: Mapped[str] = mapped_column(sa.String(300), default="")
    mail_sent_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class SsoIdentity(OrgOwned, Timestamped, Base):
    __tablename__ = "sso_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    protocol: Mapped[str] = mapped_column(sa.String(8))
    issuer: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254), default="")  # as the IdP last asserted it
    last_login_at: Mapped[datetime | None]


class SsoLoginAttempt(OrgOwned, Base):
    __tablename__ = "sso_login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(sa.String(8))
    user_id: Mapped[int | None] = mapped_column(  # the person, once known
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(sa.String(100), default="", index=True)  # SAML AuthnRequest ID
    next_url: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # the verified answer, waiting for the browser's own (same-site) request to finish the log-in
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    email: Mapped[str] = mapped_column(sa.String(254), default="")  # the result's address (erasure matches it)
    result_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    consumed_at: Mapped[datetime | None]


class SsoReplay(OrgOwned, Base):
    __tablename__ = "sso_replay"
    __table_args__ = (sa.UniqueConstraint("org_id", "assertion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assertion_id: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ScimToken(OrgOwned, Timestamped, Base):
    __tablename__ = "scim_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hint: Mapped[str] = mapped_column(sa.String(12), default="")  # the last characters, to tell tokens apart
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
