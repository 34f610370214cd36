"""The confirmation step of a destructive action.

A destructive form posts ``confirmed=yes`` only after the person confirmed: with JavaScript in a native
``<dialog>`` (static/js/app.js adds the field), without it on the page this module renders, which posts the
same form again with the field. A post without it changes nothing: it answers the confirmation page.
"""
from __future__ import annotations

from flask import request

from leadthe.htmx import render

FIELD = "confirmed"
SECRET_FIELDS = {"csrf_token", FIELD, "password", "code", "current_password"}


def confirmed() -> bool:
    return request.form.get(FIELD) == "yes"


def confirmation_page(*, title: str, message: str, button: str, cancel_url: str):
    """The no-JavaScript confirmation: what happens, a red button that posts the same form with ``confirmed=yes``,
    and a way back. Secrets are never copied into the page (destructive forms that need them ask on their own page)."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in SECRET_FIELDS]
    return render("confirm.html", title=title, message=message, button=button, cancel_url=cancel_url,
                  action=request.path, fields=fields)
