from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from leadthe.models.support import TICKET_CATEGORIES


class TicketForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired("Give your question a short subject."), Length(max=200)])
    category = SelectField("Topic", choices=TICKET_CATEGORIES, default="other")
    body = TextAreaField("Message", validators=[DataRequired("Tell us what happened or what you need."), Length(max=10000)],
                         render_kw={"rows": 7})


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[DataRequired("Write your reply."), Length(max=10000)], render_kw={"rows": 5})


class FeedbackForm(FlaskForm):
    rating = RadioField("How useful was it?", choices={str(i): str(i) for i in range(1, 6)},
                        validators=[DataRequired("Choose a rating from 1 to 5.")])
    comment = TextAreaField("Anything to add? (optional)", validators=[Optional(), Length(max=5000)], render_kw={"rows": 4})
    course = HiddenField()
