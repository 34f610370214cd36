from flask import Response, abort, flash, g, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _

from leadthe import audit
from leadthe.account import bp
from leadthe.account.forms import ChangePasswordForm, EmailChangeForm, ProfileForm
from leadthe.account.profile import EmailInUse, confirm_email_change, request_email_change, update_profile, user_for_email_change
from leadthe.assessments.certificates import certificates_of
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.forms import EmptyForm, distinct_ids
from leadthe.privacy.photos import PhotoError, reencode_photo
from leadthe.auth.passwords import check_password, personal_inputs
from leadthe.auth.services import set_password
from leadthe.extensions import db, limiter
from leadthe.htmx import render, render_form, see_other

MAX_PHOTO_BYTES = 5 * 1024 * 1024


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    form._email_hint = current_user.email
    form._user_inputs = personal_inputs(current_user)
    if form.validate_on_submit():
        if not check_password(form.current_password.data, current_user.password_hash):
            form.current_password.errors.append(_("That is not your current password."))
            audit.record_apart("password.change_failed", actor=current_user, subject=current_user)
        else:
            # this browser stays signed in; every other session is signed out
            set_password(current_user, form.password.data, event="password.changed", keep_session_id=g.user_session.id)
            db.session.flush()
            flash(_("Your password is changed. Every other device was signed out."), "success")
            return see_other(url_for("core.dashboard"))
    return render_form("account/password.html", form, block="password_form")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"])
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        photo = None
        upload = form.photo.data
        if upload and getattr(upload, "filename", ""):
            try:
                photo = reencode_photo(upload.read(MAX_PHOTO_BYTES + 1)[:MAX_PHOTO_BYTES + 1])
            except PhotoError as exc:
                form.photo.errors.append(str(exc))
        if not form.photo.errors:
            changed = update_profile(current_user, name=form.name.data, job_title=form.job_title.data or "",
                                     department=form.department.data or "", photo=photo, remove_photo=form.remove_photo.data)
            db.session.flush()
            flash(_("Your profile is saved.") if changed else _("Nothing changed."), "success")
            return see_other(url_for("account.profile"))
    return render_form("account/profile.html", form, block="profile_form", email_form=distinct_ids(EmailChangeForm(), "email"),
                       certificates=certificates_of(current_user))


@bp.route("/photo")
@login_required
def photo():
    data = current_user.photo
    if not data:
        abort(404)
    return Response(data, mimetype="image/jpeg")  # no-store, like every page with personal data


@bp.route("/email", methods=["POST"])
@login_required
@limiter.limit("5 per hour")
def change_email():
    email_form = distinct_ids(EmailChangeForm(), "email")
    if email_form.validate_on_submit():
        # the password every time: an e-mail change is how accounts get taken over
        problem = confirm_identity(current_user, email_form.password.data, email_form.code.data, allow_recent=False)
        if problem:
            show_problem(email_form, problem)
        else:
            try:
                request_email_change(current_user, email_form.email.data)
            except EmailInUse:
                email_form.email.errors.append(_("Another account uses that address."))
            else:
                db.session.flush()
                flash(_("We sent a confirmation link to %(email)s. Your address changes once you open it.", email=email_form.email.data), "success")
                return see_other(url_for("account.profile"))
    form = ProfileForm(obj=current_user, formdata=None)
    return render_form("account/profile.html", form, invalid=True, email_form=email_form,
                       certificates=certificates_of(current_user))


@bp.route("/email/confirm/<token>", methods=["GET", "POST"], endpoint="confirm_email_change")
def confirm_email_change_view(token):
    found = user_for_email_change(token)
    form = EmptyForm()
    if found is None:
        return render("account/confirm_email.html", status=400, invalid=True, form=form)
    user, new_email = found
    if request.method == "POST" and form.validate_on_submit():
        try:
            confirm_email_change(user, new_email)
        except EmailInUse:
            return render("account/confirm_email.html", status=400, invalid=True, form=form)
        db.session.flush()
        flash(_("Your e-mail address is now %(email)s.", email=new_email), "success")
        return see_other(url_for("account.profile") if current_user.is_authenticated else url_for("auth.login"))
    return render("account/confirm_email.html", invalid=False, form=form, new_email=new_email)

