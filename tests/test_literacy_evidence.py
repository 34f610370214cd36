"""The AI-literacy evidence pack: what is in it, the manifest's checksums, step-up, who may see it, the audit
log, the works-council setting, expiry, and a failed build that never offers a half file."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import EvidencePack, Organization, User, utcnow
from leadthe.worker import run_once
from tests.conftest import PASSWORD, audit_actions, make_team, make_user, post_form
from tests.helpers import login, plant_literacy_programme

PAGE = "/admin/literacy/evidence"


@pytest.fixture(autouse=True)
def evidence_dir(app, tmp_path, monkeypatch) -> Path:
    """Each test's packs in a folder of their own."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    return tmp_path / "evidence"


@pytest.fixture
def programme(app, companies):
    a, b = companies
    with app.app_context():
        rows = plant_literacy_programme(a.org.id, [a.learner.id, a.manager.id], a.admin.id)
        plant_literacy_programme(b.org.id, [b.learner.id], b.admin.id)
        db.session.commit()
        return {"course_title": rows["course"].title}


def generate(client, app, password=PASSWORD):
    """Ask for a pack as the signed-in admin, run the worker, and return the status page's URL."""
    response = post_form(client, PAGE, {"password": password}, page=PAGE)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    status_url = response.headers["Location"]
    assert re.fullmatch(r"/admin/literacy/evidence/\d+", status_url)
    with app.app_context():
        run_once()
    return status_url


def download(client, status_url) -> zipfile.ZipFile:
    page = client.get(status_url).get_data(as_text=True)
    link = re.search(r'href="(/admin/literacy/evidence/\d+/download)"', page).group(1)
    with client.get(link) as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        return zipfile.ZipFile(io.BytesIO(response.get_data()))


def rows_of(zf, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))))


def test_the_pack_holds_the_programme_and_per_person_evidence_with_true_checksums(client, app, companies, programme):
    a, b = companies
    login(client, a.admin)
    zf = download(client, generate(client, app))
    names = set(zf.namelist())
    assert {"report.html", "report.pdf", "company.json", "ai_tools.csv", "ai_policy_versions.csv", "requirement_rules.csv",
            "curriculum.csv", "people.csv", "requirements.csv", "quiz_results.csv", "team_figures.csv", "manifest.json"} <= names
    company = json.loads(zf.read("company.json"))
    assert company["company"]["name"] == "Company A" and company["generated_by"]["email"] == "admin@a.example"
    assert company["wording"] == "evidence of AI-literacy measures" and company["team_figures_only"] is False
    assert [r["title"] for r in rows_of(zf, "ai_policy_versions.csv")] == ["Our AI rules"]
    assert rows_of(zf, "ai_policy_versions.csv")[0]["asked"] == "2" and rows_of(zf, "ai_policy_versions.csv")[0]["acknowledged"] == "1"
    assert rows_of(zf, "ai_tools.csv")[0]["name"] == "ChatAssist"
    assert rows_of(zf, "requirement_rules.csv")[0]["course"] == programme["course_title"]
    course = next(r for r in rows_of(zf, "curriculum.csv") if r["title"] == programme["course_title"])
    assert "Check an AI answer before using it" in course["learning_objectives"] and course["required_by_rules"] == "1"
    people = {r["email"]: r for r in rows_of(zf, "people.csv")}
    assert set(people) == {"admin@a.example", "manager@a.example", "learner@a.example"}  # nobody of company B
    assert people["learner@a.example"]["teams"] == "Team A" and people["learner@a.example"]["maturity_level"] == "3"
    requirements = {r["email"]: r for r in rows_of(zf, "requirements.csv")}
    assert requirements["learner@a.example"]["status"] == "current"
    assert requirements["manager@a.example"]["status"] == "overdue" and requirements["manager@a.example"]["completed_at"] == ""
    with app.app_context():
        code = db.session.scalar(sa.text("SELECT code FROM certificate WHERE user_id = :u"), {"u": a.learner.id})
    assert requirements["learner@a.example"]["certificate_link"] == f"{app.config['SERVER_BASE_URL']}/certificates/{code}"
    assert [r["best_score"] for r in rows_of(zf, "quiz_results.csv")] == ["80"]
    report = zf.read("report.html").decode("utf-8")
    assert "Evidence of AI-literacy measures" in report and "Learner A" in report and "Company A" in report
    # self-contained: nothing is loaded from anywhere; the only links are the certificates' verification pages
    assert not re.search(r"<(img|script|link|iframe)\b|src=|url\(", report)
    assert set(re.findall(r'href="([^"]+)"', report)) == {f"{app.config['SERVER_BASE_URL']}/certificates/{code}"}
    assert "compliant" not in report.lower() and "compliance" not in report.lower()
    assert zf.read("report.pdf").startswith(b"%PDF")
    # the manifest: every other file, with its true size and SHA-256
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["generator"] and manifest["version"]
    listed = {f["file"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    for name, entry in listed.items():
        content = zf.read(name)
        assert entry["bytes"] == len(content) and entry["sha256"] == hashlib.sha256(content).hexdigest(), name


def test_step_up_is_required(client, app, companies, programme):
    a, _ = companies
    login(client, a.admin, step_up_window=False)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Generate evidence pack" in page and "What is inside" in page
    wrong = post_form(client, PAGE, {"password": "not-my-password"}, page=PAGE)
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    missing = post_form(client, PAGE, {}, page=PAGE)
    assert missing.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidencePack)) == 0
    assert "evidence_pack.requested" not in audit_actions(app)


