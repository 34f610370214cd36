"""Page weight within its budgets (issue 16), measured the way a browser with an empty cache fetches a page:
the page, compressed as it is sent to a browser that accepts brotli, and every stylesheet, script, image and
icon it links (and every file those stylesheets load), each with its response headers.

Budgets: the log-in page at most 30 KB cold; a lesson at most 35 KB cold in at most 5 requests, and the htmx
swap to the next lesson at most 8 KB; all the CSS together at most 12 KB compressed.

This is Flask's test client, so it is quick and runs with every test run; ``bench/weight.py`` weighs the
same pages in Chromium against a running server (with the shared ``pageweight.py`` tool), where the
server's own headers (``Date``, ``Server``) add some 60 bytes a response.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import brotli
import sqlalchemy as sa

from leadthe.extensions import db
from tests.helpers import enrol, load, login

KB = 1024
LOG_IN_BUDGET = 30 * KB
LESSON_BUDGET, LESSON_REQUESTS = 35 * KB, 5
SWAP_BUDGET = 8 * KB
CSS_BUDGET = 12 * KB
BROWSER = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html,*/*"}
STATIC = Path(__file__).resolve().parent.parent / "leadthe" / "static"


class Links(HTMLParser):
    """The files a browser fetches to show a page: stylesheets, scripts, images, icons."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = (attrs.get("rel") or "").split()
        if tag == "link" and ({"stylesheet", "icon", "preload", "modulepreload"} & set(rel)):
            self.add(attrs.get("href"))
        elif tag in ("script", "img", "source", "video", "audio", "iframe"):
            self.add(attrs.get("src"))

    def add(self, url: str | None) -> None:
        if url and not url.startswith("data:") and url not in self.urls:
            self.urls.append(url)


