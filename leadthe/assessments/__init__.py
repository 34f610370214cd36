"""Assessments: course quizzes, the AI maturity self-assessment, certificates, recommendations, assignments."""
from flask import Blueprint

bp = Blueprint("assessments", __name__)

from leadthe.assessments import views  # noqa: E402,F401
from leadthe.assessments import maturity_views  # noqa: E402,F401
from leadthe.assessments import certificate_views  # noqa: E402,F401
from leadthe.assessments import certificates as _jobs  # noqa: E402,F401  (registers the reminder job)
# Admin pages of this area live in leadthe/admin/ as their own modules, registered on the admin blueprint
# here (imported before the app registers the blueprint) so the teams/admin modules stay untouched.
from leadthe.admin import assignment_views, maturity_views as _admin_maturity  # noqa: E402,F401
