import sqlalchemy as sa
from flask import jsonify, redirect, url_for
from flask_login import current_user, login_required

from leadthe.assessments.assignments import assignments_of
from leadthe.assessments.certificates import certificates_of
from leadthe.assessments.recommendations import recommendations_for
from leadthe.assessments.services import quiz_ids_for
from leadthe.core import bp
from leadthe.core.services import database_ok
from leadthe.extensions import db
from leadthe.courses.services import activity, my_courses, next_lessons
from leadthe.htmx import render
from leadthe.literacy.people import requirements_of
from leadthe.worker import worker_health


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    return render("core/home.html")


@bp.route("/dashboard")
@login_required
def dashboard():
    courses = my_courses(current_user)
    in_progress = [c for c in courses if not c.completed_at]
    week, streak = activity(current_user)
    assigned = assignments_of(current_user)
    recommendations = recommendations_for(current_user, enrolments={c.course.id: c.completed_at for c in courses},
                                          assignments=[(a.course_id, a.due_on, a.assigned_by) for a in assigned])
    return render("core/dashboard.html", in_progress=in_progress,
                  completed=[c for c in courses if c.completed_at], week=week, streak=streak,
                  recommendations=recommendations,
                  assignments=[a for a in assigned if a.completed_at is None],
                  quiz_ids=quiz_ids_for([c.course.id for c in courses]),
                  next_lessons=next_lessons(current_user.id, [c.course.id for c in in_progress]),
                  certificates=certificates_of(current_user), required=requirements_of(current_user))


@bp.route("/healthz")
def healthz():
    """Database reachable: 200. ``workers``: those seen in the last 5 minutes (alive) and the names of those
    not (stale): any stale worker makes the status "degraded", still 200 so a load balancer keeps this app
    server. A worker that stopped cleanly removed its row and is not listed."""
    if not database_ok():
        return jsonify(status="error", database="error"), 503
    try:
        workers = worker_health()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        workers = {"alive": 0, "stale": [], "error": True}
    return jsonify(status="degraded" if workers["stale"] else "ok", database="ok", workers=workers)
