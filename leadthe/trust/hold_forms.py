"""Forms of the legal-hold pages."""
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from flask_babel import lazy_gettext as _l

from leadthe.forms import FlaskForm, choices
from leadthe.models import utcnow

TARGETS = {"person": _l("A person (by e-mail address)"), "company": _l("A company (by name or id)")}


def _not_past(form, field):
    if field.data is not None and field.data < utcnow().date():
        raise ValidationError(_l("Choose today or a later date, or leave it empty."))


class HoldDetailsForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason for the hold.")), Length(max=500)],
                           render_kw={"rows": 3})
    reference = StringField(_l("Reference (case or file number)"), validators=[Optional(), Length(max=120)])
    ends_on = DateField(_l("Ends on (optional)"), validators=[Optional(), _not_past])


class NewHoldForm(HoldDetailsForm):
    target = RadioField(_l("Hold on"), choices=choices(TARGETS), default="person",
                        validators=[DataRequired(_l("Choose a person or a company."))])
    person = StringField(_l("The person's e-mail address"), validators=[Optional(), Length(max=254)])
    company = StringField(_l("The company's name or id"), validators=[Optional(), Length(max=200)])


class ChangeHoldForm(HoldDetailsForm):
    change_reason = StringField(_l("Why it changes (recorded in the audit log)"),
                                validators=[DataRequired(_l("Say why the hold changes.")), Length(max=300)])


class ReleaseHoldForm(FlaskForm):
    release_reason = StringField(_l("Why the hold is released (recorded in the audit log)"),
                                 validators=[DataRequired(_l("Say why the hold is released.")), Length(max=500)])
    confirm = BooleanField(_l("I understand that erasure and retention resume for the held data at once"),
                           validators=[DataRequired(_l("Confirm that erasure and retention resume."))])
