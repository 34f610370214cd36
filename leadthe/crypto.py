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


def rotate_all(batch_size: int = 500, progress=None) -> dict[str, int]:
    """Re-encrypt every value of every column the registry marks sensitive with the newest key.

    Walks each table in primary-key order, ``batch_size`` rows per transaction, so a large table never
    holds a long lock, and an interrupted run can simply be started again. Returns counts per column.
    """
    from leadthe.extensions import db
    from leadthe.privacy.registry import sensitive_columns

    counts: dict[str, int] = {}
    for table_name, column_name in sensitive_columns():
        table = db.metadata.tables[table_name]
        (pk,) = table.primary_key.columns
        raw = sa.type_coerce(table.c[column_name], sa.String)  # the stored token, not decrypted
        done, last = 0, None
        while True:
            stmt = sa.select(pk, raw).where(table.c[column_name].is_not(None)).order_by(pk).limit(batch_size)
            if last is not None:
                stmt = stmt.where(pk > last)
            rows = db.session.execute(stmt).all()
            if not rows:
                break
            for row_id, token in rows:
                db.session.execute(
                    sa.update(table).where(pk == row_id).values({column_name: sa.literal(rotate(token), sa.String)})
                )
            db.session.commit()
            done += len(rows)
            last = rows[-1][0]
            if progress:
                progress(f"{table_name}.{column_name}", done)
        counts[f"{table_name}.{column_name}"] = done
    return counts
