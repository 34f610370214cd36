"""The form of ``/admin/ai-lab``: the model connection, the guard's mode, quotas and retention, with the
step-up fields (password, and code with two-step verification) on the same form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, StringField
from wtforms.widgets import TextInput
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from leadthe.forms import FlaskForm, choices, one_time_code_field, strip
from leadthe.labels import GUARD_MODE, LAB_PROVIDER
from leadthe.models.enums import GuardMode, LabProvider

MAX_PERSON_DAILY_TOKENS = 10_000_000
MAX_COMPANY_MONTHLY_TOKENS = 10_000_000_000
MAX_RETENTION_DAYS = 365


class WholeNumberField(IntegerField):
    """A whole number; anything else is one clear error beside the field (not WTForms' own two). A text field
    with a numeric keyboard (as the GOV.UK Design System advises): what was typed comes back as typed."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace(" ", "").replace("_", "")
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number, e.g. 20000.")) from None


def within(low: int, high: int, message):
    def check(form, field):
        if field.process_errors:
            raise StopValidation()  # "enter a whole number" says it already
        if field.data is None or not low <= field.data <= high:
            raise ValidationError(message)
    return check


class LabSettingsForm(FlaskForm):
    provider = RadioField(_l("Model"), choices=choices(LAB_PROVIDER), default=LabProvider.NONE.value,
                          validators=[InputRequired(_l("Choose whether a model is connected."))])
    base_url = StringField(_l("Base URL"), validators=[Length(max=500)], filters=[strip],
                           render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off",
                                      "inputmode": "url", "placeholder": "https://api.openai.com/v1"})
    model = StringField(_l("Model name"), validators=[Length(max=120)], filters=[strip],
                        render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"})
    provider_name = StringField(_l("Name learners see"), validators=[Length(max=120)], filters=[strip])
    # write-only: never filled in when the page is shown again; empty keeps the saved key
    api_key = PasswordField(_l("API key"), validators=[Length(max=900)], filters=[strip],
                            render_kw={"autocomplete": "new-password", "spellcheck": "false", "autocapitalize": "none"})
    remove_key = BooleanField(_l("Remove the saved key"))
    model_feedback = BooleanField(_l("The model may also give feedback on prompts (“model feedback”)"))
    guard_mode = RadioField(_l("When a prompt holds personal data"), choices=choices(GUARD_MODE),
                            default=GuardMode.WARN.value, validators=[InputRequired(_l("Choose what the guard does."))])
    person_daily_tokens = WholeNumberField(
        _l("Tokens per person per day"),
        validators=[InputRequired(_l("Enter a number of tokens (0 turns calls off).")),
                    within(0, MAX_PERSON_DAILY_TOKENS, _l("Enter a number from 0 to %(max)s.", max=f"{MAX_PERSON_DAILY_TOKENS:,}"))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    company_monthly_tokens = WholeNumberField(
        _l("Tokens per company per month"),
        validators=[InputRequired(_l("Enter a number of tokens (0 turns calls off).")),
                    within(0, MAX_COMPANY_MONTHLY_TOKENS, _l("Enter a number from 0 to %(max)s.", max=f"{MAX_COMPANY_MONTHLY_TOKENS:,}"))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    retention_days = WholeNumberField(
        _l("Keep prompts and answers for (days)"),
        validators=[InputRequired(_l("Enter a number of days from 0 to 365.")),
                    within(0, MAX_RETENTION_DAYS, _l("Enter a number of days from 0 to 365."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    # step-up (leadthe.auth.reauth.confirm_identity says what is missing)
    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()
