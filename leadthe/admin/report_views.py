"""The adoption dashboard, usage analytics and CSV reports."""
from __future__ import annotations

from flask import Response, abort, request
from flask_login import current_user

from leadthe.admin import bp
from leadthe.admin.access import manager_or_admin_required, scope_user_ids
from leadthe.admin.reports import PER_PERSON_REPORTS, REPORTS, ReportRefused, csv_text, dashboard, reports_for, usage
from leadthe.htmx import render
from leadthe.models import utcnow
from leadthe.trust.access_log import record_many


@bp.route("")
@manager_or_admin_required
def dashboard_page():
    return render("admin/dashboard.html", d=dashboard(current_user), reports=reports_for(current_user))


@bp.route("/usage")
@manager_or_admin_required
def usage_page():
    return render("admin/usage.html", u=usage(current_user))


@bp.route("/reports.csv")
@manager_or_admin_required
def report_csv():
    report = request.args.get("report", "")
    if report not in REPORTS:
        abort(404)
    try:
        body = csv_text(current_user, report)
    except ReportRefused:  # works-council mode: a page that says why, with the reports that remain
        return render("admin/report_refused.html", status=403, per_person=report in PER_PERSON_REPORTS,
                      reports=reports_for(current_user) if report in PER_PERSON_REPORTS else {})
    if report == "people":  # one row per person: each of them sees it in their access log
        record_many(current_user, scope_user_ids(current_user), "people_csv")
    name = f"leadthe-{report}-{utcnow():%Y-%m-%d}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})
