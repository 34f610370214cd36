"""``/admin/sso``: a company's verified domains, identity provider, log-in rules and SCIM tokens (company
admins; step-up to change); ``/sso/verify-domain/<token>``, the link mailed to an address at a domain.

One page with four sections; each section posts to its own endpoint, which answers the whole page again with
the errors beside the fields (422) or goes back to the page (303) with a message. Checking a domain's DNS
record and mailing a link need no step-up: they change no setting, they only prove what the DNS or the
mailbox says about a domain the admin already claimed with step-up. A new SCIM token is shown once, in the
answer to the POST that made it (never in a flash message or the session).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from leadthe import audit
from leadthe.admin import admin_required
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.link_tokens import forget_token, park_token, parked_token
from leadthe.models import User, utcnow
from leadthe.models.enums import Role, SsoProtocol, UserStatus
from leadthe.models.sso import SsoDomain, SsoSettings
from leadthe.net import absolute_url
from leadthe.scim import tokens
from leadthe.sso import admin_bp, bp, domains, oidc, saml, settings as sso_settings
from leadthe.sso.admin_forms import MAX_METADATA, DomainForm, MailDomainForm, ProviderForm, RemoveDomainForm, RulesForm, ScimTokenForm
from leadthe.sso.http import IdpUnreachable, url_problem
from leadthe.tenancy import get_or_404, scoped, scoped_get

PAGE = "sso/admin.html"


# --- the page -------------------------------------------------------------------------------------------

def _admins(org_id: int) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.org_id == org_id, User.role == Role.ADMIN, User.status == UserStatus.ACTIVE).order_by(User.name)))


def _provider_form(current: SsoSettings, formdata=None) -> ProviderForm:
    data = {"protocol": current.protocol, "oidc_issuer": current.oidc_issuer, "oidc_client_id": current.oidc_client_id,
            "saml_metadata_url": current.saml_metadata_url,
            # pasted metadata comes back in the text area; fetched metadata stays behind its URL
            "saml_metadata_xml": "" if current.saml_metadata_url else current.saml_idp_metadata,
            "saml_allow_idp_initiated": current.saml_allow_idp_initiated}
    return ProviderForm(prefix="provider", formdata=formdata, data=data)


def _rules_form(current: SsoSettings, formdata=None) -> RulesForm:
    form = RulesForm(prefix="rules", formdata=formdata, data={
        "jit_enabled": current.jit_enabled, "sso_required": current.sso_required,
        "break_glass_user_id": str(current.break_glass_user_id or "")})
    form.break_glass_user_id.choices = [SelectChoice("", _("Choose an admin"))] + [
        SelectChoice(str(admin.id), f"{admin.name} ({admin.email})") for admin in _admins(current.org_id)]
    return form


def _forms(current: SsoSettings) -> dict:
    return {"domain_form": DomainForm(prefix="domain", formdata=None), "provider_form": _provider_form(current),
            "rules_form": _rules_form(current), "scim_form": ScimTokenForm(prefix="scim", formdata=None),
            "revoke_form": ScimTokenForm(prefix="revoke", formdata=None), "check_form": EmptyForm(formdata=None)}


def _scim_base_url() -> str:
    return current_app.config["SERVER_BASE_URL"].rstrip("/") + current_app.blueprints["scim"].url_prefix


def _page(current: SsoSettings, **given) -> dict:
    """Everything the page shows; ``given`` replaces a section's fresh form by the one that was posted."""
    key = current.public_key
    sp_urls = {"entity_id": absolute_url("sso.saml_metadata", key=key), "acs_url": absolute_url("sso.saml_acs", key=key),
               "metadata_url": absolute_url("sso.saml_metadata", key=key)} if key else {}
    return dict(
        settings=current, domains=domains.domains_of(current.org_id), verified_count=domains.verified_count(current.org_id),
        record_prefix=domains.RECORD_PREFIX, value_prefix=domains.VALUE_PREFIX, check_words=domains.check_words,
        secret_saved=current.oidc_client_secret is not None,
        redirect_uri=absolute_url("sso.oidc_callback"), sp_urls=sp_urls,
        scim_base_url=_scim_base_url(), scim_token=tokens.active_token(current.org_id), new_token=None,
        break_glass=scoped_get(User, current.break_glass_user_id) if current.break_glass_user_id else None,
        **{**_forms(current), **given})


def _again(current: SsoSettings, name: str, form, **extra):
    """The page again with the section's errors (422; 200 for htmx, which swaps only what succeeded)."""
    return render_form(PAGE, form, invalid=True, **_page(current, **{name: form}, **extra))


def _step_up(form) -> bool:
    """True when the admin proved it is them; else the problem is beside its field."""
    problem = confirm_identity(current_user, form.password.data, form.code.data)
    if problem:
        show_problem(form, problem)
        return False
    return True


