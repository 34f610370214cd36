"""Full-page screenshots of the main pages as each demo role, for design review.

    .venv/bin/python bench/screens.py                        # its own server and data: every role, 375 and 1280 px, light and dark
    .venv/bin/python bench/screens.py --languages en,de --roles learner,admin --out /tmp/shots
    .venv/bin/python bench/screens.py --base-url http://127.0.0.1:5091 --roles anonymous,learner

By default the script serves the app itself, from a throw-away instance folder: it migrates a new SQLite
database, loads the starter curriculum and seeds the demo company (``leadthe load-content``, ``leadthe
seed-demo``), and adds the demo staff and DPO accounts (with two-step verification) when ``seed-demo`` did
not. It reads their codes from the database, and sets each person's saved language for ``--languages de``.

With ``--base-url`` it photographs a running server (``make run``) instead: the staff and DPO codes come from
``--totp ROLE=SECRET`` (the secret, or the ``otpauth://`` link ``make run`` prints) or else from ``flask
leadthe demo-code EMAIL`` run here with the same settings; German is shown to people who are not logged in
only (the saved language of an account wins over the browser's, and this mode changes no account).

Writes ``OUT/<role>/<language>-<width>-<scheme>-<page>.png`` (default ``OUT`` = ``screens/`` in the current
folder, git-ignored at the top of the repository) and prints, per page, whether it scrolls sideways at a width and which tables are wider than their box (to swipe
through on a phone). Pages a role may not open are skipped.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "acme-demo-passphrase"
PEOPLE = {
    "learner": "learner@acme.example",
    "manager": "manager@acme.example",
    "admin": "admin@acme.example",
    "staff": "staff@leadthe.example",
    "dpo": "dpo@leadthe.example",
}
NAMES = {"staff": "Stella Staff", "dpo": "Dana Protection"}  # as leadthe/demo.py names them
PAGES = {
    "anonymous": ["/", "/login", "/login/sso", "/signup", "/privacy/policy"],
    "learner": ["/dashboard", "/courses", "/courses/ai-foundations", "/courses/prompting-that-works/resume",
                "/assessments", "/maturity/assessment", "/leaderboard", "/account/profile", "/account/security",
                "/account/preferences", "/privacy", "/support", "/ai-policy", "/ai-tools",
                "/courses/ai-foundations/lessons/exercise-summarise-for-a-customer", "/privacy/practice-lab"],
    "manager": ["/dashboard", "/admin", "/leaderboard", "/admin/literacy", "/admin/teams"],
    "admin": ["/dashboard", "/admin", "/admin/users", "/admin/teams", "/admin/invitations", "/admin/assignments",
              "/admin/maturity", "/admin/courses", "/admin/audit", "/admin/settings", "/admin/literacy",
              "/admin/requirements", "/admin/requirements/new", "/admin/ai-policy", "/admin/ai-tools",
              "/admin/literacy/evidence", "/admin/ai-lab", "/admin/sso", "/admin/billing", "/admin/billing/cancel"],
    "staff": ["/staff/console", "/staff/support", "/staff/privacy-requests", "/staff/courses", "/staff/policies",
              "/staff/billing", "/staff/billing/plans", "/staff/security-alerts", "/staff/dpa", "/staff/subprocessors",
              "/staff/legal-holds", "/staff/records-of-processing"],
    "dpo": ["/staff/console", "/staff/privacy-requests"],
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
SIDEWAYS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# tables wider than their scrolling box: not a fault (the page stays put), but on a phone a table to swipe
# through is worse than one that stacks; named by caption, else the first column's heading
BOXED = """() => [...document.querySelectorAll('.scroll, .table-wrap')]
  .filter(box => box.scrollWidth > box.clientWidth + 1)
  .map(box => { const t = box.querySelector('caption, th'); return t ? t.textContent.trim().slice(0, 40) : '?'; })"""


# --- the server: its own, or a running one ------------------------------------------------------------

class OwnServer:
    """The app with the demo data, served from a thread; knows the codes and can set languages."""

    def __init__(self, instance: Path):
        os.environ["LEADTHE_INSTANCE_PATH"] = str(instance)
        os.environ["LEADTHE_ENV"] = "development"
        os.chdir(ROOT)  # the migrations folder
        sys.path.insert(0, str(ROOT))
        from flask_migrate import upgrade
        from werkzeug.serving import make_server

        from leadthe import create_app

        self.app = create_app()
        with self.app.app_context():
            upgrade()
        runner = self.app.test_cli_runner()
        for command in (["leadthe", "load-content"], ["leadthe", "seed-demo"]):
            result = runner.invoke(args=command)
            if result.exit_code:
                raise SystemExit(f"{' '.join(command)} failed: {result.output}")
        self._platform_people()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _platform_people(self) -> None:
        """The demo staff and DPO accounts, with two-step verification, unless seed-demo made them already."""
        import pyotp
        import sqlalchemy as sa

        from leadthe.auth.passwords import hash_password
        from leadthe.extensions import db
        from leadthe.models import User, utcnow

        with self.app.app_context():
            for role in ("staff", "dpo"):
                if db.session.scalar(sa.select(User.id).where(User.email == PEOPLE[role])) is None:
                    db.session.add(User(org_id=None, email=PEOPLE[role], name=NAMES[role], role=role,
                                        password_hash=hash_password(DEMO_PASSWORD), password_changed_at=utcnow(),
                                        email_verified_at=utcnow(), totp_secret=pyotp.random_base32(),
                                        totp_enabled_at=utcnow()))
            db.session.commit()

    def code(self, role: str) -> str:
        import pyotp
        import sqlalchemy as sa

        from leadthe.extensions import db
        from leadthe.models import User

        with self.app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == PEOPLE[role]))
            user.totp_last_step = 0  # a code works once per 30-second step: forget the last one used
            db.session.commit()
            return pyotp.TOTP(user.totp_secret).now()

    def speak(self, role: str, context, language: str) -> bool:
        import sqlalchemy as sa

        from leadthe.extensions import db
        from leadthe.models import User

        context.set_extra_http_headers({"Accept-Language": language})
        if role in PEOPLE:
            with self.app.app_context():
                db.session.execute(sa.update(User).where(User.email == PEOPLE[role]).values(locale=language))
                db.session.commit()
        return True

    def close(self) -> None:
        self.server.shutdown()


class RunningServer:
    def __init__(self, base_url: str, secrets: dict[str, str]):
        self.base_url, self.secrets = base_url.rstrip("/"), secrets

    def code(self, role: str) -> str:
        if role in self.secrets:
            import pyotp

            secret = self.secrets[role]
            if secret.startswith("otpauth://"):
                secret = urllib.parse.parse_qs(urllib.parse.urlsplit(secret).query)["secret"][0]
            return pyotp.TOTP(secret).now()
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "leadthe", "demo-code", PEOPLE[role]],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode:
            raise LookupError(f"no code for {role}: give --totp {role}=SECRET ({(done.stderr or done.stdout).strip()[-200:]})")
        return done.stdout.strip()

    def speak(self, role: str, context, language: str) -> bool:
        if role != "anonymous" and language != "en":
            return False  # the account's saved language wins, and this mode changes no account
        context.set_extra_http_headers({"Accept-Language": language})
        return True

    def close(self) -> None:
        pass


# --- the pictures ----------------------------------------------------------------------------------

def log_in(page, server, role: str) -> None:
    if role == "anonymous":
        return
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(PEOPLE[role])
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path != "/login")
    for _attempt in range(2):
        if not page.url.endswith("/login/2fa"):
            break
        page.locator("input[name=code]").fill(server.code(role))
        page.get_by_role("button", name="Verify and log in").click()
        page.wait_for_load_state("networkidle")
        if page.url.endswith("/login/2fa"):  # that code was used already: wait for the next one
            time.sleep(31 - time.time() % 30)
    if "/login" in page.url:
        raise SystemExit(f"could not log in as {role} ({PEOPLE[role]}): still at {page.url}")


def slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def photograph(page, out: Path, role: str, language: str, widths, schemes) -> None:
    for path in PAGES[role]:
        response = page.goto(path)
        if response is None or response.status != 200 or ("/login" in page.url and path != "/login"):
            print(f"  {role} {path}: skipped (HTTP {response.status if response else '?'}, at {page.url})")
            continue
        notes = []
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            for scheme in schemes:
                page.emulate_media(color_scheme=scheme)
                file = out / role / f"{language}-{width}-{scheme}-{slug(path)}.png"
                page.screenshot(path=str(file), full_page=True, animations="disabled")
            scroll, inner = page.evaluate(SIDEWAYS)
            if scroll > inner:
                notes.append(f"scrolls sideways at {width} px ({scroll} > {inner})")
            boxed = page.evaluate(BOXED)
            if boxed:
                notes.append(f"tables to swipe at {width} px: " + ", ".join(f"'{name}'" for name in boxed))
        landed = urllib.parse.urlsplit(page.url).path
        print(f"  {role} {language} {path}" + (f" -> {landed}" if landed != path else "")
              + (": " + "; ".join(notes) if notes else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running server (default: serve the app here, with its own demo data)")
    parser.add_argument("--out", type=Path, default=Path("screens"))
    parser.add_argument("--roles", default=",".join(PAGES), help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument("--widths", default="375,1280")
    parser.add_argument("--schemes", default="light,dark")
    parser.add_argument("--languages", default="en", help="en,de for German too")
    parser.add_argument("--totp", action="append", default=[], metavar="ROLE=SECRET",
                        help="with --base-url: a staff or DPO account's 2FA secret or otpauth:// link")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = set(roles) - set(PAGES)
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))}")
    widths = [int(w) for w in args.widths.split(",")]
    schemes, languages = args.schemes.split(","), args.languages.split(",")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="leadthe-screens-") as instance:
        if args.base_url:
            server = RunningServer(args.base_url, dict(item.split("=", 1) for item in args.totp))
        else:
            server = OwnServer(Path(instance))
        try:
            shoot(server, args, roles, widths, schemes, languages)
        finally:
            server.close()
    count = sum(1 for _ in args.out.rglob("*.png"))
    print(f"{count} screenshots in {args.out} ({time.monotonic() - started:.0f} s)")
    return 0


def shoot(server, args, roles, widths, schemes, languages) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for role in roles:
                (args.out / role).mkdir(parents=True, exist_ok=True)
                context = browser.new_context(base_url=server.base_url)
                page = context.new_page()
                log_in(page, server, role)
                for language in languages:
                    if server.speak(role, context, language):
                        photograph(page, args.out, role, language, widths, schemes)
                    else:
                        print(f"  {role} {language}: skipped (an account's language is set in its own preferences)")
                context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
