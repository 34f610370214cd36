"""Forms of the data processing agreement: an admin's acceptance (/admin/dpa) and staff publishing a version."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from leadthe.forms import FlaskForm, strip

ACCEPT_LABEL = _l("I accept the data processing agreement on behalf of my company")


class AcceptDpaForm(FlaskForm):
    legal_name = StringField(_l("Your company's legal name"), filters=[strip],
                             validators=[DataRequired(_l("Enter your company's legal name, as in its register entry.")),
                                         Length(max=200)], render_kw={"autocomplete": "organization"})
    address = TextAreaField(_l("Your company's address (optional)"), filters=[strip], validators=[Length(max=500)],
                            render_kw={"rows": 3, "autocomplete": "street-address"})
    confirm = BooleanField(ACCEPT_LABEL, validators=[DataRequired(
        _l("Tick the box to accept the data processing agreement, or ask another admin to do it."))])


class PublishDpaForm(FlaskForm):
    summary = StringField(_l("What changed, in one or two sentences"), filters=[strip],
                          validators=[DataRequired(_l("Say what changed.")), Length(max=500)])
    body_en = TextAreaField(_l("English text (Markdown, authoritative)"), validators=[DataRequired(_l("Write the text."))],
                            render_kw={"rows": 18})
    body_de = TextAreaField(_l("German translation (Markdown, optional)"), render_kw={"rows": 10})
    confirm = BooleanField(_l("I understand that every company's admins must accept this version before they can use "
                              "the admin pages again"),
                           validators=[DataRequired(_l("Tick the box to publish."))])
