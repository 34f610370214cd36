from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, URL

from leadthe.models.course import LESSON_KINDS, LEVELS

MAX_ANSWER = 10_000


class AnswerForm(FlaskForm):
    answer = TextAreaField("Your prompt", validators=[DataRequired("Write your prompt before saving."),
                                                     Length(max=MAX_ANSWER, message=f"Keep it under {MAX_ANSWER:,} characters.")],
                           render_kw={"rows": 8})


SLUG_RULE = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case letters, digits and hyphens, e.g. prompt-basics.")


class CourseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the course a title."), Length(max=200)])
    slug = StringField("Address name (slug)", validators=[Optional(), Length(max=80), SLUG_RULE],
                       description="Part of the course's address; leave empty to make one from the title. Keep it stable once learners use it.")
    summary = StringField("Summary", validators=[Length(max=500)])
    topic = StringField("Topic", validators=[DataRequired("Give a topic, e.g. prompting."), Length(max=40)], default="general")
    level = SelectField("Level", choices={lv: lv.capitalize() for lv in LEVELS}, default="beginner")
    audience = StringField("Audience", validators=[Length(max=80)], default="everyone")
    body = TextAreaField("Description (Markdown)", render_kw={"rows": 8})


class ModuleForm(FlaskForm):
    title = StringField("Module title", validators=[DataRequired("Give the module a title."), Length(max=200)])
    body = TextAreaField("Introduction (Markdown)", render_kw={"rows": 4})


class LessonForm(FlaskForm):
    title = StringField("Lesson title", validators=[DataRequired("Give the lesson a title."), Length(max=200)])
    slug = StringField("Address name (slug)", validators=[Optional(), Length(max=80), SLUG_RULE],
                       description="Leave empty to make one from the title.")
    module_id = SelectField("Module", coerce=int, choices={})
    kind = SelectField("Kind", choices={k: k.capitalize() for k in LESSON_KINDS}, default="reading")
    minutes = IntegerField("Minutes", validators=[NumberRange(1, 600, "Between 1 and 600 minutes.")], default=5)
    body = TextAreaField("Lesson text (Markdown)", render_kw={"rows": 14})
    prompt = TextAreaField("Practice exercise (practice lessons)", render_kw={"rows": 3})
    video_url = StringField("Video address (video lessons)", validators=[Optional(), URL(require_tld=False, message="Enter a full address starting with https://"), Length(max=500)])
    transcript = TextAreaField("Transcript (video lessons, Markdown)", render_kw={"rows": 6})
