from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from flask_babel import lazy_gettext as _l

from leadthe.forms import FlaskForm, choices, one_time_code_field
from leadthe.models.privacy import JURISDICTIONS, REQUEST_KINDS


class ReauthForm(FlaskForm):
    # Not required by the form: within the re-authentication window neither is asked for, and
    # leadthe.auth.reauth.confirm_identity says what is missing otherwise.
    password = PasswordField(_l("Your password"), validators=[Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()  # shown and checked only for people with two-step verification


class ExportForm(ReauthForm):
    pass


class DeleteForm(ReauthForm):
    confirm_email = StringField(_l("Type your e-mail address to confirm"),
                                validators=[DataRequired(_l("Type your e-mail address to confirm."))],
                                render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"})


class ProcessingForm(FlaskForm):
    restrict_processing = BooleanField(_l("Restrict processing: use my data only to run my courses, nothing else"))
    object_analytics = BooleanField(_l("Don't use my activity for usage analytics"))
    object_leaderboard = BooleanField(_l("Leave me out of leaderboards"))
    # works-council mode only (the view removes it otherwise): leaderboards show only people who opted in
    leaderboard_opt_in = BooleanField(_l("Show me on the leaderboard"))
    object_recommendations = BooleanField(_l("Don't personalise recommendations for me"))
    do_not_sell_share = BooleanField(_l("Do not sell or share my personal information"))


class RequestForm(FlaskForm):
    kind = SelectField(_l("What would you like?"), choices=choices({"": _l("Choose…"), **REQUEST_KINDS}),
                       validators=[DataRequired(_l("Choose what you would like us to do."))])
    jurisdiction = SelectField(_l("Under which law?"), choices=choices(JURISDICTIONS), default="gdpr")
    details = TextAreaField(_l("Details"), validators=[DataRequired(_l("Tell us what you need, so we can answer it.")), Length(max=5000)],
                            render_kw={"rows": 6})
