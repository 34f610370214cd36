"""Courses: catalogue, course pages, the lesson player, progress and activity, and search."""
from flask import Blueprint

bp = Blueprint("courses", __name__)
