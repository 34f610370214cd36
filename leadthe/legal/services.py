"""Versioned policies (privacy, cookies, terms): the current one, history, changes, and change notices."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nh3
import sqlalchemy as sa
from flask import current_app, g
from flask_babel import ngettext
from markdown_it import MarkdownIt
from flask_babel import lazy_gettext as _l
from flask_babel import force_locale

from leadthe import audit
from leadthe.database import in_read_request, write_transaction
from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.consent import PolicyAcknowledgement, PolicyDocument, PolicyNotice, PolicyTranslation
from leadthe.process_tables import ProcessTable
from leadthe.worker import enqueue_job

KINDS = {"privacy": _l("Privacy policy"), "cookies": _l("Cookie policy"), "terms": _l("Terms of use")}
# the same names in the middle of a sentence ("Version 3 of the privacy policy is published")
KINDS_IN_SENTENCE = {"privacy": _l("privacy policy"), "cookies": _l("cookie policy"), "terms": _l("terms of use")}
POLICY_DIR = Path(__file__).resolve().parent.parent / "content" / "policies"
FIRST_EFFECTIVE = datetime(2026, 11, 27, tzinfo=timezone.utc)
NOTICE_BATCH = 500

# Policy text is written by staff in Markdown (inline HTML allowed for sections and anchors) and then
# cleaned by an allow-list, like every other rendered text.
_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")
TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "a", "strong", "em", "code", "pre", "blockquote", "hr", "br",
        "table", "thead", "tbody", "tr", "th", "td", "section", "nav", "dl", "dt", "dd"}
ATTRS = {"a": {"href"}, "section": {"id"}, "nav": {"aria-label"}, "h2": {"id"}, "h3": {"id"}, "th": {"scope"}}


def render_policy(body: str) -> str:
    return nh3.clean(_md.render(body), tags=TAGS, attributes=ATTRS, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def _bundled(kind: str) -> tuple[str, str]:
    for suffix in ("html", "md"):
        path = POLICY_DIR / f"{kind}-v1.{suffix}"
        if path.exists():
            with force_locale("en"):  # the stored title of the (English) legal text
                return str(KINDS[kind]), path.read_text(encoding="utf-8")
    raise FileNotFoundError(kind)


def ensure_initial_policies() -> None:
    """Version 1 of each document comes from the shipped files, created once (by the first page that
    needs one). A read request writes them in its own short transaction, never through its session;
    other requests, the worker and the CLI flush them with their own work."""
    existing = set(db.session.scalars(sa.select(PolicyDocument.kind).where(PolicyDocument.version == 1)))
    missing = [kind for kind in KINDS if kind not in existing]
    if not missing:
        return
    rows = []
    for kind in missing:
        title, body = _bundled(kind)
        rows.append({"kind": kind, "version": 1, "title": title, "body_md": body, "body_html": render_policy(body),
                     "effective_at": FIRST_EFFECTIVE, "summary": "First version.", "material": False,
                     "categories_changed": False, "created_at": utcnow()})
    if not in_read_request(db.session()):
        db.session.add_all(PolicyDocument(**row) for row in rows)
        db.session.flush()
        return
    try:
        with write_transaction() as conn:
            conn.execute(sa.insert(PolicyDocument), rows)
    except sa.exc.IntegrityError:
        pass  # another process created them first
    _policy_table.invalidate()  # a Core insert: the ORM's commit hook does not see it
    db.session.rollback()  # ends this request's read snapshot (SQLite), so its next query sees them


# --- translations: the English text is authoritative; a translation is shown beside that statement ----------
TRANSLATED = ("de",)


def _bundled_translation(kind: str, locale: str) -> tuple[str, str] | None:
    for suffix in ("html", "md"):
        path = POLICY_DIR / f"{kind}-v1.{locale}.{suffix}"
        if path.exists():
            with force_locale(locale):
                return str(KINDS[kind]), path.read_text(encoding="utf-8")
    return None


def translation(doc: PolicyDocument | None, locale: str) -> PolicyTranslation | None:
    """The version ``doc`` in ``locale``, if there is one. Version 1's translations come from the shipped
    files (``<kind>-v1.<locale>.html|md``), created once like version 1 itself."""
    if doc is None or locale not in TRANSLATED:
        return None
    found = db.session.scalar(sa.select(PolicyTranslation).where(
        PolicyTranslation.document_id == doc.id, PolicyTranslation.locale == locale))
    if found is not None or doc.version != 1:
        return found
    bundled = _bundled_translation(doc.kind, locale)
    if bundled is None:
        return None
    row = {"document_id": doc.id, "locale": locale, "title": bundled[0], "body_md": bundled[1],
           "body_html": render_policy(bundled[1]), "created_at": utcnow()}
    if not in_read_request(db.session()):
        db.session.add(PolicyTranslation(**row))
        db.session.flush()
    else:
        try:
            with write_transaction() as conn:
                conn.execute(sa.insert(PolicyTranslation), [row])
        except sa.exc.IntegrityError:
            pass  # another request created it first
    return PolicyTranslation(**row)


def _duration(value) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        return ngettext("%(num)s hour", "%(num)s hours", minutes // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)


def session_limits() -> str:
    """When a session ends, in words, from the configuration (SESSION_IDLE, SESSION_MAX)."""
    return str(_l("You are signed out after %(idle)s without activity, and after %(max)s at the latest, even when active.",
                  idle=_duration(current_app.config["SESSION_IDLE"]), max=_duration(current_app.config["SESSION_MAX"])))


def current_policy(kind: str) -> PolicyDocument | None:
    cache = g.setdefault("_policies", {})
    if kind not in cache:
        stmt = (sa.select(PolicyDocument).where(PolicyDocument.kind == kind, PolicyDocument.effective_at <= utcnow())
                .order_by(PolicyDocument.version.desc()).limit(1))
        doc = db.session.scalar(stmt)
        if doc is None:
            ensure_initial_policies()
            doc = db.session.scalar(stmt)
        cache[kind] = doc
    return cache[kind]


# What every page needs to know about the policies (the consent version, whether a change notice is due)
# comes from a per-process table of all versions (leadthe.process_tables) instead of a query per page;
# other processes see a newly published version within POLICY_FACTS_SECONDS (versions are published ahead
# of their effective date, and the effective date itself is checked on every page against the clock).
POLICY_FACTS_SECONDS = 30.0


@dataclass(frozen=True)
class PolicyFact:
    id: int
    kind: str
    version: int
    material: bool
    categories_changed: bool
    effective_at: datetime
    created_at: datetime


_policy_table = ProcessTable("policy_facts", (PolicyDocument,), POLICY_FACTS_SECONDS)


def policy_facts() -> tuple[PolicyFact, ...]:
    def load():
        return tuple(PolicyFact(*row) for row in db.session.execute(sa.select(
            PolicyDocument.id, PolicyDocument.kind, PolicyDocument.version, PolicyDocument.material,
            PolicyDocument.categories_changed, PolicyDocument.effective_at, PolicyDocument.created_at)))

    return _policy_table.get(None, load)


def consent_policy_version() -> int:
    """The privacy policy version from which cookie consent is valid: a version whose data categories
    changed asks everyone again."""
    now = utcnow()
    return max((f.version for f in policy_facts()
                if f.kind == "privacy" and f.categories_changed and f.effective_at <= now), default=0)


def versions(kind: str) -> list[PolicyDocument]:
    return list(db.session.scalars(sa.select(PolicyDocument).where(PolicyDocument.kind == kind)
                                   .order_by(PolicyDocument.version.desc())))


def version(kind: str, number: int) -> PolicyDocument | None:
    return db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.kind == kind, PolicyDocument.version == number))


def _plain_lines(doc: PolicyDocument) -> list[str]:
    text = nh3.clean(re.sub(r"</(p|h2|h3|li|dt|dd|tr)>", "\n", doc.body_html), tags=set())
    return [line.strip() for line in text.splitlines() if line.strip()]


def changes(old: PolicyDocument, new: PolicyDocument) -> list[tuple[str, str]]:
    """The differences between two versions as (kind, line) with kind in {"same", "added", "removed"}."""
    out = []
    for line in difflib.ndiff(_plain_lines(old), _plain_lines(new)):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            out.append(("same", text))
        elif tag == "+ ":
            out.append(("added", text))
        elif tag == "- ":
            out.append(("removed", text))
    return out


def publish(kind: str, *, title: str, body: str, summary: str, effective_at: datetime, material: bool,
            categories_changed: bool, staff_user, translations: dict[str, str] | None = None) -> PolicyDocument:
    latest = db.session.scalar(sa.select(sa.func.max(PolicyDocument.version)).where(PolicyDocument.kind == kind)) or 0
    doc = PolicyDocument(kind=kind, version=latest + 1, title=title, body_md=body, body_html=render_policy(body),
                         summary=summary, effective_at=effective_at, material=material,
                         categories_changed=categories_changed and kind == "privacy", published_by_id=staff_user.id)
    db.session.add(doc)
    db.session.flush()
    for locale, text in (translations or {}).items():
        if locale in TRANSLATED and text.strip():
            with force_locale(locale):
                db.session.add(PolicyTranslation(document_id=doc.id, locale=locale, title=str(KINDS[kind]), body_md=text,
                                                 body_html=render_policy(text)))
    audit.record("policy.published", actor=staff_user, kind=kind, version=doc.version, material=material)
    if material:
        db.session.add(PolicyNotice(document_id=doc.id))
        enqueue_job("policy.notify", {"document_id": doc.id})
    return doc


def pending_notice(user) -> PolicyDocument | None:
    """The newest material change this person has not acknowledged yet (shown on every page until they do).
    No query at all when no material change applies to them (the usual case)."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = utcnow()
    candidates = sorted((f.id for f in policy_facts()
                         if f.material and f.effective_at <= now and f.created_at >= user.created_at), reverse=True)
    if not candidates:
        return None
    acknowledged = set(db.session.scalars(sa.select(PolicyAcknowledgement.document_id).where(
        PolicyAcknowledgement.user_id == user.id, PolicyAcknowledgement.document_id.in_(candidates))))
    due = next((doc_id for doc_id in candidates if doc_id not in acknowledged), None)
    return db.session.get(PolicyDocument, due) if due is not None else None


def acknowledge(user, doc: PolicyDocument) -> None:
    exists = db.session.scalar(sa.select(PolicyAcknowledgement.id).where(
        PolicyAcknowledgement.user_id == user.id, PolicyAcknowledgement.document_id == doc.id))
    if exists is None:
        db.session.add(PolicyAcknowledgement(user_id=user.id, document_id=doc.id))
        audit.record("policy.acknowledged", actor=user, subject=user, kind=doc.kind, version=doc.version)
