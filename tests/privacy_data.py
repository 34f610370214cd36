"""Build a person with data in every table the registry declares (test helper)."""
from __future__ import annotations

import itertools
import re
import uuid
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Team, User, utcnow
from leadthe.privacy.registry import BY_TABLE, personal_sources

_counter = itertools.count(1)

# a tiny valid JPEG for the photo column
PHOTO = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720"
    "222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f000001050101010101010000000000000000010203"
    "0405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433"
    "627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9faffda0008010100003f00fbfcffd9"
)


def marker(tag: str) -> str:
    return f"m{next(_counter)}{uuid.uuid4().hex[:10]}{tag}"


class Markers(list):
    """The unique values planted for one person, with where each went: (table, column, value)."""

    def values(self) -> list[str]:
        return [m for _t, _c, m in self]

    def erasable(self) -> list[str]:
        """Values erasure must remove (columns declared "keep" hold record facts such as an event's action)."""
        return [m for t, c, m in self if BY_TABLE[t].columns[c].erase != "keep"]

    def exported(self) -> list[str]:
        return [m for t, c, m in self if BY_TABLE[t].columns[c].export]


def _value_for(column, table_name, user, markers):
    found: list[str] = []
    value = _generate(column, table_name, found)
    markers.extend((table_name, column.name, m) for m in found)
    return value


def _generate(column, table_name, markers):
    t = column.type
    if isinstance(t, sa.types.TypeDecorator):
        t = t.impl
    name = column.name
    if isinstance(t, sa.LargeBinary):
        return PHOTO
    if isinstance(t, sa.JSON):
        m = marker("j")
        markers.append(m)
        return {"note": m}
    if isinstance(t, (sa.String, sa.Text)):
        length = getattr(t, "length", None) or 200
        if length < 12:
            return "ZZ"[:length]  # too short to hold a unique marker (e.g. a country code): not tracked
        m = marker(name[:3])[:length]
        if name in ("email", "to_addr", "pending_email"):
            m = f"{m}@example.com"
        markers.append(m)
        return m
    if isinstance(t, sa.Boolean):
        return True
    if isinstance(t, sa.DateTime):
        return utcnow() - timedelta(minutes=next(_counter))
    if isinstance(t, sa.Date):
        return (utcnow() - timedelta(days=next(_counter))).date()
    if isinstance(t, sa.Float):
        return float(next(_counter))
    if isinstance(t, (sa.Integer, sa.BigInteger)):
        return next(_counter)
    raise AssertionError(f"no generator for {table_name}.{name} ({t!r})")


def _parent_row(table, user) -> int:
    """A row in a referenced table (not the person's own data), for NOT NULL foreign keys."""
    row = {}
    for col in table.columns:
        if col.primary_key and isinstance(col.type, sa.Integer):
            continue
        if col.name == "org_id":
            row[col.name] = user.org_id
        elif col.foreign_keys and col.nullable:
            row[col.name] = None
        elif col.foreign_keys:
            row[col.name] = _parent_row(next(iter(col.foreign_keys)).column.table, user)
        elif allowed := _allowed_values(table, col):
            row[col.name] = allowed[-1]
        else:
            row[col.name] = _generate(col, table.name, [])
    return db.session.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()


def _allowed_values(table, column) -> list[str]:
    """The values a CHECK constraint allows in the column (roles, states, kinds), else []."""
    for check in table.constraints:
        if isinstance(check, sa.CheckConstraint) and str(check.sqltext).startswith(f"{column.name} IN ("):
            return re.findall(r"'(\w+)'", str(check.sqltext))
    return []


def populate_everything(app, user_id: int) -> Markers:
    """Give the person a row with unique values in every personal source; returns those values."""
    markers = Markers()
    with app.app_context():
        user = db.session.get(User, user_id)
        team = Team(org_id=user.org_id, name=f"team-{uuid.uuid4().hex[:8]}")
        db.session.add(team)
        db.session.flush()
        for source in personal_sources():
            table = db.metadata.tables[source.table]
            if source.table == "user_account":
                values = {}
                for col in table.columns:
                    # totp_enabled_at stays empty: with two-step verification on, logging in would need a code
                    if col.name in ("id", "org_id", "role", "status", "locale", "password_hash", "totp_enabled_at"):
                        continue
                    values[col.name] = _value_for(col, source.table, user, markers)
                values["status"] = "active"
                db.session.execute(sa.update(table).where(table.c.id == user.id).values(values))
                continue
            fixed = {"privacy_request": {"kind": "question", "status": "completed"},
                     "data_export": {"status": "expired"}}.get(source.table, {})
            row = dict(fixed)
            for col in table.columns:
                if col.name in fixed:
                    continue
                if col.primary_key and col.name not in source.subject and col.autoincrement is not False and isinstance(col.type, sa.Integer):
                    continue
                if col.name in source.subject:
                    row[col.name] = user.id
                elif col.name == "org_id":
                    row[col.name] = user.org_id
                elif col.name == "team_id":
                    row[col.name] = team.id
                elif col.foreign_keys and col.nullable:
                    row[col.name] = None
                elif col.foreign_keys:
                    row[col.name] = _parent_row(next(iter(col.foreign_keys)).column.table, user)
                elif allowed := _allowed_values(table, col):
                    row[col.name] = allowed[-1]  # a state or role, not personal data: the last (a final state)
                else:
                    row[col.name] = _value_for(col, source.table, user, markers)
            db.session.execute(sa.insert(table).values(row))
        db.session.commit()
    return markers


def all_text_in_database(app) -> str:
    """Every value of every row of every table, as one string."""
    parts = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def declared_tables() -> set[str]:
    return set(BY_TABLE)
