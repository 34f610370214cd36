"""Translations: the German catalogue lives in leadthe/translations/de/LC_MESSAGES/messages.po.

The compiled .mo file is built from it (not kept in git): `make run` / `make test` call
``compile_translations`` through `flask --app app leadthe compile-translations`, and the app compiles
on start when the .mo is missing or older than the .po.
"""
from __future__ import annotations

import functools
from pathlib import Path

from babel.dates import get_day_names, get_month_names
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
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(mo_path)
        done.append(po_path.parent.parent.name)
    return done


def localized_strftime(value, fmt: str) -> str:
    """``value.strftime(fmt)`` with month and weekday names (%B %b %A %a) in the interface language.

    English output is the same as plain strftime; in German "05 Dezember 2026", "Mo" and so on.
    """
    if value is None:
        return ""

    months, short_months, days, short_days = _calendar_names(str(get_locale() or "en"))
    names = {"%B": months[value.month], "%b": short_months[value.month],
             "%A": days[value.weekday()], "%a": short_days[value.weekday()]}
    out, i = [], 0
    while i < len(fmt):
        piece = fmt[i:i + 2]
        if piece in names:
            out.append(names[piece].replace("%", "%%"))
            i += 2
        elif piece == "%%":
            out.append("%%")
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return value.strftime("".join(out))


@functools.lru_cache(maxsize=16)
def _calendar_names(locale: str) -> tuple[dict, dict, dict, dict]:
    """Month and day names of a language, looked up in babel's data once per process."""
    return (dict(get_month_names("wide", locale=locale)), dict(get_month_names("abbreviated", locale=locale)),
            dict(get_day_names("wide", locale=locale)), dict(get_day_names("abbreviated", locale=locale)))
