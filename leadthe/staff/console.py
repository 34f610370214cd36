"""The staff console: organisations (counts only), support, notices, feedback, and access to a person's data
only through a recorded, one-hour grant."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from flask_babel import gettext as _

from leadthe import audit
from leadthe.extensions import db
from leadthe.htmx import render, render_form, see_other
from leadthe.models import User
from leadthe.models.support import TICKET_STATUSES, SupportTicket
from leadthe.query_args import page_arg, search_arg
from leadthe.staff import bp, services, staff_required
from leadthe.staff.forms import AccessForm, NoticeForm, OwnershipNoticeForm, TicketAdminForm
from leadthe.support import services as support
from leadthe.support.forms import ReplyForm
from leadthe.trust.access_log import record_view


@bp.route("/console")
@staff_required
def console():
    status = request.args.get("status", "")
    f = services.OrgFilters(q=search_arg(),
                            status=status if status in services.ORG_STATUSES else "", page=page_arg())
    orgs, total = services.organisations_page(f)
    open_requests, open_tickets = services.open_counts()
    return render("staff/console.html", block="orgs_results", orgs=orgs, total=total, f=f,
                  per_page=services.CONSOLE_PER_PAGE, statuses=services.ORG_STATUSES, open_requests=open_requests,
                  open_tickets=open_tickets)


@bp.route("/support")
@staff_required
def support_queue():
    status = request.args.get("status", "active")
    q = request.args.get("q", "").strip()[:100]
    page = page_arg()
    rows, total = support.staff_queue(status, q, page)
    return render("staff/support_queue.html", block="support_results", rows=rows, total=total, chosen=status, q=q,
                  page=page, per_page=50, statuses=TICKET_STATUSES)


@bp.route("/support/<int:ticket_id>", methods=["GET", "POST"])
@staff_required
def support_ticket(ticket_id):
    ticket = db.get_or_404(SupportTicket, ticket_id)
    form = ReplyForm(prefix="reply")
    admin_form = TicketAdminForm(prefix="ticket", data={"status": ticket.status, "assign": str(ticket.assigned_to_id or "")})
    admin_form.assign.choices = services.staff_choices()
    if request.method == "POST" and request.form.get("reply-body") is not None and form.validate_on_submit():
        support.add_reply(ticket, current_user, form.body.data, from_staff=True)
        db.session.flush()
        flash(_("Reply sent; the person was mailed."), "success")
        return see_other(url_for("staff.support_ticket", ticket_id=ticket.id))
    if request.method == "POST" and request.form.get("ticket-status") is not None and admin_form.validate_on_submit():
        ticket.status = admin_form.status.data
        ticket.assigned_to_id = int(admin_form.assign.data) if admin_form.assign.data else None
        db.session.flush()
        flash(_("Ticket updated."), "success")
        return see_other(url_for("staff.support_ticket", ticket_id=ticket.id))
    # the message thread is what the person chose to send to support: no grant needed for it
    return render_form("staff/support_ticket.html", form, ticket=ticket, admin_form=admin_form, statuses=TICKET_STATUSES)


@bp.route("/users/<int:user_id>", methods=["GET"])
@staff_required
def user_view(user_id):
    person = db.get_or_404(User, user_id)
    grant = support.active_grant(current_user, person.id)
    if grant:
        audit.record_apart("staff.viewed_user", actor=current_user, subject=person, org_id=person.org_id, grant_id=grant.id)
        record_view(current_user, person, "staff_person_page")
    return render("staff/user.html", person=person, grant=grant, form=AccessForm())


@bp.route("/users/<int:user_id>/access", methods=["POST"])
@staff_required
def request_access(user_id):
    person = db.session.get(User, user_id)
    if person is None or person.is_platform_staff:
        abort(404)
    form = AccessForm()
    if form.validate_on_submit():
        support.grant_access(current_user, person, form.reason.data, form.reference.data)
        db.session.flush()
        flash(_("Access granted for one hour. The person and their company's admins can see this."), "success")
        return see_other(url_for("staff.user_view", user_id=person.id))
    return render_form("staff/user.html", form, person=person, grant=None)


@bp.route("/notices", methods=["GET", "POST"])
@staff_required
def notices():
    form = NoticeForm()
    if form.validate_on_submit():
        services.send_notice(current_user, form.title.data, form.body.data)
        db.session.flush()
        flash(_("The notice is shown to everyone and is being mailed."), "success")
        return see_other(url_for("staff.notices"))
    return render_form("staff/notices.html", form, items=services.latest_notices())


@bp.route("/feedback")
@staff_required
def feedback():
    return render("staff/feedback.html", summary=support.feedback_summary(), comments=support.recent_comments())


@bp.route("/notices/ownership", methods=["GET", "POST"])
@staff_required
def ownership_notice():
    """A change of ownership (issue 21): fill in, preview (the banner and the mail as people will see them),
    confirm, send. Nothing is stored before the confirmed send."""
    form = OwnershipNoticeForm()
    if not form.validate_on_submit():
        return render_form("staff/ownership_notice.html", form, preview=None)
    preview = services.ownership_preview(form.data)
    if request.form.get("action") == "send":
        if form.confirm.data:
            services.send_ownership_notice(current_user, preview)
            db.session.flush()
            flash(_("The change-of-ownership notice is shown on every page and is being mailed to every active user."), "success")
            return see_other(url_for("staff.notices"))
        form.confirm.errors = [_("Check the preview, then confirm that the notice goes to everyone.")]
    return render_form("staff/ownership_notice.html", form, preview=preview)
