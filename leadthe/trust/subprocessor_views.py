"""Sub-processors (issue 21): the public list with announced changes and history, objections by company admins, and
publishing and the objection queue for staff.

- ``/legal/subprocessors`` and ``/legal/subprocessors/<number>`` (anyone): the list in effect, an announced change,
  every version.
- ``/admin/subprocessors`` (company admins): announced changes with the "object" button, the company's objections;
  ``/admin/subprocessors/<number>/object`` (the form, until the effective date) and
  ``/admin/subprocessors/objections/<id>`` (the receipt and our answer; another company's id is 404).
- ``/staff/subprocessors`` (versions), ``/staff/subprocessors/new`` (edit, preview the change, publish),
  ``/staff/subprocessors/objections`` (the queue, soonest deadline first) and ``/staff/subprocessors/objections/<id>``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.database import refuse_request
from leadthe.htmx import render, render_form, see_other
from leadthe.models import utcnow
from leadthe.models.subprocessors import SubprocessorObjection
from leadthe.staff import staff_required
from leadthe.tenancy import get_or_404
from leadthe.trust import admin_bp, bp, staff_bp
from leadthe.trust import subprocessors as sp
from leadthe.trust.subprocessor_forms import AnswerForm, NewVersionForm, ObjectionForm


@bp.app_context_processor
def _subprocessor_notice():
    """``subprocessor_notice()``: the announced change a company admin's pages show (base.html), else None."""
    def notice():
        try:
            v = sp.notice_for(current_user)
            return (v, sp.objection_of(v)) if v is not None else None
        except Exception:  # noqa: BLE001 - an error page without a database still renders
            return None
    return {"subprocessor_notice": notice}


def _version_or_404(number: int):
    v = sp.version(number)
    if v is None:
        abort(404)
    return v


# --- public ----------------------------------------------------------------------------------------------

@bp.route("/legal/subprocessors")
def subprocessors():
    now = utcnow()
    current = sp.current_version(now)
    coming = [(v, sp.changes_of(v)) for v in sp.upcoming(now)]
    return render("trust/subprocessors.html", version=current, entries=sp.current(), upcoming=coming,
                  history=sp.versions(), now=now)


@bp.route("/legal/subprocessors/<int:number>")
def subprocessor_version(number):
    v = _version_or_404(number)
    now = utcnow()
    return render("trust/subprocessor_version.html", version=v, entries=[sp.as_subprocessor(e) for e in v.entries],
                  changes=sp.changes_of(v), current=sp.current_version(now), now=now)


# --- company admins --------------------------------------------------------------------------------------

@admin_bp.route("/subprocessors", endpoint="subprocessors")
@admin_required
def admin_subprocessors():
    now = utcnow()
    coming = [(v, sp.changes_of(v), sp.objection_of(v)) for v in sp.upcoming(now)]
    return render("trust/subprocessor_admin.html", upcoming=coming, objections=sp.company_objections(),
                  current=sp.current_version(now), now=now)


def _too_late(v):
    """The notice period is over: the page says so, without the form; a POST is refused (409) and writes nothing."""
    refused = request.method == "POST"
    if refused:
        refuse_request()
    return render("trust/subprocessor_object.html", form=None, version=v, changes=sp.changes_of(v), refused=refused,
                  status=409 if refused else 200)


@admin_bp.route("/subprocessors/<int:number>/object", methods=["GET", "POST"])
@admin_required
def object_to_change(number):
    v = _version_or_404(number)
    existing = sp.objection_of(v)
    if existing is not None:
        flash(_("Your company has already objected to this change."), "info")
        return see_other(url_for("trust_admin.objection", objection_id=existing.id))
    form = ObjectionForm()
    if not sp.is_open(v):
        return _too_late(v)
    if form.validate_on_submit():
        try:
            objection = sp.object_to(v, current_user, form.reason.data.strip())
        except sp.TooLate:  # the date came while the form was open
            return _too_late(v)
        flash(_("We received your company's objection."), "success")
        return see_other(url_for("trust_admin.objection", objection_id=objection.id))
    return render_form("trust/subprocessor_object.html", form, version=v, changes=sp.changes_of(v), refused=False)


