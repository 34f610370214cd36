"""The cluster run's clients (stdlib HTTP): sign-in, the learner mix, the 200 exports, the admin's AI-use policy.

Every simulated person connects from an address of their own on loopback (127.0.x.y, which Linux routes to
``lo`` without set-up): the entry point puts it in ``X-Forwarded-For`` as a load balancer does, so the app's
per-address limits (log-in, export) count each person apart, as they would in production.
"""
from __future__ import annotations

import hashlib
import http.client
import random
import re
import threading
import time
import urllib.parse

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')


def person_ip(index: int) -> str:
    """A loopback address of its own for person ``index`` (127.0.1.2 …), 200 a /24."""
    return f"127.0.{index // 200 + 1}.{index % 200 + 2}"


class Client:
    """One person's browser: their own source address and cookie jar; one connection per request."""

    def __init__(self, port: int, ip: str = "127.0.0.1"):
        self.port, self.ip = port, ip
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method, path, form=None, headers=None, timeout=60):
        """(status, lower-cased headers, body bytes); status 0 when the connection failed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(self.ip, 0))
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            return 0, {}, b""
        finally:
            conn.close()
        for value in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if cookie and "max-age=0" not in value.lower() and "expires=thu, 01 jan 1970" not in value.lower():
                self.cookies[name.strip()] = cookie
            else:
                self.cookies.pop(name.strip(), None)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def csrf_from(self, body: bytes) -> str:
        found = CSRF.search(body.decode("utf-8", "replace"))
        if found:
            self.token = found.group(1) or found.group(2)
        return self.token

    def sign_in(self, email: str, password: str) -> bool:
        for _ in range(5):
            status, _, body = self.request("GET", "/login")
            if status == 200 and self.csrf_from(body):
                status, headers, _ = self.request("POST", "/login", {"csrf_token": self.token, "email": email,
                                                                     "password": password})
                if status == 303:
                    status, _, body = self.request("GET", "/dashboard")
                    if status == 200 and self.csrf_from(body):
                        return True
            time.sleep(1)
        return False


def fetch_url(url: str, timeout=60) -> tuple[int, bytes]:
    """GET an absolute http:// URL (a presigned object-store link), no cookies."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


# --- the learner mix --------------------------------------------------------------------------------------------

MIX = [("dashboard", 25), ("courses", 20), ("lesson", 35), ("complete", 10), ("search", 10)]


