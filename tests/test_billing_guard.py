"""Read-only after the grace period (issue 20): 14 days after a payment failed, a company's admins' changes are
paused with a page that says why and links to billing; learners keep learning, nobody loses data, people can
still be deactivated and invitations revoked, and paying lifts it at once. Admins see a banner counting down."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import Invitation, Team, User, utcnow
from tests.conftest import post_form
from tests.helpers import enrol, give_seats, load, signed_in


def past_due(app, org, days):
    give_seats(app, org, 50, status="past_due", past_due_since=utcnow() - timedelta(days=days))


def teams_named(app, name) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Team).where(Team.name == name))


def test_past_due_within_the_grace_period_changes_work_and_the_banner_counts_down(app, companies):
    a, _ = companies
    past_due(app, a.org, 13)
    admin = signed_in(app, a.admin)
    assert post_form(admin, "/admin/teams", {"name": "Finance"}).status_code == 303
    assert teams_named(app, "Finance") == 1
    page = admin.get("/admin/teams").get_data(as_text=True)
    assert "Your company's payment is past due. It becomes read-only for admins' changes on" in page
    assert 'href="/admin/billing"' in page


def test_after_the_grace_period_admins_changes_are_refused_with_a_page_that_says_why(app, companies):
    a, b = companies
    past_due(app, a.org, 15)
    admin = signed_in(app, a.admin)
    refused = post_form(admin, "/admin/teams", {"name": "Finance"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Changes are paused until your company pays" in page
    assert "payment has been past due since" in page and "14 days of grace ended on" in page
    assert "Learners keep learning, and nobody loses any data." in page
    assert 'href="/admin/billing"' in page and '<footer class="site">' in page  # in the site's layout
    assert teams_named(app, "Finance") == 0
    # htmx: the same answer as a fragment (swapped in place of the form)
    fragment = post_form(admin, "/admin/teams", {"name": "Finance"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="prose" id="read-only">') and "Changes are paused" in fragment
    assert teams_named(app, "Finance") == 0
    # the banner on admin pages says it too; another company is not affected
    assert "Admins' changes are paused" in admin.get("/admin/teams").get_data(as_text=True)
    assert post_form(signed_in(app, b.admin), "/admin/teams", {"name": "Finance"}).status_code == 303


def test_read_only_still_lets_admins_remove_and_protect_people_and_reach_billing(app, companies):
    from leadthe.billing import guard

    a, _ = companies
    now = utcnow()
    with app.app_context():
        db.session.add(Invitation(org_id=a.org.id, email="new@a.example", role="learner", nonce="n", status="pending",
                                  sent_at=now, expires_at=now + timedelta(days=7), created_at=now))
        db.session.commit()
        inv_id = db.session.scalar(sa.select(Invitation.id))
    past_due(app, a.org, 20)
    admin = signed_in(app, a.admin)
    url = f"/admin/users/{a.learner.id}"
    assert post_form(admin, f"{url}/deactivate", {"confirmed": "yes"}, page=url).status_code == 303
    assert post_form(admin, f"/admin/invitations/{inv_id}/revoke", {"confirmed": "yes"}, page="/admin/invitations").status_code == 303
    with app.app_context():
        assert db.session.get(User, a.learner.id).status == "deactivated"
        assert db.session.get(Invitation, inv_id).status == "revoked"
    assert post_form(admin, f"{url}/reactivate", {}, page=url).status_code == 403  # takes a seat: paused
    # the billing pages are never paused (paying is how it ends)
    assert not guard.guarded("POST", "/admin/billing", "billing_admin.billing")
    assert not guard.guarded("POST", "/admin/billing/seats", "billing_admin.seats")
    assert guard.guarded("POST", "/admin/billingx", None) and guard.guarded("POST", "/admin/settings", "admin.settings")
    response = post_form(admin, "/admin/billing/anything", {}, page="/admin")
    assert response.status_code != 403 and "Changes are paused" not in response.get_data(as_text=True)


def test_learners_and_managers_own_learning_and_account_settings_are_never_paused(app, companies):
    a, _ = companies
    load(app)
    past_due(app, a.org, 30)
    for person in (a.learner, a.manager, a.admin):
        client = signed_in(app, person)
        assert enrol(client, "ai-foundations").status_code in (302, 303)
        saved = post_form(client, "/account/preferences", {"language": "en", "theme": "dark", "density": "comfortable"})
        assert saved.status_code == 303
        assert "Changes are paused" not in client.get("/dashboard").get_data(as_text=True)


def test_paying_lifts_it_at_once(app, companies):
    a, _ = companies
    past_due(app, a.org, 15)
    admin = signed_in(app, a.admin)
    assert post_form(admin, "/admin/teams", {"name": "Finance"}).status_code == 403
    give_seats(app, a.org, 50, status="active", past_due_since=None)
    assert post_form(admin, "/admin/teams", {"name": "Finance"}).status_code == 303
    assert "changes are paused" not in admin.get("/admin/teams").get_data(as_text=True).lower()  # the banner is gone


def test_a_trial_that_ran_out_pauses_changes_and_one_ending_soon_is_announced(app, companies):
    from leadthe.models import Organization

    a, _ = companies
    with app.app_context():
        db.session.get(Organization, a.org.id).created_at = utcnow() - timedelta(days=25)  # ends in 5 days
        db.session.commit()
    admin = signed_in(app, a.admin)
    page = admin.get("/admin/teams").get_data(as_text=True)
    assert "Your company's free trial ends on" in page
    assert "free trial" not in signed_in(app, a.manager).get("/admin/teams").get_data(as_text=True)  # admins only
    with app.app_context():
        db.session.get(Organization, a.org.id).created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    refused = post_form(admin, "/admin/teams", {"name": "Finance"})
    assert refused.status_code == 403 and "Your company&#39;s free trial ended on" in refused.get_data(as_text=True)


def test_a_cancelled_subscription_that_ended_pauses_changes(app, companies):
    a, _ = companies
    give_seats(app, a.org, 50, status="cancelled", current_period_end=utcnow() - timedelta(days=1))
    refused = post_form(signed_in(app, a.admin), "/admin/teams", {"name": "Finance"})
    assert refused.status_code == 403 and "subscription was cancelled and ended on" in refused.get_data(as_text=True)
