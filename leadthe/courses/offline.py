"""Learning offline (issue 22): what a browser saves of a course, on the person's request.

* ``GET /courses/<slug>/offline.json``: the manifest of a course the person is enrolled in: its lessons, each
  with the address of its offline copy and that copy's size, the static files the copies need, and a version
  that changes when any lesson changes. Not stored by the browser (``no-store``, like every page).
* ``GET /courses/<slug>/lessons/<lesson>/offline``: the offline copy of one lesson, a complete small page
  without anything personal (no name, no account menu, no CSRF token, no saved answer, no completion state), so
  the service worker may keep it: ``Cache-Control: private, no-cache`` (the one exception of
  leadthe/security_headers.py) with an ``ETag``, answering 304 when the copy is still current.

Changes made on an offline copy are queued in the browser and sent to ``progress.sync`` (leadthe/progress/sync.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import abort, current_app, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from leadthe.account.preferences import ui_preferences
from leadthe.courses import bp, services
from leadthe.courses.forms import MAX_ANSWER
from leadthe.htmx import render
from leadthe.i18n import format_day
from leadthe.literacy.lesson_rules import MARKER
from leadthe.models import utcnow
from leadthe.progress.sync import device_key

OFFLINE_ENDPOINT = "courses.offline_lesson"
ASSETS = ("css/app.css", "js/session.js", "js/player.js")


@bp.app_template_global("device_key")
def _device_key_global(user) -> str:
    """``<body data-device-key>`` on signed-in pages (base.html): whose data this browser holds."""
    return device_key(user)


def _body(lesson) -> Markup:
    """The lesson text; the company's AI rules (they may name people) stay online."""
    html = lesson.body_html or ""
    if MARKER in html:
        note = escape(_("Your company's AI rules are part of this lesson online. Open it when you are back online "
                        "to read them."))
        html = html.replace(MARKER, f'<p class="flash info">{note}</p>', 1)
    return Markup(html)  # sanitized by nh3 at load/edit time (render_markdown)


def offline_copy(slug: str, lesson_slug: str) -> tuple[str, str]:
    """The offline page of a lesson of a course the person is enrolled in (else 404) and its ETag: a hash of
    everything on the page but the date it was made (the lesson, its neighbours, the language, the account)."""
    page = services.player_page(slug, lesson_slug, current_user)
    if page.enrollment is None:
        abort(404)
    now = utcnow()
    html, _status = render("courses/offline_lesson.html", page=page, course=page.course, lesson=page.lesson,
                           body=_body(page.lesson), saved_on=now, device_key=device_key(current_user),
                           prefs=ui_preferences(), max_answer=MAX_ANSWER)
    stable = html.replace(format_day(now), "")
    etag = hashlib.sha256(f"{get_locale()}\n{stable}".encode()).hexdigest()[:32]
    return html, etag


@bp.route("/courses/<slug>/offline.json")
@login_required
def offline_manifest(slug):
    course = services.get_course_or_404(slug, current_user)
    if services.enrollment_of(current_user.id, course.id) is None:
        abort(404)
    lessons, versions = [], []
    for item in services.course_outline(course.id):
        lesson_slug, title = item[1], item[2]
        html, etag = offline_copy(course.slug, lesson_slug)
        versions.append(etag)
        lessons.append({"slug": lesson_slug, "title": title,
                        "url": url_for("courses.lesson", slug=course.slug, lesson=lesson_slug),
                        "offline_url": url_for(OFFLINE_ENDPOINT, slug=course.slug, lesson=lesson_slug),
                        "bytes": len(html.encode())})
    version = hashlib.sha256("\n".join([course.title, *versions]).encode()).hexdigest()[:16]
    static_url = current_app.jinja_env.globals["static_url"]  # fingerprinted (leadthe/static_files.py)
    return jsonify(slug=course.slug, title=course.title, url=url_for("courses.course", slug=course.slug),
                   # what the browser keeps: the lessons' pages and the files they need (the download is smaller:
                   # compressed), so the size shown before saving is the size shown once saved
                   version=version, bytes=sum(entry["bytes"] for entry in lessons) + _asset_bytes(), lessons=lessons,
                   assets=[static_url(name) for name in ASSETS])


def _asset_bytes() -> int:
    folder = Path(current_app.static_folder)
    return sum((folder / name).stat().st_size for name in ASSETS)


@bp.route("/courses/<slug>/lessons/<lesson>/offline")
@login_required
def offline_lesson(slug, lesson):
    html, etag = offline_copy(slug, lesson)
    headers = {"Cache-Control": "private, no-cache", "ETag": f'"{etag}"', "Vary": "Cookie"}
    if etag in request.if_none_match:
        return "", 304, headers
    return html, 200, headers
