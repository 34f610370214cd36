"""Password hashing.

bcrypt only reads the first 72 bytes of its input (and bcrypt 5 raises above that), while a
64-character passphrase in, say, Devanagari or Thai is 192 bytes of UTF-8. So the passphrase is first
run through a keyed pre-hash (HMAC-SHA-256 with a fixed, versioned domain key) and the base64 of that
digest (44 ASCII bytes) is what bcrypt sees. Every character the user typed counts, exactly as typed
(no normalisation, no trimming). The fixed key makes the inner value useless for "shucking" against
plain SHA-256 hashes leaked elsewhere; bcrypt's salt and cost still do the real work.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

import bcrypt
from flask import current_app
from flask_babel import gettext as _

_PREHASH_KEY = b"leadthe.ai/password-prehash/v1"
MIN_LENGTH = 12
MAX_LENGTH = 1024  # generous for passphrases; bounds the work an attacker can ask for


def _prehash(password: str) -> bytes:
    digest = hmac.new(_PREHASH_KEY, password.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str) -> str:
    rounds = current_app.config.get("BCRYPT_ROUNDS", 12)
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None) -> bool:
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


_dummy_hash: dict[int, str] = {}


def burn_equal_time(password: str) -> None:
    """Spend the same bcrypt work as a real check, for unknown e-mail addresses (no user enumeration)."""
    rounds = current_app.config.get("BCRYPT_ROUNDS", 12)
    if rounds not in _dummy_hash:
        _dummy_hash[rounds] = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds)).decode("ascii")
    check_password(password[:MAX_LENGTH], _dummy_hash[rounds])


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (see the header of common_passwords.txt for the source)."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """Also catches the list's entries with spaces or capitals added ("Qwerty 123456")."""
    folded = password.lower()
    return folded in common_passwords() or "".join(folded.split()) in common_passwords()


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a new password is refused, in words for the form; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(num)s characters.", num=MIN_LENGTH))
    elif is_common_password(password):
        problems.append(_("This is one of the most commonly used passwords, which attackers try first. Choose another one, "
                          "for example a few unrelated words."))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(num)s characters.", num=MAX_LENGTH))
    local = email.split("@")[0].lower() if email else ""
    if len(local) >= 3 and local in password.lower():
        problems.append(_("Don't use your e-mail address in your password."))
    if password and len(set(password)) < 4:
        problems.append(_("Use more than a few different characters."))
    return problems
