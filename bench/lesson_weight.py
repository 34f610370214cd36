"""Weigh the lesson player as a signed-in learner: a cold load and an htmx lesson swap.

    .venv/bin/python bench/lesson_weight.py http://127.0.0.1:5091 /courses/<slug>/lessons/<lesson> \
        --email learner@acme.example --password acme-demo-passphrase

Logs in with Playwright (Debian's Chromium), then loads the lesson with the cache disabled and sums the
bytes transferred (CDP Network.loadingFinished encodedDataLength: headers + compressed body) and the
number of requests; then clicks "Next" (an htmx swap of #lesson-body) and weighs that request alone.
Budgets (issue 4): cold load at most 35 KB in at most 5 requests; a swap at most 8 KB.
"""
from __future__ import annotations

import argparse
import sys

from playwright.sync_api import sync_playwright

COLD_BUDGET, COLD_REQUESTS, SWAP_BUDGET = 35 * 1024, 5, 8 * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("path")
    parser.add_argument("--email", default="learner@acme.example")
    parser.add_argument("--password", default="acme-demo-passphrase")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox", "--disable-quic"])
        context = browser.new_context(base_url=args.base_url)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("E-mail address", exact=True).fill(args.email)
        page.get_by_label("Password", exact=True).fill(args.password)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url("**/dashboard")

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        requests: dict[str, str] = {}
        sizes: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda e: requests.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))

        page.goto(args.path, wait_until="networkidle")
        cold = dict(sizes)
        cold_bytes = sum(cold.values())
        print(f"cold load of {args.path}: {len(cold)} requests, {cold_bytes} bytes ({cold_bytes / 1024:.1f} KB)")
        for rid, size in sorted(cold.items(), key=lambda kv: -kv[1]):
            print(f"  {size:>7}  {requests.get(rid, '?')}")

        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        sizes.clear()
        requests.clear()
        link = page.locator("a[rel=next]")
        if link.count() == 0:
            link = page.locator("a[rel=prev]")
        before = page.url
        link.first.click()
        page.wait_for_function("url => location.href !== url", arg=before)
        page.wait_for_timeout(500)  # let the loadingFinished event arrive
        swap = {rid: size for rid, size in sizes.items() if "/lessons/" in requests.get(rid, "") and "heartbeat" not in requests.get(rid, "")}
        swap_bytes = sum(swap.values())
        print(f"htmx swap to {page.url}: {len(swap)} request(s), {swap_bytes} bytes ({swap_bytes / 1024:.1f} KB)")
        browser.close()

    ok = cold_bytes <= COLD_BUDGET and len(cold) <= COLD_REQUESTS and swap_bytes <= SWAP_BUDGET
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
