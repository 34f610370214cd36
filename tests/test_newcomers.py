"""Newcomers: seed-demo prints the staff and DPO log-ins too (with two-step verification and, in development,
a way to get a code), and /dev/mail says what happened to each mail."""
import re
from datetime import timedelta

import pytest

from leadthe.extensions import db
from leadthe.models import OutboxMail, utcnow
from tests.conftest import post_form

ROOT_README = __import__("pathlib").Path(__file__).resolve().parent.parent / "README.md"


def test_seed_demo_prints_staff_and_dpo_log_ins_with_a_way_to_get_a_code(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["leadthe", "seed-demo"]).output
    for email in ("admin@acme.example", "staff@leadthe.example", "dpo@leadthe.example"):
        assert email in out
    assert "make demo-code EMAIL=staff@leadthe.example" in out and "otpauth://totp/" in out
    again = runner.invoke(args=["leadthe", "seed-demo", "--print-only"]).output
    assert "dpo@leadthe.example" in again


@pytest.mark.parametrize("email, lands_on", [("staff@leadthe.example", "/staff"), ("dpo@leadthe.example", "/staff")])
def test_the_printed_code_signs_the_demo_staff_in(app, client, email, lands_on):
    runner = app.test_cli_runner()
    runner.invoke(args=["leadthe", "seed-demo"])
    first = post_form(client, "/login", {"email": email, "password": "acme-demo-passphrase"})
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/2fa")
    code = runner.invoke(args=["leadthe", "demo-code", email]).output.strip()
    assert re.fullmatch(r"\d{6}", code)
    second = post_form(client, "/login/2fa", {"code": code})
    assert second.status_code == 303
    assert client.get(lands_on, follow_redirects=True).status_code == 200


def test_demo_code_is_only_for_the_demo_staff_and_never_in_production(app, companies):
    runner = app.test_cli_runner()
    runner.invoke(args=["leadthe", "seed-demo"])
    assert runner.invoke(args=["leadthe", "demo-code", companies[0].admin.email]).exit_code != 0
    app.config["LEADTHE_ENV"] = "production"
    try:
        result = runner.invoke(args=["leadthe", "demo-code", "staff@leadthe.example"])
        assert result.exit_code != 0 and not re.search(r"\b\d{6}\b", result.output)
    finally:
        app.config["LEADTHE_ENV"] = "test"


def test_dev_mail_shows_each_mails_real_status(make_app, monkeypatch):
    monkeypatch.setenv("LEADTHE_ENV", "development")
    dev = make_app()
    now = utcnow()
    with dev.app_context():
        db.session.add_all([
            OutboxMail(kind="t", to_addr="kept@example.com", subject="Kept one", body_text="x", status="pending"),
            OutboxMail(kind="t", to_addr="sent@example.com", subject="Sent one", body_text="x", status="sent",
                       attempts=1, sent_at=now - timedelta(minutes=5)),
            OutboxMail(kind="t", to_addr="bad@example.com", subject="Failed one", body_text="x", status="failed",
                       attempts=8, last_error="SMTPRecipientsRefused: no such user"),
        ])
        db.session.commit()
    page = dev.test_client().get("/dev/mail").get_data(as_text=True)
    assert "kept</strong>: not sent, as no LEADTHE_SMTP_URL is set; queued just now" in page
    assert re.search(r"sent</strong>: sent 5 minutes ago \(\d\d \w{3} \d{4} \d\d:\d\d UTC\)", page)
    assert "failed</strong>: failed for good after 8 attempts" in page and "no such user" in page
    assert ">pending<" not in page


def test_readme_stands_alone_and_opens_with_first_steps():
    text = ROOT_README.read_text()
    assert "../shared" not in text and "CONTRACT.md" not in text
    head = text[:3000]
    assert "First steps" in head and "make run" in head and "/dev/mail" in head
    for who in ("admin@acme.example", "learner@acme.example", "staff@leadthe.example", "dpo@leadthe.example"):
        assert who in text
