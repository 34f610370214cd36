"""Weigh a quiz page and its result page as a signed-in learner, cold (cache disabled), all requests.

    .venv/bin/python bench/assessment_weight.py http://127.0.0.1:5091 --quiz 1 \
        --email learner@acme.example --password acme-demo-passphrase

Logs in with Playwright (Debian's Chromium), loads /assessments/<quiz> with the cache disabled and sums
the bytes transferred (CDP encodedDataLength: headers + compressed body) of every request; answers every
question (the first choice), submits with JavaScript off semantics (a plain navigation to the result
page afterwards, cold again) and weighs the result page the same way. Budget: 35 KB each.
"""
from __future__ import annotations

import argparse
import sys

from playwright.sync_api import sync_playwright

BUDGET = 35 * 1024


def weigh(context, page, path):
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls, sizes = {}, {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(path, wait_until="networkidle")
    page.wait_for_timeout(300)
    total = sum(sizes.values())
    print(f"cold load of {path}: {len(sizes)} requests, {total} bytes ({total / 1024:.1f} KB)")
    for rid, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {size:>7}  {urls.get(rid, '?')}")
    cdp.detach()
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--quiz", default="1")
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
        quiz_bytes = weigh(context, page, f"/assessments/{args.quiz}")
        for group in page.locator("#quiz-body fieldset").all():
            group.locator("input").first.check()
        page.get_by_role("button", name="Submit my answers").click()
        page.wait_for_url("**/attempts/*")
        result_path = page.url.replace(args.base_url, "")
        result_bytes = weigh(context, page, result_path)
        browser.close()
    ok = quiz_bytes <= BUDGET and result_bytes <= BUDGET
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
