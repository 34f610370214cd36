"""Alembic environment for Flask-Migrate."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    return target_db.engine


config.set_main_option("sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%"))


def render_item(type_, obj, autogen_context):
    """Write our UTCDateTime as the plain DateTime(timezone=True) it stores, so migrations import nothing of ours."""
    from leadthe.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Full-text search objects made by hand in migrations (0003): FTS5 virtual tables with their shadow tables on
# SQLite, generated tsvector columns and their GIN indexes on PostgreSQL. They are not in the models'
# metadata, so autogenerate must neither reflect nor compare them.
SEARCH_OBJECTS = ("course_fts", "lesson_fts")
SEARCH_COLUMNS = ("search_vector",)


def include_name(name, type_, parent_names):
    if type_ == "table" and name and name.startswith(SEARCH_OBJECTS):
        return False
    if type_ == "column" and name in SEARCH_COLUMNS:
        return False
    if type_ == "index" and name and name.endswith("_search_vector"):
        return False
    return True


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata,
                      literal_binds=True, render_item=render_item, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_name", include_name)

    with get_engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables; with foreign keys on, dropping the old copy would cascade.
            # The pragma only takes effect outside a transaction.
            # Run on the driver connection so SQLAlchemy does not open a transaction around it.
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
            # Our engine emits BEGIN itself (see leadthe.database), so DDL is transactional on SQLite too.
            conf_args.setdefault("transactional_ddl", True)
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if problems:
                raise RuntimeError(f"foreign key violations after migration: {problems[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
