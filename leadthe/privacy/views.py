from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _
from leadthe.i18n import format_day

from leadthe import audit
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.auth.sessions import end_session
from leadthe.consent.services import analytics_allowed, current_consent
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm, distinct_ids
from leadthe.htmx import render, render_form, see_other, wants_fragment
from leadthe.literacy.people import policy_acknowledgements_of, requirements_of
from leadthe.models import DataExport, utcnow
from leadthe.models.enums import ExportStatus
from leadthe.models.privacy import JURISDICTIONS, REQUEST_KINDS
from leadthe.privacy import bp, labels, services
from leadthe.privacy.lab import lab_facts
from leadthe.privacy.erasure import LastAdmin, cancel_erasure, is_last_admin_with_members, request_erasure, request_for_cancel_token
from leadthe.privacy.export import (BUSY_QUEUE, download, download_token, export_for_token, exports_ahead, is_stored,
                                   mark_downloaded, start_export)
from leadthe.privacy.forms import DeleteForm, ExportForm, ProcessingForm, RequestForm
from leadthe.privacy.registry import BY_TABLE, CATEGORIES, LEGAL_BASES, RETENTION_RULES
from leadthe.trust import works_council

def gpc_signal() -> bool:
    return request.headers.get("Sec-GPC") == "1"


def _label_context() -> dict:
    return dict(request_summary=labels.request_summary, request_status=labels.request_status,
                choice_state=labels.choice_state)


def _centre_context(**extra):
    held = services.what_we_hold(current_user)
    return dict(
        held=held, summary=services.summary(held), groups=services.grouped(held),
        categories=CATEGORIES, viewers=services.who_can_see(current_user),
        consent=current_consent(), analytics_on=analytics_allowed(current_user),
        settings=services.settings_for(current_user.id), requests=services.requests_of(current_user),
        export_form=distinct_ids(extra.pop("export_form", None) or ExportForm(), "export"),
        delete_form=distinct_ids(extra.pop("delete_form", None) or DeleteForm(), "delete"),
        last_admin=is_last_admin_with_members(current_user), gpc=gpc_signal(), lab=lab_facts(current_user, counts=False),
        request_kinds=REQUEST_KINDS, jurisdictions=JURISDICTIONS, **_label_context(),
        # "On this device": the page that lists and removes saved courses (issue 22), when this build has it
        saved_page=url_for("courses.saved") if "courses.saved" in current_app.view_functions else None, **extra,
    )


@bp.route("")
@login_required
def centre():
    return render("privacy/centre.html", **_centre_context())


@bp.route("/required-training")
@login_required
def required_training():
    """Training your company requires of you: which, why (the rule in words), who sees the status, the legal
    basis and how long it is kept; and your acknowledgements of its AI-use policy."""
    org = current_user.organization
    source = BY_TABLE["requirement"]
    return render("privacy/required_training.html", required=requirements_of(current_user),
                  acks=policy_acknowledgements_of(current_user), viewers=services.who_can_see(current_user),
                  team_figures_only=works_council.team_figures_only(org),
                  retention=RETENTION_RULES[source.retention],
                  policy_page="literacy.ai_policy" in current_app.view_functions)


@bp.route("/practice-lab")
@login_required
def practice_lab():
    """The practice lab: which model receives your prompts, that nobody in your company reads them, how long
    they are kept, and that they are in your download and erased with your account."""
    source = BY_TABLE["lab_run"]
    return render("privacy/practice_lab.html", lab=lab_facts(current_user, counts=False), basis=LEGAL_BASES[source.basis])


@bp.route("/export", methods=["POST"])
@login_required
@limiter.limit("5 per hour")
def export():
    form = ExportForm()
    if form.validate_on_submit():
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        else:
            export = start_export(current_user)
            db.session.flush()
            if wants_fragment():  # htmx: its progress in the form's place, one request where a browser without
                return _export_progress(export, focus=True)  # scripts makes two (this POST, then the status page)
            return see_other(url_for("privacy.export_status", export_id=export.id))
    if wants_fragment():  # the form again, the error beside its field; not the whole privacy centre
        return render_form("privacy/centre.html", form, block="export_form", invalid=True,
                           export_form=distinct_ids(form, "export"))
    return render_form("privacy/centre.html", form, invalid=True, **_centre_context(export_form=form))


def _own_export(export_id: int) -> DataExport:
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != current_user.id:
        abort(404)
    return export


