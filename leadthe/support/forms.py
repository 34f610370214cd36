from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from flask_babel import lazy_gettext as _l

from leadthe.forms import FlaskForm, choices, strip
from leadthe.models.support import TICKET_CATEGORIES


class TicketForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Give your question a short subject.")), Length(max=200)])
    category = SelectField(_l("Topic"), choices=choices(TICKET_CATEGORIES), default="other")
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Tell us what happened or what you need.")), Length(max=10000)],
                         render_kw={"rows": 7})


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(_l("Write your reply.")), Length(max=10000)], render_kw={"rows": 5})


class FeedbackForm(FlaskForm):
    rating = RadioField(_l("How useful was it?"), choices={str(i): str(i) for i in range(1, 6)},
                        validators=[DataRequired(_l("Choose a rating from 1 to 5."))])
    comment = TextAreaField(_l("Anything to add? (optional)"), validators=[Optional(), Length(max=5000)], filters=[strip], render_kw={"rows": 4})
    course = HiddenField()