def _settings_to_show(org_id: int) -> SsoSettings:
    """The company's settings for a GET, which writes nothing: before the first change, an unsaved row with the
    defaults and no public key yet (the first change on the page makes the row, see ``sso_settings.for_org``).
    POSTs use it too until they change something: a refused POST is rolled back, and must not show a public
    key that would be gone."""
    current = db.session.scalar(scoped(SsoSettings, org_id))
    if current is not None:
        return current
    return SsoSettings(org_id=org_id, public_key=None, protocol=SsoProtocol.NONE, oidc_issuer="", oidc_client_id="",
                       saml_metadata_url="", saml_idp_metadata="", saml_idp_entity_id="", saml_allow_idp_initiated=False,
                       jit_enabled=True, sso_required=False)


@admin_bp.route("/sso")
@admin_required
def settings():
    return render(PAGE, **_page(sso_settings.for_org_apart(current_user.org_id) or _settings_to_show(current_user.org_id)))


# --- domains --------------------------------------------------------------------------------------------

@admin_bp.route("/sso/domains", methods=["POST"])
@admin_required
@limiter.limit("30 per hour")
def add_domain():
    current = _settings_to_show(current_user.org_id)
    form = DomainForm(prefix="domain")
    if form.validate_on_submit():
        try:
            domains.claimable(current.org_id, form.domain.data)
        except domains.DomainProblem as exc:
            form.domain.errors.append(str(exc))
        else:
            if _step_up(form):
                sso_settings.for_org(current.org_id)  # from now on the page shows the SAML values of the company
                row = domains.claim(current.org_id, current_user, form.domain.data)
                flash(_("%(domain)s is in your list. Now prove that your company owns it.", domain=row.domain), "success")
                return see_other(url_for("sso_admin.settings") + "#domains")
    return _again(current, "domain_form", form)


@admin_bp.route("/sso/domains/<int:domain_id>/check", methods=["POST"])
@admin_required
@limiter.limit("60 per hour")
def check_domain(domain_id):
    row = get_or_404(SsoDomain, domain_id, current_user.org_id)
    if EmptyForm().validate_on_submit():
        if domains.check_dns(row, current_user):
            flash(_("%(domain)s is verified.", domain=row.domain), "success")
        else:
            flash(_("%(domain)s is not verified yet: %(reason)s", domain=row.domain, reason=domains.check_words(row)), "error")
        db.session.flush()
    return see_other(url_for("sso_admin.settings") + "#domains")


@admin_bp.route("/sso/domains/<int:domain_id>/mail", methods=["GET", "POST"])
@admin_required
@limiter.limit("10 per hour", methods=["POST"])
def mail_domain(domain_id):
    row = get_or_404(SsoDomain, domain_id, current_user.org_id)
    form = MailDomainForm()
    if row.verified_at is None and form.validate_on_submit():
        address = domains.send_link(row, current_user, form.box.data)
        db.session.flush()
        flash(_("We sent a link to %(address)s. Whoever reads that mailbox forwards it to you or opens it while "
                "logged in as an admin of your company.", address=address), "success")
        return see_other(url_for("sso_admin.settings") + "#domains")
    return render_form("sso/admin_mail.html", form, domain=row)


@admin_bp.route("/sso/domains/<int:domain_id>/remove", methods=["GET", "POST"])
@admin_required
@limiter.limit("30 per hour", methods=["POST"])
def remove_domain(domain_id):
    row = get_or_404(SsoDomain, domain_id, current_user.org_id)
    form = RemoveDomainForm(prefix="remove")
    if form.validate_on_submit() and _step_up(form):
        name = row.domain
        if domains.remove(row, current_user):
            flash(_("%(domain)s is removed. It was your last verified domain, so single sign-on is no longer "
                    "required: people can log in with their password again.", domain=name), "info")
        else:
            flash(_("%(domain)s is removed.", domain=name), "success")
        return see_other(url_for("sso_admin.settings") + "#domains")
    return render_form("sso/admin_remove.html", form, invalid=request.method == "POST", domain=row,
                       ends_required=domains.ends_sso_required(row))


# --- identity provider ----------------------------------------------------------------------------------

def _oidc_values(form: ProviderForm, current: SsoSettings) -> dict | None:
    """The OIDC settings to save (discovery done), or None with the errors beside the fields."""
    problem = url_problem(form.oidc_issuer.data)
    if problem:
        form.oidc_issuer.errors.append(problem)
    if not form.oidc_client_id.data:
        form.oidc_client_id.errors.append(_("Enter the client ID the identity provider gave you."))
    if not form.oidc_client_secret.data and current.oidc_client_secret is None:
        form.oidc_client_secret.errors.append(_("Enter the client secret the identity provider gave you."))
    if form.errors or not _step_up(form):
        return None
    try:
        metadata, jwks = oidc.discover(form.oidc_issuer.data)
    except (IdpUnreachable, ValueError) as exc:
        form.oidc_issuer.errors.append(str(exc))
        return None
    return {"oidc_issuer": form.oidc_issuer.data, "oidc_client_id": form.oidc_client_id.data,
            "oidc_metadata": metadata, "oidc_jwks": jwks, "oidc_fetched_at": utcnow()}


