from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from leadthe.forms import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, Optional

from leadthe.assessments.rubric import ORG_AREAS, ORG_SCALE


class OrgMaturityForm(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # labels translated per request (plain strings: WTForms wants str choice labels); the empty first
        # option makes an unanswered area visible instead of silently preselecting level 1
        for area in ORG_AREAS:
            self[area].choices = {"": gettext("Choose a level"), **{str(k): str(v) for k, v in ORG_SCALE.items()}}


for _area, (_label, _hint) in ORG_AREAS.items():
    setattr(OrgMaturityForm, _area, SelectField(
        _label, description=_hint, choices={}, validators=[DataRequired(_l("Choose a level."))]))


class AssignmentForm(FlaskForm):
    course_id = SelectField(_l("Course"), choices={}, validators=[DataRequired(_l("Choose a course."))])
    team_id = SelectField(_l("Team"), choices={}, validate_choice=False, default="")
    user_id = SelectField(_l("Or one person"), choices={}, validate_choice=False, default="")
    due_on = DateField(_l("Due date (optional)"), validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if bool(self.team_id.data) == bool(self.user_id.data):
            self.team_id.errors = list(self.team_id.errors) + [str(_l("Choose a team or one person (not both)."))]
            ok = False
        return ok
