"""``leadthe rotate-data-key``: re-encrypt the registry's sensitive columns with the newest data key.

Apart from ``leadthe.crypto``, which the models import for ``EncryptedString``: this walks the models.
"""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.crypto import rotate
from leadthe.extensions import db
from leadthe.privacy.registry import sensitive_columns


def rotate_all(batch_size: int = 500, progress=None) -> dict[str, int]:
    """Re-encrypt every value of every column the registry marks sensitive with the newest key.

    Walks each table in primary-key order, ``batch_size`` rows per transaction, so a large table never
    holds a long lock, and an interrupted run can simply be started again. Returns counts per column.
    """
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