def wire_bytes(response) -> int:
    """The response's bytes as sent: status line, headers and (compressed) body."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()) + "\r\n"
    return len(head.encode()) + len(response.get_data())


def body(response) -> str:
    data = response.get_data()
    return (brotli.decompress(data) if response.headers.get("Content-Encoding") == "br" else data).decode()


@dataclass
class Weight:
    rows: list[tuple[str, int]] = field(default_factory=list)

    def add(self, url: str, response) -> None:
        assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
        self.rows.append((url, wire_bytes(response)))

    @property
    def total(self) -> int:
        return sum(size for _, size in self.rows)

    def __str__(self) -> str:
        return (f"{len(self.rows)} requests, {self.total} bytes ({self.total / KB:.1f} KB): "
                + ", ".join(f"{url} {size}" for url, size in self.rows))


def cold_load(client, url: str, known: dict[str, list[tuple[str, int]]] | None = None) -> Weight:
    """The page and every file it links; ``known`` keeps the files weighed already (the same on every page)."""
    known = {} if known is None else known
    weight = Weight()
    page = client.get(url, headers=BROWSER)
    weight.add(url, page)
    assert page.headers.get("Content-Encoding") == "br", f"{url} is not compressed"
    links = Links()
    links.feed(body(page))
    for asset in links.urls:
        if asset not in known:
            known[asset] = _weigh_file(client, asset)
        weight.rows.extend(known[asset])
    return weight


def _weigh_file(client, url: str) -> list[tuple[str, int]]:
    """A linked file, and for a stylesheet the files it loads in turn."""
    response = client.get(url, headers=BROWSER)
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    rows = [(url, wire_bytes(response))]
    if response.mimetype == "text/css":
        rows += [row for nested in _css_urls(body(response)) for row in _weigh_file(client, nested)]
    return rows


def _css_urls(css: str) -> list[str]:
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css) + re.findall(r"@import\s+['\"]([^'\"]+)['\"]", css)
    return [url for url in dict.fromkeys(found) if not url.startswith("data:")]


def test_log_in_page_is_at_most_30_kb_cold(client):
    weight = cold_load(client, "/login")
    print(f"\nlog-in page, cold: {weight}")
    assert weight.total <= LOG_IN_BUDGET, f"the log-in page weighs more than {LOG_IN_BUDGET / KB:.0f} KB cold: {weight}"


def test_all_css_together_is_at_most_12_kb_compressed(client):
    stylesheets = sorted(STATIC.rglob("*.css"))
    assert stylesheets, "no stylesheet found"
    sizes = {}
    for path in stylesheets:
        url = "/static/" + path.relative_to(STATIC).as_posix()
        response = client.get(url, headers=BROWSER)
        assert response.status_code == 200 and response.headers.get("Content-Encoding") == "br", url
        sizes[url] = len(response.get_data())
    total = sum(sizes.values())
    print(f"\nall CSS, brotli: {total} bytes ({total / KB:.1f} KB): {sizes}")
    assert total <= CSS_BUDGET, f"all CSS together is {total / KB:.1f} KB compressed (budget {CSS_BUDGET / KB:.0f} KB): {sizes}"


def test_every_starter_lesson_within_budget_cold_and_as_an_htmx_swap(app, client, companies):
    from leadthe.models import Course, Lesson

    load(app)
    login(client, companies[0].learner.email)
    with app.app_context():
        lessons = db.session.execute(
            sa.select(Course.slug, Lesson.slug).join(Lesson, Lesson.course_id == Course.id)
            .where(Course.org_id.is_(None)).order_by(Course.id, Lesson.seq)).all()
    assert len(lessons) >= 20, "the starter curriculum did not load"
    for course in dict.fromkeys(slug for slug, _ in lessons):
        enrol(client, course)
    known, cold, swaps = {}, {}, {}
    for course, lesson in lessons:
        url = f"/courses/{course}/lessons/{lesson}"
        cold[url] = weight = cold_load(client, url, known)
        swap = client.get(url, headers={**BROWSER, "HX-Request": "true", "HX-Target": "lesson-body"})
        assert swap.status_code == 200 and "<html" not in body(swap), f"{url}: no htmx fragment"
        swaps[url] = wire_bytes(swap)
        assert len(weight.rows) <= LESSON_REQUESTS, f"{url} needs more than {LESSON_REQUESTS} requests: {weight}"
        assert weight.total <= LESSON_BUDGET, f"{url} weighs more than {LESSON_BUDGET / KB:.0f} KB cold: {weight}"
        assert swaps[url] <= SWAP_BUDGET, f"the htmx swap to {url} is {swaps[url]} bytes (budget {SWAP_BUDGET})"
    heaviest, heaviest_swap = max(cold, key=lambda url: cold[url].total), max(swaps, key=swaps.get)
    print(f"\n{len(lessons)} lessons; heaviest cold: {heaviest}: {cold[heaviest]}; "
          f"heaviest htmx swap: {heaviest_swap}: {swaps[heaviest_swap]} bytes")


def test_the_lab_lesson_page_within_budget_cold(app, client, companies):
    """An exercise lesson with the practice lab (task, material, rubric, hints, the form, a finished answer's
    place), the model connected: at most 35 KB cold in at most 5 requests (the model's text not counted)."""
    from leadthe.models import Lesson
    from leadthe.models.lab import LabSettings
    from tests.helpers import make_course

    with app.test_request_context():
        course, module, _lesson, _quiz = make_course(None, "lab-weight", "Lab weight")
        exercise = {"task": "Summarise the meeting note for a customer in 5 bullet points.",
                    "material": "Meeting note.\n" + "The launch moves to May; the budget stays. " * 40,
                    "criteria": [{"check": c, "label": f"Criterion {c}"} for c in ("role", "audience", "format", "uncertainty")],
                    "hints": ["Who reads it?", "Which format?"]}
        db.session.add(Lesson(course_id=course.id, module_id=module.id, slug="ex", title="Exercise", kind="exercise",
                              minutes=10, body_html="<p>" + "Why a good prompt matters. " * 40 + "</p>", exercise=exercise,
                              position=1, seq=1))
        db.session.add(LabSettings(org_id=companies[0].org.id, provider="openai", base_url="https://llm.example/v1",
                                   model="gpt", provider_name="Acme GPT"))
        db.session.commit()
    login(client, companies[0].learner.email)
    enrol(client, "lab-weight")
    url = "/courses/lab-weight/lessons/ex"
    weight = cold_load(client, url)
    print(f"\nlab lesson, cold: {weight}")
    assert 'id="lab"' in body(client.get(url, headers=BROWSER))
    assert len(weight.rows) <= LESSON_REQUESTS, f"{url} needs more than {LESSON_REQUESTS} requests: {weight}"
    assert weight.total <= LESSON_BUDGET, f"{url} weighs more than {LESSON_BUDGET / KB:.0f} KB cold: {weight}"
    swap = client.get(url, headers={**BROWSER, "HX-Request": "true", "HX-Target": "lesson-body"})
    assert "<html" not in body(swap) and wire_bytes(swap) <= SWAP_BUDGET
