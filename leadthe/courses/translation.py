"""The curriculum in the reader's language: translated fields laid over the original rows as they load.

A course, module, lesson, quiz, question or choice loaded during a request whose interface language is not
English gets the fields of its ``content_translation`` row for that language (when there is one) set as its
loaded state (``set_committed_value``: nothing is marked changed, so nothing translated is ever written back
over the original). Anything untranslated stays in the original language: the fallback is the row itself.

Authoring pages (and the staff console) always see the originals, which are what they edit.
The translations of a language are a per-process table (leadthe.process_tables), reloaded when they change.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from flask import g, has_request_context, request
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value

from leadthe.extensions import db
from leadthe.i18n import format_locale
from leadthe.models import ContentTranslation, Course, CourseModule, Lesson, Quiz, QuizChoice, QuizQuestion
from leadthe.process_tables import ProcessTable

ENTITIES = {Course: "course", CourseModule: "module", Lesson: "lesson", Quiz: "quiz", QuizQuestion: "question",
            QuizChoice: "choice"}
# the fields a translation may carry, per entity (anything else in a row's JSON is ignored)
FIELDS = {
    "course": ("title", "summary", "description_md", "description_html", "objectives"),
    "module": ("title", "body_md", "body_html"),
    "lesson": ("title", "body_md", "body_html", "prompt", "transcript_md", "transcript_html", "exercise"),
    "quiz": ("title",),
    "question": ("text", "explanation"),
    "choice": ("text",),
}
ORIGINALS_ONLY = ("authoring", "staff")  # blueprints (by name part) that edit or administer the originals
ORIGINAL_LANGUAGE = "en"

_table = ProcessTable("content_translations", (ContentTranslation,), 30.0)


def content_language() -> str | None:
    """The language the current request reads course content in, or None for the originals."""
    if not has_request_context() or g.get("content_originals"):
        return None
    blueprint = request.blueprint or ""
    if any(part in blueprint for part in ORIGINALS_ONLY):
        return None
    language = str(get_locale() or ORIGINAL_LANGUAGE)
    return None if language == ORIGINAL_LANGUAGE else language


def translations(lang: str) -> dict[tuple[str, int], dict]:
    """{(entity, id): {field: value}} of every translation into ``lang``."""
    def load():
        with db.session.no_autoflush:  # called while a row loads: no flush in the middle of that
            rows = db.session.execute(
                sa.select(ContentTranslation.entity, ContentTranslation.entity_id, ContentTranslation.fields)
                .where(ContentTranslation.lang == lang)).all()
        return {(entity, entity_id): _allowed(entity, fields) for entity, entity_id, fields in rows}

    return _table.get(lang, load)


def _allowed(entity: str, text: str) -> dict:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if k in FIELDS.get(entity, ()) and v and (
        isinstance(v, str) or (k == "objectives" and isinstance(v, list) and all(isinstance(i, str) for i in v))
        or (k == "exercise" and isinstance(v, dict) and isinstance(v.get("task"), str)))}


def translated_fields(entity: str, entity_id: int) -> dict:
    """The translated fields of one row for the current request's reader ({} for the original)."""
    lang = content_language()
    if not lang:
        return {}
    return translations(lang).get((entity, entity_id), {})


def _overlay(target, attrs=None) -> None:
    entity = ENTITIES.get(type(target))
    if entity is None or target.id is None:
        return
    fields = translated_fields(entity, target.id)
    for name, value in fields.items():
        if attrs is None or name in attrs:
            set_committed_value(target, name, value)
    if fields:
        target._content_language = content_language()  # a plain attribute, not a column: see language_of


def language_of(row, course=None) -> str | None:
    """The language ``row`` (a course, module or lesson, as loaded) is shown in: its translation's, else
    the original's for a platform course (``course``, default the row itself); None when unknown (a
    company's own course is written in whatever language the company chose). For ``lang`` attributes."""
    translated = getattr(row, "_content_language", None)
    if translated:
        return translated
    owner = course if course is not None else row
    return ORIGINAL_LANGUAGE if getattr(owner, "org_id", 1) is None else None


def _on_load(target, _context) -> None:
    _overlay(target)


def _on_refresh(target, _context, attrs) -> None:
    _overlay(target, attrs)


def other_language(row, course=None) -> str | None:
    """The language ``row`` is shown in when it is known and not the interface's (an untranslated platform
    course for a German reader: "en"), else None: for a ``lang`` attribute and an "in English" note."""
    shown = language_of(row, course)
    return shown if shown and shown != str(get_locale() or ORIGINAL_LANGUAGE) else None


def language_name(code: str) -> str:
    """A language's name in the interface language: "en" -> "Englisch" for a German reader."""
    try:
        return Locale.parse(code).get_display_name(format_locale()) or code
    except (ValueError, UnknownLocaleError):
        return code


def title_of(entity: str, entity_id: int, original: str) -> str:
    """A course's (or module's, lesson's, quiz's) title in the reader's language, for queries that select
    the title column rather than the row."""
    return translated_fields(entity, entity_id).get("title", original)


def translate_outline(rows: tuple[tuple, ...]) -> tuple[tuple, ...]:
    """Course-outline rows (id, slug, title, kind, minutes, seq, module_id, module title) in the reader's language."""
    lang = content_language()
    if not lang or not rows:
        return rows
    table = translations(lang)
    out = []
    for row in rows:
        lesson = table.get(("lesson", row[0]), {})
        module = table.get(("module", row[6]), {})
        out.append((*row[:2], lesson.get("title", row[2]), *row[3:7], module.get("title", row[7]), *row[8:]))
    return tuple(out)


def install() -> None:
    """Listen for content rows as they load (once per process)."""
    for model in ENTITIES:
        if not event.contains(model, "load", _on_load):
            event.listen(model, "load", _on_load)
            event.listen(model, "refresh", _on_refresh)
