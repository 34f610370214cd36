from flask import current_app
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from flask_babel import lazy_gettext as _l

from leadthe.auth.passwords import MAX_LENGTH, password_problems
from leadthe.forms import FlaskForm, email_field, new_password_field, one_time_code_field, strip


class NewPasswordMixin:
    """Checks a new password against the rules, the strength estimate and what the form knows of the person:
    its own ``email``, ``name`` and ``organization`` fields, else ``_email_hint`` and ``_user_inputs`` that
    the view sets (the account's e-mail address, name and company name)."""

    def validate_password(self, field):
        email = self.email.data if hasattr(self, "email") and self.email.data else getattr(self, "_email_hint", "")
        user_inputs = list(getattr(self, "_user_inputs", ()))
        for name in ("name", "organization"):
            own = getattr(self, name, None)
            if own is not None and isinstance(own.data, str):
                user_inputs.append(own.data)
        problems = password_problems(field.data or "", email or "", user_inputs)
        if problems:
            raise ValidationError(" ".join(problems))


class SignupForm(NewPasswordMixin, FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Enter your name.")), Length(max=120)],
        filters=[strip],
        render_kw={"autocomplete": "name"},
    )
    email = email_field(_l("Work e-mail address"))
    password = new_password_field()
    organization = StringField(
        _l("Company or organisation"),
        validators=[DataRequired(_l("Enter your company's name.")), Length(max=200)],
        filters=[strip],
        render_kw={"autocomplete": "organization"},
    )
    job_title = StringField(_l("Job title (optional)"), validators=[Length(max=120)], filters=[strip], render_kw={"autocomplete": "organization-title"})
    department = StringField(_l("Department (optional)"), validators=[Length(max=120)], filters=[strip])
    age_confirm = BooleanField(
        _l("I am 18 or older"),
        validators=[DataRequired(_l("LeadThe.AI is only for people aged 18 or older, so we can't create this account."))],
    )
    accept_policy = BooleanField(
        _l("I have read and accept the privacy policy"),
        validators=[DataRequired(_l("Please read and accept the privacy policy to create an account."))],
    )
    # the data processing agreement (leadthe.trust.dpa): the legal name defaults to the company's name; the box is
    # required (with DPA_REQUIRED) when the form came from our page, which names the version it showed. A post
    # without that version (a client of the older sign-up fields) creates the company, and its admin accepts the
    # agreement on /admin/dpa before reaching the admin pages.
    legal_name = StringField(_l("Your company's legal name (optional)"), validators=[Length(max=200)], filters=[strip],
                             render_kw={"autocomplete": "organization"})
    accept_dpa = BooleanField(_l("I accept the data processing agreement on behalf of my company"))
    dpa_version = HiddenField()

    def validate_accept_dpa(self, field):
        if current_app.config.get("DPA_REQUIRED") and (self.dpa_version.data or "").strip() and not field.data:
            raise ValidationError(_l("Please read and accept the data processing agreement to create your company's account."))


class LoginForm(FlaskForm):
    email = email_field()
    # not required by the form: an empty password is how an address of a single sign-on domain goes to its
    # identity provider; the view asks for it ("Enter your password.") everywhere else
    password = PasswordField(
        _l("Password"),
        validators=[Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = new_password_field(_l("New password"))


class SecondFactorForm(FlaskForm):
    code = one_time_code_field(_l("6-digit code from your authenticator app"), required=True)


class KeepAccountForm(FlaskForm):
    """"Keep my account" after the password; people with two-step verification add their code."""
    code = one_time_code_field(_l("6-digit code from your authenticator app, or a recovery code"), numeric=False)


class RecoveryCodeLoginForm(FlaskForm):
    code = one_time_code_field(_l("Recovery code"), required=True, numeric=False)


class SsoWelcomeForm(FlaskForm):
    """A person's first log-in through their company's identity provider: their name (from the identity
    provider, editable), 18+ and the privacy policy, in the words and rules of the invitation form."""
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120)], filters=[strip],
                       render_kw={"autocomplete": "name"})
    age_confirm = BooleanField(_l("I am 18 or older"), validators=[
        DataRequired(_l("LeadThe.AI is only for people aged 18 or older, so we can't create this account."))])
    accept_policy = BooleanField(_l("I have read and accept the privacy policy"), validators=[
        DataRequired(_l("Please read and accept the privacy policy to create an account."))])


class SsoLoginForm(FlaskForm):
    """"Log in with single sign-on": the address alone names the company (by its verified domain)."""
    email = email_field(_l("Work e-mail address"))
