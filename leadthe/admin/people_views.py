"""People: the list, one person, invitations, CSV import, roles, deactivation and closing."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _, ngettext

from leadthe.labels import label
from flask_login import current_user

from leadthe.admin import bp, people
from leadthe.admin.access import is_admin, manager_or_admin_required, require_admin, visible_person_or_404
from leadthe.admin.forms import ImportForm, InvitationForm, RoleForm
from leadthe.admin.reports import person_attempts, person_courses, person_summary, team_names_for
from leadthe.auth.reauth import confirm_identity, recently_reauthenticated, show_problem
from leadthe.billing.seats import NoSeats, check_room
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.extensions import db
from leadthe.forms import EmptyForm, choices
from leadthe.htmx import render, render_form, see_other
from leadthe.models import ImportBatch, Invitation, User
from leadthe.models.enums import InvitationStatus
from leadthe.query_args import int_arg, page_arg
from leadthe.tenancy import get_or_404
from leadthe.trust import works_council
from leadthe.trust.access_log import record_view


def _filters() -> people.PeopleFilter:
    a = request.args
    team = int_arg("team")
    # works-council mode: no filter by when someone was last active (individual analytics are off)
    active = "" if works_council.active_for(current_user) else a.get("active", "")
    return people.PeopleFilter(q=a.get("q", "")[:100], team_id=team, role=a.get("role", ""),
                               status=a.get("status", "active"), active=active, page=page_arg())


def invitation_form() -> InvitationForm:
    form = InvitationForm()
    form.team_id.choices = choices({"": _("No team"), **people.team_choices(current_user)})
    return form


@bp.route("/users")
@manager_or_admin_required
def users():
    f = _filters()
    if f.team_id is not None and str(f.team_id) not in people.team_choices(current_user):
        abort(404)  # a team outside the manager's view, or of another company
    rows, total, teams = people.people_page(current_user, f)
    return render("admin/users.html", block="people_results", rows=rows, total=total, teams=teams, f=f,
                  per_page=people.PER_PAGE, team_choices=people.team_choices(current_user),
                  council=works_council.active_for(current_user),
                  invite_form=invitation_form() if is_admin(current_user) else None,
                  import_form=ImportForm() if is_admin(current_user) else None)


@bp.route("/users/<int:user_id>")
@manager_or_admin_required
def user_detail(user_id):
    person = visible_person_or_404(current_user, user_id)
    if not works_council.active_for(current_user):  # in works-council mode the page holds no learning data
        record_view(current_user, person, "person_page")
    role_form = RoleForm(role=person.role) if is_admin(current_user) else None
    return render("admin/user.html", **_person_page(person), role_form=role_form, form=EmptyForm(),
                  fresh=recently_reauthenticated())


def _person_page(person) -> dict:
    """The person page's data; in works-council mode only what administering the account needs (no learning data)."""
    teams = team_names_for([person.id], current_user).get(person.id, [])
    if works_council.active_for(current_user):
        return dict(person=person, teams=teams, council=True, summary=None, courses=[], attempts=[])
    return dict(person=person, teams=teams, council=False, summary=person_summary(person), courses=person_courses(person),
                attempts=person_attempts(person))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@manager_or_admin_required
def user_role(user_id):
    person = visible_person_or_404(current_user, user_id)
    require_admin(current_user)
    form = RoleForm()
    if form.validate_on_submit():
        if person.id == current_user.id:
            form.role.errors.append(_("You cannot change your own role. Ask another admin."))
        else:
            problem = confirm_identity(current_user, form.password.data, form.code.data)
            if problem:
                show_problem(form, problem)
            else:
                try:
                    changed = people.change_role(current_user, person, form.role.data)
                except people.LastAdmin as exc:
                    form.role.errors.append(str(exc))
                else:
                    db.session.flush()
                    flash(_("%(name)s is now %(role)s.", name=person.name, role=label(form.role.data, "role")) if changed
                          else _("Nothing changed."), "success")
                    return see_other(url_for("admin.user_detail", user_id=person.id))
    return render_form("admin/user.html", form, **_person_page(person), role_form=form, fresh=recently_reauthenticated())


