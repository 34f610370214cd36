"""Teams: the list (team against team), one team's members and their progress, and team writes."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.admin import bp, teams
from leadthe.admin.access import is_admin, manager_or_admin_required, require_admin, visible_team_or_404
from leadthe.admin.forms import MemberForm, TeamForm
from leadthe.admin.reports import TEAMS_PER_PAGE, dashboard, team_members, teams_overview
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.extensions import db
from leadthe.forms import EmptyForm, distinct_ids
from leadthe.htmx import render, render_form, see_other
from leadthe.literacy.people import team_requirement_figures, team_requirement_statuses
from leadthe.literacy.status import MIN_GROUP
from leadthe.query_args import page_arg
from leadthe.trust import works_council


@bp.route("/teams", methods=["GET", "POST"])
@manager_or_admin_required
def teams_page():
    form = TeamForm()
    if request.method == "POST":
        require_admin(current_user)
        if form.validate_on_submit():
            try:
                team = teams.create_team(current_user, form.name.data)
            except teams.TeamProblem as exc:
                form.name.errors.append(str(exc))
            else:
                db.session.flush()
                flash(_("Team “%(name)s” created.", name=team.name), "success")
                return see_other(url_for("admin.team_detail", team_id=team.id))
    page = page_arg()
    q = request.args.get("q", "")[:100]
    rows, total = teams_overview(current_user, page, q)
    return render_form("admin/teams.html", form, block="teams_results", rows=rows, total=total, page=page, q=q,
                       per_page=TEAMS_PER_PAGE, can_edit=is_admin(current_user),
                       required=team_requirement_figures(r.id for r in rows), **_works_council())


def _works_council() -> dict:
    """The works-council setting ("team figures only"): required training only as a team's figures, and
    only for teams of at least MIN_GROUP people with requirements."""
    org = current_user.organization
    return dict(team_figures_only=works_council.team_figures_only(org), min_group=MIN_GROUP,
                council=works_council.active_for(current_user))


def _team_page(team, rename_form=None, member_form=None):
    council = _works_council()
    return dict(team=team, members=team_members(team, current_user), figures=dashboard(current_user, team_id=team.id),
                required=team_requirement_figures([team.id]).get(team.id), **council,
                required_people={} if council["team_figures_only"] else team_requirement_statuses([team.id]),
                rename_form=rename_form or distinct_ids(TeamForm(name=team.name), "rename"),
                member_form=member_form or distinct_ids(MemberForm(), "member"), action_form=EmptyForm(),
                can_edit=is_admin(current_user))


@bp.route("/teams/<int:team_id>")
@manager_or_admin_required
def team_detail(team_id):
    team = visible_team_or_404(current_user, team_id)
    return render("admin/team.html", **_team_page(team))


def _team_to_edit_or_404(team_id):
    """The team in view, for an admin (anyone else: 403), or 404."""
    team = visible_team_or_404(current_user, team_id)
    require_admin(current_user)
    return team


@bp.route("/teams/<int:team_id>/rename", methods=["POST"])
@manager_or_admin_required
def team_rename(team_id):
    team = _team_to_edit_or_404(team_id)
    form = distinct_ids(TeamForm(), "rename")
    if form.validate_on_submit():
        try:
            teams.rename_team(current_user, team, form.name.data)
        except teams.TeamProblem as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.flush()
            flash(_("Team renamed."), "success")
            return see_other(url_for("admin.team_detail", team_id=team.id))
    return render_form("admin/team.html", form, **_team_page(team, rename_form=form))


@bp.route("/teams/<int:team_id>/delete", methods=["GET", "POST"])
@manager_or_admin_required
def team_delete(team_id):
    team = _team_to_edit_or_404(team_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = team.name
        teams.delete_team(current_user, team)
        db.session.flush()
        flash(_("Team “%(name)s” deleted. Its members keep their accounts and progress.", name=name), "success")
        return see_other(url_for("admin.teams_page"))
    return render("admin/team_delete.html", team=team, form=form)


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
@manager_or_admin_required
def team_add_member(team_id):
    team = _team_to_edit_or_404(team_id)
    form = distinct_ids(MemberForm(), "member")
    if form.validate_on_submit():
        try:
            person = teams.add_member(current_user, team, form.email.data, form.manager.data)
        except teams.TeamProblem as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.flush()
            flash(_("%(name)s added to the team.", name=person.name), "success")
            return see_other(url_for("admin.team_detail", team_id=team.id))
    return render_form("admin/team.html", form, **_team_page(team, member_form=form))


def _membership_or_404(team_id, user_id):
    """The team in view and a member's membership of it (admins only), or 404."""
    team = _team_to_edit_or_404(team_id)
    membership = teams.membership_or_none(team, user_id)
    if membership is None:
        abort(404)
    return team, membership


@bp.route("/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@manager_or_admin_required
def team_remove_member(team_id, user_id):
    team, membership = _membership_or_404(team_id, user_id)
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(
                title=_("Remove this person from “%(team)s”?", team=team.name),
                message=_("They keep their account, progress and other teams; the team's managers no longer see them."),
                button=_("Remove from team"), cancel_url=url_for("admin.team_detail", team_id=team.id))
        teams.remove_member(current_user, team, membership)
        db.session.flush()
        flash(_("Removed from the team."), "success")
    return see_other(url_for("admin.team_detail", team_id=team.id))


@bp.route("/teams/<int:team_id>/members/<int:user_id>/manager", methods=["POST"])
@manager_or_admin_required
def team_set_manager(team_id, user_id):
    team, membership = _membership_or_404(team_id, user_id)
    if EmptyForm().validate_on_submit():
        teams.set_manager(current_user, team, membership, request.form.get("manager") == "1")
        db.session.flush()
        flash(_("Team managers updated."), "success")
    return see_other(url_for("admin.team_detail", team_id=team.id))
