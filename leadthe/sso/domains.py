"""Claiming and proving a company's e-mail domains for single sign-on.

A claim is only a wish: single sign-on and automatic account linking use a domain once it is proved, by a
DNS TXT record ``leadthe-verification=<token>`` (at ``_leadthe-verification.<domain>`` or at the domain itself,
looked up with dnspython), or by a signed link mailed to one of the fixed administrative addresses at the
domain (the ones certificate authorities accept: admin@, administrator@, hostmaster@, postmaster@,
webmaster@; the admin chooses one, never types the address). A domain is verified by one company only: the
unique ``verified_domain`` column decides a race between two companies. Free-mail and consumer domains cannot
be claimed: nobody owns gmail.com on behalf of a company.
"""
from __future__ import annotations

import ipaddress
import re
import secrets

import dns.exception
import dns.resolver
import idna
import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from leadthe import audit
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import utcnow
from leadthe.models.enums import DomainMethod
from leadthe.models.sso import SsoDomain, SsoSettings
from leadthe.net import absolute_url
from leadthe.sso import settings as sso_settings
from leadthe.tenancy import scoped, unscoped

RECORD_PREFIX = "_leadthe-verification"
VALUE_PREFIX = "leadthe-verification="
DNS_LIFETIME = 3.0  # seconds for each look-up: the admin waits for two of them at most
LINK_MAX_AGE = 3 * 24 * 3600
MAIL_BOXES = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")

# Free-mail and consumer mail services: their addresses belong to private people, not to a company.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "outlook.de", "hotmail.com", "live.com", "live.de", "live.at",
    "live.ch", "live.co.uk", "live.fr", "live.nl", "live.it", "live.be", "msn.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "aol.de", "aim.com", "gmx.de", "gmx.net", "gmx.at", "gmx.ch",
    "gmx.com", "web.de", "t-online.de", "freenet.de", "posteo.de", "posteo.net", "mailbox.org", "proton.me",
    "protonmail.com", "protonmail.ch", "pm.me", "mail.com", "mail.ru", "zoho.com", "zohomail.com", "fastmail.com",
    "fastmail.fm", "hey.com", "tutanota.com", "tutanota.de", "tuta.io", "ymail.com", "rocketmail.com", "arcor.de",
    "1und1.de", "online.de", "vodafone.de", "bluewin.ch", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
    "libero.it", "virgilio.it", "qq.com", "163.com", "126.com", "naver.com", "seznam.cz", "wp.pl", "o2.pl",
    "interia.pl", "rambler.ru", "inbox.ru", "list.ru", "bk.ru",
})
# Services with a domain per country (yahoo.co.uk, hotmail.de, yandex.ru, ...): the brand with any suffix.
# ("live" is not among them: live.ai or live.tv may well be a company's; Microsoft's live.* are listed above.)
FREE_MAIL_BRANDS = frozenset({"yahoo", "yandex", "hotmail", "outlook", "gmx", "windowslive"})

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainProblem(ValueError):
    """Why a domain cannot be claimed or proved, in words for the admin."""


# --- claiming -------------------------------------------------------------------------------------------

def normalise(raw: str) -> str:
    """The domain as stored: lower case, IDNA (punycode) form, no trailing dot; DomainProblem when it is not a
    domain a company can own."""
    text = (raw or "").strip().lower().rstrip(".")
    if not text:
        raise DomainProblem(_("Enter a domain, e.g. example.com."))
    if "@" in text:
        raise DomainProblem(_("Enter only the domain, the part after the @ (e.g. example.com)."))
    if _is_ip(text.strip("[]")):
        raise DomainProblem(_("Enter a domain name, not an IP address."))
    if "/" in text or ":" in text:
        raise DomainProblem(_("Enter only the domain (e.g. example.com), without https:// or a path."))
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise DomainProblem(_("This is not a valid domain name. Write it as example.com.")) from None
    labels = ascii_form.split(".")
    if len(labels) < 2:
        raise DomainProblem(_("Enter the whole domain with its ending, e.g. example.com, not only “%(name)s”.",
                              name=ascii_form))
    if len(ascii_form) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise DomainProblem(_("This is not a valid domain name. Write it as example.com."))
    return ascii_form


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_free_mail(domain: str) -> bool:
    """True for a free-mail or consumer domain (and its subdomains), in the normalised form."""
    labels = domain.split(".")
    for start in range(len(labels) - 1):
        if ".".join(labels[start:]) in FREE_MAIL:
            return True
    # brand.tld or brand.co.uk: the brand's own country domains, not "yahoo.example-company.com"
    return labels[0] in FREE_MAIL_BRANDS and len(labels) <= 3 and all(len(label) <= 3 for label in labels[1:])


