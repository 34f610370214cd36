"""A person's single sign-on links (their identity-provider subjects) are personal data: they are in the
person's export and erased with them, and so are the log-ins through the identity provider under way that name
them, by their id or by their address."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import User, utcnow
from leadthe.models.sso import SsoIdentity, SsoLoginAttempt
from leadthe.privacy.erasure import request_erasure
from leadthe.worker import run_once
from tests.helpers import login
from tests.test_privacy import export_via_http

ISSUER = "https://idp.a.example/"


def plant(app, company, subject):
    """A link to the IdP for ``company.learner`` and two log-ins under way naming them (by id, by address)."""
    person = company.learner
    with app.app_context():
        later = utcnow() + timedelta(minutes=10)
        db.session.add_all([
            SsoIdentity(org_id=company.org.id, user_id=person.id, protocol="oidc", issuer=ISSUER, subject=subject,
                        email=person.email, last_login_at=utcnow()),
            SsoLoginAttempt(org_id=company.org.id, protocol="oidc", user_id=person.id, expires_at=later,
                            result={"subject": subject, "email": person.email}, email=person.email),
            SsoLoginAttempt(org_id=company.org.id, protocol="saml", user_id=None, request_id=f"id-{subject}",
                            expires_at=later, email=person.email),
        ])
        db.session.commit()


def test_the_export_holds_the_persons_single_sign_on_links_and_log_ins(client, app, companies):
    a, b = companies
    plant(app, a, "subject-of-a-learner")
    plant(app, b, "subject-of-b-learner")
    login(client, a.learner.email)
    zf, _, _ = export_via_http(client, app)
    data = json.loads(zf.read("export.json"))
    identities = data["categories"]["account"]["sso_identity"]
    assert [(row["issuer"], row["subject"], row["email"]) for row in identities] == [(ISSUER, "subject-of-a-learner", a.learner.email)]
    attempts = data["categories"]["device"]["sso_login_attempt"]
    assert [row["result"]["subject"] for row in attempts] == ["subject-of-a-learner"]
    assert "result_token_hash" not in attempts[0]
    everything = "\n".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())
    assert "subject-of-b-learner" not in everything
    assert "subject-of-a-learner" in zf.read("report.html").decode("utf-8")  # readable, not only in the JSON
    assert "subject-of-a-learner" in zf.read("csv/sso_identity.csv").decode()


def test_erasure_removes_the_links_and_the_log_ins_by_id_and_by_address(app, companies):
    a, b = companies
    plant(app, a, "subject-of-a-learner")
    plant(app, b, "subject-of-b-learner")
    with app.test_request_context():
        request_erasure(db.session.get(User, a.learner.id), grace_period=False)
        db.session.commit()
    with app.app_context():
        run_once(utcnow() + timedelta(seconds=10))
        assert db.session.get(User, a.learner.id) is None
        assert db.session.scalars(sa.select(SsoIdentity.subject)).all() == ["subject-of-b-learner"]
        left = db.session.scalars(sa.select(SsoLoginAttempt.email)).all()
        assert left == [b.learner.email, b.learner.email]
