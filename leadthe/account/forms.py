from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from flask_babel import lazy_gettext as _l

from leadthe.auth.forms import NewPasswordMixin
from leadthe.auth.passwords import MAX_LENGTH
from leadthe.forms import FlaskForm, email_field, new_password_field, one_time_code_field, strip


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field(_l("New password"))

    def validate_password(self, field):
        super().validate_password(field)
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password that is different from the current one."))


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120)], filters=[strip],
                       render_kw={"autocomplete": "name"})
    job_title = StringField(_l("Job title"), validators=[Length(max=120)], filters=[strip], render_kw={"autocomplete": "organization-title"})
    department = StringField(_l("Department"), validators=[Length(max=120)], filters=[strip])
    photo = FileField(_l("Profile photo (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    remove_photo = BooleanField(_l("Remove my photo"))


class EmailChangeForm(FlaskForm):
    email = email_field(_l("New e-mail address"))
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password to confirm it is you."))],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()  # shown and checked only with two-step verification
