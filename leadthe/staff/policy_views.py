"""Staff: publishing new policy versions (through the legal area's services)."""
from datetime import datetime, timezone

from flask import flash, request, url_for
from flask_login import current_user
from flask_babel import gettext as _

from leadthe.extensions import db
from leadthe.htmx import is_htmx, render, render_form, see_other
from leadthe.legal import services
from leadthe.staff import bp, staff_required
from leadthe.staff.forms import PolicyForm


@bp.route("/policies", methods=["GET", "POST"])
@staff_required
def policies():
    kind = request.values.get("kind", "privacy")
    kind = kind if kind in services.KINDS else "privacy"
    current = services.current_policy(kind)
    form = PolicyForm(data={"kind": kind, "title": current.title, "body": current.body_md,
                            "effective": datetime.now(timezone.utc).date()} if request.method == "GET" else None)
    preview = None
    if request.method == "POST" and request.form.get("preview"):
        preview = services.render_policy(request.form.get("body", ""))
        if is_htmx():
            return render("staff/_policy_preview.html", html=preview)
    elif form.validate_on_submit():
        effective = datetime.combine(form.effective.data, datetime.min.time(), tzinfo=timezone.utc)
        doc = services.publish(form.kind.data, title=form.title.data, body=form.body.data, summary=form.summary.data,
                               effective_at=effective, material=form.material.data,
                               categories_changed=form.categories_changed.data, staff_user=current_user,
                               translations={"de": form.body_de.data or ""})
        db.session.flush()
        kind_name = services.KINDS_IN_SENTENCE[doc.kind]
        flash(_("Version %(num)s of the %(kind)s is published and everyone will be notified.", num=doc.version, kind=kind_name)
              if doc.material else _("Version %(num)s of the %(kind)s is published.", num=doc.version, kind=kind_name), "success")
        return see_other(url_for("legal.policy_history", kind=doc.kind))
    docs = {k: services.versions(k) for k in services.KINDS}
    return render_form("staff/policies.html", form, docs=docs, kinds=services.KINDS, kind=kind, preview=preview)
