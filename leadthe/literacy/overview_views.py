"""The programme overview: ``/admin/literacy`` (the page, or its results under htmx) and its CSV."""
from __future__ import annotations

from flask import Response, abort, current_app, request, url_for
from flask_login import current_user

from leadthe.admin.access import manager_or_admin_required
from leadthe.htmx import render
from leadthe.literacy import admin_bp, overview as ov
from leadthe.literacy.status import DUE_SOON_DAYS, MIN_GROUP
from leadthe.models import utcnow
from leadthe.query_args import int_arg, page_arg


def _filters(choices: ov.Choices) -> ov.Filters:
    """The filters from the query string. A team, course or rule outside the viewer's view (another
    company's, or a team a manager does not manage) is a 404, like a page that does not exist."""
    f = ov.Filters(team_id=int_arg("team"), department=request.args.get("department", "")[:120],
                   course_id=int_arg("course"), rule_id=int_arg("rule"), status=request.args.get("status", ""),
                   page=page_arg(), all_teams=request.args.get("teams") == "all")
    for value, known in ((f.team_id, choices.teams), (f.course_id, choices.courses), (f.rule_id, choices.rules)):
        if value is not None and value not in {k for k, _label in known}:
            abort(404)
    if f.status not in ov.STATUS_LABELS:
        f.status = ""
    return f


@admin_bp.route("/literacy")
@manager_or_admin_required
def overview():
    choices = ov.choices(current_user)
    f = _filters(choices)
    return render("literacy/overview.html", block="literacy_results", o=ov.overview(current_user, f), f=f, team_rows=ov.TEAM_ROWS,
                  choices=choices, statuses=ov.STATUS_LABELS, per_page=ov.OVERDUE_PER_PAGE, min_group=MIN_GROUP,
                  due_soon_days=DUE_SOON_DAYS, requirements_url=_requirements_url())


def _requirements_url() -> str | None:
    """Where an admin sets up rules, once that page exists."""
    endpoint = "literacy_admin.requirements"
    if current_user.role == "admin" and endpoint in current_app.view_functions:
        return url_for(endpoint)
    return None


@admin_bp.route("/literacy.csv")
@manager_or_admin_required
def overview_csv():
    f = _filters(ov.choices(current_user))
    name = f"leadthe-ai-literacy-{utcnow():%Y-%m-%d}.csv"
    return Response(ov.csv_text(current_user, f), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})
