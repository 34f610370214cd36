"""Mail is written in the recipient's language (their account's), not in the language of whoever caused it;
an invitation (no account yet) is in the language the inviting admin uses; the staff mailboxes read English."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from babel.messages.pofile import read_po

from leadthe.extensions import db
from tests.conftest import PASSWORD, make_staff, outbox, post_form
from tests.helpers import load, signed_in, write_course


def speaks_german(app, *people):
    from leadthe.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.id.in_([p.id for p in people])).values(locale="de"))
        db.session.commit()


def test_security_mails_follow_the_recipients_language_not_the_browsers(app, companies):
    from leadthe.auth import twofactor
    from leadthe.auth.services import set_password
    from leadthe.models import User

    a, _ = companies
    speaks_german(app, a.learner)
    for person in (a.learner, a.manager):
        # the request comes from a browser that asks for the other language: it does not matter
        other = "en" if person is a.learner else "de"
        with app.test_request_context("/", headers={"Accept-Language": other}):
            user = db.session.get(User, person.id)
            set_password(user, PASSWORD + "-new", event="password.changed")
            user.totp_secret = secret = pyotp.random_base32()
            assert twofactor.enable(user, pyotp.TOTP(secret).now()) is not None
            db.session.commit()
    german = outbox(app, to_addr=a.learner.email)
    english = outbox(app, to_addr=a.manager.email)
    assert [m.subject for m in german] == ["Ihr LeadThe.AI-Passwort wurde geändert",
                                           "Die Zwei-Faktor-Authentifizierung ist für Ihr LeadThe.AI-Konto eingeschaltet"]
    assert german[0].body_text.startswith("Hallo Learner,\n\ndas Passwort Ihres LeadThe.AI-Kontos wurde soeben geändert")
    assert "„Passwort vergessen?“" in german[0].body_text and "Hello" not in german[0].body_text
    assert "Authenticator-App" in german[1].body_text and "two-step" not in german[1].body_text
    assert [m.subject for m in english] == ["Your LeadThe.AI password was changed",
                                            "Two-step verification is on for your LeadThe.AI account"]
    assert english[0].body_text.startswith("Hello Manager,\n\nthe password of your LeadThe.AI account was just changed")
    assert "Passwort" not in english[1].body_text and "authenticator app" in english[1].body_text


def test_the_export_ready_mail_from_the_worker_is_in_german_with_a_german_date(app, client, companies):
    from leadthe.worker import run_once

    a, _ = companies
    speaks_german(app, a.learner)
    client = signed_in(app, a.learner.email)
    assert post_form(client, "/privacy/export", {"password": PASSWORD}, page="/privacy").status_code == 303
    with app.app_context():
        run_once()
    [mail] = outbox(app, kind="privacy")
    assert mail.subject == "Ihr Datenexport von LeadThe.AI ist fertig"
    assert "die von Ihnen angeforderte Kopie Ihrer Daten" in mail.body_text and "/privacy/exports/" in mail.body_text
    months = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    assert re.search(rf"Der Download ist bis zum \d{{1,2}}\. ({months}) \d{{4}} möglich", mail.body_text), mail.body_text


def test_progress_mails_from_the_worker_follow_each_persons_language(app, companies, tmp_path):
    from leadthe.models import ActivityDay, Course, Enrollment, utcnow
    from leadthe.progress.services import send_inactivity_reminders

    a, _ = companies
    speaks_german(app, a.learner)
    write_course(tmp_path, "idle-course", 3)
    load(app, tmp_path)
    today = utcnow().date()
    with app.app_context():  # like the worker: no request, so no browser language to fall back on
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "idle-course"))
        for person in (a.learner, a.manager):
            db.session.add(Enrollment(user_id=person.id, course_id=course_id))
            db.session.add(ActivityDay(user_id=person.id, day=today - timedelta(days=15), seconds=600))
        db.session.commit()
        assert send_inactivity_reminders(today) == 2
    [german] = outbox(app, to_addr=a.learner.email, kind="progress_inactive")
    [english] = outbox(app, to_addr=a.manager.email, kind="progress_inactive")
    assert german.subject == "Machen Sie dort weiter, wo Sie aufgehört haben"
    assert "Sie haben seit 15 Tagen nicht mehr auf LeadThe.AI gelernt" in german.body_text
    assert "Mit einem Klick abbestellen:" in german.body_text and "/email/unsubscribe/" in german.body_text
    assert english.subject == "Pick up where you left off" and "It has been 15 days" in english.body_text


def test_a_policy_change_broadcast_mails_each_person_in_their_language(app, companies):
    from leadthe.legal import services
    from leadthe.models import utcnow
    from leadthe.worker import run_once

    a, _ = companies
    speaks_german(app, a.learner)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        staff = make_staff(app)
        services.current_policy("privacy")
        services.publish("privacy", title="Privacy policy", body="New text.", summary="Analytics changed.",
                         effective_at=utcnow() - timedelta(seconds=1), material=True, categories_changed=False, staff_user=staff)
        db.session.commit()
    with app.app_context():
        run_once()
    [german] = outbox(app, kind="policy", to_addr=a.learner.email)
    [english] = outbox(app, kind="policy", to_addr=a.manager.email)
    assert german.subject == "Wir haben unsere Datenschutzerklärung geändert"
    assert re.search(r"wir haben unsere Datenschutzerklärung geändert, gültig ab \d{1,2}\. \w+ \d{4}\.", german.body_text)
    assert english.subject == "We changed our privacy policy"
    assert re.search(r"we changed our privacy policy, in effect from \d\d [A-Z][a-z]+ \d{4}\.", english.body_text)


def test_an_invitation_is_in_the_language_the_inviting_admin_uses(app, companies):
    a, _ = companies
    speaks_german(app, a.admin)
    admin = signed_in(app, a.admin.email)
    r = post_form(admin, "/admin/invitations", {"email": "neu@a.example", "role": "learner", "team_id": str(a.team.id)})
    assert r.status_code == 303
    mail = outbox(app, kind="invitation")[-1]
    assert mail.subject == "Sie sind zu LeadThe.AI eingeladen"
    assert "Admin A hat Sie zu Company A auf LeadThe.AI eingeladen" in mail.body_text
    assert re.search(r"\(der Link gilt \d+ Tage\):\nhttp://localhost/invite/\S+", mail.body_text), mail.body_text


def test_the_staff_mailbox_reads_english_whoever_writes(app, companies):
    a, _ = companies
    speaks_german(app, a.learner)
    make_staff(app)  # a platform with staff, as in production
    client = signed_in(app, a.learner.email)
    r = post_form(client, "/support", {"subject": "Hilfe", "category": "other", "body": "Etwas geht nicht."})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    [mail] = outbox(app, kind="support_staff")
    assert mail.subject.startswith("New support ticket #") and mail.body_text.startswith("A new support ticket is waiting.")


def test_every_mail_text_has_a_german_translation():
    """Each string of the mail templates is in the German catalogue with a translation."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "leadthe"
    with open(root / "translations" / "de" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalogue = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(fh) if m.id}
    found = []
    for template in sorted((root / "templates" / "mail").glob("*.txt")):
        text = template.read_text(encoding="utf-8")
        for quoted in re.findall(r'(?:\b_|ngettext)\(\s*"((?:[^"\\]|\\.)*)"', text):
            found.append((template.name, quoted.replace('\\"', '"')))
        # nothing outside gettext but placeholders, tags, the name of the product and the bank's words (the same in German)
        bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|#|\(|\)|LeadThe\.AI|\b(?:IBAN|BIC):", "", text)
        assert not re.search(r"[A-Za-z]{2,}", bare), (template.name, bare)
    assert len({name for name, _ in found}) == 43  # every mail template, and the parts they include (issue 23: security_alert)
    missing = [(name, msgid) for name, msgid in found
               if not (catalogue.get(msgid) if isinstance(catalogue.get(msgid), str) else all(catalogue.get(msgid) or [""]))]
    assert missing == []
