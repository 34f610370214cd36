"""Display and e-mail preferences: kept with the account when signed in, else in a preference cookie
(only with preference consent)."""
from __future__ import annotations

import json

from flask import flash, g, request, url_for
from flask_login import current_user
from wtforms import BooleanField, SelectField
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from leadthe.forms import FlaskForm, choices

from leadthe.account import bp
from leadthe.consent.cookies import set_declared_cookie
from leadthe.consent.services import PREFS_COOKIE, analytics_allowed, choose_analytics, current_consent, write_consent_cookies
from leadthe.extensions import db
from leadthe.htmx import render_form, see_other
from leadthe.models.consent import UserPreference
from leadthe.models.enums import Role

LANGUAGES = {"en": "English", "de": "Deutsch"}
THEMES = {"system": _l("Follow my device"), "light": _l("Light"), "dark": _l("Dark"), "contrast": _l("High contrast")}
DENSITIES = {"comfortable": _l("Comfortable"), "compact": _l("Compact")}
DEFAULTS = {"language": None, "theme": "system", "density": "comfortable", "low_data": False,
            "email_progress": True, "email_product": False, "email_digest": True,
            "email_required": True}


class PreferencesForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGES)
    theme = SelectField(_l("Theme"), choices=choices(THEMES))
    density = SelectField(_l("Density"), choices=choices(DENSITIES))
    low_data = BooleanField(_l("Low-data mode: no decorative images, transcripts instead of video"))
    email_progress = BooleanField(_l("E-mails about my learning progress"))
    email_product = BooleanField(_l("E-mails about new courses and features"))
    email_digest = BooleanField(_l("Managers: a weekly digest of my teams' progress"))
    email_required = BooleanField(_l("Reminders of training my company requires (due dates, overdue)"))
    # the same switch as Cookie settings and Privacy -> choices (leadthe.consent.services.choose_analytics)
    analytics = BooleanField(_l("Usage analytics: count my visits to help improve LeadThe.AI"))


def _cookie_prefs() -> dict:
    if not current_consent().preferences:
        return {}
    try:
        data = json.loads(request.cookies.get(PREFS_COOKIE) or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if k in ("language", "theme", "density", "low_data")}


def ui_preferences() -> dict:
    """The preferences in force for this request (account, else consented cookie, else defaults)."""
    if "ui_prefs" in g:
        return g.ui_prefs
    prefs = dict(DEFAULTS)
    if current_user and current_user.is_authenticated:
        row = current_user.preference  # loaded with the session's query (leadthe.auth.sessions)
        if row is not None:
            prefs.update(theme=row.theme, density=row.density, low_data=row.low_data,
                         email_progress=row.email_progress, email_product=row.email_product,
                         email_digest=row.email_digest, email_required=row.email_required)
        prefs["language"] = current_user.locale
    else:
        prefs.update(_cookie_prefs())
    if prefs["theme"] not in THEMES:
        prefs["theme"] = "system"
    if prefs["density"] not in DENSITIES:
        prefs["density"] = "comfortable"
    g.ui_prefs = prefs
    return prefs


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    prefs = ui_preferences()
    signed_in = current_user.is_authenticated
    form = PreferencesForm(data={**prefs, "language": prefs["language"] or _best_language(),
                                 "analytics": analytics_allowed(current_user)})
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in ("theme", "density", "low_data")}
        if signed_in:
            row = db.session.get(UserPreference, current_user.id) or UserPreference(user_id=current_user.id)
            for key, value in values.items():
                setattr(row, key, value)
            row.email_progress, row.email_product = form.email_progress.data, form.email_product.data
            if "email_digest" in request.form or current_user.role in (Role.MANAGER, Role.ADMIN):
                row.email_digest = form.email_digest.data
            if "email_required_switch" in request.form:  # only where the page showed it (see analytics below)
                row.email_required = form.email_required.data
            db.session.add(row)
            current_user.locale = form.language.data
            db.session.flush()
            g.pop("ui_prefs", None)
            refresh()  # the confirmation in the language just chosen
            flash(str(_l("Your preferences are saved.")), "success")
            response = see_other(url_for("account.preferences"))
            # only where the page showed the switch: a client posting the contract's fields leaves it alone
            if "analytics_switch" in request.form and form.analytics.data != analytics_allowed(current_user):
                choose_analytics(current_user, form.analytics.data, method="preferences")
                db.session.flush()
                write_consent_cookies(response)
            return response
        consent = current_consent()
        if not consent.preferences:
            flash(str(_l("To remember these without an account, allow preference cookies first.")), "info")
            return see_other(url_for("consent.consent"))
        response = see_other(url_for("account.preferences"))
        set_declared_cookie(response, PREFS_COOKIE, json.dumps({**values, "language": form.language.data}), consent=consent)
        return response
    return render_form("account/preferences.html", form, block="preferences_form", signed_in=signed_in)


def _best_language() -> str:
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"
