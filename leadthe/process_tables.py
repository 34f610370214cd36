"""Small tables that every page reads and that change rarely (policy versions, course outlines), kept in
each process instead of queried per page.

A table is kept per app (``current_app.extensions``), so two apps in one process (tests) never share
rows. An entry is reloaded after ``seconds``, and at once when this process writes one of the table's
models through the ORM (a flush or a bulk UPDATE/INSERT/DELETE). Another process's write shows within
``seconds``: the price of not asking the database on every page.
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
MAX_ENTRIES = 5000  # a bound, not a working size: a table holds a handful of keys (or one per course)
_tables: list["ProcessTable"] = []


class ProcessTable:
    def __init__(self, name: str, models: tuple[type, ...], seconds: float = 30.0):
        self.name, self.models, self.seconds = name, models, seconds
        self.generation = 0  # bumped by a write in this process: every entry is stale
        _tables.append(self)

    def invalidate(self) -> None:
        self.generation += 1

    def get(self, key, load: Callable[[], T]) -> T:
        store = current_app.extensions.setdefault(f"leadthe.table.{self.name}", {})
        now = time.monotonic()
        entry = store.get(key)
        if entry is not None and entry[1] == self.generation and now - entry[0] <= self.seconds:
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


def _invalidate_for(classes) -> None:
    for table in _tables:
        if any(issubclass(cls, table.models) for cls in classes):
            table.invalidate()


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    _invalidate_for({type(obj) for obj in (*session.new, *session.dirty, *session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _bulk_written(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        _invalidate_for({state.bind_mapper.class_})
