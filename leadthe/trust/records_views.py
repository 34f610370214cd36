"""Records of processing (Article 30) for companies and for us (issue 21, records part).

``/admin/records-of-processing`` (org admins): what we process on the company's behalf, the company named as the
controller; ``/staff/records-of-processing`` (staff and DPO): everything, including our own processing and the tables
without personal data. Each as an HTML page, a CSV download (one row per activity) and a JSON download.
"""
from __future__ import annotations

from flask import Response, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.htmx import render
from leadthe.models import utcnow
from leadthe.staff import staff_required
from leadthe.trust import admin_bp, staff_bp
from leadthe.trust.records import company_records, csv_text, json_text, not_personal, platform_records, security_measures

EVERY_COMPANY = _l("Each customer company")


def _company():
    return company_records(), current_user.organization.name, None


def _platform():
    return platform_records(), str(EVERY_COMPANY), not_personal()


def _page(view: str, activities, controller: str, appendix, bp_name: str):
    return render("trust/records.html", view=view, activities=activities, controller=controller, appendix=appendix,
                  security=security_measures(), dpo_email=current_app.config["DPO_EMAIL"],
                  csv_endpoint=f"{bp_name}.records_csv", json_endpoint=f"{bp_name}.records_json")


def _download(body: str, mimetype: str, ext: str) -> Response:
    name = f"leadthe-records-of-processing-{utcnow():%Y-%m-%d}.{ext}"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@admin_bp.route("/records-of-processing")
@admin_required
def records():
    return _page("company", *_company(), "trust_admin")


@admin_bp.route("/records-of-processing.csv")
@admin_required
def records_csv():
    activities, controller, _appendix = _company()
    return _download(csv_text(activities, controller), "text/csv", "csv")


@admin_bp.route("/records-of-processing.json")
@admin_required
def records_json():
    activities, controller, appendix = _company()
    return _download(json_text(activities, "company", controller, appendix), "application/json", "json")


@staff_bp.route("/records-of-processing", endpoint="records")
@staff_required
def staff_records():
    return _page("platform", *_platform(), "trust_staff")


@staff_bp.route("/records-of-processing.csv", endpoint="records_csv")
@staff_required
def staff_records_csv():
    activities, controller, _appendix = _platform()
    return _download(csv_text(activities, controller), "text/csv", "csv")


@staff_bp.route("/records-of-processing.json", endpoint="records_json")
@staff_required
def staff_records_json():
    activities, controller, appendix = _platform()
    return _download(json_text(activities, "platform", controller, appendix), "application/json", "json")
