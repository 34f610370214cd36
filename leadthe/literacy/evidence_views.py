"""The evidence pack's pages (company admins only): ask for a pack (with step-up), follow its progress,
download it."""
from flask import abort, request, url_for
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import db, limiter
from leadthe.htmx import render, render_form, see_other
from leadthe.literacy import admin_bp
from leadthe.literacy.evidence import LIFETIME, download, is_downloadable, mark_downloaded, recent_packs, start_pack
from leadthe.models import EvidencePack, Organization, utcnow
from leadthe.models.enums import EvidenceStatus
from leadthe.privacy.forms import ReauthForm
from leadthe.tenancy import get_or_404
from leadthe.trust import works_council


def _page(**extra):
    org = db.session.get(Organization, current_user.org_id)
    return dict(packs=recent_packs(current_user.org_id), council=works_council.team_figures_only(org), now=utcnow(),
                lifetime_days=LIFETIME.days, **extra)


@admin_bp.route("/literacy/evidence", methods=["GET", "POST"])
@admin_required
@limiter.limit("10 per hour", methods=["POST"])
def evidence():
    form = ReauthForm()
    if form.validate_on_submit():
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        else:
            pack = start_pack(current_user)
            db.session.flush()
            return see_other(url_for("literacy_admin.evidence_status", pack_id=pack.id))
    return render_form("literacy/evidence.html", form, invalid=request.method == "POST", **_page())


@admin_bp.route("/literacy/evidence/<int:pack_id>")
@admin_required
def evidence_status(pack_id):
    pack = get_or_404(EvidencePack, pack_id)  # another company's pack is a 404
    return render("literacy/evidence_status.html", block="evidence_progress", pack=pack,
                  downloadable=is_downloadable(pack), working=pack.status in (EvidenceStatus.QUEUED, EvidenceStatus.RUNNING))


@admin_bp.route("/literacy/evidence/<int:pack_id>/download")
@admin_required
@limiter.limit("30 per hour")
def evidence_download(pack_id):
    pack = get_or_404(EvidencePack, pack_id)
    if not is_downloadable(pack):
        abort(404)  # not ready, failed or expired: there is no file to offer
    if not pack.team_figures_only and works_council.active_for(current_user):
        # a pack made before works-council mode holds rows per person: not handed out while the mode is on
        return render("literacy/evidence_refused.html", status=403, pack=pack)
    mark_downloaded(pack, current_user)
    return download(pack)  # a short-lived presigned URL (303) when the store offers one, else streamed
