"""The data processing agreement's pages (issue 21).

- ``/legal/dpa`` and ``/legal/dpa/v<number>`` (anyone): the current and earlier versions, in German when the
  interface speaks German (with a note that the English text governs; ``?lang=en`` shows the English one);
- ``/admin/dpa`` (company admins): the current version, the accept form while the company has not accepted it
  (the gate in ``leadthe.trust.dpa`` sends admins here), and the company's acceptances with their PDFs;
- ``/admin/dpa/acceptances/<id>.pdf``: an acceptance record as a PDF (another company's id is a 404);
- ``/staff/dpa`` (staff): versions, acceptance per company (counts, a filter by name and state, 50 a page), and
  publishing a new version;
- ``/staff/dpa/acceptances/<id>.pdf`` (staff): any company's acceptance record as a PDF, audited on the company's log.
"""
from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.extensions import db
from leadthe.htmx import render, render_form, see_other
from leadthe.net import safe_next
from leadthe.query_args import page_arg, search_arg
from leadthe.staff import staff_required
from leadthe.trust import admin_bp, bp, dpa, staff_bp
from leadthe.trust.dpa_forms import AcceptDpaForm, PublishDpaForm
from leadthe.trust.dpa_pdf import acceptance_pdf

STATE_LABELS = {dpa.AcceptanceState.CURRENT: _l("Accepted the current version"),
                dpa.AcceptanceState.OUTDATED: _l("Accepted an older version only"),
                dpa.AcceptanceState.NONE: _l("Not accepted yet")}
assert set(STATE_LABELS) == set(dpa.ACCEPTANCE_STATES)


def _shown(doc):
    """The version's text for the reader: (HTML, translated, English on request)."""
    locale = str(get_locale() or "en")
    english_on_request = request.args.get("lang") == "en" and locale != "en"
    html, translated = dpa.body_html(doc, "en" if english_on_request else locale)
    return html, translated, english_on_request


def _public(doc):
    html, translated, english = _shown(doc)
    return render("trust/dpa.html", doc=doc, body_html=html, translated=translated, english_on_request=english,
                  current=doc.id == dpa.current_fact().id, versions=dpa.versions())


@bp.route("/legal/dpa")
def dpa_current():
    return _public(dpa.current_version())


@bp.route("/legal/dpa/v<int:number>")
def dpa_version(number: int):
    doc = dpa.version(number)
    if doc is None:
        abort(404)
    return _public(doc)


@admin_bp.route("/dpa", methods=["GET", "POST"], endpoint="dpa")
@admin_required
def dpa_page():
    org_id = current_user.org_id
    doc = dpa.current_version()
    accepted = dpa.has_accepted(org_id, doc.id)
    going = safe_next(request.args.get("next"), "")
    form = AcceptDpaForm()
    if request.method == "GET" and not accepted:
        form.legal_name.data, form.address.data = dpa.proposed_party(org_id)
    if not accepted and form.validate_on_submit():
        dpa.accept(current_user, doc, legal_name=form.legal_name.data, address=form.address.data)
        db.session.flush()
        flash(_("Thank you. Your company has accepted version %(num)s of the data processing agreement.", num=doc.version),
              "success")
        return see_other(going or url_for("trust_admin.dpa"))
    html, translated, english = _shown(doc)
    return render_form("trust/dpa_admin.html", form, block="dpa_accept", doc=doc, body_html=html, translated=translated,
                       english_on_request=english, accepted=accepted, going=going,
                       acceptances=dpa.acceptances(org_id))


@admin_bp.route("/dpa/acceptances/<int:acceptance_id>.pdf")
@admin_required
def dpa_pdf(acceptance_id: int):
    found = dpa.acceptance(current_user.org_id, acceptance_id)
    if found is None:
        abort(404)
    return _pdf_download(*found)


def _pdf_download(record, doc) -> Response:
    """The record as a PDF attachment; personal and contract data, so never kept by shared caches."""
    name = f"leadthe-dpa-v{doc.version}-acceptance-{record.accepted_at:%Y-%m-%d}.pdf"
    return Response(acceptance_pdf(record, doc), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@staff_bp.route("/dpa", methods=["GET", "POST"], endpoint="dpa")
@staff_required
def staff_dpa():
    form = PublishDpaForm()
    if request.method == "GET":
        latest = dpa.current_version()
        form.body_en.data, form.body_de.data = latest.body_en, latest.body_de
    if form.validate_on_submit():
        doc = dpa.publish(body_en=form.body_en.data, body_de=form.body_de.data or "", summary=form.summary.data,
                          staff_user=current_user)
        db.session.flush()
        flash(_("Version %(num)s of the data processing agreement is published. Each company's admins are asked to "
                "accept it on their next admin page.", num=doc.version), "success")
        return see_other(url_for("trust_staff.dpa"))
    state = request.args.get("state", "")
    f = dpa.CompanyFilters(q=search_arg(),
                           state=state if state in dpa.ACCEPTANCE_STATES else "", page=page_arg())
    rows, total = dpa.companies_page(f)
    # the filter (GET, htmx) answers the results only; a refused publication comes back as the whole page
    return render_form("trust/dpa_staff.html", form, block="dpa_results" if request.method == "GET" else None,
                       versions=dpa.versions(), current=dpa.current_fact(), rows=rows, total=total, f=f,
                       counts=dpa.acceptance_counts(), state_labels=STATE_LABELS, per_page=dpa.STAFF_PER_PAGE)


@staff_bp.route("/dpa/acceptances/<int:acceptance_id>.pdf", endpoint="dpa_pdf")
@staff_required
def staff_dpa_pdf(acceptance_id: int):
    """Any company's acceptance record (also of a company that has closed), audited on that company's log."""
    record, doc = dpa.staff_acceptance_or_404(acceptance_id)
    response = _pdf_download(record, doc)  # drawn first: a download that failed is not recorded as one
    dpa.record_staff_download(current_user, record, doc)
    return response
