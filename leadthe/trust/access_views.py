"""/privacy/access-log: who looked at my data (issue 21, access-log part)."""
from __future__ import annotations

from flask_login import current_user, login_required

from leadthe.htmx import render
from leadthe.query_args import page_arg
from leadthe.trust import access_log as log, bp


@bp.route("/privacy/access-log")
@login_required
def access_log():
    """The signed-in person's own log, newest first; an htmx request for another page gets the list only."""
    page = page_arg()
    rows, total = log.entries_page(current_user, page)
    items = [(entry, log.who(entry, name), log.what_words(entry)) for entry, name in rows]
    return render("trust/access_log.html", block="access_results", items=items, total=total, page=page,
                  per_page=log.PER_PAGE)
