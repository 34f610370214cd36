"""Works-council mode's setting on /admin/settings and its annex (issue 21).

Turning the mode on is audited and tells everyone in the company (a mail per active person, a notice on their pages;
nobody of another company); turning it off needs a recorded reason (refused beside the field without one, nothing
changed), is audited with the reason and tells everyone the reason. The annex, in English and German, as HTML and PDF,
names every purpose of the personal-data registry and the evaluations the mode makes impossible, and shows the
current setting."""
from __future__ import annotations

import html as htmlmod
import io
import re

import sqlalchemy as sa
from flask_babel import force_locale

from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, User
from leadthe.models.enums import UserStatus
from leadthe.models.works_council import WorksCouncilNotice
from leadthe.privacy.registry import SOURCES
from leadthe.worker import run_once
from tests.conftest import make_user, outbox, post_form
from tests.helpers import signed_in, statements_run

SETTINGS = "/admin/settings"
REASON = "The agreement with the works council ended on 30 November."


def _org(app, org_id) -> Organization:
    with app.app_context():
        org = db.session.get(Organization, org_id)
        db.session.expunge(org)
        return org


def _turn_on(admin):
    return post_form(admin, SETTINGS, {"leaderboard_enabled": "y", "works_council_mode": "y"})


def _events(app, action):
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_turning_it_on_is_audited_and_mails_every_active_person_of_the_company_only(app, companies):
    a, b = companies
    gone = make_user(app, a.org, email="gone@a.example", status=UserStatus.DEACTIVATED)
    admin = signed_in(app, a.admin)
    page = admin.get(SETTINGS).get_data(as_text=True)
    assert 'name="works_council_mode"' in page and "/admin/works-council-annex" in page
    assert "at least 5 people" in page and "per-person CSV" in page

    response = _turn_on(admin)
    assert response.status_code == 303
    org = _org(app, a.org.id)
    assert org.works_council_mode and org.works_council_changed_at is not None
    assert not _org(app, b.org.id).works_council_mode
    assert [e.org_id for e in _events(app, "org.works_council_on")] == [a.org.id]

    with app.app_context():
        run_once()
    mailed = sorted(m.to_addr for m in outbox(app, kind="works_council"))
    assert mailed == sorted([a.admin.email, a.manager.email, a.learner.email])  # not gone@, nobody of company B
    assert gone.email not in mailed
    with app.app_context():
        run_once()  # a second run mails nobody again
    assert len(outbox(app, kind="works_council")) == 3

    # everyone in the company sees the notice on their pages; company B does not
    learner_page = signed_in(app, a.learner).get("/dashboard").get_data(as_text=True)
    assert "Works-council mode was turned on" in learner_page
    assert "Works-council mode was turned on" not in signed_in(app, b.learner).get("/dashboard").get_data(as_text=True)


def test_turning_it_off_without_a_reason_is_refused_beside_the_field_and_changes_nothing(app, companies):
    a, _ = companies
    admin = signed_in(app, a.admin)
    _turn_on(admin)
    with app.app_context():
        run_once()
    before = len(outbox(app, kind="works_council"))
    page = admin.get(SETTINGS).get_data(as_text=True)
    assert 'name="works_council_reason"' in page  # offered once the mode is on

    for headers in ({}, {"HX-Request": "true"}):
        response = post_form(admin, SETTINGS, {"leaderboard_enabled": "y", "works_council_reason": "  "},
                             headers=headers)
        assert response.status_code == (200 if headers else 422)
        html = response.get_data(as_text=True)
        error = re.search(r'<p class="error" id="works_council_reason-error">([^<]+)</p>', html)
        assert error and "Say why works-council mode is turned off" in error.group(1)
        assert 'aria-describedby="works_council_reason-hint works_council_reason-error"' in html
    assert _org(app, a.org.id).works_council_mode
    assert _events(app, "org.works_council_off") == []
    with app.app_context():
        run_once()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorksCouncilNotice)) == 1
    assert len(outbox(app, kind="works_council")) == before


def test_turning_it_off_with_a_reason_records_it_and_tells_everyone(app, companies):
    a, b = companies
    admin = signed_in(app, a.admin)
    _turn_on(admin)
    with app.app_context():
        run_once()
    response = post_form(admin, SETTINGS, {"leaderboard_enabled": "y", "works_council_reason": REASON})
    assert response.status_code == 303
    assert not _org(app, a.org.id).works_council_mode
    [event] = _events(app, "org.works_council_off")
    assert event.org_id == a.org.id and event.details["reason"] == REASON
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "Works-council mode turned off" in audit_page and htmlmod.escape(REASON) in audit_page

    with app.app_context():
        run_once()
    off = [m for m in outbox(app, kind="works_council") if "turned off" in m.subject]
    assert sorted(m.to_addr for m in off) == sorted([a.admin.email, a.manager.email, a.learner.email])
    mail = next(m for m in off if m.to_addr == a.learner.email)
    assert REASON in mail.body_text and "Company admin" in mail.body_text
    assert REASON not in mail.subject

    page = signed_in(app, a.manager).get("/dashboard").get_data(as_text=True)
    assert "Works-council mode was turned off" in page and htmlmod.escape(REASON) in page and "Company admin" in page
    assert "Works-council mode was turned off" not in signed_in(app, b.manager).get("/dashboard").get_data(as_text=True)


