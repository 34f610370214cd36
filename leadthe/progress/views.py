import json

from flask import abort, jsonify, request
from flask_login import current_user, login_required

from leadthe.extensions import csrf, db
from leadthe.forms import EmptyForm
from leadthe.htmx import render
from leadthe.progress import bp, services, sync as offline_sync


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below: a one-click POST from a mail program (RFC 8058) carries no CSRF token
def unsubscribe(token):
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click:
        csrf.protect()  # a person's click on our confirm button: an ordinary form with its token
    found = services.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user, preference = found
    topic = services.TOPICS[preference]
    if request.method == "POST":
        services.unsubscribe(user, preference)
        db.session.flush()
        if one_click:
            return "", 200
        return render("progress/unsubscribed.html", topic=topic)
    return render("progress/unsubscribe.html", topic=topic, email=user.email, form=EmptyForm())


@bp.route("/progress/sync", methods=["POST"])
@login_required
def sync():
    """A browser's queue of changes made offline (issue 22; leadthe/progress/sync.py). CSRF: the X-CSRFToken header
    (checked before every POST). Answers JSON: what was recorded (now or before) and what was rejected, and why."""
    if (request.content_length or 0) > offline_sync.MAX_BODY:
        return jsonify(error="too-large"), 413
    raw = request.get_data(cache=False)
    if len(raw) > offline_sync.MAX_BODY:
        return jsonify(error="too-large"), 413
    try:
        payload = json.loads(raw)
    except ValueError:
        return jsonify(error="body"), 400
    try:
        outcome = offline_sync.sync(current_user, payload)
    except offline_sync.Refused as refused:
        return jsonify(refused.body), refused.status
    db.session.flush()
    return jsonify(outcome.as_json())
