"""Shared form pieces, and the base class of every form (``from leadthe.forms import FlaskForm``)."""
import re

import flask_wtf
from flask import flash, has_request_context, session
from flask_login import current_user
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length
from flask_babel import gettext as _, lazy_gettext as _l

from leadthe.auth import drafts
from leadthe.net import has_control_characters


def strip(value):
    """A field filter. WTForms' Optional() ends the checks for a value of only whitespace, so a field with
    Optional() must strip, or "   " (or 30,000 line breaks) would be saved unchecked."""
    return value.strip() if isinstance(value, str) else value


_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # a text area keeps tabs and line breaks


def single_line(value):
    """The field filter of every one-line field: a line break or other control character is an error beside
    the field (it would end a mail header line or an HTTP header built from the value)."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError(_l("Enter this on one line, without line breaks or other control characters."))
    return value


def plain_text(value):
    """The field filter of every text area: line breaks and tabs are fine, other control characters are not."""
    if isinstance(value, str) and _CONTROL_IN_TEXT.search(value):
        raise ValueError(_l("Remove the control characters from this text."))
    return value


class FlaskForm(flask_wtf.FlaskForm):
    """The base of every form: adds ``single_line`` to each one-line text field (a hidden field is no
    person's input and is checked where it is used) and ``plain_text`` to each text area, after the
    field's own filters (so a stripped trailing line break is no error). On the page a form was posted
    from into an ended session, it comes back filled after the log-in (``leadthe.auth.drafts``)."""

    def __init__(self, *args, **kwargs):
        if not args and "formdata" not in kwargs and has_request_context() and drafts.KEY in session:
            user_id = current_user.id if current_user.is_authenticated else None
            kept = drafts.restore([name for name, _field in self._unbound_fields], user_id)
            if kept is not None:
                kwargs["formdata"] = kept
                flash(_("We kept what you had entered. Check it and send it again."), "info")
        super().__init__(*args, **kwargs)

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            check = None
            if issubclass(field_class, TextAreaField):
                check = plain_text
            elif issubclass(field_class, StringField) and not issubclass(field_class, HiddenField):
                check = single_line
            if check is not None:
                options["filters"] = [*unbound_field.kwargs.get("filters", ()), check]
            return super().bind_field(form, unbound_field, options)


def choices(labels: dict) -> list[SelectChoice]:
    """SelectField/RadioField choices from a {value: label} dict whose labels may be lazy translations
    (WTForms' dict shorthand accepts plain str labels only)."""
    return [SelectChoice(value, label) for value, label in labels.items()]


class EmptyForm(FlaskForm):
    """A form with only a CSRF token, for POST-only buttons (log out, revoke, ...)."""


def email_field(label=_l("E-mail address")):
    return EmailField(
        label,
        validators=[DataRequired(_l("Enter your e-mail address.")), Email(_l("Enter an e-mail address like name@company.com.")), Length(max=254)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"},
        filters=[strip],
    )


def new_password_field(label=_l("Password")):
    return PasswordField(
        label,
        validators=[DataRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password", "minlength": 12},
    )


def distinct_ids(form, prefix: str):
    """Give a form's fields page-unique ids (not names), for pages with several forms sharing field names."""
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = f"{prefix}-{field.name}"
            field.label.field_id = field.id
    return form


def one_time_code_field(label=_l("Code from your authenticator app, or a recovery code"), required=False, numeric=True):
    """A field for a TOTP code (or a recovery code): paste and password managers welcome, spaces allowed."""
    render_kw = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none",
                 "autocorrect": "off", "maxlength": 40}
    if numeric:
        render_kw["inputmode"] = "numeric"
    validators = [Length(max=40)]
    if required:
        validators.insert(0, DataRequired(_l("Enter the code.")))
    return StringField(label, validators=validators, render_kw=render_kw,
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])
