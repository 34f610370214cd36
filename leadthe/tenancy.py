"""Tenancy: every query for company-owned rows is limited to the current user's company.

Two layers, so that a forgotten filter cannot leak another company's rows:

* ``scoped(Model)`` / ``get_or_404(Model, id)`` are what services call; they add ``org_id = current``.
  ``scoped_get(Model, id)`` replaces ``session.get`` for company-owned rows (see there).
* A session hook adds the same criterion to *every* ORM SELECT of a ``TenantScoped`` model (relationship
  loads included) while a tenant is active, so even a hand-written ``select(Team)`` is scoped; ORM bulk
  ``update()`` and ``delete()`` are limited to the company's own rows the same way.
* ``unscoped(statement, reason=...)`` is the one way around the hook, and says why.
* ``get_or_404`` answering 404 for an id that exists in another company says so (``signals.cross_company_miss``,
  checked on the miss path only): a burst of them from one account is a sign of probing (``leadthe.alerts``).

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

from leadthe.extensions import db
from leadthe.models.base import TenantScoped
from leadthe.query_args import as_id, id_or_404
from leadthe.signals import cross_company_miss

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
    object_id = id_or_404(object_id)
    obj = db.session.scalar(scoped(model, org_id).where(model.id == object_id))
    if obj is None:
        _report_cross_company_miss(model, object_id, org_id if org_id is not None else current_org_id())
        abort(404)
    return obj


def _report_cross_company_miss(model, object_id: int, org_id: int | None) -> None:
    """On the miss path only (a 404 is being answered): when the row exists in another company, say so
    (``signals.cross_company_miss``; leadthe.alerts records it and watches for bursts). One indexed lookup by
    primary key, never on the way of a page that found its row."""
    owner = db.session.scalar(unscoped(sa.select(model.org_id).where(model.id == object_id),
                                       reason="a 404 is being answered: whether the id is another company's row "
                                              "(a sign of probing), never to show it"))
    if owner is not None and owner != org_id:
        cross_company_miss.send(model.__tablename__, object_id=object_id, owner_org_id=owner)


def scoped_get(model, object_id):
    """The row with this id if the current tenant may see it (any company's when no tenant is active:
    anonymous visitors, staff, the worker), else None. Use it instead of ``session.get`` for company-owned
    rows: that answers from the identity map without SQL, so the tenant hook never sees the lookup."""
    object_id = as_id(object_id)
    return None if object_id is None else db.session.scalar(sa.select(model).where(model.id == object_id))


def unscoped(statement, *, reason: str):
    """``statement`` run without the tenant criterion, for a stated reason (platform-wide reads by staff,
    anonymous visitors, the worker and the CLI, or a statement that filters the company itself).
    ``reason`` is for the reader; it must say why going around the boundary is right here."""
    if not reason or not reason.strip():
        raise ValueError("unscoped() needs a reason")
    return statement.execution_options(all_tenants=True)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    """Reads see the company's rows (and platform-wide shared rows); bulk UPDATE and DELETE touch only the
    company's own rows, never another company's nor platform-wide ones."""
    org_id = _current_org.get()
    if org_id is None or state.execution_options.get("all_tenants"):
        return
    if state.is_select:
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: tenant_clause(cls, org_id), include_aliases=True))
    elif state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.org_id == org_id, include_aliases=True))


def tenant_clause(model, org_id):
    """Rows of ``model`` the company ``org_id`` may see: its own, plus platform-wide rows (org_id NULL)
    for models that declare ``__tenant_shared__`` (courses: a platform course is everyone's)."""
    if getattr(model, "__tenant_shared__", False):
        return sa.or_(model.org_id.is_(None), model.org_id == org_id)
    return model.org_id == org_id
