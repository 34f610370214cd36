from flask import abort, request

from leadthe.extensions import csrf, db
from leadthe.forms import EmptyForm
from leadthe.htmx import render
from leadthe.progress import bp, services


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
