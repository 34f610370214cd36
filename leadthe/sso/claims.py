"""What a protocol hands to ``leadthe.sso.login`` once the identity provider's answer is verified, and why a
log-in through the identity provider is refused."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Claims:
    """A verified answer of an identity provider. ``issuer`` + ``subject`` name the person for good (OIDC
    ``iss`` and ``sub``; SAML: the IdP's entity id and the NameID); the e-mail address may change."""

    protocol: str  # SsoProtocol.OIDC | SsoProtocol.SAML
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str = ""
    mfa: bool = False  # the IdP says the person used more than one factor (OIDC amr, SAML AuthnContextClassRef)
    job_title: str = ""
    department: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Claims:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


class Refused(Exception):
    """A log-in through the identity provider refused for ``reason`` (a key of ``REASONS``). ``details`` go
    into the audit event (never a token or an assertion)."""

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


# What the person is told, per reason. Each refusal is also an audit event ``sso.refused`` with the reason.
REASONS = {
    # the answer itself
    "wrong_issuer": _l("The answer came from another identity provider than the one your company set up."),
    "wrong_audience": _l("The answer was meant for another application, not for LeadThe.AI."),
    "expired": _l("The answer from your identity provider has expired. Please try again."),
    "not_yet_valid": _l("The answer from your identity provider is not valid yet. Check the clocks, then try again."),
    "bad_signature": _l("The answer's signature does not match your identity provider's keys."),
    "unsigned": _l("The answer from your identity provider was not signed, and we accept only signed answers."),
    "replayed": _l("This answer was already used for a log-in. Please start again."),
    "nonce_mismatch": _l("The answer does not belong to the log-in started in this browser. Please start again."),
    "state_mismatch": _l("The answer does not belong to the log-in started in this browser. Please start again."),
    "wrong_recipient": _l("The answer was sent to another address than ours."),
    "unsolicited": _l("Your company allows log-ins started here only. Please start the log-in from LeadThe.AI."),
    "invalid_response": _l("We could not read the answer from your identity provider."),
    "idp_error": _l("Your identity provider did not sign you in."),
    "idp_unreachable": _l("We could not reach your company's identity provider. Please try again in a minute."),
    "not_configured": _l("Single sign-on is not set up for this company."),
    # the person
    "email_unverified": _l("Your identity provider has not confirmed your e-mail address."),
    "no_email": _l("Your identity provider did not send an e-mail address."),
    "domain_unverified": _l("Your e-mail address is not in a domain your company has verified for single sign-on."),
    "domain_other_company": _l("Your e-mail address belongs to a domain verified by another company."),
    "subject_linked_elsewhere": _l("This identity-provider account is already linked to another person."),
    "account_linked_elsewhere": _l("Your LeadThe.AI account is already linked to another identity-provider account."),
    "account_other_company": _l("Your e-mail address has an account in another company."),
    "jit_disabled": _l("Your company creates accounts by invitation or provisioning only. Ask your company's admin."),
    "inactive": _l("This account is not active. Please ask your company's LeadThe.AI admin."),
    "no_new_accounts": _l("Your company cannot add new accounts right now. Please ask your company's LeadThe.AI admin."),
    "expired_attempt": _l("Your log-in took too long or was interrupted. Please start again."),
    # confirming it is you (step-up) while signed in
    "reauth_other_account": _l("Your identity provider signed in another person than the one signed in here. "
                               "Sign out of LeadThe.AI first if you want to switch accounts."),
    "not_fresh": _l("Your identity provider did not ask you to sign in again. Please try again."),
}
