"""The lab's form: the learner's prompt (sent to the model, or checked against the rubric)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from leadthe.forms import FlaskForm

MAX_PROMPT = 4000


def _rstrip(value):
    return value.strip() if isinstance(value, str) else value


class PromptForm(FlaskForm):
    prompt = TextAreaField(
        _l("Your prompt"), filters=[_rstrip],
        validators=[DataRequired(_l("Write your prompt first.")),
                    Length(max=MAX_PROMPT, message=_l("Keep your prompt under 4,000 characters."))],
        render_kw={"rows": 8, "maxlength": MAX_PROMPT})
    # warn mode: the learner saw the personal data the guard found and sends the prompt anyway
    confirm = BooleanField(_l("I checked: send it anyway"))
