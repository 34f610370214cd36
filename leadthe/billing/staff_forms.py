"""The forms of the staff billing console (``/staff/billing``): a trial extension and a credit (each with the
reason that goes into the audit log), a new plan, a plan's details and its new prices (a new version)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, StopValidation, ValidationError
from wtforms.widgets import TextInput

from leadthe.forms import FlaskForm, strip

MAX_TRIAL_DAYS = 90
MAX_CREDIT_CENTS = 10_000_00
MAX_PRICE_CENTS = 100_000_00  # per seat: far above any real price, far inside an integer
MIN_REASON = 10

# ASCII digits only: "¹" and "٣" are digits to str.isdigit() but no number to a finance team
_WHOLE = re.compile(r"[0-9]{1,6}")
_MONEY = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")


class _TypedField(Field):
    """A text input whose value is parsed: what was typed comes back as typed, a wrong value is one clear
    error beside the field."""

    widget = TextInput()
    message = _l("Enter a number.")

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else self.shown(self.data))

    def shown(self, data) -> str:
        return str(data)

    def parse(self, text: str):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace(" ", "")
        self.data = None
        if text:
            self.data = self.parse(text)
            if self.data is None:
                raise ValueError(self.message)


class WholeNumberField(_TypedField):
    message = _l("Enter a whole number, e.g. 14.")

    def parse(self, text: str):
        return int(text) if _WHOLE.fullmatch(text) else None


class MoneyField(_TypedField):
    """An amount in euros with up to two decimals ("250", "99.50" or "99,50"), held in cents."""

    message = _l("Enter an amount in euros, e.g. 99.50.")

    def shown(self, data) -> str:
        return f"{data // 100}.{data % 100:02d}"

    def parse(self, text: str):
        match = _MONEY.fullmatch(text)
        if not match:
            return None
        return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def between(low: int, high: int, message):
    def check(form, field):
        if field.process_errors:
            raise StopValidation()  # the field says already that it is no number
        if field.data is None or not low <= field.data <= high:
            raise ValidationError(message)
    return check


def _reason_field():
    return TextAreaField(
        _l("Reason (recorded in the audit log)"), filters=[strip], render_kw={"rows": 3},
        validators=[DataRequired(_l("Give the reason.")),
                    Length(min=MIN_REASON, max=500, message=_l("Write the reason in 10 to 500 characters."))])


class TrialForm(FlaskForm):
    days = WholeNumberField(_l("Days to add"), validators=[
        between(1, MAX_TRIAL_DAYS, _l("Add between 1 and 90 days."))])
    reason = _reason_field()


class CreditForm(FlaskForm):
    amount = MoneyField(_l("Credit in EUR (net)"), validators=[
        between(1, MAX_CREDIT_CENTS, _l("Enter an amount above 0 and at most 10,000 EUR."))])
    reason = _reason_field()


def _price(label):
    return MoneyField(label, validators=[between(0, MAX_PRICE_CENTS, _l("Enter a price between 0 and 100,000 EUR."))])


class PlanDetailsForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(_l("Give the plan a name.")), Length(max=120)])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Length(max=500)], render_kw={"rows": 3})
    position = WholeNumberField(_l("Position in the list"), default=0, validators=[
        between(0, 999, _l("Enter a position between 0 and 999."))])
    active = BooleanField(_l("Offered to companies that subscribe now"), default=True)


class NewPlanForm(PlanDetailsForm):
    code = StringField(_l("Code"), filters=[strip, lambda v: v.lower() if isinstance(v, str) else v], validators=[
        DataRequired(_l("Give the plan a code.")),
        Regexp(r"^[a-z][a-z0-9-]{1,39}$", message=_l("Use 2 to 40 lower-case letters, digits and hyphens, starting with a letter."))])
    month = _price(_l("Price per seat and month in EUR (net)"))
    year = _price(_l("Price per seat and year in EUR (net)"))


class PricesForm(FlaskForm):
    month = _price(_l("Price per seat and month in EUR (net)"))
    year = _price(_l("Price per seat and year in EUR (net)"))
    note = StringField(_l("Why the price changes (for staff)"), filters=[strip], validators=[
        DataRequired(_l("Say why the price changes.")), Length(max=500)])
