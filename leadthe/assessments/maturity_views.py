"""The personal AI maturity self-assessment."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from leadthe.assessments import bp
from leadthe.assessments import maturity as services
from leadthe.assessments import rubric as R
from leadthe.assessments.recommendations import maturity_recommendations
from leadthe.errors import render_error
from leadthe.extensions import db
from leadthe.htmx import is_htmx, render, see_other


@bp.route("/maturity")
@login_required
def maturity():
    latest = services.latest_result(current_user.id)
    return render("maturity/index.html", latest=latest, history=services.history(current_user.id), R=R,
                  rows=services.chart_rows(latest, None) if latest else [])


def _form_page(errors=None, picked=None, status=200, message=None):
    return render("maturity/form.html", block="maturity_form", status=status, rubric=R.RUBRICS[R.CURRENT], R=R,
                  errors=errors or {}, picked=picked or {}, message=message, field_name=services.field_name)


@bp.route("/maturity/assessment")
@login_required
def maturity_form():
    return _form_page()


@bp.route("/maturity/assessment", methods=["POST"])
@login_required
def maturity_submit():
    try:
        answers, missing = services.parse_answers(request.form)
    except services.BadMaturityAnswers as exc:
        return render_error(400, _("These answers do not match the self-assessment (%(why)s). Please reload the page "
                                   "and answer again.", why=str(exc)))
    if missing:
        return _form_page(errors={slug: _("Choose an answer.") for slug in missing}, picked=answers,
                          status=200 if is_htmx() else 422,
                          message=_("Please answer every question: %(n)s still open.", n=len(missing)))
    result = services.save_result(current_user, answers)
    db.session.flush()
    return see_other(url_for("assessments.maturity_result", result_id=result.id))


@bp.route("/maturity/results/<result_id>")
@login_required
def maturity_result(result_id):
    result = services.result_or_404(result_id, current_user)
    before = services.previous_result(result)
    return render("maturity/result.html", result=result, before=before, rows=services.chart_rows(result, before), R=R,
                  raised=result.level > result.self_level, steps=maturity_recommendations(current_user, result))
