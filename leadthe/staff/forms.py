from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from flask_babel import lazy_gettext as _l
from leadthe.forms import FlaskForm, choices
from leadthe.legal.services import KINDS
from leadthe.models.support import TICKET_STATUSES
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


class PolicyForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=choices(KINDS))
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the document a title.")), Length(max=200)])
    summary = StringField(_l("What changed, in one or two sentences"), validators=[DataRequired(_l("Say what changed.")), Length(max=500)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(_l("Write the text."))], render_kw={"rows": 18})
    body_de = TextAreaField(_l("German translation (Markdown, optional; the English text stays authoritative)"),
                            render_kw={"rows": 8})
    effective = DateField(_l("In effect from"), validators=[DataRequired(_l("Choose the date it takes effect."))])
    material = BooleanField(_l("Important (material) change: notify everyone and ask them to acknowledge it"))
    categories_changed = BooleanField(_l("The categories of data or cookies changed: ask for cookie consent again"))


class AccessForm(FlaskForm):
    reason = StringField(_l("Why do you need to see this person's data?"), validators=[DataRequired(_l("Give the reason.")), Length(max=300)])
    reference = StringField(_l("Ticket or request reference"), validators=[DataRequired(_l("Give the ticket or request reference, e.g. #123.")), Length(max=60)])


class TicketAdminForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(TICKET_STATUSES))
    assign = SelectField(_l("Assigned to"), choices={})


class NoticeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the notice a title.")), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write the message.")), Length(max=5000)], render_kw={"rows": 8})


class OwnershipNoticeForm(FlaskForm):
    """A change of ownership (issue 21): previewed, then confirmed, then shown to everyone and mailed."""
    new_owner = StringField(_l("New owner"), validators=[DataRequired(_l("Name the new owner.")), Length(max=200)])
    transfer_on = DateField(_l("Date of the transfer"), validators=[DataRequired(_l("Give the date of the transfer (YYYY-MM-DD)."))])
    body = TextAreaField(_l("What happens to people's data"), validators=[
        DataRequired(_l("Say what happens to people's data.")), Length(max=3000)], render_kw={"rows": 6})
    contact = StringField(_l("Contact for questions"), validators=[DataRequired(_l("Give a contact for questions.")), Length(max=200)])
    confirm = BooleanField(_l("I have checked the preview: show this notice to everyone and mail every active user"))
