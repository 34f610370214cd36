"""The forms of ``/admin/billing``: subscribe, change seats, billing details, billing members. Each form has a
prefix, so their fields keep distinct ids on the one page. Choices (plans, countries, people) are set by the
view."""
from __future__ import annotations

from babel import Locale
from flask_babel import get_locale, lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from leadthe.forms import FlaskForm, choices, strip
from leadthe.models.enums import BillingInterval

MAX_SEATS = 100_000
INTERVALS = {BillingInterval.MONTH: _l("Monthly"), BillingInterval.YEAR: _l("Yearly")}
# Babel's territories that are not countries (regions, the EU, unknown)
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


def country_choices() -> list[SelectChoice]:
    """ISO 3166 countries named in the viewer's language, sorted by name."""
    names = Locale.parse(str(get_locale() or "en")).territories
    rows = sorted(((code, name) for code, name in names.items()
                   if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES), key=lambda row: row[1])
    return [SelectChoice("", _l("Choose a country"))] + [SelectChoice(code, name) for code, name in rows]


def country_name(code: str) -> str:
    return Locale.parse(str(get_locale() or "en")).territories.get(code or "", code or "")


def _seats_field(label):
    return IntegerField(label, validators=[InputRequired(_l("Enter the number of seats.")),
                                           NumberRange(min=1, max=MAX_SEATS, message=_l("Enter a number from 1 to 100,000."))],
                        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_SEATS})


class SubscribeForm(FlaskForm):
    plan = RadioField(_l("Plan"), validators=[InputRequired(_l("Choose a plan."))])
    interval = RadioField(_l("Billing interval"), choices=choices(INTERVALS), default=BillingInterval.MONTH,
                          validators=[InputRequired(_l("Choose monthly or yearly."))])
    seats = _seats_field(_l("Number of seats"))


class SeatsForm(FlaskForm):
    seats = _seats_field(_l("Paid seats"))


class DetailsForm(FlaskForm):
    legal_name = StringField(_l("Legal name of the company"), validators=[Length(max=200)], filters=[strip],
                             render_kw={"autocomplete": "organization"})
    address_line1 = StringField(_l("Address line 1"), validators=[Length(max=200)], filters=[strip],
                                render_kw={"autocomplete": "address-line1"})
    address_line2 = StringField(_l("Address line 2 (optional)"), validators=[Length(max=200)], filters=[strip],
                                render_kw={"autocomplete": "address-line2"})
    postcode = StringField(_l("Postcode"), validators=[Length(max=20)], filters=[strip],
                           render_kw={"autocomplete": "postal-code"})
    city = StringField(_l("City"), validators=[Length(max=120)], filters=[strip], render_kw={"autocomplete": "address-level2"})
    country = SelectField(_l("Country"), validators=[Optional()])
    vat_id = StringField(_l("VAT ID (optional)"), validators=[Length(max=30)], filters=[strip],
                         render_kw={"spellcheck": "false", "autocapitalize": "characters", "autocomplete": "off"})
    purchase_order = StringField(_l("Purchase order reference (optional)"), validators=[Length(max=100)], filters=[strip])


class MemberForm(FlaskForm):
    email = StringField(_l("E-mail address of the person"), validators=[Optional(), Length(max=254)], filters=[strip],
                        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    user_id = SelectField(_l("Or choose a person"), validators=[Optional()])
    receives_mail = BooleanField(_l("Receives invoices and payment reminders"), default=True)
