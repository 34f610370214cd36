"""Course assignments by managers (their teams only) and admins (the whole company)."""
from functools import wraps

from flask import abort, flash, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from leadthe.admin import bp
from leadthe.assessments import assignments as services
from leadthe.assessments.forms import AssignmentForm
from leadthe.extensions import db
from leadthe.htmx import render_form, see_other
from leadthe.trust import works_council


def manager_or_admin(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.org_id is None or not services.may_assign(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _form(formdata=None):
    form = AssignmentForm() if formdata is None else AssignmentForm(formdata=None)
    form.course_id.choices = {"": _("Choose a course")} | {str(i): t for i, t in services.assignable_courses(current_user)}
    form.team_id.choices = {"": _("No team")} | {str(t.id): t.name for t in services.assignable_teams(current_user)}
    form.user_id.choices = {"": _("Nobody")} | {str(p.id): p.name for p in services.assignable_people(current_user)}
    return form


def _page(form):
    ids = services.managed_team_ids(current_user)
    if works_council.active_for(current_user):  # counts per course and due date, no one's own status
        return render_form("admin/assignments.html", form, rows=[], groups=services.assignment_groups(current_user.org_id, ids))
    rows = services.assignments_for_org(current_user.org_id) if ids is None else services.assignments_for_team(ids, 200)
    return render_form("admin/assignments.html", form, rows=rows, groups=None)


@bp.route("/assignments")
@manager_or_admin
def assignments():
    return _page(_form(formdata=False))


@bp.route("/assignments", methods=["POST"])
@manager_or_admin
def create_assignment():
    form = _form()
    if not form.validate_on_submit():
        return _page(form)
    course = services.course_or_404(current_user, form.course_id.data)
    if form.team_id.data:
        team = services.target_team_or_404(current_user, form.team_id.data)
        people = services.team_member_ids(team)
        n = services.assign(current_user, course, people, form.due_on.data, team_id=team.id)
    else:
        person = services.target_person_or_404(current_user, form.user_id.data)
        n = services.assign(current_user, course, [person.id], form.due_on.data)
    db.session.flush()
    flash(ngettext("%(course)s assigned to %(num)s person.", "%(course)s assigned to %(num)s people.", n, course=course.title),
          "success")
    return see_other(url_for("admin.assignments"))
