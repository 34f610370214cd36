"""The works-council annex (issue 21): ``/admin/works-council-annex`` (HTML) and ``/admin/works-council-annex.pdf``,
for the company's admins (others 403, as every admin page), in German or English (``?lang=de|en``; default: the
interface language)."""
from __future__ import annotations

from flask import Response, request
from flask_babel import force_locale, get_locale
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.htmx import render
from leadthe.i18n import format_day
from leadthe.trust import admin_bp
from leadthe.trust.annex import LANGUAGES, build, impossible_intro, intro, mode_words
from leadthe.trust.annex_pdf import annex_pdf


def _language() -> str:
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    current = str(get_locale() or "en")
    return current if current in LANGUAGES else "en"


@admin_bp.route("/works-council-annex")
@admin_required
def annex():
    lang = _language()
    with force_locale(lang):
        doc = build(current_user.organization)
        return render("trust/annex.html", annex=doc, lang=lang, generated=format_day(doc.generated_at),
                      mode=mode_words(doc), intro=intro(doc), impossible_intro=impossible_intro(doc))


@admin_bp.route("/works-council-annex.pdf")
@admin_required
def annex_pdf_download():
    lang = _language()
    with force_locale(lang):
        body = annex_pdf(build(current_user.organization))
    name = f"works-council-annex-{lang}.pdf"
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})
