from wtforms import PasswordField
from wtforms.validators import DataRequired, Length
from flask_babel import lazy_gettext as _l

from leadthe.forms import FlaskForm, one_time_code_field
from leadthe.privacy.forms import ReauthForm


class EnableTwoFactorForm(FlaskForm):
    code = one_time_code_field(_l("6-digit code from your authenticator app"), required=True)


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field(required=True)


class RegenerateCodesForm(ReauthForm):
    pass
