"""What users and groups have in common: ``meta`` and the list answer."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import url_for
from scim2_models import Context, ListResponse, Meta

from leadthe.extensions import db
from leadthe.scim import wire
from leadthe.scim.errors import scim_response


def aware(when: datetime | None) -> datetime:
    when = when or datetime.now(timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def location(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def meta(resource_type: str, created: datetime | None, url: str) -> Meta:
    # rows keep when they were made, not when they last changed: both are the creation time
    return Meta(resource_type=resource_type, created=aware(created), last_modified=aware(created), location=url)


def dump(resource) -> dict:
    return resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def resource_response(resource, status: int = 200) -> object:
    return scim_response(dump(resource), status, headers={"Location": resource.meta.location})


def list_response(model, stmt: sa.Select, to_resource, filters: dict, order_by) -> object:
    """A page of ``stmt``'s rows (narrowed by the ``filter`` parameter) as a ListResponse."""
    clause = wire.filter_clause(filters)
    if clause is not None:
        stmt = stmt.where(clause)
    start, count = wire.page()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.scalars(stmt.order_by(order_by).offset(start - 1).limit(count))) if count else []
    answer = ListResponse[model](total_results=total, start_index=start, items_per_page=len(rows),
                                 resources=[to_resource(row) for row in rows])
    return scim_response(answer.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
