"""Leaderboards: points for lessons, passed quizzes and active days; by team or company, week or all time."""
from flask import Blueprint

bp = Blueprint("leaderboard", __name__)
