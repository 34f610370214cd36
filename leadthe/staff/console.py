"""The staff console: organisations (counts only), support, notices, feedback, and access to a person's data
only through a recorded, one-hour grant."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from leadthe.forms import FlaskForm, choices

from leadthe import audit
from leadthe.extensions import db
from leadthe.htmx import render, render_form, see_other
from leadthe.mail import mail_everyone, queue_mail
from leadthe.models import Organization, PrivacyRequest, Team, User
from leadthe.models.enums import Role, TicketStatus, UserStatus
from leadthe.models.support import TICKET_STATUSES, Notice, SupportTicket
from leadthe.net import absolute_url
from leadthe.query_args import page_arg
from leadthe.staff import bp, staff_required
from leadthe.staff.forms import ReasonForm
from leadthe.staff.services import OPEN_STATUSES
from leadthe.support import services as support
from leadthe.support.forms import ReplyForm
from leadthe.worker import enqueue_job, job_handler


class AccessForm(FlaskForm):
    reason = StringField(_l("Why do you need to see this person's data?"), validators=[DataRequired(_l("Give the reason.")), Length(max=300)])
    reference = StringField(_l("Ticket or request reference"), validators=[DataRequired(_l("Give the ticket or request reference, e.g. #123.")), Length(max=60)])


class TicketAdminForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(TICKET_STATUSES))
    assign = SelectField(_l("Assigned to"), choices={})


class NoticeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the notice a title.")), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write the message.")), Length(max=5000)], render_kw={"rows": 8})


def organisations_with_counts():
    people = sa.select(User.org_id, sa.func.count(User.id).label("n")).group_by(User.org_id).subquery()
    teams = sa.select(Team.org_id, sa.func.count(Team.id).label("n")).group_by(Team.org_id).subquery()
    stmt = (sa.select(Organization.id, Organization.name, Organization.status, Organization.created_at,
                      sa.func.coalesce(people.c.n, 0), sa.func.coalesce(teams.c.n, 0))
            .outerjoin(people, people.c.org_id == Organization.id).outerjoin(teams, teams.c.org_id == Organization.id)
            .order_by(Organization.name))
    return db.session.execute(stmt).all()


@bp.route("/console")
@staff_required
def console():
    open_requests = db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)
                                      .where(PrivacyRequest.status.in_(OPEN_STATUSES)))
    open_tickets = db.session.scalar(sa.select(sa.func.count()).select_from(SupportTicket)
                                     .where(SupportTicket.status.in_((TicketStatus.OPEN, TicketStatus.WAITING))))
    return render_template("staff/console.html", orgs=organisations_with_counts(), open_requests=open_requests,
                           open_tickets=open_tickets, close_form=ReasonForm())


@bp.route("/support")
@staff_required
def support_queue():
    status = request.args.get("status", "active")
    q = request.args.get("q", "").strip()[:100]
    page = page_arg()
    rows, total = support.staff_queue(status, q, page)
    return render("staff/support_queue.html", block="support_results", rows=rows, total=total, chosen=status, q=q,
                  page=page, per_page=50, statuses=TICKET_STATUSES)


def _staff_choices():
    return {"": "Nobody", **{str(u.id): u.name for u in db.session.scalars(
        sa.select(User).where(User.role.in_((Role.STAFF, Role.DPO)), User.status == UserStatus.ACTIVE).order_by(User.name))}}


@bp.route("/support/<int:ticket_id>", methods=["GET", "POST"])
@staff_required
def support_ticket(ticket_id):
    ticket = db.get_or_404(SupportTicket, ticket_id)
    form = ReplyForm(prefix="reply")
    admin_form = TicketAdminForm(prefix="ticket", data={"status": ticket.status, "assign": str(ticket.assigned_to_id or "")})
    admin_form.assign.choices = _staff_choices()
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
    return render_template("staff/user.html", person=person, grant=grant, form=AccessForm())


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
    return render_template("staff/user.html", person=person, grant=None, form=form), 422


@bp.route("/notices", methods=["GET", "POST"])
@staff_required
def notices():
    form = NoticeForm()
    if form.validate_on_submit():
        notice = Notice(title=form.title.data, body=form.body.data, created_by_id=current_user.id)
        db.session.add(notice)
        db.session.flush()
        enqueue_job("notice.mail", {"notice_id": notice.id})
        audit.record("staff.notice_sent", actor=current_user, notice_id=notice.id)
        db.session.flush()
        flash(_("The notice is shown to everyone and is being mailed."), "success")
        return see_other(url_for("staff.notices"))
    items = db.session.scalars(sa.select(Notice).order_by(Notice.id.desc()).limit(50)).all()
    return render_form("staff/notices.html", form, items=items)


@bp.route("/feedback")
@staff_required
def feedback():
    return render_template("staff/feedback.html", summary=support.feedback_summary(), comments=support.recent_comments())


@job_handler("notice.mail")
def mail_notice(job) -> None:
    notice = db.session.get(Notice, job.payload["notice_id"])
    link = absolute_url("core.dashboard")

    def send_one(person_id, email, name):
        queue_mail(email, notice.title, "notice", kind="notice", user_id=person_id,
                   name=(name or "").split(" ")[0] or "there", notice=notice, link=link)

    mail_everyone(notice, send_one)