def export_poll_seconds(waited: float, ahead: int = 0) -> int:
    """How long the status page waits before asking again, ``waited`` seconds after the request with ``ahead``
    exports queued before it: every 2 s at first (most exports are ready within seconds), then half the time
    waited so far, at most every 10 s; far back in a queue (after many people asked at once) a second more for
    every ten ahead, so the 100th in line asks every 10 s from the start. 200 people asking at once then send
    about a quarter of the requests they would at a fixed 2 s."""
    return min(10, max(2, int(waited // 2), ahead // 10))


@bp.route("/exports/<int:export_id>")
@login_required
def export_status(export_id):
    return _export_progress(_own_export(export_id))


def _export_progress(export: DataExport, focus: bool = False):
    """The status page of ``export``; for htmx only its progress block (which asks again while it is not ready).
    ``focus``: the block takes the place of the form just sent, so the keyboard focus goes to its status line."""
    token = download_token(export) if export.status == ExportStatus.READY else None
    # quick polls while most exports finish; a long one (or one far back in a queue) is asked about less often
    waited = (utcnow() - export.created_at).total_seconds() if export.created_at else 0
    ahead = exports_ahead(export)
    return render("privacy/export_status.html", block="export_progress", export=export, token=token,
                  expired=export.expires_at is not None and export.expires_at <= utcnow(), busy=ahead >= BUSY_QUEUE,
                  poll_seconds=export_poll_seconds(waited, ahead), focus=focus)


@bp.route("/exports/<int:export_id>/download")
@login_required
@limiter.limit("20 per hour")
def export_download(export_id):
    export = export_for_token(request.args.get("token", ""), current_user)
    if export is None or export.id != export_id:
        abort(404)
    if not is_stored(export):
        abort(404)
    mark_downloaded(export, current_user)
    return download(export)  # a short-lived presigned URL (303) when the store offers one, else streamed


@bp.route("/processing", methods=["GET", "POST"])
@login_required
def processing():
    settings = services.settings_for(current_user.id)
    form = ProcessingForm(obj=settings)
    council = works_council.active_for(current_user)
    if not council:
        del form.leaderboard_opt_in  # the opt-in exists only in works-council mode
    gpc = gpc_signal()
    if request.method == "GET" and gpc and not settings.do_not_sell_share:
        form.do_not_sell_share.data = True
    if form.validate_on_submit():
        choices = {name: getattr(form, name).data for name in services.CHOICES}
        if council:
            choices["leaderboard_opt_in"] = form.leaderboard_opt_in.data
        if gpc:
            choices["do_not_sell_share"] = True  # the browser's signal is honoured as an opt-out
        changed = services.update_choices(current_user, choices, gpc=gpc)
        db.session.flush()
        flash(_("Your choices are saved and apply from now on.") if changed else _("Nothing changed."), "success")
        return see_other(url_for("privacy.processing"))
    return render_form("privacy/processing.html", form, block="processing_form", gpc=gpc, council=council)


@bp.route("/delete", methods=["POST"])
@login_required
@limiter.limit("5 per hour")
def delete():
    form = DeleteForm()
    if form.validate_on_submit():
        typed = (form.confirm_email.data or "").strip().lower()
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        elif typed != current_user.email:
            form.confirm_email.errors.append(_("That is not the e-mail address of this account."))
        else:
            try:
                req = request_erasure(current_user._get_current_object())
            except LastAdmin:
                form.confirm_email.errors.append(_("You are your company's only admin."))
            else:
                when = req.scheduled_for
                end_session()
                db.session.flush()
                flash(_("Your account is closed and will be deleted on %(date)s. We sent you a link to cancel until then.",
                        date=format_day(when)), "success")
                return see_other(url_for("privacy.deleted"))
    return render_form("privacy/centre.html", form, invalid=True, **_centre_context(delete_form=form))


@bp.route("/deleted")
def deleted():
    return render("privacy/deleted.html")


@bp.route("/delete/cancel/<token>", methods=["GET", "POST"], endpoint="cancel_erasure")
def cancel_erasure_view(token):
    req = request_for_cancel_token(token)
    form = EmptyForm()
    if req is None:
        return render("privacy/cancel_erasure.html", status=400, invalid=True, form=form)
    if request.method == "POST" and form.validate_on_submit():
        cancel_erasure(req)
        db.session.flush()
        flash(_("Your account is kept. Welcome back: log in as usual."), "success")
        return see_other(url_for("auth.login"))
    return render("privacy/cancel_erasure.html", invalid=False, form=form, req=req)



@bp.route("/requests", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def requests():
    form = RequestForm()
    if form.validate_on_submit():
        req = services.record_request(current_user, form.kind.data, form.jurisdiction.data, details=form.details.data)
        audit.record("privacy.request_filed", actor=current_user, subject=current_user, kind=req.kind)
        services.notify_dpo(req)
        db.session.flush()
        flash(_("Your request is filed. We answer by %(date)s at the latest, usually much sooner.",
                date=format_day(req.due_at)), "success")
        return see_other(url_for("privacy.requests"))
    return render_form("privacy/requests.html", form, block="request_form", requests=services.requests_of(current_user),
                       request_kinds=REQUEST_KINDS, **_label_context())


@bp.route("/contact")
def contact():
    return render("privacy/contact.html")
