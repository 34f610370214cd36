"""Page weight against the budgets of issue 16, in Chromium, against a running server.

    make run    # in another shell (PORT=5091 picks the port)
    .venv/bin/python bench/weight.py http://127.0.0.1:5091
    .venv/bin/python bench/weight.py http://127.0.0.1:5091 --lesson /courses/ai-foundations/lessons/what-generative-ai-is

Each figure is what the wire carries with an empty cache (CDP ``Network.setCacheDisabled``; bytes are
``Network.loadingFinished`` ``encodedDataLength``: response headers plus the compressed body):

- the log-in page, cold, not signed in: at most 30 KB;
- a lesson, cold, signed in as the demo learner: at most 35 KB in at most 5 requests (by default the lesson
  the learner's "resume" link of ``--course`` opens);
- the htmx swap to the next lesson from there (the "Next" link): at most 8 KB;
- every stylesheet those pages link, as sent to a browser that accepts brotli: at most 12 KB together.

When the shared measuring tool is at hand (``--pageweight``, default ``../shared/tools/pageweight.py`` beside
the repository), its table for the log-in page (cold, reload, revisit; timings) is printed too. The same
budgets run with every test run in ``tests/test_pageweight.py`` (Flask's test client). Exit status 1 when a
budget is exceeded.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

KB = 1024
BUDGETS = {"log-in page, cold": (30 * KB, None), "lesson, cold": (35 * KB, 5), "htmx lesson swap": (8 * KB, None),
           "all CSS, compressed": (12 * KB, None)}
SHARED_TOOL = Path(__file__).resolve().parents[2] / "shared" / "tools" / "pageweight.py"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


class Wire:
    """The requests a page makes and their bytes on the wire, from the DevTools protocol."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        self.cdp.send("Network.enable")

    def cold(self, cold: bool) -> None:
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": cold})

    def record(self, action, keep=lambda url: True) -> list[tuple[str, int]]:
        """The requests that ``action`` makes (those whose URL ``keep`` accepts)."""
        self.urls.clear()
        self.sizes.clear()
        action()
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)  # the last loadingFinished events
        return [(self.urls.get(rid, "?"), size) for rid, size in self.sizes.items()
                if not self.urls.get(rid, "").startswith("data:") and keep(self.urls.get(rid, ""))]


def compressed_size(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
        return len(response.read())


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/dashboard")


def stylesheets(page) -> list[str]:
    return page.eval_on_selector_all("link[rel~=stylesheet]", "links => links.map(l => l.href)")


def measure(browser, args) -> dict[str, list[tuple[str, int]]]:
    figures, css = {}, set()
    anonymous = browser.new_context(base_url=args.base_url)
    page = anonymous.new_page()
    wire = Wire(page)
    wire.cold(True)
    figures["log-in page, cold"] = wire.record(lambda: page.goto("/login"))
    css.update(stylesheets(page))
    anonymous.close()

    context = browser.new_context(base_url=args.base_url)
    page = context.new_page()
    log_in(page, args.email, args.password)
    lesson = args.lesson
    if not lesson:
        page.goto(f"/courses/{args.course}/resume")
        if "/lessons/" not in page.url:
            raise SystemExit(f"the resume link of {args.course} opened {page.url}, not a lesson: name one with --lesson")
        lesson = page.url
    wire = Wire(page)
    wire.cold(True)
    figures["lesson, cold"] = wire.record(lambda: page.goto(lesson))
    css.update(stylesheets(page))
    wire.cold(False)
    link = page.locator("a[rel=next]")
    link = link if link.count() else page.locator("a[rel=prev]")
    figures["htmx lesson swap"] = wire.record(lambda: link.first.click(),
                                              keep=lambda url: "/lessons/" in url and "heartbeat" not in url)
    context.close()
    figures["all CSS, compressed"] = [(url, compressed_size(url)) for url in sorted(css)]
    return figures


def report(figures) -> bool:
    within = True
    for name, rows in figures.items():
        budget, most = BUDGETS[name]
        total = sum(size for _, size in rows)
        ok = total <= budget and (most is None or len(rows) <= most)
        within &= ok
        limit = f"≤ {budget / KB:.0f} KB" + (f" in ≤ {most} requests" if most else "")
        print(f"{name:<22} {len(rows)} request(s) {total:>7} B  {total / KB:5.1f} KB   budget {limit:<26} "
              f"{'ok' if ok else 'OVER BUDGET'}")
        for url, size in sorted(rows, key=lambda row: -row[1]):
            print(f"    {size:>7}  {url}")
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url")
    parser.add_argument("--email", default="learner@acme.example")
    parser.add_argument("--password", default="acme-demo-passphrase")
    parser.add_argument("--course", default="prompting-that-works", help="whose resume link picks the lesson")
    parser.add_argument("--lesson", help="the lesson's path, instead of the resume link's")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--pageweight", type=Path, default=SHARED_TOOL, help="the shared pageweight.py ('' to skip)")
    args = parser.parse_args()
    args.base_url = args.base_url.rstrip("/")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            figures = measure(browser, args)
        finally:
            browser.close()
    within = report(figures)
    if str(args.pageweight) and args.pageweight.is_file():
        print(f"\n{args.pageweight} (the log-in page):")
        subprocess.run([sys.executable, str(args.pageweight), args.base_url, "/login"], check=False)
    print("\nwithin budget" if within else "\nOVER BUDGET")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