def test_only_company_admins_see_the_packs(client, app, companies, programme):
    a, _ = companies
    for who in (a.manager, a.learner):
        other = app.test_client()
        login(other, who)
        assert other.get(PAGE).status_code == 403
        assert post_form(other, PAGE, {"password": PASSWORD}, page="/dashboard").status_code == 403
    assert app.test_client().get(PAGE).status_code == 302  # to log-in


def test_another_companys_pack_is_a_404(client, app, companies, programme):
    a, b = companies
    login(client, a.admin)
    status_url = generate(client, app)
    download(client, status_url)
    other = app.test_client()
    login(other, b.admin)
    assert other.get(status_url).status_code == 404
    assert other.get(status_url + "/download").status_code == 404
    assert other.get("/admin/literacy/evidence/999999").status_code == 404
    assert "Company A" not in other.get(PAGE).get_data(as_text=True)


def test_generation_and_download_are_audited(client, app, companies, programme):
    a, _ = companies
    login(client, a.admin)
    download(client, generate(client, app))
    actions = audit_actions(app)
    assert "evidence_pack.requested" in actions and "evidence_pack.downloaded" in actions
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Evidence pack requested" in html and "Evidence pack downloaded" in html


def test_the_status_page_polls_under_htmx_and_refreshes_without_js(client, app, companies, programme):
    a, _ = companies
    login(client, a.admin)
    response = post_form(client, PAGE, {"password": PASSWORD}, page=PAGE)
    url = response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page and 'data-hx-trigger="every 2s"' in page
    assert "/download" not in page  # nothing to download yet
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="evidence-progress"' in fragment
    with app.app_context():
        run_once()
    ready = client.get(url).get_data(as_text=True)
    assert "Download the evidence pack" in ready and "http-equiv" not in ready
    listing = client.get(PAGE).get_data(as_text=True)
    assert "Ready to download" in listing and "Admin A" in listing


