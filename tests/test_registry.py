"""The personal-data registry covers every column, and its completeness check is not vacuous."""
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.privacy.registry import BY_TABLE, CATEGORIES, LEGAL_BASES, MATCHES, RETENTION_RULES, SOURCES
from leadthe.privacy.retention import RULES


def undeclared(metadata: sa.MetaData) -> list[str]:
    """Every table.column in the metadata that the registry does not declare."""
    missing = []
    for table in metadata.sorted_tables:
        source = BY_TABLE.get(table.name)
        for column in table.columns:
            if source is None or column.name not in source.columns:
                missing.append(f"{table.name}.{column.name}")
    return missing


def test_every_column_is_declared(app):
    assert undeclared(db.metadata) == []


def test_no_declaration_for_a_column_that_does_not_exist(app):
    tables = {t.name: t for t in db.metadata.sorted_tables}
    for source in SOURCES:
        if source.table == "alembic_version":
            continue
        assert source.table in tables, f"registry names unknown table {source.table}"
        for name in source.columns:
            assert name in tables[source.table].c, f"registry names unknown column {source.table}.{name}"
        for col in source.subject:
            assert col in tables[source.table].c
        for spec, how in source.matched_by.items():
            assert how in MATCHES and spec.partition(".")[0] in tables[source.table].c, (source.table, spec)


def test_the_completeness_check_catches_an_undeclared_model():
    """Plant a new model that collects something, and show the check reports it."""
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Planted(DeclarativeBase):
        metadata = sa.MetaData()

    class SecretHobby(Planted):
        __tablename__ = "secret_hobby"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int]
        hobby: Mapped[str]

    assert undeclared(Planted.metadata) == ["secret_hobby.id", "secret_hobby.user_id", "secret_hobby.hobby"]

    # and a column added to a declared table is caught as well
    extra = sa.MetaData()
    sa.Table("user_account", extra, *[sa.Column(c, sa.Integer) for c in BY_TABLE["user_account"].columns],
             sa.Column("shoe_size", sa.Integer))
    assert undeclared(extra) == ["user_account.shoe_size"]


def test_declarations_are_complete_and_consistent():
    for source in SOURCES:
        assert source.retention in RETENTION_RULES
        if source.subject:
            assert source.category in CATEGORIES and source.basis in LEGAL_BASES, source.table
            assert source.erasure in ("delete", "pseudonymise")
            for name, col in source.columns.items():
                assert col.purpose, f"{source.table}.{name} has no purpose"
                assert col.erase in ("delete", "anonymise", "keep")
                if not col.export:
                    assert col.reason, f"{source.table}.{name} is not exported without a reason"
                if source.erasure == "pseudonymise" and col.erase == "keep" and name not in ("id",):
                    assert col.reason or col.purpose
        else:
            assert source.erasure == "none" and source.why_not_personal


def test_every_retention_rule_is_implemented():
    used = {s.retention for s in SOURCES}
    assert used <= set(RULES) | {"unverified_30d"}
    assert set(RETENTION_RULES) <= set(RULES)
