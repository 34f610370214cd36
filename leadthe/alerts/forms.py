from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired

from leadthe.forms import FlaskForm, choices


class AlertActionForm(FlaskForm):
    """The buttons on an alert's page: ``action`` = "acknowledge" or "close"."""
    action = SelectField(_l("Action"), choices=choices({"acknowledge": _l("Acknowledge"), "close": _l("Close")}),
                         validators=[DataRequired(_l("Choose what to do with the alert."))])
