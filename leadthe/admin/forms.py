from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, ValidationError

from leadthe.forms import FlaskForm


class CompanySettingsForm(FlaskForm):
    require_2fa = BooleanField(_l("Require two-step verification for everyone in the company"))
    leaderboard_enabled = BooleanField(_l("Show leaderboards"))
    literacy_team_figures_only = BooleanField(_l("Team figures only"))
    # works-council mode (issue 21): turning it off needs a recorded reason; ``mode_was_on`` is set by the view
    works_council_mode = BooleanField(_l("Works-council mode"))
    works_council_reason = TextAreaField(_l("Reason for turning works-council mode off"),
                                         filters=[lambda v: v.strip() if isinstance(v, str) else v],
                                         validators=[Length(max=1000)])
    mode_was_on = False

    def validate_works_council_reason(self, field):
        if self.mode_was_on and not self.works_council_mode.data and len(field.data or "") < 10:
            raise ValidationError(_l("Say why works-council mode is turned off (at least 10 characters): everyone in "
                                     "the company is told, with this reason."))


# --- people, invitations, import, teams (teams and admin issue) -----------------------------------------
from flask_wtf.file import FileField, FileRequired  # noqa: E402
from wtforms import PasswordField, SelectField, StringField  # noqa: E402
from wtforms.validators import DataRequired, Length, Optional  # noqa: E402

from leadthe.auth.forms import NewPasswordMixin  # noqa: E402
from leadthe.forms import choices, email_field, new_password_field, one_time_code_field, strip  # noqa: E402
from leadthe.labels import ROLE  # noqa: E402
from leadthe.models.enums import ORG_ROLES  # noqa: E402

ROLE_CHOICES = {role.value: ROLE[role] for role in ORG_ROLES}  # the words of leadthe/labels.py


class InvitationForm(FlaskForm):
    email = email_field(_l("E-mail address"))
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES), default="learner")
    team_id = SelectField(_l("Team"), choices=choices({"": _l("No team")}), validate_choice=True, default="")


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES))
    password = PasswordField(_l("Your password"), validators=[Optional()], render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(_l("Enter a name for the team.")), Length(max=120)],
                       filters=[strip])


class MemberForm(FlaskForm):
    email = email_field(_l("E-mail address of the person"))
    manager = BooleanField(_l("Manager of this team"))


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120)], filters=[strip],
                       render_kw={"autocomplete": "name"})
    password = new_password_field()
    age_confirm = BooleanField(_l("I am 18 or older"), validators=[
        DataRequired(_l("LeadThe.AI is only for people aged 18 or older, so we can't create this account."))])
    accept_policy = BooleanField(_l("I have read and accept the privacy policy"), validators=[
        DataRequired(_l("Please read and accept the privacy policy to create an account."))])
