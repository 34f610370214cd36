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
import re
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


# Accounts made by single sign-on or SCIM have no password: their ``password_hash`` is a marker that no
# password matches ("!sso", "!scim"; a bcrypt hash starts with "$2"). The person may set one by "forgot
# password", unless their company requires single sign-on.
UNUSABLE_SSO = "!sso"
UNUSABLE_SCIM = "!scim"


def is_usable(password_hash: str | None) -> bool:
    return bool(password_hash) and password_hash.startswith("$2")


def check_password(password: str, password_hash: str | None) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    if not is_usable(password_hash):
        burn_equal_time(password)  # as long as a real check: the answer does not tell such accounts apart
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
COMMON_LONG_PASSWORDS_FILE = Path(__file__).with_name("common_long_passwords.txt")
# zxcvbn's matching grows with the length of its input (and 4.5 refuses more than 72 characters); the
# first 64 characters decide. A password that is weak in its first 64 characters is refused even if more
# follows, which only errs on the safe side.
STRENGTH_CHECKED_CHARS = 64
MIN_STRENGTH = 3  # zxcvbn scores 0-4; 3 = an estimated 10^8 guesses or more (moderate protection even offline, behind bcrypt)


def _read_list(path: Path) -> frozenset[str]:
    with path.open(encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (see the header of common_passwords.txt for the source), and the
    common ones long enough to pass the length rule (common_long_passwords.txt)."""
    return _read_list(COMMON_PASSWORDS_FILE) | _read_list(COMMON_LONG_PASSWORDS_FILE)


def is_common_password(password: str) -> bool:
    """Also catches the list's entries with spaces or capitals added ("Qwerty 123456")."""
    folded = password.lower()
    return folded in common_passwords() or "".join(folded.split()) in common_passwords()


def _personal_words(values) -> list[str]:
    """The person's name, e-mail address and company, whole and word by word, for the strength estimator."""
    words = []
    for value in values:
        value = (value or "").strip().lower()[:STRENGTH_CHECKED_CHARS]
        if value:
            words.append(value)
            words.extend(part for part in re.split(r"[\W_]+", value) if len(part) >= 3)
    return words


def personal_inputs(user) -> list[str]:
    """What a password must not be built from: the person's name and their company's name."""
    org = user.organization if user.org_id is not None else None
    return [user.name or "", org.name if org is not None else ""]


def is_easy_to_guess(password: str, user_inputs=()) -> bool:
    """zxcvbn's estimate is below MIN_STRENGTH: keyboard walks, dates, repeats, dictionary words with
    predictable changes, or the person's own name, address or company."""
    from zxcvbn import zxcvbn  # lazy: its frequency lists take about 12 MB, only password forms need them

    return zxcvbn(password[:STRENGTH_CHECKED_CHARS], user_inputs=_personal_words(user_inputs))["score"] < MIN_STRENGTH


def password_problems(password: str, email: str = "", user_inputs=()) -> list[str]:
    """Why a new password is refused, in words for the form; empty when it is acceptable.

    ``user_inputs``: the person's name, company name and the like, which make a password easy to guess."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(num)s characters.", num=MIN_LENGTH))
    elif is_common_password(password):
        problems.append(_("This is one of the most commonly used passwords, which attackers try first. Choose another one, "
                          "for example a few unrelated words."))
    elif is_easy_to_guess(password, [email, *user_inputs]):
        problems.append(_("This password is easy to guess: it follows a common pattern (words with digits or symbols added, "
                          "keyboard rows, years, repeats) or uses your name, e-mail address or company. Choose another one, "
                          "for example a few unrelated words."))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(num)s characters.", num=MAX_LENGTH))
    local = email.split("@")[0].lower() if email else ""
    if len(local) >= 3 and local in password.lower():
        problems.append(_("Don't use your e-mail address in your password."))
    if password and len(set(password)) < 4:
        problems.append(_("Use more than a few different characters."))
    return problems
