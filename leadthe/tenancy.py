"""Tenancy: every query for company-owned rows is limited to the current user's company.

Two layers, so that a forgotten filter cannot leak another company's rows:

* ``scoped(Model)`` / ``get_or_404(Model, id)`` are what services call; they add ``org_id = current``.
* A session hook adds the same criterion to *every* ORM SELECT of an ``TenantScoped`` model (relationship
  loads included) while a tenant is active, so even a hand-written ``select(Team)`` is scoped.

The tenant is set per request from the signed-in user (see ``activate_tenant``). CLI commands, the
worker and platform staff run with no tenant and must filter explicitly.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import abort
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from leadthe.models.base import TenantScoped

_current_org: ContextVar[int | None] = ContextVar("leadthe_current_org", default=None)


class NoTenant(RuntimeError):
    """A scoped query was asked for with no company in context."""


def current_org_id() -> int | None:
    return _current_org.get()


def activate_tenant(org_id: int | None):
    """Make ``org_id`` the tenant for this context; returns a token for ``deactivate_tenant``."""
    return _current_org.set(org_id)


def deactivate_tenant(token) -> None:
    _current_org.reset(token)


@contextmanager
def tenant(org_id: int | None):
    token = activate_tenant(org_id)
    try:
        yield
    finally:
        deactivate_tenant(token)


def scoped(model, org_id: int | None = None) -> sa.Select:
    """SELECT of ``model`` rows belonging to ``org_id`` (default: the current tenant)."""
    if not issubclass(model, TenantScoped):
        raise TypeError(f"{model.__name__} is not company-owned")
    org_id = org_id if org_id is not None else current_org_id()
    if org_id is None:
        raise NoTenant(f"no company in context for {model.__name__}")
    return sa.select(model).where(model.org_id == org_id)


def get_or_404(model, object_id, org_id: int | None = None):
    """The row with this id in the current company, or 404 (also when it exists in another company)."""
    from leadthe.extensions import db

    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    obj = db.session.scalar(scoped(model, org_id).where(model.id == object_id))
    if obj is None:
        abort(404)
    return obj


def prebuilt(statement):
    """Mark a statement that is built once and run on every request (module level, ``functools.cache``):
    its tenant-scoped form is then kept per company instead of being rebuilt, with its cache key, on every
    execution. Never for statements built per call: each would stay in memory."""
    return statement.execution_options(leadthe_prebuilt=True)


_scoped_prebuilt: dict[tuple[int, int], tuple] = {}
_MAX_SCOPED = 20_000  # prebuilt statements x companies active in this process


def _with_tenant(statement, org_id: int):
    return statement.options(
        with_loader_criteria(TenantScoped, lambda cls: tenant_clause(cls, org_id), include_aliases=True))


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    org_id = _current_org.get()
    if org_id is None or not state.is_select or state.execution_options.get("all_tenants"):
        return
    statement = state.statement
    if not state.execution_options.get("leadthe_prebuilt"):
        state.statement = _with_tenant(statement, org_id)
        return
    key = (id(statement), org_id)
    entry = _scoped_prebuilt.get(key)
    if entry is None or entry[0] is not statement:
        if len(_scoped_prebuilt) >= _MAX_SCOPED:
            _scoped_prebuilt.clear()
        # the original is kept in the entry, so its id cannot be reused by another statement meanwhile
        entry = _scoped_prebuilt[key] = (statement, _with_tenant(statement, org_id))
    state.statement = entry[1]


def tenant_clause(model, org_id):
    """Rows of ``model`` the company ``org_id`` may see: its own, plus platform-wide rows (org_id NULL)
    for models that declare ``__tenant_shared__`` (courses: a platform course is everyone's)."""
    if getattr(model, "__tenant_shared__", False):
        return sa.or_(model.org_id.is_(None), model.org_id == org_id)
    return model.org_id == org_id
