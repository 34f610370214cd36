from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, URL
from flask_babel import lazy_gettext as _l
from leadthe.forms import FlaskForm, choices, strip

from leadthe.models.course import LESSON_KIND_LABELS, LEVEL_LABELS

MAX_ANSWER = 10_000


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your prompt"), validators=[DataRequired(_l("Write your prompt before saving.")),
                                                     Length(max=MAX_ANSWER, message=_l("Keep it under 10,000 characters."))],
                           render_kw={"rows": 8})


SLUG_RULE = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Use lower-case letters, digits and hyphens, e.g. prompt-basics."))


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the course a title.")), Length(max=200)])
    slug = StringField(_l("Address name (slug)"), validators=[Optional(), Length(max=80), SLUG_RULE], filters=[strip],
                       description=_l("Part of the course's address; leave empty to make one from the title. Keep it stable once learners use it."))
    summary = StringField(_l("Summary"), validators=[Length(max=500)])
    topic = StringField(_l("Topic"), validators=[DataRequired(_l("Give a topic, e.g. prompting.")), Length(max=40)], default="general")
    level = SelectField(_l("Level"), choices=choices(LEVEL_LABELS), default="beginner")
    audience = StringField(_l("Audience"), validators=[Length(max=80)], default="everyone")
    body = TextAreaField(_l("Description (Markdown)"), render_kw={"rows": 8})
    objectives = TextAreaField(_l("Learning objectives"), validators=[Length(max=3000)], render_kw={"rows": 5},
                               description=_l("One per line, up to 10: what a learner will be able to do after the course."))


class ModuleForm(FlaskForm):
    # its own id: the course page shows this form beside the course form, which has a "title" too
    title = StringField(_l("Module title"), validators=[DataRequired(_l("Give the module a title.")), Length(max=200)],
                        id="module-title")
    body = TextAreaField(_l("Introduction (Markdown)"), render_kw={"rows": 4})


class LessonForm(FlaskForm):
    title = StringField(_l("Lesson title"), validators=[DataRequired(_l("Give the lesson a title.")), Length(max=200)])
    slug = StringField(_l("Address name (slug)"), validators=[Optional(), Length(max=80), SLUG_RULE], filters=[strip],
                       description=_l("Leave empty to make one from the title."))
    module_id = SelectField(_l("Module"), coerce=int, choices={})
    kind = SelectField(_l("Kind"), choices=choices(LESSON_KIND_LABELS), default="reading")
    minutes = IntegerField(_l("Minutes"), validators=[NumberRange(1, 600, _l("Between 1 and 600 minutes."))], default=5)
    body = TextAreaField(_l("Lesson text (Markdown)"), render_kw={"rows": 14})
    prompt = TextAreaField(_l("Practice exercise (practice lessons)"), render_kw={"rows": 3})
    video_url = StringField(_l("Video address (video lessons)"), filters=[strip], validators=[Optional(), URL(require_tld=False, message=_l("Enter a full address starting with https://")), Length(max=500)])
    transcript = TextAreaField(_l("Transcript (video lessons, Markdown)"), render_kw={"rows": 6})