def test_works_council_mode_has_no_individual_rows(client, app, companies, monkeypatch):
    from fpdf import FPDF

    a, _ = companies
    secret_names = [f"Zebulon Quaxley{n}" for n in range(6)]
    secret_mails = [f"zq{n}.unique-mark@a.example" for n in range(6)]
    with app.app_context():
        db.session.get(Organization, a.org.id).literacy_team_figures_only = True
        db.session.commit()
    people = [make_user(app, a.org, email=mail, name=name, department="Claims", job_title="Handler Xyzzy")
              for name, mail in zip(secret_names, secret_mails)]
    make_team(app, a.org, "Big team", members=people)
    small = make_user(app, a.org, email="lonely@a.example", name="Lonely Person", department="Tiny dept")
    with app.app_context():
        plant_literacy_programme(a.org.id, [p.id for p in people] + [small.id], a.admin.id)
        db.session.commit()
    # the PDF's text is stored as glyph numbers of the embedded fonts: note what is written into it instead
    pdf_text = []
    for method in ("cell", "multi_cell"):
        real = getattr(FPDF, method)

        def spy(self, *args, _real=real, **kwargs):
            pdf_text.append(str(kwargs.get("text", args[2] if len(args) > 2 else "")))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(FPDF, method, spy)
    login(client, a.admin)
    zf = download(client, generate(client, app))
    names = set(zf.namelist())
    assert not {"people.csv", "requirements.csv", "quiz_results.csv"} & names
    everything = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names if n != "report.pdf")
    everything += "\n".join(pdf_text)
    assert "Big team" in "\n".join(pdf_text)  # the spy sees the PDF's text
    for planted in secret_names + secret_mails + ["Learner A", "learner@a.example", "Lonely Person", "lonely@a.example",
                                                   "Handler Xyzzy"]:
        assert planted not in everything, planted
    assert json.loads(zf.read("company.json"))["team_figures_only"] is True
    teams = {r["group"]: r for r in rows_of(zf, "team_figures.csv")}
    assert teams["Big team"]["people"] == "6" and "Team A" not in teams  # Team A has two people with requirements
    departments = {r["group"] for r in rows_of(zf, "department_figures.csv")}
    assert departments == {"Claims"}
    report = zf.read("report.html").decode("utf-8")
    assert "in their own data export" in report


def test_expired_packs_lose_their_file_and_cannot_be_downloaded(client, app, companies, programme, evidence_dir):
    from leadthe.privacy.retention import apply_retention

    a, _ = companies
    login(client, a.admin)
    status_url = generate(client, app)
    download(client, status_url)
    with app.app_context():
        pack = db.session.scalar(sa.select(EvidencePack))
        path = evidence_dir / pack.file_name
        assert path.exists()
        assert apply_retention(now=utcnow() + timedelta(days=6))["export_7d"] == 0
        assert path.exists()
        apply_retention(now=utcnow() + timedelta(days=8))
        assert not path.exists()
        assert db.session.get(EvidencePack, pack.id).status == "expired"
    assert client.get(status_url + "/download").status_code == 404
    assert "has expired" in client.get(status_url).get_data(as_text=True)


def test_a_failed_build_never_offers_a_half_file(client, app, companies, programme, monkeypatch, evidence_dir):
    import leadthe.literacy.evidence_pack as pack_module

    a, _ = companies
    login(client, a.admin)

    def crash(out, p):
        out.write("half,written\n")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pack_module, "_requirements_csv", crash)
    status_url = generate(client, app)
    with app.app_context():
        pack = db.session.scalar(sa.select(EvidencePack))
        assert pack.status == "failed" and pack.file_name == "" and pack.error == "RuntimeError"
        assert list(evidence_dir.iterdir()) == []
    page = client.get(status_url).get_data(as_text=True)
    assert "could not prepare" in page and "/download" not in page
    assert client.get(status_url + "/download").status_code == 404


def test_the_pack_is_in_the_admins_language(client, app, companies, programme):
    a, _ = companies
    with app.app_context():
        db.session.get(User, a.admin.id).locale = "de"
        db.session.commit()
    login(client, a.admin)
    zf = download(client, generate(client, app))
    report = zf.read("report.html").decode("utf-8")
    assert '<html lang="de">' in report and "Nachweis" in report
    assert json.loads(zf.read("company.json"))["language"] == "de"


def test_erasing_a_person_deletes_the_companys_pack_files(client, app, companies, programme, evidence_dir):
    """The packs hold the person's name and records: when the person is erased, the files go at once."""
    from leadthe.privacy.erasure import request_erasure, run_erasure

    a, b = companies
    login(client, a.admin)
    status_url = generate(client, app)
    other = app.test_client()
    login(other, b.admin)
    other_url = generate(other, app)
    with app.app_context():
        with app.test_request_context():
            req = request_erasure(db.session.get(User, a.learner.id))
            db.session.commit()
            run_erasure(req)
        statuses = dict(db.session.execute(sa.select(EvidencePack.org_id, EvidencePack.status)).all())
    assert statuses == {a.org.id: "expired", b.org.id: "ready"}
    assert len(list(evidence_dir.iterdir())) == 1  # company B's pack only
    assert client.get(status_url + "/download").status_code == 404
    with other.get(other_url + "/download") as response:
        assert response.status_code == 200