def _uploaded_metadata(form: ProviderForm) -> str:
    upload = form.saml_metadata_file.data
    if upload is None or not getattr(upload, "filename", ""):
        return ""
    raw = upload.read(MAX_METADATA + 1)
    if len(raw) > MAX_METADATA:
        form.saml_metadata_file.errors = [_("The file is too large for metadata.")]
        return ""
    return raw.decode("utf-8", "replace").strip()


def _saml_source_problem(url: str, xml: str) -> str | None:
    if url and xml:
        return _("Give the metadata's URL or the metadata itself, not both.")
    if url:
        return url_problem(url)
    if not xml:
        return _("Enter the URL of the identity provider's metadata, or paste the metadata.")
    return None


def _saml_values(form: ProviderForm) -> dict | None:
    """The SAML settings to save (metadata fetched and read), or None with the errors beside the fields."""
    uploaded = _uploaded_metadata(form)
    url, xml = form.saml_metadata_url.data or "", uploaded or form.saml_metadata_xml.data or ""
    # an error about the metadata goes beside the field it came from
    where = form.saml_metadata_url if url else form.saml_metadata_file if uploaded else form.saml_metadata_xml
    problem = _saml_source_problem(url, xml)
    if problem and not form.saml_metadata_file.errors:
        form.saml_metadata_url.errors.append(problem)
    if form.errors or not _step_up(form):
        return None
    try:
        xml = saml.fetch_metadata(url) if url else xml
        entity_id = saml.idp_entity_id(xml)
    except (IdpUnreachable, ValueError) as exc:
        where.errors = list(where.errors) + [str(exc)]
        return None
    return {"saml_metadata_url": url, "saml_idp_metadata": xml, "saml_idp_entity_id": entity_id,
            "saml_fetched_at": utcnow(), "saml_allow_idp_initiated": bool(form.saml_allow_idp_initiated.data)}


def _provider_values(form: ProviderForm, current: SsoSettings) -> dict | None:
    protocol = form.protocol.data
    if protocol == SsoProtocol.NONE:
        if current.sso_required:
            form.protocol.errors.append(_("Single sign-on is required for your domains. Turn that off under "
                                          "“Log-in rules” first."))
            return None
        return {"protocol": protocol} if _step_up(form) else None
    values = _oidc_values(form, current) if protocol == SsoProtocol.OIDC else _saml_values(form)
    return None if values is None else {"protocol": protocol, **values}


_WATCHED = {"protocol", "oidc_issuer", "oidc_client_id", "saml_metadata_url", "saml_idp_entity_id",
            "saml_allow_idp_initiated", "oidc_metadata", "oidc_jwks", "saml_idp_metadata"}


@admin_bp.route("/sso/provider", methods=["POST"])
@admin_required
@limiter.limit("30 per hour")
def save_provider():
    current = _settings_to_show(current_user.org_id)
    form = ProviderForm(prefix="provider")
    values = _provider_values(form, current) if form.validate_on_submit() else None
    if values is None:
        return _again(current, "provider_form", form)
    current = sso_settings.for_org(current.org_id)
    changed = sorted(name for name in _WATCHED & values.keys() if getattr(current, name) != values[name])
    new_secret = form.oidc_client_secret.data if values["protocol"] == SsoProtocol.OIDC else ""
    for name, value in values.items():
        setattr(current, name, value)
    if new_secret:
        current.oidc_client_secret, current.oidc_secret_set_at = new_secret, utcnow()
        changed = sorted([*changed, "oidc_client_secret"])  # that it changed, never what it is
    current.updated_by_id = current_user.id
    if changed:  # saved again as it was: the metadata is read afresh, nothing to audit
        action = {SsoProtocol.OIDC: "sso.oidc_changed", SsoProtocol.SAML: "sso.saml_changed"}.get(
            values["protocol"], "sso.settings_changed")
        audit.record(action, actor=current_user, org_id=current.org_id, fields=changed)
    db.session.flush()
    flash(_("Identity provider saved."), "success")
    return see_other(url_for("sso_admin.settings") + "#provider")


# --- log-in rules ---------------------------------------------------------------------------------------

