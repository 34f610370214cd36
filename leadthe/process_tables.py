"""Small tables that every page reads and that change rarely (policy versions, course outlines), kept in
each process instead of queried per page.

A table is kept per app (``current_app.extensions``), so two apps in one process (tests) never share
rows. An entry is reloaded after ``seconds``, and at once when a session of this process *commits* a
write to one of the table's models through the ORM (a flush or a bulk UPDATE/INSERT/DELETE):

- the changed classes are collected in ``session.info`` at flush time and the tables are invalidated in
  ``after_commit``; a rollback discards them. So a load made by another request between a flush and its
  commit cannot keep the old row under the new generation, and a rolled-back write is never served;
- a session that has flushed uncommitted changes to a table's models reads around the table (its own
  writes are visible to it, and never stored for others).

Another process's write shows within ``seconds``: the price of not asking the database on every page.
"""
from __future__ import annotations

import itertools
import time
from typing import Callable, TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from leadthe.extensions import db

T = TypeVar("T")
MAX_ENTRIES = 5000  # a bound, not a working size: a table holds a handful of keys (or one per course)
_tables: list["ProcessTable"] = []
_PENDING = "leadthe.process_tables.pending"  # session.info key: classes written in the open transaction


class ProcessTable:
    def __init__(self, name: str, models: tuple[type, ...], seconds: float = 30.0):
        self.name, self.models, self.seconds = name, models, seconds
        self._generations = itertools.count(1)  # next() is atomic under the GIL: safe across threads
        self.generation = 0  # bumped by a committed write in this process: every entry is stale
        _tables.append(self)

    def invalidate(self) -> None:
        self.generation = next(self._generations)

    def covers(self, classes) -> bool:
        return any(issubclass(cls, self.models) for cls in classes)

    def get(self, key, load: Callable[[], T]) -> T:
        pending = db.session.info.get(_PENDING) if db.session.registry.has() else None
        if pending and self.covers(pending):
            return load()  # this transaction changed the table: read its own writes, keep nothing
        store = current_app.extensions.setdefault(f"leadthe.table.{self.name}", {})
        now = time.monotonic()
        entry = store.get(key)
        if entry is not None and entry[1] == self.generation and 0 <= now - entry[0] <= self.seconds:
            return entry[2]
        generation = self.generation  # taken before loading: a write meanwhile makes this entry stale
        value = load()
        if len(store) >= MAX_ENTRIES:
            store.clear()
        store[key] = (now, generation, value)
        return value


def invalidate_all() -> None:
    """Every table, every key (tests that empty the database with plain DELETEs call this)."""
    for table in _tables:
        table.invalidate()


def _note_written(session: Session, classes) -> None:
    if any(table.covers(classes) for table in _tables):
        session.info.setdefault(_PENDING, set()).update(classes)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    _note_written(session, {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _bulk_written(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        _note_written(state.session, {state.bind_mapper.class_})


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    classes = session.info.pop(_PENDING, None)
    if classes:
        for table in _tables:
            if table.covers(classes):
                table.invalidate()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop(_PENDING, None)  # nothing was written: nothing to invalidate
