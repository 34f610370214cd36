"""Search over courses and lessons: one interface, SQLite FTS5 or PostgreSQL full-text search underneath.

The index is made by migration 0003: FTS5 tables kept in step by triggers on SQLite, generated tsvector
columns with GIN indexes on PostgreSQL. What the person typed never reaches a query language: it is
reduced to plain word terms (letters and digits), each matched as a prefix, all required (then any,
when all gives nothing). Snippets come back with private-use marker characters around the matches;
everything is escaped and only those markers become ``<mark>``.

These queries are hand-written SQL, which the automatic tenant filter does not see: the course
visibility rule (``courses.services.course_visibility``, as the catalogue has it) is compiled into them.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Request
from markupsafe import Markup, escape

from leadthe.consent.services import may_record_analytics
from leadthe.courses.services import course_visibility, viewer_kind
from leadthe.courses.translation import title_of
from leadthe.database import shared_alias, write_transaction
from leadthe.extensions import db
from leadthe.models import Course, SearchQuery, User, utcnow

OPEN, CLOSE = "\ue000", "\ue001"
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class Hit:
    kind: str  # "course" | "lesson"
    title: str
    course_slug: str
    lesson_slug: str | None
    course_title: str
    snippet: Markup


def terms_of(query: str) -> list[str]:
    """Safe search terms: words of letters and digits, lower-cased, de-duplicated, a handful at most."""
    seen: list[str] = []
    for term in _TERM.findall((query or "").lower()):
        term = term[:MAX_TERM_LENGTH]
        if term not in seen:
            seen.append(term)
    return seen[:MAX_TERMS]


def highlight(snippet: str | None) -> Markup:
    text = str(escape((snippet or "").strip()))
    # only our own markers become markup; an unbalanced marker (cut snippet) is closed
    opened = text.count(OPEN) - text.count(CLOSE)
    text = text.replace(OPEN, "<mark>").replace(CLOSE, "</mark>")
    return Markup(text + "</mark>" * max(opened, 0))


def search(user: User, query: str, limit: int = 20) -> list[Hit]:
    terms = terms_of(query)
    if not terms:
        return []
    dialect = db.session.get_bind().dialect.name
    run = _postgresql if dialect == "postgresql" else _sqlite
    hits = run(user, terms, "all", limit)
    if not hits and len(terms) > 1:
        hits = run(user, terms, "any", limit)
    return hits


def _visibility(user: User) -> str:
    """The ids of the courses ``user`` may find (``course_visibility``), as a subquery in the SQL of the
    session's database. Its only values are the person's company id and booleans, written in as literals."""
    return _visibility_sql(viewer_kind(user), user.org_id, db.session.get_bind().dialect)


@functools.lru_cache(maxsize=4096)
def _visibility_sql(viewer: str, org_id: int | None, dialect) -> str:
    """Compiled once per kind of viewer and company (a fifth of a search's time when it was compiled on every
    request); an int and the viewer's kind are all that goes into it."""
    course = shared_alias(Course, "c")
    return str(sa.select(course.id).where(course_visibility(viewer, org_id, course, drafts="hidden")).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}))


def _params(limit: int) -> dict:
    return {"limit": limit, "open": OPEN, "close": CLOSE}


def _rows_to_hits(rows) -> list[Hit]:
    """Hits with their titles in the reader's language (leadthe.courses.translation)."""
    return [Hit(kind, title_of(kind, lesson_id if kind == "lesson" else course_id, title), course_slug, lesson_slug,
                title_of("course", course_id, course_title), highlight(snippet))
            for kind, title, course_slug, lesson_slug, course_title, snippet, lesson_id, course_id in rows]


def _sqlite(user: User, terms: list[str], mode: str, limit: int) -> list[Hit]:
    joiner = " " if mode == "all" else " OR "
    match = joiner.join(f'"{t}"*' for t in terms)  # terms hold only letters and digits: quoting is safe
    visible = _visibility(user)
    sql = sa.text(f"""
        SELECT kind, title, course_slug, lesson_slug, course_title, snip, lesson_id, course_id FROM (
          SELECT 'lesson' AS kind, l.title AS title, c.slug AS course_slug, l.slug AS lesson_slug,
                 c.title AS course_title, snippet(lesson_fts, 1, :open, :close, '…', 24) AS snip,
                 bm25(lesson_fts, 4.0, 1.0) AS rank, l.id AS lesson_id, c.id AS course_id
          FROM lesson_fts
          JOIN lesson l ON l.id = lesson_fts.rowid
          JOIN course_module m ON m.id = l.module_id
          JOIN course c ON c.id = l.course_id
          WHERE lesson_fts MATCH :match AND l.archived = 0 AND m.archived = 0 AND c.id IN ({visible})
          UNION ALL
          SELECT 'course', c.title, c.slug, NULL, c.title, snippet(course_fts, 1, :open, :close, '…', 24),
                 bm25(course_fts, 4.0, 1.0) * 1.5, NULL, c.id
          FROM course_fts
          JOIN course c ON c.id = course_fts.rowid
          WHERE course_fts MATCH :match AND c.id IN ({visible})
        ) ORDER BY rank LIMIT :limit
    """)
    return _rows_to_hits(db.session.execute(sql, {**_params(limit), "match": match}).all())


def _postgresql(user: User, terms: list[str], mode: str, limit: int) -> list[Hit]:
    joiner = " & " if mode == "all" else " | "
    tsquery = joiner.join(f"{t}:*" for t in terms)
    visible = _visibility(user)
    headline = "'StartSel=' || :open || ', StopSel=' || :close || ', MaxWords=35, MinWords=15, MaxFragments=1'"
    sql = sa.text(f"""
        WITH q AS (SELECT to_tsquery('english', :tsquery) AS query),
        hits AS (
          SELECT 'lesson' AS kind, l.title AS title, c.slug AS course_slug, l.slug AS lesson_slug,
                 c.title AS course_title, l.search_text AS body, ts_rank(l.search_vector, q.query) AS rank,
                 l.id AS lesson_id, c.id AS course_id
          FROM lesson l JOIN course_module m ON m.id = l.module_id JOIN course c ON c.id = l.course_id, q
          WHERE l.search_vector @@ q.query AND NOT l.archived AND NOT m.archived AND c.id IN ({visible})
          UNION ALL
          SELECT 'course', c.title, c.slug, NULL, c.title, c.search_text, ts_rank(c.search_vector, q.query) * 1.5,
                 NULL, c.id
          FROM course c, q
          WHERE c.search_vector @@ q.query AND c.id IN ({visible})
          ORDER BY rank DESC LIMIT :limit
        )
        SELECT kind, title, course_slug, lesson_slug, course_title,
               ts_headline('english', body, q.query, {headline}), lesson_id, course_id
        FROM hits, q ORDER BY rank DESC
    """)
    return _rows_to_hits(db.session.execute(sql, {**_params(limit), "tsquery": tsquery}).all())


# --- analytics of searches -------------------------------------------------------------------------

def record_search(user: User, request: Request, query: str, results: int) -> bool:
    """Keep the search terms for improving the curriculum, only through the analytics gate: cookie consent,
    no objection to analytics and no restriction of processing."""
    if not query.strip() or not may_record_analytics(user):
        return False
    with write_transaction() as conn:
        conn.execute(sa.insert(SearchQuery).values(user_id=user.id, query=query.strip()[:200], results=results, created_at=utcnow()))
    return True
