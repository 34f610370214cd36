from flask import flash, make_response, request, url_for
from flask_login import current_user
from flask_babel import gettext as _

from leadthe.consent import bp
from leadthe.consent.cookies import browser_storage, declaration
from leadthe.consent.services import (analytics_allowed, browser_signal, choose_analytics, current_consent, record_decision,
                                      write_consent_cookies)
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import is_htmx, render, see_other
from leadthe.net import safe_next


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action", "")
        if action == "accept_all":
            analytics = preferences = True
        elif action == "reject_all":
            analytics = preferences = False
        else:
            analytics = request.form.get("analytics") == "on"
            preferences = request.form.get("preferences") == "on"
        method = "banner" if request.form.get("source") == "banner" else "settings"
        if method == "settings":  # the same analytics switch as Preferences and Privacy -> choices
            choose_analytics(current_user, analytics, method=method, preferences=preferences)
        else:
            record_decision(analytics=analytics, preferences=preferences, method=method, user=current_user)
        db.session.flush()
        if is_htmx() and method == "banner":
            response = make_response("")  # htmx swaps the banner away (an empty 200; htmx 2 ignores 204)
        else:
            if method == "settings":
                flash(_("Your cookie choices are saved."), "success")
            response = see_other(safe_next(request.form.get("next"), url_for("consent.consent")))
        write_consent_cookies(response)
        return response
    return render("consent/settings.html", cookies=declaration(), storage=browser_storage(), consent=current_consent(),
                  analytics_on=analytics_allowed(current_user), signal=browser_signal(), form=form)
