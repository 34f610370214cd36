"""The route matrix's entries for learning offline (issue 22); see tests/test_route_matrix.py for what each key means.
The manifest and the offline copy of a lesson: every signed-in person enrolled in the course (the world enrols
everyone in the platform course and their company's own); another company's course is 404. The queue of changes
made offline: every signed-in person; an empty form POST is no JSON queue (400)."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "courses.offline_manifest": {"auth": "login", "obj": "course"},
    "courses.offline_lesson": {"auth": "login", "obj": "lesson"},
    "progress.sync": {"auth": "login", "post": {r: 400 for r in ("staff", "learner", "manager", "admin")}},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing of its own: the courses, lessons and enrolments of the world do."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """The sweep's course and lesson values already name the platform course and its lesson."""
    return {}
