"""Encryption at rest for the columns the personal-data registry marks ``sensitive=True``.

Values are Fernet tokens (AES-128-CBC + HMAC-SHA-256, with a timestamp) made with the newest key of
``app.config["LEADTHE_DATA_KEYS"]`` (from ``LEADTHE_DATA_KEY``, comma-separated, newest first). Reading
tries every configured key, so a rotation is: put the new key first, keep the old one after it, run
``leadthe rotate-data-key``, then drop the old key.
"""
from __future__ import annotations

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

_cache: dict[tuple[str, ...], MultiFernet] = {}


class DataKeyError(RuntimeError):
    """No data key is configured, or none of them opens a stored value."""


def data_keys() -> tuple[str, ...]:
    keys = tuple(current_app.config.get("LEADTHE_DATA_KEYS") or ())
    if not keys:
        raise DataKeyError("no data key configured (LEADTHE_DATA_KEY)")
    return keys


def fernet(keys: tuple[str, ...] | None = None) -> MultiFernet:
    keys = keys or data_keys()
    found = _cache.get(keys)
    if found is None:
        found = _cache[keys] = MultiFernet([Fernet(k.encode()) for k in keys])
    return found


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DataKeyError("a stored value cannot be decrypted with any configured data key") from exc


def rotate(token: str) -> str:
    """The same value encrypted with the newest key (MultiFernet.rotate keeps the original timestamp)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DataKeyError("a stored value cannot be decrypted with any configured data key") from exc


class EncryptedString(sa.types.TypeDecorator):
    """A string stored as a Fernet token; the application only ever sees the clear value.

    The column's length is the token's: a Fernet token is about 4/3 * (57 + 16-byte-padded value) long,
    so ``EncryptedString(255)`` holds values of up to about 120 characters.
    """

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)
