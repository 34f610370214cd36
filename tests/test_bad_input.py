"""Bad input: every POST form of the app takes random, oversized, Unicode, right-to-left and control-character
values without a 500, answers with a clear message in the layout, and writes nothing when it refuses.

The routes are found by walking ``app.url_map``; the field names of each form come from the page that shows
it (input/select/textarea names), so a new form is covered without touching this file.
"""
from __future__ import annotations

import itertools
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadthe.extensions import db
from tests.conftest import PASSWORD, csrf_from, login_with_code, make_user, post_form

EXAMPLES = int(os.environ.get("LEADTHE_FUZZ_EXAMPLES", "15"))  # more for a deeper run
# Every form runs on both databases. PostgreSQL adds what SQLite does not check (lengths, types), which the first
# few examples already reach (every field is oversized or odd in most of them); SQLite explores the full number.
# Fewer there keeps CI's two cores under its time limit.
PG_EXAMPLES = int(os.environ.get("LEADTHE_FUZZ_EXAMPLES_PG", str(max(EXAMPLES * 2 // 5, 1))))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])

# --- values ------------------------------------------------------------------------------------------

SPECIALS = [
    "\x00", "a\x00b", "\r", "\r\n\r\n", "\x1b[31mred\x1b[0m", "\x07\x08\x0b\x0c", "\t",
    "👩‍💻🚀🇩🇪", "Z\u0351\u0364\u036b\u0313a\u0308\u0301l\u0336g\u0489o", "e\u0301\u0301\u0301",
    "مرحبا بالعالم", "שלום עולם", "abc\u202egnp.exe", "\u200f\u200e\u202a\u202b\u202c\u2066\u2069",
    "\ufeff", "\uffff", "\U0010ffff", "０１２", "١٢٣", "<script>alert(1)</script>", "' OR 1=1 --", "%00",
    "../../etc/passwd", "   ", "", "-1", "99999999999999999999", "1e309", "NaN",
]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
special = st.sampled_from(SPECIALS)
mixed = st.lists(st.one_of(special, text), min_size=1, max_size=4).map("".join)
huge = st.tuples(st.sampled_from(["x", "ä", "👩‍💻", "ش", "\u202e", "\r\n", "e\u0301"]),
                 st.integers(10_000, 100_000)).map(lambda p: (p[0] * p[1])[:p[1]])
nasty = st.one_of(text, special, mixed, huge)


# --- the forms of the app ----------------------------------------------------------------------------

class _Forms(HTMLParser):
    """Each POST form's action and its fields (name -> option values for selects/radios, else [])."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and a.get("name"):
            if a["name"] == "csrf_token" or a.get("type") in ("submit", "button"):
                return
            values = self._form["fields"].setdefault(a["name"], [])
            if tag == "select":
                self._select = values
            elif a.get("type") in ("radio", "checkbox", "hidden") and a.get("value") is not None:
                values.append(a["value"])
        elif tag == "option" and self._select is not None and a.get("value") is not None:
            self._select.append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


ANONYMOUS = ("auth.signup", "auth.login", "auth.login_2fa", "auth.forgot_password", "auth.reset_password",
             "auth.verify_email", "invite.accept", "progress.unsubscribe", "privacy.cancel_erasure")


def role_for(endpoint: str) -> str | None:
    if endpoint in ANONYMOUS:
        return None
    if endpoint.startswith("staff."):
        return "staff"
    if endpoint.startswith("admin."):
        return "admin"
    return "learner"


def post_routes(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods})


def _all_post_endpoints():
    from leadthe import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = post_routes(app)
    # SCIM takes JSON with a bearer token, not forms: its own property test is at the end of this file
    return [e for e in routes if not e.startswith("scim.")], [e for e in routes if e.startswith("scim.")]


ENDPOINTS, SCIM_ENDPOINTS = _all_post_endpoints()


class World:
    """One company with an admin, a learner, a team and its own course; a platform course with a quiz; a
    staff member; an invitation and a support ticket, so that the ids in the routes point at real rows."""

    def __init__(self, app, tmp_path):
        from tests.helpers import load, write_quiz_course
        from tests.helpers import admin_creates_private_course

        self.app = app
        write_quiz_course(tmp_path / "content", slug="tiny")
        load(app, tmp_path / "content")
        from tests.conftest import make_org, make_staff, make_team

        org = make_org(app, "Acme")
        self.users = {
            "admin": make_user(app, org, email="admin@acme.example", role="admin", name="Ada Admin"),
            "learner": make_user(app, org, email="learner@acme.example", name="Lee Learner"),
            "staff": make_staff(app, email="staff@leadthe.example", name="Sam Staff"),
        }
        self.colleague = make_user(app, org, email="colleague@acme.example", name="Cole League")
        self.team = make_team(app, org, "Team", members=[self.users["learner"], self.colleague])
        admin = self.client("admin")
        admin_creates_private_course(admin)
        post_form(admin, "/admin/invitations", {"email": "new@acme.example", "role": "learner", "name": "New Person"})
        learner = self.client("learner")
        post_form(learner, "/support", {"subject": "Help", "category": "courses", "body": "Please"})
        learner.post("/courses/tiny/enroll", data={"csrf_token": csrf_from(learner.get("/courses/tiny").get_data(as_text=True))})
        self.clients = {"admin": admin, "learner": learner}

    def client(self, role):
        client = self.app.test_client()
        user = self.users[role]
        if role == "staff":  # staff accounts have two-step verification
            response = login_with_code(client, self.app, user)
        else:
            response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        return client

    def signed_in(self, role):
        if role is None:
            return self.app.test_client()
        client = self.clients.get(role)
        if client is None or "/login" in client.get("/dashboard").headers.get("Location", ""):  # an example logged it out
            client = self.clients[role] = self.client(role)
        return client

    def ids(self, role) -> dict:
        from leadthe.models import Course, CourseModule, Invitation, Lesson, SupportTicket, User

        with self.app.app_context():
            own = role != "staff"
            course_where = Course.org_id.is_not(None) if own else Course.org_id.is_(None)
            course = db.session.scalar(sa.select(Course).where(course_where).order_by(Course.id))
            first = lambda model, *where: db.session.scalar(sa.select(sa.func.min(model.id)).where(*where)) or 1  # noqa: E731
            return {
                "course_id": course.id if course else 1,
                "module_id": first(CourseModule, CourseModule.course_id == getattr(course, "id", 0)),
                "lesson_id": first(Lesson, Lesson.course_id == getattr(course, "id", 0)),
                "team_id": self.team.id,
                "user_id": self.users["learner"].id if role == "staff" else self.colleague.id,
                "invitation_id": first(Invitation),
                "ticket_id": first(SupportTicket),
                "org_id": self.users["admin"].org_id,
                "slug": "tiny",
                "lesson": "l1",
                "quiz_id": first(__import__("leadthe.models", fromlist=["Quiz"]).Quiz),
                "session_id": first(User),  # someone else's session id is a 404: fine
            }


def url_for_endpoint(app, endpoint, ids) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)

    def value(name):
        return ids.get(name, "x-not-a-token" if name == "token" else 1)

    return rule.rule if not rule.arguments else re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(value(m.group(1))), rule.rule)


def find_form(client, url) -> tuple[str, dict]:
    """The page that shows the form posting to ``url`` (the URL itself or one of its parents) and the
    form's fields. Falls back to the fields of every form met on the way (a POST-only button)."""
    path = url
    seen, fallback = {}, None
    candidates = [url] + [url.rsplit("/", n)[0] or "/" for n in range(1, url.count("/"))] + ["/dashboard", "/login"]
    for page in candidates:
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        html = response.get_data(as_text=True)
        for form in forms_on(html):
            action = urlsplit(form["action"]).path or page
            if action == path:
                return page, form["fields"]
            seen.update(form["fields"])
        if fallback is None and ("csrf_token" in html or "X-CSRFToken" in html):
            fallback = page
    assert fallback, f"no page with a CSRF token for {url}"
    return fallback, seen


GOOD = {"email": "someone.new@example.com", "password": PASSWORD, "current_password": PASSWORD,
        "name": "Ada Lovelace", "organization": "Analytical Engines", "title": "A title", "subject": "Subject",
        "body": "Some text", "minutes": "5", "age_confirm": "y", "accept_policy": "y", "confirm_email": "not-mine@example.com"}  # never the signed-in person's: deleting them ends the run


def table_counts(app) -> dict[str, int]:
    with app.app_context():  # one statement: this runs twice per example
        stmt = sa.union_all(*(sa.select(sa.literal(t.name), sa.select(sa.func.count()).select_from(t).scalar_subquery())
                              for t in db.metadata.sorted_tables))
        counts = dict(db.session.execute(stmt).all())
        db.session.remove()
        return counts


# Bookkeeping a refused request may still write: the audit trail of failed attempts, sessions' last-seen
# times, consented page views and the outbox of a security notice about a failed attempt; and the access log
# of the GET that fetched the form's token (a person page seen; the refused POST itself records nothing).
# The signs-of-attack detector counts refused attempts too (a failed log-in per network, a SCIM token's network
# on its first use, an alert once they add up): that is its purpose.
BOOKKEEPING = {"audit_event", "user_session", "page_view", "access_log_entry", "security_signal", "security_alert",
               "credential_network"}


def check_answer(response, endpoint):
    html = response.get_data(as_text=True)
    assert response.status_code < 500, f"{endpoint}: {response.status_code}\n{html[:1500]}"
    assert "Traceback" not in html and "database is locked" not in html
    if response.status_code >= 400 and response.status_code != 429:
        assert '<main id="main"' in html, f"{endpoint}: {response.status_code} not in the layout\n{html[:800]}"
    if response.status_code == 422:
        assert re.search(r'class="[^"]*error', html), f"{endpoint}: 422 without an error message\n{html[:1500]}"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_form_survives_bad_input(app, tmp_path, endpoint):
    world = World(app, tmp_path)
    role = role_for(endpoint)
    url = url_for_endpoint(app, endpoint, world.ids(role))
    page, fields = find_form(world.signed_in(role), url)
    fields = fields or {"value": []}
    counter = itertools.count()
    state = {"client": None, "token": None}  # re-used between examples: fetching pages is most of the time
    examples = PG_EXAMPLES if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else EXAMPLES

    @settings(SETTINGS, max_examples=examples)
    @given(data=st.data())
    def post_bad_values(data):
        if state["client"] is None or role is None:
            state["client"], state["token"] = world.signed_in(role), None
        client = state["client"]
        payload = {}
        for name, options in fields.items():
            good = GOOD.get(name, options[0] if options else "1")
            if name == "email":
                good = f"new{next(counter)}@example.com"
            choice = data.draw(st.sampled_from(["nasty", "nasty", "good", "option", "absent"]), label=f"{name} kind")
            if choice == "nasty":
                payload[name] = data.draw(nasty, label=name)
            elif choice == "good":
                payload[name] = good
            elif choice == "option" and options:
                payload[name] = data.draw(st.sampled_from(options), label=name)
        before = table_counts(app)
        if state["token"] is None:
            # follow redirects: e.g. after "require two-step verification" every page leads to its set-up
            state["token"] = csrf_from(client.get(page, follow_redirects=True).get_data(as_text=True))
        response = client.post(url, data={"csrf_token": state["token"], **payload})
        if response.status_code < 400:  # it may have signed out, rotated the session, ...: start afresh
            state["client"] = None
        check_answer(response, endpoint)
        after = table_counts(app)
        if response.status_code >= 400:
            changed = {t for t in before if before[t] != after[t]} - BOOKKEEPING
            assert not changed, f"{endpoint} refused ({response.status_code}) but wrote to {changed}"
        if endpoint == "auth.signup":
            grown = {t: after[t] - before[t] for t in ("organization", "user_account", "outbox_mail")}
            assert set(grown.values()) in ({0}, {1}), f"half a sign-up: {grown}"

    post_bad_values()


@pytest.mark.parametrize("path", ["/courses?q=a%00b", "/search?q=%00", "/search?q=a\x00b", "/courses/ti%00ny",
                                  "/admin/people?q=%00", "/login?next=/%00"])
def test_nul_in_the_address_is_a_clear_400(app, tmp_path, path):
    world = World(app, tmp_path)
    role = "admin" if path.startswith("/admin") else "learner"
    response = world.signed_in(role).get(path)
    assert response.status_code == 400, response.get_data(as_text=True)[:800]
    html = response.get_data(as_text=True)
    assert '<main id="main"' in html and "not right" in html


def test_nul_in_a_form_value_is_refused_and_nothing_is_written(app, tmp_path):
    world = World(app, tmp_path)
    client = world.signed_in("learner")
    before = table_counts(app)
    response = post_form(client, "/support", {"subject": "Hello\x00", "category": "courses", "body": "There"})
    assert response.status_code in (400, 422) and '<main id="main"' in response.get_data(as_text=True)
    assert table_counts(app) == before
    signup = post_form(app.test_client(), "/signup", {"name": "N\x00", "email": "nul@example.com", "password": PASSWORD,
                                                      "organization": "Nul Inc", "age_confirm": "y", "accept_policy": "y"})
    assert signup.status_code in (400, 422)
    assert table_counts(app)["organization"] == before["organization"]


def test_every_post_route_is_covered():
    # the list comes from url_map: a new POST route is covered automatically; this only guards the walk
    assert len(ENDPOINTS) > 50 and "auth.signup" in ENDPOINTS and "support.index" in ENDPOINTS


# --- numbers in the address ----------------------------------------------------------------------------

# Every paginated list, and every other page that reads a number from the query string, with who may see it.
NUMBER_PAGES = [
    ("learner", "/courses?page={}"),
    ("learner", "/courses?topic=testing&page={}"),
    ("admin", "/admin/users?page={}"),
    ("admin", "/admin/users?team={}"),
    ("admin", "/admin/teams?page={}"),
    ("admin", "/admin/audit?page={}"),
    ("admin", "/admin/maturity?page={}"),
    ("staff", "/staff/support?page={}"),
    ("staff", "/staff/privacy-requests?show=all&page={}"),
    ("learner", "/leaderboard?scope=team&team={}"),
    ("learner", "/leaderboard?scope=org&team={}"),
    (None, "/privacy/policy/history?from=1&to={}"),
    (None, "/privacy/policy/history?from={}&to=1"),
]
NUMBERS = ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "2147483648", "-1", "0",
           "abc", "1e309", "", "%00", "NaN", "١٢٣", "2"]


@pytest.mark.parametrize("role, path", NUMBER_PAGES)
def test_numbers_in_the_address_are_never_a_500(app, tmp_path, role, path):
    """A page number (or a version, a team) far past the end, negative, zero or not a number is clamped or
    ignored: the list still answers (it used to overflow the database's integer and answer 500)."""
    world = World(app, tmp_path)
    client = world.signed_in(role)
    for value in NUMBERS:
        response = client.get(path.format(value))
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 400, 404), f"{path.format(value)}: {response.status_code}\n{html[:1500]}"
        assert '<main id="main"' in html and "Traceback" not in html
        if value not in ("%00", "١٢٣"):
            assert response.status_code != 400, f"{path.format(value)}: {response.status_code}"


def test_every_page_that_reads_a_number_from_the_address_is_covered():
    """The list above is complete: every ``?page=`` goes through ``page_arg`` (which clamps it), and every other
    number read from the query string through ``int_arg``."""
    import pathlib

    source = pathlib.Path(__file__).resolve().parent.parent / "leadthe"
    raw = [f"{p.relative_to(source)}:{n}" for p in source.rglob("*.py") if p.name != "query_args.py"
           for n, line in enumerate(p.read_text().splitlines(), 1)
           if re.search(r"\.get\([^)]*type=int", line) or re.search(r"""\.get\(["']page["']""", line)]
    assert raw == [], f"numbers read from the address without page_arg/int_arg: {raw}"


# --- SCIM: JSON bodies with a valid bearer token ---------------------------------------------------------

SCIM_CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_PATHS = ["active", "title", "name.givenName", "name.formatted", "displayName", "userName", "externalId", "members",
              'members[value eq "1"]', 'emails[type eq "work"].value', f"{SCIM_ENTERPRISE}:department", "nope", "", "x[",
              'members[value eq "\\"]']
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), nasty)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(["value", "op", "path", "schemas"]), text),
                                                 inner, max_size=4)), max_leaves=12)


