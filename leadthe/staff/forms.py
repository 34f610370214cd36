from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class AnswerForm(FlaskForm):
    response = TextAreaField("Answer to the requester", validators=[DataRequired("Write the answer the requester will receive."), Length(max=10000)],
                             render_kw={"rows": 8})
    outcome = RadioField("Outcome", choices={"completed": "Completed", "rejected": "Rejected (explain why in the answer)"},
                         default="completed", validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = StringField("Reason (recorded in the audit log)", validators=[DataRequired("Give the reason."), Length(max=300)])
