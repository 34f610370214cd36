from flask import abort, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from leadthe.consent.cookies import browser_storage
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import is_htmx, render, see_other
from leadthe.legal import bp, services
from leadthe.models.consent import PolicyDocument
from leadthe.net import safe_next
from leadthe.query_args import int_arg


def _kind_or_404(kind: str) -> str:
    if kind not in services.KINDS:
        abort(404)
    return kind


@bp.route("/privacy/policy")
def privacy_policy():
    return policy("privacy")


@bp.route("/privacy/policy/<int:number>")
def privacy_policy_version(number):
    return policy_version("privacy", number)


@bp.route("/privacy/policy/history")
def privacy_policy_history():
    return policy_history("privacy")


def _policy_page(doc, kind: str, current: bool):
    """The policy in the interface language when a translation exists (the English text stays authoritative
    and one link away: ``?lang=en``), with its date and, for privacy and cookies, when sessions end."""
    locale = str(get_locale() or "en")
    translated = None if request.args.get("lang") == "en" else services.translation(doc, locale)
    return render("legal/policy.html", doc=doc, kind=kind, kinds=services.KINDS, current=current,
                  title=translated.title if translated else doc.title,
                  body_html=translated.body_html if translated else doc.body_html, translated=translated is not None,
                  english_on_request=request.args.get("lang") == "en" and locale in services.TRANSLATED,
                  sessions=services.session_limits() if kind in ("privacy", "cookies") else None,
                  storage=browser_storage() if kind == "cookies" and current else None)


@bp.route("/legal/<kind>")
def policy(kind):
    doc = services.current_policy(_kind_or_404(kind))
    return _policy_page(doc, kind, True)


@bp.route("/legal/<kind>/<int:number>", endpoint="policy_version")
def policy_version(kind, number):
    doc = services.version(_kind_or_404(kind), number)
    if doc is None:
        abort(404)
    current = services.current_policy(kind)
    return _policy_page(doc, kind, current is not None and current.id == doc.id)


@bp.route("/legal/<kind>/history", endpoint="policy_history")
def policy_history(kind):
    _kind_or_404(kind)
    services.current_policy(kind)  # makes sure version 1 exists
    docs = services.versions(kind)
    diff = None
    old_n, new_n = int_arg("from"), int_arg("to")
    if old_n and new_n:
        old, new = services.version(kind, old_n), services.version(kind, new_n)
        if old is None or new is None:
            abort(404)
        diff = services.changes(old, new)
    return render("legal/history.html", docs=docs, kind=kind, kinds=services.KINDS, diff=diff,
                           old_n=old_n, new_n=new_n)


@bp.route("/legal/acknowledge/<int:document_id>", methods=["POST"])
@login_required
def acknowledge(document_id):
    doc = db.get_or_404(PolicyDocument, document_id)
    if EmptyForm().validate_on_submit():
        services.acknowledge(current_user, doc)
        db.session.flush()
    if is_htmx():
        return ""  # the notice removes itself
    return see_other(safe_next(request.form.get("next"), url_for("core.dashboard")))
