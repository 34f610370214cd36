"""Security alerts in the staff console (issue 23): ``/staff/security-alerts`` (open first, paged, filterable by
state) and ``/staff/security-alerts/<id>`` (what happened, the audit events behind it; POST ``action`` =
acknowledge or close). Everyone without a platform role gets 404, as on every staff page. Works without
JavaScript; with htmx the list answers its results as a fragment."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.alerts import services, staff_bp
from leadthe.alerts.detect import CREDENTIALS, KINDS, open_count
from leadthe.alerts.forms import AlertActionForm
from leadthe.audit import event_label
from leadthe.htmx import render, render_form, see_other
from leadthe.query_args import page_arg
from leadthe.staff import staff_required


@staff_bp.app_context_processor
def _alerts_context():
    # the staff navigation's badge (templates/staff/_nav.html): counted only when a staff page renders it
    return {"open_security_alerts": open_count}


def _labels() -> dict:
    return {"kinds": KINDS, "statuses": services.STATUSES, "tones": services.STATUS_TONES, "credentials": CREDENTIALS}


@staff_bp.route("/security-alerts")
@staff_required
def security_alerts():
    status = request.args.get("status", "all")
    status = status if status in services.FILTERS else "all"
    page = page_arg()
    rows, total = services.list_alerts(status, page)
    return render("alerts/security_alerts.html", block="alert_results", rows=rows, total=total, chosen=status,
                  page=page, per_page=services.PER_PAGE, **_labels())


@staff_bp.route("/security-alerts/<int:alert_id>", methods=["GET", "POST"])
@staff_required
def security_alert(alert_id):
    alert = services.get_alert(alert_id)
    if alert is None:
        abort(404)
    form = AlertActionForm()
    if form.validate_on_submit():
        if form.action.data == "acknowledge" and services.acknowledge(alert, current_user):
            flash(_("Alert acknowledged: other staff can see that someone is looking into it."), "success")
        elif form.action.data == "close" and services.close(alert, current_user):
            flash(_("Alert closed. A new burst raises a new alert."), "success")
        else:
            flash(_("Nothing changed: the alert was already in that state."), "info")
        return see_other(url_for("alerts_staff.security_alert", alert_id=alert.id))
    return render_form("alerts/security_alert.html", form, alert=alert, events=services.events_of(alert),
                       event_label=event_label, **services.names_for(alert), **_labels())