def claimable(org_id: int, raw: str) -> str:
    """The normalised domain when the company may claim it; DomainProblem says why not (asked before the
    step-up, so the admin does not type the password for a domain that is refused anyway)."""
    domain = normalise(raw)
    if is_free_mail(domain):
        raise DomainProblem(_("%(domain)s is a free-mail or consumer mail service. Only your company's own "
                              "domains can be used for single sign-on.", domain=domain))
    if db.session.scalar(scoped(SsoDomain, org_id).where(SsoDomain.domain == domain)) is not None:
        raise DomainProblem(_("%(domain)s is already in your list.", domain=domain))
    if _verified_elsewhere(org_id, domain):
        raise DomainProblem(_("%(domain)s is already verified by another company. If it is yours, contact our "
                              "support.", domain=domain))
    return domain


def claim(org_id: int, admin, raw: str) -> SsoDomain:
    """Claim a domain for the company (not yet proved), with a new random token; DomainProblem says why not."""
    domain = claimable(org_id, raw)
    row = SsoDomain(org_id=org_id, domain=domain, token=secrets.token_urlsafe(24), created_by_id=admin.id)
    db.session.add(row)
    db.session.flush()
    audit.record("sso.domain_added", actor=admin, org_id=org_id, domain=domain)
    return row


def _verified_elsewhere(org_id: int, domain: str) -> bool:
    proof = sso_settings.verified_domain(domain)
    return proof is not None and proof.org_id != org_id


def domains_of(org_id: int) -> list[SsoDomain]:
    return list(db.session.scalars(scoped(SsoDomain, org_id).order_by(SsoDomain.domain)))


def verified_count(org_id: int) -> int:
    return db.session.scalar(scoped(SsoDomain, org_id).where(SsoDomain.verified_at.is_not(None))
                             .with_only_columns(sa.func.count(SsoDomain.id)))


def record_value(row: SsoDomain) -> str:
    return VALUE_PREFIX + row.token


def record_name(row: SsoDomain) -> str:
    return f"{RECORD_PREFIX}.{row.domain}"


# --- proving --------------------------------------------------------------------------------------------

def _mark_verified(row: SsoDomain, method: str, actor) -> bool:
    """Record the proof. A savepoint keeps the request's transaction usable when another company proved the
    same domain a moment ago (the unique constraint decides); False then, with the reason on the row."""
    if _verified_elsewhere(row.org_id, row.domain):
        return _refuse_taken(row, actor)
    try:
        with db.session.begin_nested():
            row.verified_domain, row.verified_at, row.method = row.domain, utcnow(), method
            db.session.flush()
    except IntegrityError:
        return _refuse_taken(row, actor)
    row.check_message = ""
    audit.record("sso.domain_verified", actor=actor, org_id=row.org_id, domain=row.domain, method=method)
    return True


def _refuse_taken(row: SsoDomain, actor) -> bool:
    row.check_message = "taken"
    # what DNS answered stays out of the audit log's words (DETAIL_LABELS): the check's message shows it
    audit.record("sso.domain_check_failed", actor=actor, org_id=row.org_id, domain=row.domain, taken=True)
    return False


def _resolver():
    """The configured resolver (tests set their own), else dnspython's with this machine's DNS servers; None
    when the machine has no DNS configuration (the check then says DNS did not answer)."""
    configured = current_app.config.get("SSO_DNS_RESOLVER")
    if configured is not None:
        return configured
    try:
        return dns.resolver.Resolver()
    except dns.exception.DNSException:
        return None


def _txt_values(resolver, name: str) -> tuple[list[str], str]:
    """The TXT values at ``name`` and what happened ("ok", "nxdomain", "noanswer", "timeout", "error")."""
    if resolver is None:
        return [], "error"
    try:
        answer = resolver.resolve(name, "TXT", lifetime=DNS_LIFETIME)
    except dns.resolver.NXDOMAIN:
        return [], "nxdomain"
    except dns.resolver.NoAnswer:
        return [], "noanswer"
    except dns.exception.Timeout:
        return [], "timeout"
    except dns.exception.DNSException:
        return [], "error"
    # a TXT record may be split into strings of at most 255 bytes: they form one value together
    return [b"".join(rdata.strings).decode("utf-8", "replace").strip() for rdata in answer], "ok"


def _failure(row: SsoDomain, outcomes: dict[str, str], seen_other: bool) -> str:
    """What the last check found, as a code (``check_words`` puts it in the reader's language)."""
    if "timeout" in outcomes.values():
        return "timeout"
    if seen_other:
        return "other_value"
    if outcomes.get(row.domain) == "nxdomain":
        return "nxdomain"
    if "error" in outcomes.values():
        return "error"
    return "missing"