def test_the_banner_is_kept_per_process_and_a_change_here_shows_at_once(app, companies):
    """Every page of the company's people carries the banner: after the first, pages ask the database nothing for
    it; a change made in this process shows on the next page."""
    a, _ = companies
    admin = signed_in(app, a.admin)
    _turn_on(admin)
    learner = signed_in(app, a.learner)
    assert "Works-council mode was turned on" in learner.get("/dashboard").get_data(as_text=True)
    with statements_run(app) as statements:
        page = learner.get("/courses").get_data(as_text=True)
    assert "Works-council mode was turned on" in page and statements
    assert [s for s in statements if "works_council_notice" in s] == []
    assert post_form(admin, SETTINGS, {"leaderboard_enabled": "y", "works_council_reason": REASON}).status_code == 303
    page = learner.get("/courses").get_data(as_text=True)
    assert "Works-council mode was turned off" in page and "Works-council mode was turned on" not in page


def _purposes(lang: str) -> list[str]:
    with force_locale(lang):
        return [str(s.purpose) for s in SOURCES if s.subject]


def test_the_annex_names_every_registry_purpose_and_the_impossible_evaluations_in_both_languages(app, companies):
    a, _ = companies
    admin = signed_in(app, a.admin)
    for lang, heading, mode_off in (("en", "Evaluations that are impossible in this mode", "Works-council mode is off"),
                                    ("de", "In diesem Modus unmögliche Auswertungen", "Der Betriebsratsmodus ist aus")):
        response = admin.get(f"/admin/works-council-annex?lang={lang}")
        assert response.status_code == 200
        html = htmlmod.unescape(response.get_data(as_text=True))
        assert f'<html lang="{lang}"' in html and "Company A" in html
        with app.test_request_context():
            missing = [p for p in _purposes(lang) if p not in html]
        assert missing == [], missing
        if lang == "en":
            assert heading in html and mode_off in html
            for words in ("Ranking individual people by performance", "Per-person reports and CSV files",
                          "Figures for groups of fewer than 5 people", "Individual analytics",
                          "Leaderboards without the person's choice"):
                assert words in html
        assert 'href="/admin/works-council-annex?lang=de"' in response.get_data(as_text=True)
        assert 'href="/admin/works-council-annex.pdf?lang=en"' in response.get_data(as_text=True)

    _turn_on(admin)
    html = htmlmod.unescape(admin.get("/admin/works-council-annex?lang=en").get_data(as_text=True))
    assert "Works-council mode is on. The software makes the following evaluations impossible" in html
    assert "only for groups of at least 5 people" in html


def test_the_annex_is_for_admins_only_and_reachable_from_the_settings(app, companies):
    a, _ = companies
    assert signed_in(app, a.manager).get("/admin/works-council-annex").status_code == 403
    assert signed_in(app, a.learner).get("/admin/works-council-annex.pdf").status_code == 403
    assert app.test_client().get("/admin/works-council-annex").status_code in (302, 303)


def test_the_annex_pdf_downloads_with_the_company_name_in_both_languages(app, companies):
    from pypdf import PdfReader

    a, _ = companies
    admin = signed_in(app, a.admin)
    _turn_on(admin)
    for lang, words in (("en", "Evaluations that are impossible in this mode"),
                        ("de", "Betriebsrat")):
        response = admin.get(f"/admin/works-council-annex.pdf?lang={lang}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert "attachment" in response.headers["Content-Disposition"]
        text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(response.data)).pages)
        text = " ".join(text.split())
        assert "Company A" in text
        if lang == "en":
            assert words in text and "Works-council mode is on" in text


def test_the_mailing_resumes_where_it_stopped_and_the_notice_expires(app, companies):
    from datetime import timedelta

    from leadthe.models import utcnow

    a, _ = companies
    _turn_on(signed_in(app, a.admin))
    first = min(a.admin.id, a.manager.id, a.learner.id)
    with app.app_context():
        notice = db.session.scalar(sa.select(WorksCouncilNotice))
        notice.last_user_id, notice.mailed = first, 1  # a worker stopped after mailing the first person
        db.session.commit()
        run_once()
        notice = db.session.scalar(sa.select(WorksCouncilNotice))
        assert notice.finished_at is not None and notice.mailed == 3
        email_of_first = db.session.get(User, first).email
    mailed = [m.to_addr for m in outbox(app, kind="works_council")]
    assert len(mailed) == 2 and email_of_first not in mailed

    learner = signed_in(app, a.learner)
    assert "Works-council mode was turned on" in learner.get("/dashboard").get_data(as_text=True)
    with app.app_context():
        db.session.scalar(sa.select(WorksCouncilNotice)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert "Works-council mode was turned on" not in learner.get("/dashboard").get_data(as_text=True)
