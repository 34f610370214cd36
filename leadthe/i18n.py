"""Translations: the German catalogue lives in leadthe/translations/de/LC_MESSAGES/messages.po.

The compiled .mo file is built from it (not kept in git): `make run` / `make test` call
``compile_translations`` through `flask --app app leadthe compile-translations`, and the app compiles
on start when the .mo is missing or older than the .po.
"""
from __future__ import annotations

from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_translations() -> list[str]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

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