def _check_rules(form: RulesForm, current: SsoSettings) -> int | None:
    """The break-glass admin's id (or None) when the rules may be saved; errors beside the fields otherwise."""
    admins = {admin.id for admin in _admins(current.org_id)}
    chosen = form.break_glass_user_id.data or ""
    admin_id = int(chosen) if chosen.isdigit() and int(chosen) in admins else None
    if chosen and admin_id is None:
        form.break_glass_user_id.errors.append(_("Choose one of your company's active admins."))
    if form.sso_required.data:
        if domains.verified_count(current.org_id) == 0:
            form.sso_required.errors.append(_("Verify at least one domain first: single sign-on can only be "
                                              "required for verified domains."))
        elif not current.enabled:
            form.sso_required.errors.append(_("Set up the identity provider first, or nobody could log in."))
        if not chosen:
            form.break_glass_user_id.errors.append(_("Choose the admin who may still log in with a password, in "
                                                     "case the identity provider fails."))
    return admin_id


@admin_bp.route("/sso/rules", methods=["POST"])
@admin_required
@limiter.limit("30 per hour")
def save_rules():
    current = _settings_to_show(current_user.org_id)
    form = _rules_form(current, formdata=request.form)
    admin_id = _check_rules(form, current) if form.validate_on_submit() else None
    if form.errors or not _step_up(form):
        return _again(current, "rules_form", form)
    current = sso_settings.for_org(current.org_id)
    values = {"jit_enabled": bool(form.jit_enabled.data), "sso_required": bool(form.sso_required.data),
              "break_glass_user_id": admin_id}
    changed = sorted(name for name, value in values.items() if getattr(current, name) != value)
    if not changed:
        flash(_("Nothing changed: the rules are as they were."), "info")
        return see_other(url_for("sso_admin.settings") + "#rules")
    for name, value in values.items():
        setattr(current, name, value)
    current.updated_by_id = current_user.id
    audit.record("sso.settings_changed", actor=current_user, org_id=current.org_id, fields=changed)
    db.session.flush()
    flash(_("Log-in rules saved."), "success")
    return see_other(url_for("sso_admin.settings") + "#rules")


# --- SCIM -----------------------------------------------------------------------------------------------

@admin_bp.route("/sso/scim-token", methods=["POST"])
@admin_required
@limiter.limit("20 per hour")
def scim_token():
    current = _settings_to_show(current_user.org_id)
    form = ScimTokenForm(prefix="scim")
    if not (form.validate_on_submit() and _step_up(form)):
        return _again(current, "scim_form", form)
    current = sso_settings.for_org(current.org_id)
    token = tokens.issue(current.org_id, current_user)
    db.session.flush()
    # shown in this answer only: no redirect, no flash, nothing in the session
    page = _page(current)
    page["new_token"] = token
    response = render(PAGE, **page)
    return response[0], response[1], {"Cache-Control": "no-store"}


@admin_bp.route("/sso/scim-token/revoke", methods=["POST"])
@admin_required
@limiter.limit("20 per hour")
def revoke_scim_token():
    current = _settings_to_show(current_user.org_id)
    form = ScimTokenForm(prefix="revoke")
    if not (form.validate_on_submit() and _step_up(form)):
        return _again(current, "revoke_form", form)
    if tokens.revoke(current.org_id, current_user):
        flash(_("The SCIM token is revoked. Your identity provider can no longer provision people."), "success")
    else:
        flash(_("There was no SCIM token to revoke."), "info")
    db.session.flush()
    return see_other(url_for("sso_admin.settings") + "#scim")


# --- the mailed link ------------------------------------------------------------------------------------

@bp.route("/sso/verify-domain", methods=["GET", "POST"], defaults={"token": None})
@bp.route("/sso/verify-domain/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def verify_domain(token):
    """GET parks the token and shows a confirm button; a signed-in admin of the company that claimed the domain
    confirms it with POST. Anyone else: log in first, or 404 (another company's admin learns nothing)."""
    row = domains.domain_for_link(parked_token("sso_domain", token))
    if row is None:
        return render("sso/verify_domain.html", status=400, invalid=True, row=None, form=None)
    if token and request.method == "GET":
        return park_token("sso_domain", token)
    if not current_user.is_authenticated:
        return render("sso/verify_domain.html", invalid=False, row=None, form=None,
                      login_url=url_for("auth.login", next=url_for("sso.verify_domain")))
    if current_user.org_id != row.org_id or current_user.role != Role.ADMIN:
        abort(404)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        verified = domains.verify_by_link(row, current_user)
        forget_token("sso_domain")
        db.session.flush()
        if verified:
            flash(_("%(domain)s is verified.", domain=row.domain), "success")
        else:
            flash(_("%(domain)s is not verified: %(reason)s", domain=row.domain, reason=domains.check_words(row)), "error")
        return see_other(url_for("sso_admin.settings") + "#domains")
    return render("sso/verify_domain.html", invalid=False, row=row, form=form)
