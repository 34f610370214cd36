"""Assessments: course quizzes, the AI maturity self-assessment, certificates, recommendations, assignments."""
from flask import Blueprint

bp = Blueprint("assessments", __name__)