def _status_action(user_id, action):
    person = visible_person_or_404(current_user, user_id)
    require_admin(current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if person.id == current_user.id:
        flash(_("You cannot do this to your own account."), "error")
        return see_other(url_for("admin.user_detail", user_id=person.id))
    try:
        action(current_user, person)
    except (people.LastAdmin, NoSeats) as exc:
        flash(exc.admin_message() if isinstance(exc, NoSeats) else str(exc), "error")
        return see_other(url_for("admin.user_detail", user_id=person.id))
    db.session.flush()
    return person


def _status_change(user_id, action, done):
    """Deactivate or reactivate a person: ``done(person)`` is the message on success."""
    person = _status_action(user_id, action)
    if not isinstance(person, User):
        return person
    flash(done(person), "success")
    return see_other(url_for("admin.user_detail", user_id=person.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@manager_or_admin_required
def user_deactivate(user_id):
    if not confirmed():
        person = visible_person_or_404(current_user, user_id)
        require_admin(current_user)
        return confirmation_page(
            title=_("Deactivate %(name)s?", name=person.name),
            message=_("They are signed out everywhere and cannot log in until an admin reactivates the account. Their data stays."),
            button=_("Deactivate"), cancel_url=url_for("admin.user_detail", user_id=person.id))
    return _status_change(user_id, people.deactivate,
                          lambda person: _("%(name)s is deactivated and signed out everywhere.", name=person.name))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@manager_or_admin_required
def user_reactivate(user_id):
    return _status_change(user_id, people.reactivate, lambda person: _("%(name)s can log in again.", name=person.name))


@bp.route("/users/<int:user_id>/close", methods=["POST"])
@manager_or_admin_required
def user_close(user_id):
    if request.form.get("confirm") != "yes":
        person = visible_person_or_404(current_user, user_id)
        require_admin(current_user)
        flash(_("Tick the box to confirm that the account should be closed."), "error")
        return see_other(url_for("admin.user_detail", user_id=person.id))
    person = _status_action(user_id, people.close_account)
    if not isinstance(person, User):
        return person
    flash(_("%(name)s's account is closed. Their data is erased after the retention period.", name=person.name), "success")
    return see_other(url_for("admin.users"))


# --- invitations ---------------------------------------------------------------------------------------

@bp.route("/invitations", methods=["GET", "POST"])
@manager_or_admin_required
def invitations():
    require_admin(current_user)
    form, no_seats = invitation_form(), False
    if form.validate_on_submit():
        team_id = int(form.team_id.data) if form.team_id.data else None
        try:
            people.create_invitation(current_user, email=form.email.data, role=form.role.data, team_id=team_id)
        except (people.SendingRefused, people.InviteProblem) as exc:
            form.email.errors.append(str(exc))
        except NoSeats as exc:
            form.email.errors.append(exc.admin_message())  # beside the address, which stays in the field
            no_seats = True
        else:
            db.session.flush()
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip().lower()), "success")
            return see_other(url_for("admin.invitations"))
    return render_form("admin/invitations.html", form, block="invite_form", pending=people.pending_invitations(current_user.org_id),
                       action_form=EmptyForm(), no_seats=no_seats)


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@manager_or_admin_required
def invitation_resend(invitation_id):
    inv = get_or_404(Invitation, invitation_id)  # another company's: 404 before any role check
    require_admin(current_user)
    if EmptyForm().validate_on_submit() and inv.status == InvitationStatus.PENDING:
        try:
            people.resend_invitation(current_user, inv)
        except people.SendingRefused as exc:
            flash(str(exc), "error")
        else:
            db.session.flush()
            flash(_("A new invitation link was sent to %(email)s.", email=inv.email), "success")
    return see_other(url_for("admin.invitations"))


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@manager_or_admin_required
def invitation_revoke(invitation_id):
    inv = get_or_404(Invitation, invitation_id)  # another company's: 404 before any role check
    require_admin(current_user)
    if EmptyForm().validate_on_submit() and inv.status == InvitationStatus.PENDING:
        if not confirmed():
            return confirmation_page(
                title=_("Revoke the invitation for %(email)s?", email=inv.email),
                message=_("Its link stops working at once. You can invite the same address again later."),
                button=_("Revoke invitation"), cancel_url=url_for("admin.invitations"))
        people.revoke_invitation(current_user, inv)
        db.session.flush()
        flash(_("The invitation for %(email)s is revoked; its link no longer works.", email=inv.email), "success")
    return see_other(url_for("admin.invitations"))


# --- CSV import ----------------------------------------------------------------------------------------

@bp.route("/users/import", methods=["GET", "POST"])
@manager_or_admin_required
def users_import():
    require_admin(current_user)
    form = ImportForm()
    rows, batch, no_seats = None, None, False
    if form.validate_on_submit():
        try:
            people.check_may_send(current_user)
            rows = people.parse_import(current_user.org_id, form.file.data.read())
            if not rows:
                raise people.ImportFileProblem(_("The file has no people in it."))
            if not any(r.problems for r in rows):
                people.check_may_send(current_user, len(rows))
                check_room(current_user.org_id, len(rows))  # said at the check already
        except (people.ImportFileProblem, people.SendingRefused, NoSeats) as exc:
            rows, no_seats = None, isinstance(exc, NoSeats)
            form.file.errors.append(exc.admin_message() if no_seats else str(exc))  # beside the file field
        else:
            if not any(r.problems for r in rows):
                batch = people.store_import(current_user, rows)  # the only write: the checked rows, for the go-ahead
                db.session.flush()
    invalid = bool(rows and any(r.problems for r in rows))
    return render_form("admin/import.html", form, invalid=invalid, rows=rows, batch=batch,
                       problems=sum(1 for r in rows or [] if r.problems), confirm_form=EmptyForm(), no_seats=no_seats)


@bp.route("/users/import/<int:batch_id>", methods=["POST"])
@manager_or_admin_required
def users_import_apply(batch_id):
    batch = get_or_404(ImportBatch, batch_id)
    require_admin(current_user)
    if batch.applied_at is not None or batch.created_by_id != current_user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        count = people.apply_import(current_user, batch)
    except (people.InviteProblem, people.SendingRefused, NoSeats) as exc:
        db.session.rollback()
        flash(exc.admin_message() if isinstance(exc, NoSeats) else str(exc), "error")
        return see_other(url_for("admin.users_import"))
    db.session.flush()
    flash(ngettext("%(num)s invitation sent.", "%(num)s invitations sent.", count), "success")
    return see_other(url_for("admin.invitations"))
