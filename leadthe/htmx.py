"""One place that decides between a whole page and an htmx fragment.

A fragment is sent only when ``HX-Request`` is set and the request is neither boosted nor a history
restore (both of which need the whole page). Fragments are blocks of the page's own template,
rendered with jinja2-fragments; the block name is the target id with underscores.
"""
from __future__ import annotations

from flask import Response, redirect, render_template, request
from jinja2_fragments.flask import render_block

from leadthe.database import refuse_request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, **context):
    if block and wants_fragment():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def render_form(template: str, form, block: str | None = None, invalid: bool = False, **context):
    """Render a page with a form; an invalid submission (field errors, or ``invalid`` for a refusal
    such as wrong credentials) answers 422, or 200 for htmx (which swaps only 2xx); either way the request
    is refused, so what it flushed is rolled back (``leadthe.database.one_transaction_per_request``)."""
    status = 200
    if request.method == "POST" and (form.errors or invalid):
        refuse_request()
        status = 200 if is_htmx() else 422
    return render(template, block=block, status=status, form=form, **context)


def see_other(url: str) -> Response:
    """After a successful POST: a 303 redirect, or for htmx a full-page navigation via HX-Redirect."""
    if is_htmx():
        return Response("", status=200, headers={"HX-Redirect": url})
    return redirect(url, code=303)
