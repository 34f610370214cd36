"""The requirement rule form: which course, who it covers, by when, and how often again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from leadthe.admin.forms import ROLE_CHOICES
from leadthe.forms import FlaskForm, choices, strip
from leadthe.labels import RULE_FIELD, RULE_OPERATOR
from leadthe.models.enums import RuleField, RuleOperator

REFRESH_CHOICES = {"certificate": _l("When the course certificate expires (its own validity)"),
                   "months": _l("Every number of months (below)"), "never": _l("Never: once is enough")}


class RuleForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=120)], filters=[strip])
    course_id = SelectField(_l("Required course"), choices={}, validators=[DataRequired(_l("Choose a course."))])
    field = SelectField(_l("Who it covers"), choices=choices(RULE_FIELD), default=RuleField.EVERYONE)
    operator = SelectField(_l("How the text is compared"), choices=choices(RULE_OPERATOR), default=RuleOperator.EQUALS)
    value = StringField(_l("Department or job title"), validators=[Optional(), Length(max=120)], filters=[strip])
    team_id = SelectField(_l("Team"), choices={}, default="")
    role = SelectField(_l("Role"), choices=choices({"": _l("Choose a role"), **ROLE_CHOICES}), default="")
    due_days = IntegerField(_l("Days to complete it"), default=30, validators=[
        DataRequired(_l("Enter a number of days from 1 to 730.")),
        NumberRange(1, 730, _l("Enter a number of days from 1 to 730."))])
    refresh = RadioField(_l("Take it again"), choices=choices(REFRESH_CHOICES), default="certificate")
    refresh_months = IntegerField(_l("Months between refreshers"), validators=[
        Optional(), NumberRange(1, 120, _l("Enter a number of months from 1 to 120."))])
    active = BooleanField(_l("Active: the rule requires the course now"), default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        missing = {RuleField.DEPARTMENT: (self.value, _l("Enter the department.")),
                   RuleField.JOB_TITLE: (self.value, _l("Enter the job title, or the part of it to look for.")),
                   RuleField.TEAM: (self.team_id, _l("Choose a team.")),
                   RuleField.ROLE: (self.role, _l("Choose a role."))}.get(self.field.data)
        if missing and not missing[0].data:
            missing[0].errors = list(missing[0].errors) + [str(missing[1])]
            ok = False
        if self.refresh.data == "months" and not self.refresh_months.data:
            self.refresh_months.errors = list(self.refresh_months.errors) + [str(_l("Enter a number of months from 1 to 120."))]
            ok = False
        return ok
