"""What is read from the query string (``?page=``, ``?team=``, ``?to=``, ``?q=``). Whatever is typed in the address
bar, a page number is clamped and an id no row can have is ignored: never an integer overflow in the
database (a 500)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request

MAX_PAGE = 100_000  # far past any real list; the offset it gives stays far inside a 64-bit integer
MAX_ID = 2**31 - 1  # ids are INTEGER columns


def page_arg(name: str = "page") -> int:
    """The 1-based page asked for: 1 when missing, not a number or below 1; at most ``MAX_PAGE``."""
    value = request.args.get(name, type=int)
    return 1 if value is None or value < 1 else min(value, MAX_PAGE)


def search_arg(name: str = "q", limit: int = 100) -> str:
    """A search box's text: spaces collapsed and trimmed, at most ``limit`` characters."""
    return " ".join(request.args.get(name, "").split())[:limit]


def name_contains(column, text: str):
    """SQL: ``column`` contains ``text`` in any case, ``%`` and ``_`` taken literally (the staff lists' name search)."""
    return sa.func.lower(column).contains(text.lower(), autoescape=True)


def int_arg(name: str) -> int | None:
    """A positive id from the query string, or None when missing, not a number or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_ID else None


def as_id(value) -> int | None:
    """An id from the address or a form as a number, or None when it is not one a row can have."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


def id_or_404(value) -> int:
    """An id from the address or a form as a number; anything else is a 404, like a missing row."""
    number = as_id(value)
    if number is None:
        abort(404)
    return number
