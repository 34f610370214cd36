"""Legal holds for staff and the DPO (issue 21, legal-hold part): ``/staff/legal-holds`` (active and released),
``/staff/legal-holds/new``, ``/staff/legal-holds/<id>`` (details and change) and ``/staff/legal-holds/<id>/release``
(a confirmation page). Everyone without a platform role gets 404, as on every staff page."""
from __future__ import annotations

from datetime import datetime, time, timezone

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.models import utcnow
from leadthe.htmx import render, render_form, see_other
from leadthe.staff import staff_required
from leadthe.trust import holds, staff_bp
from leadthe.trust.hold_forms import ChangeHoldForm, NewHoldForm, ReleaseHoldForm


def _end_of(day) -> datetime | None:
    """An end date means "held through that day" (UTC)."""
    return datetime.combine(day, time.max, tzinfo=timezone.utc) if day else None


def _hold_or_404(hold_id: int):
    hold = holds.get_hold(hold_id)
    if hold is None:
        abort(404)
    return hold


@staff_bp.route("/legal-holds")
@staff_required
def legal_holds():
    return render("trust/holds.html", rows=holds.list_holds(), now=utcnow())


def _target(form: NewHoldForm):
    """The person or company the form names, or None with the error beside the field."""
    if form.target.data == "company":
        company = holds.find_company(form.company.data or "")
        if company is None:
            form.company.errors.append(_("No company has this name or id."))
        return None, company
    person = holds.find_person(form.person.data or "")
    if person is None:
        form.person.errors.append(_("No person of a company has this e-mail address."))
    return person, None


@staff_bp.route("/legal-holds/new", methods=["GET", "POST"])
@staff_required
def new_legal_hold():
    form = NewHoldForm()
    if form.validate_on_submit():
        person, company = _target(form)
        if person is not None or company is not None:
            hold = holds.place_hold(current_user, person=person, company=company, reason=form.reason.data.strip(),
                                    reference=(form.reference.data or "").strip(), ends_at=_end_of(form.ends_on.data))
            flash(_("The legal hold is in place: erasure and retention skip the held data until it ends."), "success")
            return see_other(url_for("trust_staff.legal_hold", hold_id=hold.id))
    return render_form("trust/hold_new.html", form)


@staff_bp.route("/legal-holds/<int:hold_id>", methods=["GET", "POST"])
@staff_required
def legal_hold(hold_id):
    hold = _hold_or_404(hold_id)
    if hold.released_at is not None:  # a released hold is a record: nothing to change
        return render("trust/hold.html", form=None, hold=hold, target=holds.target_of(hold), now=utcnow())
    form = ChangeHoldForm(obj=hold)
    if not form.is_submitted() and hold.ends_at:
        form.ends_on.data = hold.ends_at.date()
    if form.validate_on_submit():
        holds.change_hold(hold, current_user, reason=form.reason.data.strip(), reference=(form.reference.data or "").strip(),
                          ends_at=_end_of(form.ends_on.data), change_reason=form.change_reason.data.strip())
        flash(_("The legal hold is changed."), "success")
        return see_other(url_for("trust_staff.legal_hold", hold_id=hold.id))
    return render_form("trust/hold.html", form, hold=hold, target=holds.target_of(hold), now=utcnow())


@staff_bp.route("/legal-holds/<int:hold_id>/release", methods=["GET", "POST"])
@staff_required
def release_legal_hold(hold_id):
    hold = _hold_or_404(hold_id)
    if hold.released_at is not None:
        flash(_("This legal hold was already released."), "info")
        return see_other(url_for("trust_staff.legal_hold", hold_id=hold.id))
    form = ReleaseHoldForm()
    if form.validate_on_submit():
        holds.release_hold(hold, current_user, form.release_reason.data.strip())
        flash(_("The legal hold is released; erasure and retention resume for the data it held."), "success")
        return see_other(url_for("trust_staff.legal_hold", hold_id=hold.id))
    return render_form("trust/hold_release.html", form, hold=hold, target=holds.target_of(hold))