def check_words(row: SsoDomain) -> str:
    """What the last check found, in the reader's language (the row keeps a code, so every admin reads it in theirs)."""
    code, name = row.check_message, record_name(row)
    if code == "taken":
        return _("This domain is already verified by another company.")
    if code == "timeout":
        return _("The DNS look-up timed out. Your DNS servers may be slow: try again in a few minutes.")
    if code == "other_value":
        return _("We found TXT records, but none with the value %(value)s. Copy the value from this page exactly.",
                 value=record_value(row))
    if code == "nxdomain":
        return _("The domain %(domain)s does not exist in DNS. Check its spelling.", domain=row.domain)
    if code == "error":
        return _("DNS did not answer properly for %(name)s. Try again in a few minutes.", name=name)
    if code == "missing":
        return _("There is no TXT record at %(name)s yet. Add it at your DNS provider; a new record can take up to "
                 "an hour to be seen.", name=name)
    return ""


def check_dns(row: SsoDomain, actor) -> bool:
    """Look for the TXT record at ``_leadthe-verification.<domain>`` and at the domain itself; on success the
    domain is verified. ``check_words(row)`` says what was found otherwise."""
    if row.verified_at is not None:
        return True
    resolver, wanted = _resolver(), record_value(row)
    outcomes, seen_other = {}, False
    row.checked_at = utcnow()
    for name in (record_name(row), row.domain):
        values, outcomes[name] = _txt_values(resolver, name)
        if wanted in values:
            return _mark_verified(row, DomainMethod.DNS, actor)
        # other TXT records at the apex (SPF, other services' proofs) are normal; ours only count at the name
        seen_other = seen_other or any(value.startswith(VALUE_PREFIX) for value in values) or (
            bool(values) and name != row.domain)
    row.check_message = _failure(row, outcomes, seen_other)
    # what DNS answered stays out of the audit log's words (DETAIL_LABELS): the check's message shows it
    audit.record("sso.domain_check_failed", actor=actor, org_id=row.org_id, domain=row.domain,
                 dns=sorted(set(outcomes.values())))
    return False


# --- proving by mail ------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.sso-verify-domain")


def mail_address(row: SsoDomain, box: str) -> str:
    if box not in MAIL_BOXES:
        raise DomainProblem(_("Choose one of the addresses."))
    return f"{box}@{row.domain}"


def send_link(row: SsoDomain, admin, box: str) -> str:
    """Mail a link that proves the domain to ``box@domain``; the address it went to."""
    address = mail_address(row, box)
    token = _serializer().dumps({"d": row.id, "t": row.token})
    # the subject carries no customer-typed text (no domain): mail filters and previews show only our words
    queue_mail(address, _l("Confirm a domain for single sign-on on LeadThe.AI"), "sso_verify_domain",
               kind="sso_verify_domain", locale=str(get_locale() or "en"), link=absolute_url("sso.verify_domain", token=token),
               domain=row.domain, admin_name=admin.name, days=LINK_MAX_AGE // (24 * 3600))
    row.mail_sent_at = utcnow()
    audit.record("sso.domain_mail_sent", actor=admin, org_id=row.org_id, domain=row.domain, to=address)
    return address


def domain_for_link(token: str) -> SsoDomain | None:
    """The claimed domain a mailed link is for (whichever company's), or None when it is forged, expired, or the
    domain was removed (its token is gone with it)."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), int) or not isinstance(data.get("t"), str):
        return None
    row = db.session.scalar(unscoped(sa.select(SsoDomain).where(SsoDomain.id == data["d"]),
                                     reason="a mailed link names its domain; the company is checked after"))
    if row is None or not secrets.compare_digest(row.token, data["t"]):
        return None
    return row


def verify_by_link(row: SsoDomain, admin) -> bool:
    if row.verified_at is not None:
        return True
    return _mark_verified(row, DomainMethod.MAIL, admin)


# --- removing -------------------------------------------------------------------------------------------

def ends_sso_required(row: SsoDomain) -> bool:
    """True when removing ``row`` leaves a company that requires single sign-on without a verified domain."""
    current = db.session.scalar(scoped(SsoSettings, row.org_id))  # read only: the confirmation page is a GET
    return bool(current is not None and current.sso_required and row.verified_at is not None
                and verified_count(row.org_id) == 1)


def remove(row: SsoDomain, admin) -> bool:
    """Remove the claim (and with it the proof). When it was the last verified domain of a company that
    requires single sign-on, the requirement is turned off: it applies to verified domains only, and leaving it
    on would surprise the admin when a domain is verified again. True when that happened."""
    ended = ends_sso_required(row)
    if ended:
        current = sso_settings.for_org(row.org_id)
        current.sso_required = False
        current.updated_by_id = admin.id
        audit.record("sso.settings_changed", actor=admin, org_id=row.org_id, fields=["sso_required"],
                     after="sso.domain_removed")  # the event next to it says why
    audit.record("sso.domain_removed", actor=admin, org_id=row.org_id, domain=row.domain,
                 was_verified=row.verified_at is not None)
    db.session.delete(row)
    db.session.flush()
    return ended
