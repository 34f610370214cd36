"""Forms of the AI tools inventory and the AI-use policy editor."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from leadthe.forms import FlaskForm, choices, strip
from leadthe.literacy.policy import CHANGE_LABELS, MAX_BODY
from leadthe.literacy.tools import STATUS_LABELS


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (the company's teams)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass  # choices that vanished meanwhile (a team deleted) are dropped when saving, not an error


class AiToolForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the tool's name.")), Length(max=120)], filters=[strip])
    vendor = StringField(_l("Vendor"), validators=[Length(max=120)], filters=[strip])
    purpose = TextAreaField(_l("What it is used for"), validators=[Length(max=2000)], filters=[strip], render_kw={"rows": 3})
    status = RadioField(_l("Status"), choices=choices(STATUS_LABELS), default="under_review",
                        validators=[DataRequired(_l("Choose a status."))])
    team_ids = CheckboxesField(_l("Teams that may use it"), coerce=int)
    departments = StringField(_l("Departments that may use it"), validators=[Length(max=2000)], filters=[strip])
    personal_data_allowed = BooleanField(_l("Personal data may go in"))
    confidential_data_allowed = BooleanField(_l("Confidential company information may go in"))
    risk_note = TextAreaField(_l("Risk note"), validators=[Length(max=2000)], filters=[strip], render_kw={"rows": 3})
    owner = StringField(_l("Owner"), validators=[Length(max=120)], filters=[strip])


class AiPolicyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the policy a title.")), Length(max=200)], filters=[strip])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(_l("Write the policy's text.")), Length(max=MAX_BODY)],
                            render_kw={"rows": 20})
    summary = StringField(_l("What changed, in one or two sentences"), validators=[Length(max=500)], filters=[strip])
    change = RadioField(_l("Kind of change"), choices=choices(CHANGE_LABELS), default="material",
                        validators=[DataRequired(_l("Choose the kind of change."))])
