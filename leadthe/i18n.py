"""Translations: the German catalogue lives in leadthe/translations/de/LC_MESSAGES/messages.po.

The compiled .mo file is built from it (not kept in git): `make run` / `make test` call
``compile_translations`` through `flask --app app leadthe compile-translations`, and the app compiles
on start when the .mo is missing or older than the .po.
"""
from __future__ import annotations

import os
from decimal import Decimal
import tempfile
from pathlib import Path

from babel import dates as babel_dates
from babel.dates import get_day_names
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import get_locale

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_translations() -> list[str]:
    done = []
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        # a file of its own, renamed into place: processes that start together (the test shards of a fresh
        # clone, gunicorn's workers) each compile and replace atomically, never one another's half-written file
        with tempfile.NamedTemporaryFile("wb", dir=mo_path.parent, prefix="messages.", suffix=".mo.tmp",
                                         delete=False) as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        os.replace(fh.name, mo_path)
        done.append(po_path.parent.parent.name)
    return done


def format_locale() -> str:
    """The locale whose formats dates and numbers use: British English for English, else the interface language."""
    language = str(get_locale() or "en")
    return "en_GB" if language == "en" else language


def format_day(value) -> str:
    """A date (or the date of a datetime) in the one date format of the interface: "6 Dec 2026", "06.12.2026"."""
    if value is None:
        return ""
    return babel_dates.format_date(value, "medium", locale=format_locale())


def format_when(value) -> str:
    """A moment, as stored (UTC), in the one date-and-time format: "6 Dec 2026, 14:05", "06.12.2026, 14:05"."""
    if value is None:
        return ""
    locale = format_locale()
    return f"{babel_dates.format_date(value, 'medium', locale=locale)}, {babel_dates.format_time(value, 'HH:mm', locale=locale)}"


def format_short_day(value) -> str:
    """Day and month for chart labels: "6 Dec", "6. Dez."."""
    if value is None:
        return ""
    return babel_dates.format_skeleton("dMMM", value, locale=format_locale())


def format_weekday(value, width: str = "wide") -> str:
    """The weekday's name (``width`` "wide" or "abbreviated"), for chart labels."""
    if value is None:
        return ""
    return get_day_names(width, locale=format_locale())[value.weekday()]


def format_percent(value) -> str:
    """A share given in percent (0-100, decimals kept): "67%", "66,7 %"."""
    if value is None:
        return ""
    return babel_format_percent(value / 100, locale=format_locale(), decimal_quantization=False)


def format_money(cents: int | None, currency: str = "EUR") -> str:
    """An amount given in cents, in the interface's language: "€1,234.50", "1.234,50 €"."""
    return format_currency(Decimal(int(cents or 0)) / 100, (currency or "EUR").upper(), locale=format_locale())


def format_count(value) -> str:
    """A whole number with the language's grouping: "10,000", "10.000"."""
    return format_decimal(value or 0, locale=format_locale())


def legacy_ldate(value, fmt: str = "") -> str:
    """The old ``ldate("%d %B %Y")`` filter, now one of the two formats: with a time when ``fmt`` has one."""
    return format_when(value) if "%H" in fmt else format_day(value)
