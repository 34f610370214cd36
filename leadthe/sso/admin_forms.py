"""The forms of ``/admin/sso``, one per section, each with the step-up fields (password, and code with two-step
verification) where it changes something. Each form has a prefix, so their fields keep distinct ids on the
one page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from leadthe.forms import FlaskForm, choices, one_time_code_field, strip
from leadthe.labels import SSO_PROTOCOL
from leadthe.models.enums import SsoProtocol
from leadthe.sso.domains import MAIL_BOXES

URL_FIELD = {"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off", "inputmode": "url"}
MAX_METADATA = 500_000


class StepUpForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    code = one_time_code_field()


class DomainForm(StepUpForm):
    domain = StringField(_l("Domain"), validators=[Length(max=300)], filters=[strip],
                         render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off",
                                    "placeholder": "example.com"})


class MailDomainForm(FlaskForm):
    box = RadioField(_l("Send the link to"), choices=[SelectChoice(box, box) for box in MAIL_BOXES],
                     validators=[InputRequired(_l("Choose the address to send the link to."))])


class RemoveDomainForm(StepUpForm):
    pass


class ProviderForm(StepUpForm):
    protocol = RadioField(_l("Identity provider"), choices=choices(SSO_PROTOCOL), default=SsoProtocol.NONE.value,
                          validators=[InputRequired(_l("Choose how people log in."))])
    oidc_issuer = StringField(_l("Issuer URL"), validators=[Length(max=500)], filters=[strip],
                              render_kw={**URL_FIELD, "placeholder": "https://login.example.com/realms/staff"})
    oidc_client_id = StringField(_l("Client ID"), validators=[Length(max=255)], filters=[strip],
                                 render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"})
    # write-only: never filled in when the page is shown again; empty keeps the saved secret
    oidc_client_secret = PasswordField(_l("Client secret"), validators=[Length(max=900)], filters=[strip],
                                       render_kw={"autocomplete": "new-password", "spellcheck": "false",
                                                  "autocapitalize": "none"})
    saml_metadata_url = StringField(_l("Metadata URL of the identity provider"), validators=[Length(max=500)],
                                    filters=[strip], render_kw=URL_FIELD)
    saml_metadata_xml = TextAreaField(_l("Or paste the metadata XML"), validators=[Length(max=MAX_METADATA)],
                                      filters=[strip], render_kw={"rows": 6, "spellcheck": "false"})
    saml_metadata_file = FileField(_l("Or upload the metadata file"))
    saml_allow_idp_initiated = BooleanField(_l("Allow log-ins started at the identity provider"))


class RulesForm(StepUpForm):
    jit_enabled = BooleanField(_l("Create an account on a person's first log-in"))
    sso_required = BooleanField(_l("Require single sign-on for the verified domains"))
    break_glass_user_id = SelectField(_l("Admin who may still log in with a password"), choices=[],
                                      validate_choice=False)


class ScimTokenForm(StepUpForm):
    pass
