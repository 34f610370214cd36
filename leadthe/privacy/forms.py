from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from leadthe.forms import one_time_code_field
from leadthe.models.privacy import JURISDICTIONS, REQUEST_KINDS


class ReauthForm(FlaskForm):
    # Not required by the form: within the re-authentication window neither is asked for, and
    # leadthe.auth.reauth.confirm_identity says what is missing otherwise.
    password = PasswordField("Your password", validators=[Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()  # shown and checked only for people with two-step verification


class ExportForm(ReauthForm):
    pass


class DeleteForm(ReauthForm):
    confirm_email = StringField("Type your e-mail address to confirm",
                                validators=[DataRequired("Type your e-mail address to confirm.")],
                                render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"})


class ProcessingForm(FlaskForm):
    restrict_processing = BooleanField("Restrict processing: use my data only to run my courses, nothing else")
    object_analytics = BooleanField("Don't use my activity for usage analytics")
    object_leaderboard = BooleanField("Leave me out of leaderboards")
    object_recommendations = BooleanField("Don't personalise recommendations for me")
    do_not_sell_share = BooleanField("Do not sell or share my personal information")


class RequestForm(FlaskForm):
    kind = SelectField("What would you like?", choices={"": "Choose…", **REQUEST_KINDS},
                       validators=[DataRequired("Choose what you would like us to do.")])
    jurisdiction = SelectField("Under which law?", choices=dict(JURISDICTIONS), default="gdpr")
    details = TextAreaField("Details", validators=[DataRequired("Tell us what you need, so we can answer it."), Length(max=5000)],
                            render_kw={"rows": 6})
