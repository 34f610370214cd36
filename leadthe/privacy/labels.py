"""Privacy words people read: processing choices, request statuses and the summaries of self-service
requests. The database keeps the stable names (``object_leaderboard``, ``in_progress``); pages show these.
tests/test_labels.py checks that every choice, request kind and status has its words here."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# The choice's name on its own (the form's checkbox says more), and its state in words.
CHOICE_LABELS = {
    "restrict_processing": _l("Restricted processing"),
    "object_analytics": _l("Usage analytics"),
    "object_leaderboard": _l("Leaderboard"),
    "object_recommendations": _l("Personalised recommendations"),
    "do_not_sell_share": _l("Sale and sharing"),
    "leaderboard_opt_in": _l("Leaderboard (works-council mode)"),
}
CHOICE_STATES = {
    "restrict_processing": (_l("Processing restricted: only what your courses need"), _l("Processing not restricted")),
    "object_analytics": (_l("Usage analytics: you objected"), _l("Usage analytics: allowed")),
    "object_leaderboard": (_l("Leaderboard: you are left out"), _l("Leaderboard: you are shown")),
    "object_recommendations": (_l("Personalised recommendations: you objected"), _l("Personalised recommendations: allowed")),
    "do_not_sell_share": (_l("Sale and sharing: you opted out"), _l("Sale and sharing: no opt-out (we never sell your data)")),
    "leaderboard_opt_in": (_l("Leaderboard: you chose to appear"), _l("Leaderboard: you do not appear (you have not opted in)")),
}

REQUEST_STATUSES = {
    "open": _l("Open"), "in_progress": _l("In progress"), "scheduled": _l("Scheduled"), "completed": _l("Completed"),
    "rejected": _l("Declined"), "cancelled": _l("Cancelled"), "error": _l("Stopped by an error"),
}

PROFILE_FIELDS = {
    "name": _l("name"), "job_title": _l("job title"), "department": _l("department"), "photo": _l("photo"),
    "photo removed": _l("photo removed"),
}

# The fixed texts the platform writes into self-service requests, in words for the person.
FIXED_DETAILS = {
    "Self-service export from the privacy centre": _l("Download of your data from the privacy centre"),
    "Self-service deletion from the privacy centre": _l("Deletion of your account from the privacy centre"),
    "E-mail address changed": _l("E-mail address changed"),
}

_CHOICE = re.compile(r"^([a-z ]+): (on|off)( \(browser privacy signal\))?$")
_PROFILE = re.compile(r"^Profile edited: (.+)$")


def choice_state(choice: str, on: bool) -> str:
    return str(CHOICE_STATES[choice][0 if on else 1])


def request_status(status: str) -> str:
    label = REQUEST_STATUSES.get(status)
    return str(label) if label is not None else str(_l("Other"))


def request_summary(details: str | None) -> str:
    """A self-service request's stored summary ("object leaderboard: on") in words; other text as written."""
    text = (details or "").strip()
    if text in FIXED_DETAILS:
        return str(FIXED_DETAILS[text])
    match = _CHOICE.match(text)
    if match and match.group(1).replace(" ", "_") in CHOICE_STATES:
        words = choice_state(match.group(1).replace(" ", "_"), match.group(2) == "on")
        return words + (" " + str(_l("(your browser's privacy signal)")) if match.group(3) else "")
    match = _PROFILE.match(text)
    if match:
        fields = [str(PROFILE_FIELDS.get(f.strip(), f.strip().replace("_", " "))) for f in match.group(1).split(",")]
        return str(_l("Profile edited: %(fields)s", fields=", ".join(fields)))
    return text
