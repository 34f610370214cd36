"""Form steps shared by the browser tests: they fill fields by their visible labels, as a person would."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import PASSWORD, fresh_code

SIGNUP = {
    "name": "Ann Example",
    "email": "ann@example.com",
    "password": PASSWORD,
    "organization": "Example Ltd",
    "job_title": "Head of Learning",
    "department": "People",
}

# Field name -> its label on the sign-up form.
SIGNUP_LABELS = {
    "name": "Your name",
    "email": "Work e-mail address",
    "password": "Password",
    "organization": "Company or organisation",
    "job_title": "Job title (optional)",
    "department": "Department (optional)",
}
AGE_LABEL = "I am 18 or older"
POLICY_LABEL = "I have read and accept the privacy policy"


def fill_signup(page, *, age_confirm: bool = True, accept_policy: bool = True, **overrides) -> dict:
    """Open /signup and fill every field (ticking the boxes unless told not to); returns the typed values."""
    values = {**SIGNUP, **overrides}
    page.goto("/signup")
    for name, label in SIGNUP_LABELS.items():
        page.get_by_label(label, exact=True).fill(values[name])
    page.get_by_label(AGE_LABEL).set_checked(age_confirm)
    page.get_by_label(POLICY_LABEL).set_checked(accept_policy)
    return values


def submit_signup(page):
    page.get_by_role("button", name="Create account").click()


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Fill and send the log-in form (from wherever the page is)."""
    if not page.url.split("?")[0].endswith("/login"):
        page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(email)
    # with JavaScript, the address's single sign-on check (htmx) may redraw the form: let it land first, so the
    # password is not typed into a field that is about to be replaced (a race seen on a busy CI machine)
    page.wait_for_load_state("networkidle")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def log_in_with_code(page, app, user, password: str = PASSWORD) -> None:
    """Log in as someone with two-step verification (``make_staff``): the password, then a fresh code."""
    log_in(page, user.email, password)
    page.wait_for_url("**/login/2fa")
    page.get_by_label("6-digit code from your authenticator app").fill(fresh_code(app, user))
    page.get_by_role("button", name="Verify and log in").click()


def count_rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))