@st.composite
def scim_bodies(draw):
    """Random JSON, or the shapes an identity provider sends with nasty strings (and values) inside."""
    value = draw(st.one_of(nasty, json_values))
    kind = draw(st.sampled_from(["random", "user", "group", "patch", "raw"]))
    if kind == "random":
        return draw(json_values)
    if kind == "raw":
        return draw(nasty)  # sent as the body itself: mostly not JSON
    if kind == "user":
        return {"schemas": [SCIM_CORE, SCIM_ENTERPRISE],
                "userName": draw(st.sampled_from([f"{draw(nasty)}@a.example", draw(nasty), f"new{draw(st.integers(0, 10**6))}@a.example"])),
                "name": {"givenName": draw(nasty), "familyName": value}, "title": draw(nasty), "active": draw(json_scalars),
                "externalId": draw(nasty), SCIM_ENTERPRISE: {"department": draw(nasty)},
                "emails": [{"value": draw(nasty), "type": "work", "primary": True}]}
    if kind == "group":
        return {"displayName": draw(nasty), "externalId": draw(nasty),
                "members": [{"value": draw(st.one_of(nasty, st.integers(-5, 10**20).map(str)))}]}
    operation = {"op": draw(st.sampled_from(["add", "Replace", "remove", "REMOVE", "jump", ""])),
                 "path": draw(st.one_of(st.sampled_from(SCIM_PATHS), nasty)), "value": value}
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": draw(st.lists(st.just(operation) | st.dictionaries(text, json_scalars, max_size=3), max_size=3))}


