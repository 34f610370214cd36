from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from flask_babel import lazy_gettext as _l
from leadthe.forms import FlaskForm, choices
from leadthe.privacy.forms import ReauthForm


class AnswerForm(FlaskForm):
    response = TextAreaField(_l("Answer to the requester"), validators=[DataRequired(_l("Write the answer the requester will receive.")), Length(max=10000)],
                             render_kw={"rows": 8})
    outcome = RadioField(_l("Outcome"), choices=choices({"completed": _l("Completed"), "rejected": _l("Rejected (explain why in the answer)")}),
                         default="completed", validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason (recorded in the audit log)"), validators=[DataRequired(_l("Give the reason.")), Length(max=300)])


class ConfirmedReasonForm(ReauthForm):
    """For actions that cannot be undone: the reason, and the staff member's password and code every time."""
    reason = ReasonForm.reason
