"""Two-step verification: TOTP codes (RFC 6238, via pyotp) and single-use recovery codes.

* A code is accepted one time step (30 s) either side of now, for clocks that drift a little.
* A code works once: the highest accepted time-step counter is stored per person, and a code whose
  counter is not above it is refused (the update is conditional, so two requests racing with the same
  code cannot both win).
* Recovery codes are random (80 bits), shown once, and stored as a keyed SHA-256; each works once.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from markupsafe import Markup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.database import write_apart
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import RecoveryCode, User, utcnow

ISSUER = "LeadThe.AI"
VALID_WINDOW = 1
RECOVERY_CODES = 10
_RECOVERY_KEY = b"leadthe.ai/recovery-code/v1"
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud and typed from paper
_TOTP_RE = re.compile(r"^\d{6}$")


def normalise_code(code: str | None) -> str:
    """What the person typed or pasted, without spaces and dashes, lower-case."""
    return re.sub(r"[\s\-]", "", code or "").lower()


# --- set-up ---------------------------------------------------------------------------------------

def start_setup(user: User) -> str:
    """A fresh secret for the authenticator app; it counts only after ``enable`` saw a valid code."""
    if user.has_2fa:
        raise ValueError("two-step verification is already on")
    user.totp_secret = pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends
    user.totp_enabled_at = None
    user.totp_last_step = 0
    audit.record("2fa.setup_started", actor=user, subject=user)
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def grouped_secret(secret: str) -> str:
    """The key in groups of four, for typing it into a phone (and for screen readers to spell out)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG: one path, no style attributes (the CSP allows styles from files only)."""
    qr = segno.make(uri, error="m", micro=False)
    # svg_inline: no XML declaration, no namespace, no newlines; colours as attributes; the light
    # background is drawn, so the code stays scannable on the dark theme
    svg = qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr", lineclass=None,
                        title=_("QR code for your authenticator app"))
    return Markup(svg)


def enable(user: User, code: str) -> list[str] | None:
    """Turn two-step verification on if ``code`` is valid; returns the new recovery codes (shown once)."""
    if user.has_2fa or not user.totp_secret or not verify_totp(user, code):
        return None
    user.totp_enabled_at = utcnow()
    codes = new_recovery_codes(user)
    audit.record("2fa.enabled", actor=user, subject=user)
    queue_mail(user.email, _l("Two-step verification is on for your LeadThe.AI account"), "twofa_enabled",
               kind="security_notice", user=user, name=user.first_name)
    return codes


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = 0
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("2fa.disabled", actor=user, subject=user)
    queue_mail(user.email, _l("Two-step verification was turned off for your LeadThe.AI account"), "twofa_disabled",
               kind="security_notice", user=user, name=user.first_name)


# --- checking codes ----------------------------------------------------------------------------------

def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time-step counter ``code`` belongs to, within the allowed window, or None."""
    code = normalise_code(code)
    if not _TOTP_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in (current, current - VALID_WINDOW, current + VALID_WINDOW):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(user: User, code: str, now: datetime | None = None) -> bool:
    """True for a valid code that was not used before (and remembers it as used)."""
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, now)
    if step is None or step <= (user.totp_last_step or 0):
        return False
    claimed = db.session.execute(
        sa.update(User).where(User.id == user.id, User.totp_last_step < step).values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    user.totp_last_step = step
    # a code works once, also when the request that used it is refused for another reason and rolled back
    keep = sa.update(User).where(User.id == user.id, User.totp_last_step < step).values(totp_last_step=step)
    write_apart(lambda conn: conn.execute(keep), only_if_refused=True)
    return True


def _hash_recovery(code: str) -> str:
    return hmac.new(_RECOVERY_KEY, normalise_code(code).encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten new codes replacing any earlier ones; only their hashes are stored."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODES):  # not "_": that is gettext in this module
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _c in range(16))
        code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(code)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True when ``code`` is one of the person's unused recovery codes (it is used up at once)."""
    normalised = normalise_code(code)
    if len(normalised) != 16:
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(normalised),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        return False
    left = recovery_codes_left(user)
    audit.record("2fa.recovery_code_used", actor=user, subject=user, left=left)
    queue_mail(user.email, _l("A recovery code was used to sign in to LeadThe.AI"), "recovery_code_used",
               kind="security_notice", user=user, name=user.first_name, left=left)
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


def check_second_factor(user: User, code: str | None) -> str | None:
    """For someone with 2FA: "totp" or "recovery" when ``code`` is good, None otherwise."""
    if not code:
        return None
    if verify_totp(user, code):
        return "totp"
    if use_recovery_code(user, code):
        return "recovery"
    return None