def learner_mix(port, learners, course, lessons, start_at, seconds, think, results) -> None:
    """Run in a process of its own (so the other clients do not take its interpreter): each learner pauses
    about ``think`` s, then reads the dashboard, the catalogue, their current lesson of ``course``, completes it
    (a POST, as htmx sends it) or searches. Puts on ``results``: the requests as (wall time started, ms,
    status, page) and the completions the clients saw succeed as (email, lesson)."""
    requests: list[tuple[float, float, int, str]] = []
    completed: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = start_at + seconds

    def learner(number, email, ip, cookies, token):
        rnd = random.Random(number)
        client = Client(port, ip)
        client.cookies, client.token = dict(cookies), token
        position = 0
        while time.time() < start_at:
            time.sleep(0.05)
        time.sleep(rnd.uniform(0, think))  # not all at once
        while True:
            pause = rnd.uniform(think / 2, think * 1.5)
            if time.time() + pause >= stop:
                break
            time.sleep(pause)
            page = rnd.choices([p for p, _ in MIX], weights=[w for _, w in MIX])[0]
            lesson = lessons[min(position, len(lessons) - 1)]
            if page == "complete" and position >= len(lessons):
                page = "lesson"
            path = {"dashboard": "/dashboard", "courses": "/courses", "search": "/search?q=lesson",
                    "lesson": f"/courses/{course}/lessons/{lesson}",
                    "complete": f"/courses/{course}/lessons/{lesson}/complete"}[page]
            started, t0 = time.time(), time.perf_counter()
            if page == "complete":
                status, headers, _ = client.request("POST", path, {"csrf_token": client.token},
                                                    headers={"HX-Request": "true"})
            else:
                status, headers, _ = client.request("GET", path)
            elapsed = (time.perf_counter() - t0) * 1000
            ok = page == "complete" and (
                (status == 200 and "progress-changed" in headers.get("hx-trigger", ""))
                or (status == 303 and not headers.get("location", "").rstrip("/").endswith(f"/courses/{course}")))
            with lock:
                requests.append((started, elapsed, status, page))
                if ok:
                    completed.append((email, lesson))
            if ok:
                position += 1

    threads = [threading.Thread(target=learner, args=(n, *person), daemon=True) for n, person in enumerate(learners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({"requests": requests, "completed": completed})


# --- 200 exports at once ----------------------------------------------------------------------------------------

POLL_EVERY = re.compile(r'data-hx-trigger="every (\d+)s"')
DOWNLOAD_LINK = re.compile(r'href="(/privacy/exports/(\d+)/download\?token=[^"]+)"')


def exports(port, people, start_at, deadline, poll, results, stop_event, no_js=False) -> None:
    """Run in a process of its own: at ``start_at`` each person (email, ip, cookies, csrf token, password) asks
    for their data export at the same moment (``POST /privacy/export`` from the privacy centre's form, as htmx
    sends it; with ``no_js`` as a browser without scripts, following the redirect to the whole status page),
    then polls the progress fragment every ``poll`` s (0: as often as the page asks) until the download
    link shows; then downloads it (following a redirect to the object store). Puts one dict per person on
    ``results``."""
    outcome: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(people))

    def one(email, ip, cookies, token, password):
        client = Client(port, ip)
        client.cookies, client.token = dict(cookies), token
        rnd = random.Random(email)
        row = {"email": email, "export_id": None, "request_status": None, "requested_at": None, "ready_at": None,
               "download_status": None, "size": None, "sha256": None, "downloaded_at": None, "polls": 0,
               "download_tries": 0}
        barrier.wait()
        while time.time() < start_at:
            time.sleep(0.01)
        wait = poll if poll > 0 else 2  # 0: as the page asks (2 s at first, longer far back in a queue)
        for _ in range(5):  # a person clicks again when they see an error
            row["requested_at"] = time.time()
            # the privacy centre's form, sent by htmx: the answer is the export's progress fragment (which names
            # its status URL and when to ask again) in the form's place; without scripts, a 303 to the status page
            status, headers, body = client.request("POST", "/privacy/export", {"csrf_token": client.token,
                                                                               "password": password},
                                                   headers=None if no_js else {"HX-Request": "true"})
            row["request_ms"] = (time.time() - row["requested_at"]) * 1000
            row["request_status"] = status
            text = body.decode("utf-8", "replace") if status == 200 else ""
            found = re.search(r"/privacy/exports/(\d+)", headers.get("location", "") if status == 303 else text)
            if found:
                row["export_id"] = int(found.group(1))
                if status == 303:  # the browser follows the 303 to the whole status page
                    status, _, body = client.request("GET", f"/privacy/exports/{row['export_id']}")
                    text = body.decode("utf-8", "replace") if status == 200 else ""
                asked = POLL_EVERY.search(text)
                wait = int(asked.group(1)) if asked and poll <= 0 else wait
                break
            time.sleep(2)
        while row["export_id"] and time.time() < deadline and not stop_event.is_set():
            time.sleep(wait * rnd.uniform(0.8, 1.2))
            row["polls"] += 1
            # as the status page's htmx poll asks: the progress fragment, not the whole page
            status, _, body = client.request("GET", f"/privacy/exports/{row['export_id']}", headers={"HX-Request": "true"})
            text = body.decode("utf-8", "replace") if status == 200 else ""
            asked = POLL_EVERY.search(text)  # the fragment says when to ask again (htmx follows it)
            wait = int(asked.group(1)) if asked and poll <= 0 else (poll if poll > 0 else wait)
            link = DOWNLOAD_LINK.search(text) if status == 200 else None
            if not link:
                continue
            row["ready_at"] = row["ready_at"] or time.time()
            status, headers, data = client.request("GET", link.group(1).replace("&amp;", "&"))
            if status in (301, 302, 303, 307) and headers.get("location", "").startswith("http"):
                status, data = fetch_url(headers["location"])
            row["download_status"] = status
            if status == 200:
                row["size"], row["sha256"] = len(data), hashlib.sha256(data).hexdigest()
                row["downloaded_at"] = time.time()
                break
            row["download_tries"] += 1
            if row["download_tries"] >= 5:
                break  # the link shows but the file does not come: not downloadable
        with lock:
            outcome.append(row)

    threads = [threading.Thread(target=one, args=person, daemon=True) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(outcome)


# --- the admin mails everyone -----------------------------------------------------------------------------------

def publish_policy(admin: Client) -> dict:
    """The company admin publishes a first AI-use policy as a material change (``/admin/ai-policy``, then the
    preview's Publish, confirmed): everyone is asked to acknowledge it, and job ``ai_policy.mail`` mails each
    person. Returns the steps' statuses and the time of the publication."""
    steps = {}
    status, _, body = admin.request("GET", "/admin/ai-policy")
    steps["editor"] = status
    admin.csrf_from(body)
    form = {"csrf_token": admin.token, "title": "Using AI at Cluster Corp", "summary": "First version.",
            "change": "material", "body_md": "# Our AI-use policy\n\nUse the approved tools only. Keep customer "
                                             "data out of prompts. Check what a model writes before you use it."}
    status, headers, _ = admin.request("POST", "/admin/ai-policy", form)
    steps["draft"] = status
    status, _, body = admin.request("GET", headers.get("location", "/admin/ai-policy"))
    admin.csrf_from(body)
    published_at = time.time()
    status, headers, _ = admin.request("POST", "/admin/ai-policy/publish", {"csrf_token": admin.token,
                                                                            "confirmed": "yes"})
    steps["publish"] = status
    return {"steps": steps, "published_at": published_at, "ok": status == 303}
