"""The learner's side of the practice lab, on exercise lessons (``/courses/<slug>/lessons/<lesson>/lab/…``)."""
from leadthe.lab import bp  # noqa: F401
