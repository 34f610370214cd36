"""Shared form pieces."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length
from flask_babel import lazy_gettext as _l


def strip(value):
    """A field filter. WTForms' Optional() ends the checks for a value of only whitespace, so a field with
    Optional() must strip, or "   " (or 30,000 line breaks) would be saved unchecked."""
    return value.strip() if isinstance(value, str) else value


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
