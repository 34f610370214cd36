"""The style guide's sample form: shown with errors, so the error states can be reviewed."""
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email

from leadthe.forms import FlaskForm, choices


class SampleForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your full name.")])
    email = EmailField("E-mail address", validators=[DataRequired(), Email("Enter an e-mail address like name@example.com.")])
    role = SelectField("Role", choices=choices({"learner": "Learner", "manager": "Manager", "admin": "Company admin"}))
    agree = BooleanField("I have read the terms", validators=[DataRequired("Tick the box to go on.")])
