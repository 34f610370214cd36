"""The route matrix's entries for the billing admin routes (issue 20); see tests/test_route_matrix.py for what each
key means. ``build`` adds a finance person with the billing permission and a pending billing request of company A and of company B,
``RESOLVERS`` turn them into URL values, and ``sweep_values`` gives the pages that open every page
(tests/helpers.every_page_data_set) their URL values. People with the billing permission who are not admins
(not a matrix role) are covered in tests/test_billing_admin.py."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "billing_admin.billing": {"auth": "admin"},
    # an empty POST: no plan, no seats: the page again with the errors
    "billing_admin.subscribe": {"auth": "admin", "post": {"admin": 422}},
    "billing_admin.seats": {"auth": "admin", "post": {"admin": 422}},
    # manual invoicing has no portal: back to the page with a message
    "billing_admin.portal": {"auth": "admin", "post": {"admin": 303}},
    # no running subscription in the matrix's company: back to the page with a message
    "billing_admin.cancel": {"auth": "admin", "get": 303, "post": {"admin": 303}},
    # nothing to reactivate: the request's page says why
    "billing_admin.reactivate": {"auth": "admin", "post": {"admin": 303}},
    "billing_admin.details": {"auth": "admin"},
    "billing_admin.add_member": {"auth": "admin", "post": {"admin": 422}},
    "billing_admin.remove_member": {"auth": "admin", "obj": "billing_member", "post": {"admin": 303}},
    "billing_admin.request": {"auth": "admin", "obj": "billing_request"},
    "billing_admin.checkout_return": {"auth": "admin"},
}


def _resolver(kind, key):
    def resolve(w, role, which):
        if which == "sibling":
            return None
        return {key: w.ids[f"{kind}_{'a' if which == 'own' else 'b'}"]}

    return resolve


RESOLVERS: dict = {"billing_member": _resolver("billing_member", "member_id"),
                   "billing_request": _resolver("billing_request", "request_id")}


def build(w, app, companies) -> None:
    from leadthe.extensions import db
    from leadthe.models.billing import BillingMember, BillingRequest
    from tests.conftest import make_user

    finance = [make_user(app, company.org, email=f"finance@{tag}.example", name=f"Finance {tag.upper()}")
               for tag, company in zip(("a", "b"), companies)]  # not a matrix role: the billing permission changes what they see
    with app.app_context():
        for tag, company, person in zip(("a", "b"), companies, finance):
            member = BillingMember(org_id=company.org.id, user_id=person.id, receives_mail=True)
            req = BillingRequest(org_id=company.org.id, user_id=company.admin.id, kind="subscribe", params={},
                                 status="pending", url="", error="")
            db.session.add_all([member, req])
            db.session.flush()
            w.ids[f"billing_member_{tag}"], w.ids[f"billing_request_{tag}"] = member.id, req.id
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): a billing member
    (``member_id``) and a pending billing request (``request_id``: its page waits and polls)."""
    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.models.billing import BillingMember, BillingRequest
    from leadthe.models.enums import Role
    from leadthe.tenancy import scoped

    person = db.session.scalar(scoped(User, org_id).where(User.role != Role.ADMIN).order_by(User.id).limit(1)) or admin
    member = db.session.scalar(scoped(BillingMember, org_id).where(BillingMember.user_id == person.id))
    if member is None:
        member = BillingMember(org_id=org_id, user_id=person.id, receives_mail=True, added_by_id=admin.id)
        db.session.add(member)
    req = BillingRequest(org_id=org_id, user_id=admin.id, kind="portal", params={}, status="pending", url="", error="")
    db.session.add(req)
    db.session.flush()
    return {"member_id": str(member.id), "request_id": str(req.id)}
