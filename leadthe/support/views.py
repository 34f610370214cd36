from flask import abort, flash, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _

from leadthe.courses.services import get_course_or_404
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import is_htmx, render_form, see_other
from leadthe.net import safe_next
from leadthe.models.support import TICKET_CATEGORIES, TICKET_STATUSES
from leadthe.support import bp, notices, services
from leadthe.support.forms import FeedbackForm, ReplyForm, TicketForm


@bp.route("/support", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def index():
    form = TicketForm()
    if form.validate_on_submit():
        ticket = services.open_ticket(current_user, form.subject.data, form.category.data, form.body.data)
        db.session.flush()
        flash(_("Thank you. We usually answer within one working day, by e-mail and here."), "success")
        return see_other(url_for("support.ticket", ticket_id=ticket.id))
    return render_form("support/index.html", form, block="ticket_form", tickets=services.tickets_of(current_user),
                       categories=TICKET_CATEGORIES, statuses=TICKET_STATUSES)


@bp.route("/support/<int:ticket_id>", methods=["GET", "POST"])
@login_required
@limiter.limit("60 per hour", methods=["POST"])
def ticket(ticket_id):
    ticket = services.own_ticket(current_user, ticket_id)
    if ticket is None:
        abort(404)
    form = ReplyForm()
    if form.validate_on_submit():
        services.add_reply(ticket, current_user, form.body.data, from_staff=False)
        db.session.flush()
        return see_other(url_for("support.ticket", ticket_id=ticket.id) + "#latest")
    return render_form("support/ticket.html", form, block="reply_form", ticket=ticket, statuses=TICKET_STATUSES,
                       categories=TICKET_CATEGORIES)


@bp.route("/feedback", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def feedback():
    course_slug = request.values.get("course", "")
    course = get_course_or_404(course_slug, current_user) if course_slug else None
    form = FeedbackForm(data={"course": course_slug})
    if form.validate_on_submit():
        services.record_feedback(current_user, int(form.rating.data), form.comment.data, course.id if course else None)
        db.session.flush()
        flash(_("Thank you for your feedback."), "success")
        return see_other(url_for("courses.course", slug=course.slug) if course else url_for("core.dashboard"))
    return render_form("support/feedback.html", form, block="feedback_form", course=course)


@bp.route("/notices/<int:notice_id>/dismiss", methods=["POST"])
@login_required
def dismiss_notice(notice_id):
    """Close the change-of-ownership notice shown on every page (issue 21): a form without JS, htmx removes it."""
    notice = notices.get_ownership_notice_or_404(notice_id)
    if EmptyForm().validate_on_submit():
        notices.dismiss(current_user, notice)
        db.session.flush()
    if is_htmx():
        return ""  # the notice removes itself
    return see_other(safe_next(request.form.get("next"), url_for("core.dashboard")))