@admin_bp.route("/subprocessors/objections/<int:objection_id>")
@admin_required
def objection(objection_id):
    found = get_or_404(SubprocessorObjection, objection_id)  # another company's id: 404, and noted as probing
    return render("trust/subprocessor_objection.html", objection=found, now=utcnow())


# --- staff -----------------------------------------------------------------------------------------------

@staff_bp.route("/subprocessors", endpoint="subprocessors")
@staff_required
def staff_subprocessors():
    now = utcnow()
    queue = sp.objection_queue()
    return render("trust/subprocessor_staff.html", versions=sp.versions(), counts=sp.objection_counts(),
                  current=sp.current_version(now), open_objections=sum(1 for o in queue if o.answered_at is None),
                  now=now)


def _entry_data(entry) -> dict:
    return {"key": entry.key, "name": entry.name, "purpose": entry.purpose, "categories": entry.data,
            "location": entry.location, "in_eea": entry.in_eea, "safeguard": entry.safeguard, "since": entry.since,
            "tables": entry.tables}


def _proposed(form: NewVersionForm) -> list[sp.SubProcessor]:
    return [sp.SubProcessor(e.key.data.strip(), e.name.data.strip(), e.purpose.data.strip(), e.categories.data.strip(),
                            e.location.data.strip(), bool(e.in_eea.data), e.safeguard.data.strip(), e.since.data,
                            tuple(e.tables.data.split())) for e in form.kept_entries()]


def _check_version(form: NewVersionForm, latest, proposed, changes) -> None:
    """What the fields alone cannot check: ids unique, a real change, a date after the latest announced one."""
    keys = [p.key for p in proposed]
    if len(keys) != len(set(keys)):
        form.entries.errors = [*form.entries.errors, _("Two sub-processors have the same short id.")]
    elif not changes:
        form.entries.errors = [*form.entries.errors,
                               _("Nothing changes compared with version %(num)s.", num=latest.version)]
    if form.effective.data and form.effective.data <= latest.effective_at.date():
        form.effective.errors = [*form.effective.errors, _("Choose a date after %(date)s, when version %(num)s takes effect.",
                                                           date=latest.effective_at.date().isoformat(), num=latest.version)]


@staff_bp.route("/subprocessors/new", methods=["GET", "POST"], endpoint="new_subprocessors")
@staff_required
def new_subprocessors():
    latest = sp.latest_version()
    if request.method == "GET":
        form = NewVersionForm(data={"entries": [_entry_data(e) for e in latest.entries], "effective": sp.earliest_effective()})
    else:
        form = NewVersionForm()
    changes = None
    if form.validate_on_submit():
        proposed = _proposed(form)
        changes = sp.changes([sp.as_subprocessor(e) for e in latest.entries], proposed)
        _check_version(form, latest, proposed, changes)
        if not form.errors and request.form.get("action") == "publish":
            effective = datetime.combine(form.effective.data, datetime.min.time(), tzinfo=timezone.utc)
            v = sp.publish(proposed, summary=form.summary.data.strip(), effective_at=effective, staff_user=current_user)
            flash(_("Version %(num)s of the sub-processor list is published; every company's admins are told about it.",
                    num=v.version), "success")
            return see_other(url_for("trust_staff.subprocessors"))
    if not any(e.form.is_blank() for e in form.entries):
        form.entries.append_entry()  # an empty one to add a sub-processor
    return render_form("trust/subprocessor_new.html", form, latest=latest,
                       changes=changes if changes is not None and not form.errors else None)


@staff_bp.route("/subprocessors/objections", endpoint="subprocessor_objections")
@staff_required
def staff_objections():
    return render("trust/subprocessor_objections.html", rows=sp.objection_queue(), now=utcnow())


@staff_bp.route("/subprocessors/objections/<int:objection_id>", methods=["GET", "POST"], endpoint="subprocessor_objection")
@staff_required
def staff_objection(objection_id):
    found = sp.get_objection(objection_id)
    if found is None:
        abort(404)
    form = AnswerForm(data={"note": found.answer} if request.method == "GET" else None)
    if form.validate_on_submit():
        sp.answer(found, current_user, form.note.data.strip())
        flash(_("The objection is marked answered."), "success")
        return see_other(url_for("trust_staff.subprocessor_objections"))
    return render_form("trust/subprocessor_objection_staff.html", form, objection=found, now=utcnow())
