"""AI maturity for the company admin: people's levels, teams' distributions and the company level side by
side with next steps; the organisational questionnaire. Registered on the admin blueprint (imported by
leadthe.assessments so the teams/admin module stays untouched)."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.admin import admin_required, bp
from leadthe.assessments import maturity as services
from leadthe.assessments import rubric as R
from leadthe.assessments.forms import OrgMaturityForm
from leadthe.extensions import db
from leadthe.htmx import render_form, see_other
from leadthe.query_args import page_arg

TEAMS_PER_PAGE = 50


def _page(form):
    org_id = current_user.org_id
    dist = services.company_distribution(org_id)
    company = services.company_level(org_id, dist)
    teams = services.team_distributions(org_id)
    page = page_arg()
    shown = teams[(page - 1) * TEAMS_PER_PAGE: page * TEAMS_PER_PAGE]
    return render_form("admin/maturity.html", form, dist=dist, company=company, teams=shown, team_total=len(teams),
                       page=page, per_page=TEAMS_PER_PAGE, steps=services.next_steps(company), R=R)


@bp.route("/maturity")
@admin_required
def maturity():
    latest = services.latest_org_answers(current_user.org_id)
    form = OrgMaturityForm(data={a: str(v) for a, v in (latest.answers if latest else {}).items()})
    return _page(form)


@bp.route("/maturity/organisation", methods=["POST"])
@admin_required
def maturity_organisation():
    form = OrgMaturityForm()
    if form.validate_on_submit():
        row = services.save_org_answers(current_user, {a: int(getattr(form, a).data) for a in R.ORG_AREAS})
        db.session.flush()
        flash(_("Saved. The organisational answers give level %(level)s.", level=row.level), "success")
        return see_other(url_for("admin.maturity"))
    return _page(form)