def check_scim_answer(response, label):
    import json

    from scim2_models import Error

    raw = response.get_data(as_text=True)
    assert response.status_code < 500, f"{label}: {response.status_code}\n{raw[:1500]}"
    if response.status_code >= 400:
        assert response.mimetype == "application/scim+json", f"{label}: {response.mimetype}"
        data = json.loads(raw)
        Error.model_validate(data)
        assert data["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and data["status"] == str(response.status_code)


@pytest.mark.parametrize("endpoint", SCIM_ENDPOINTS)
def test_scim_endpoints_survive_bad_json(app, companies, endpoint):
    import json

    from tests.test_scim import issue_token, verify_domain

    a = companies[0]
    verify_domain(app, a.org, "a.example")
    token = issue_token(app, a)
    ids = {"user_id": str(a.learner.id), "group_id": str(a.team.id), "type_id": "User", "rest": "Nope",
           "schema_id": SCIM_CORE}
    url = url_for_endpoint(app, endpoint, ids)
    client = app.test_client()

    @SETTINGS
    @given(body=scim_bodies(), method=st.sampled_from(["POST", "PUT", "PATCH"]),
           content_type=st.sampled_from(["application/scim+json", "application/scim+json", "application/json", "text/plain"]))
    def send(body, method, content_type):
        before = table_counts(app)
        data = body if isinstance(body, str) else json.dumps(body)
        response = client.open(url, method=method, data=data.encode("utf-8", "surrogatepass"), content_type=content_type,
                               headers={"Authorization": f"Bearer {token}"})
        check_scim_answer(response, f"{method} {url}")
        if response.status_code >= 400:
            after = table_counts(app)
            changed = {t for t in before if before[t] != after[t]} - BOOKKEEPING
            assert not changed, f"{method} {url} refused ({response.status_code}) but wrote to {changed}"

    send()


def test_every_scim_endpoint_that_takes_a_body_is_fuzzed():
    assert {"scim.users", "scim.user", "scim.groups", "scim.group"} <= set(SCIM_ENDPOINTS)
