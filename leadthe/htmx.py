"""One place that decides between a whole page and an htmx fragment.

A fragment is sent only when ``HX-Request`` is set and the request is neither boosted nor a history
restore (both of which need the whole page). Fragments are blocks of the page's own template,
rendered with jinja2-fragments; the block name is the target id with underscores.
"""
from __future__ import annotations

import re

from flask import Response, get_template_attribute, redirect, render_template, request
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
    if block and wants_fragment() and form.errors:
        # the whole page shows the error summary at the top of <main> (base.html); a fragment carries it
        # inside the form it replaces, so the next answer replaces it too
        return _with_error_summary(render_block(template, block, form=form, **context), form), status
    return render(template, block=block, status=status, form=form, **context)


_FORM_TAG = re.compile(r"<form\b[^>]*>")


def _with_error_summary(html: str, form) -> str:
    summary = get_template_attribute("_forms.html", "error_summary")(form)
    match = _FORM_TAG.search(html)
    if not match:
        return html
    return html[:match.end()] + str(summary) + html[match.end():]


def see_other(url: str) -> Response:
    """After a successful POST: a 303 redirect, or for htmx a full-page navigation via HX-Redirect."""
    if is_htmx():
        return Response("", status=200, headers={"HX-Redirect": url})
    return redirect(url, code=303)
