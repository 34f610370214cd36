"""Load benchmark: a learner mix against gunicorn, beside a bare Flask app, on SQLite or PostgreSQL.

    apt-get install -y wrk                                   # Debian's wrk (once)
    .venv/bin/python bench/load/run_load.py                  # SQLite
    LEADTHE_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/leadthe_bench .venv/bin/python bench/load/run_load.py

Goals (issue 10): the lesson page reaches at least 40% of the bare app's throughput; p95 under 100 ms at 50
concurrent users; no "database is locked" in SQLite mode. Prints one line per run and a summary.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LUA = Path(__file__).with_name("mix.lua")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def fetch(port, method, path, cookies, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read().decode("utf-8", "replace")
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    conn.close()
    return r.status, data


def sign_in(port, email, password):
    cookies = {}
    _, html = fetch(port, "GET", "/login", cookies)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    status, _ = fetch(port, "POST", "/login", cookies, {"csrf_token": token, "email": email, "password": password})
    assert status == 303, f"log-in failed for {email}: {status}"
    _, html = fetch(port, "GET", "/dashboard", cookies)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    return "; ".join(f"{k}={v}" for k, v in cookies.items()), token


def wrk(port, seconds, connections, env):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, env={**os.environ, **env}, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(out.stdout + out.stderr)
    return dict(kv.split("=") for kv in line.split()[1:])


MIX = [("GET", "/dashboard", 25), ("GET", "/courses", 20), ("GET", "{lesson}", 35), ("POST", "{lesson}/complete", 10),
       ("GET", "/search?q=prompt", 10)]


def learner_mix(port, users, seconds, lesson, people=50, think=1.0):
    """``people`` people, each pausing about ``think`` seconds between requests (reading), with the learner mix
    (MIX); an open-ended Python client, because wrk counts its own pauses as latency. Returns the latencies
    per page (ms) and the number of answers of 400 or more."""
    import random
    import threading

    paths = [(m, p.format(lesson=lesson), w) for m, p, w in MIX]
    latencies: dict[str, list[float]] = {p: [] for _, p, _ in paths}
    errors, stop, lock = [0], time.monotonic() + seconds, threading.Lock()

    def person(i):
        rnd = random.Random(i)
        cookie, token = users[i % len(users)]
        while time.monotonic() < stop:
            time.sleep(rnd.uniform(think / 2, think * 1.5))
            method, path, _ = rnd.choices(paths, weights=[w for *_, w in paths])[0]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Cookie": cookie, "Accept-Encoding": "gzip, br"}
            body = None
            if method == "POST":
                body, headers["Content-Type"] = f"csrf_token={token}", "application/x-www-form-urlencoded"
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            conn.close()
            with lock:
                latencies[path].append(elapsed * 1000)
                if response.status >= 400:
                    errors[0] += 1

    threads = [threading.Thread(target=person, args=(i,)) for i in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def people(port, users, seconds, lesson, think=1.0):
    """The learner mix of 50 people (``learner_mix``), summed up over every page."""
    per_page, errors = learner_mix(port, users, seconds, lesson, think=think)
    latencies = sorted(v for values in per_page.values() for v in values)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"rps": str(len(latencies) / seconds), "p50_ms": str(pick(0.50)), "p95_ms": str(pick(0.95)),
            "p99_ms": str(pick(0.99)), "non2xx3xx": str(errors), "socket_errors": "0"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    # at most 25: they sign in one after the other from one address, under the log-in limit of 30 a minute
    parser.add_argument("--learners", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=5,
                        help="lesson-only and bare runs alternate this many times; the ratio is the median of the rounds'")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="leadthe-load-"))
    url = os.environ.get("LEADTHE_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/load.db"
    env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_SECRET_KEY": "load-" + "s" * 40, "LEADTHE_INSTANCE_PATH": str(tmp),
           "LEADTHE_DATABASE_URL": url, "LEADTHE_INLINE_WORKER": "0", "LEADTHE_BCRYPT_ROUNDS": "4",
           "LEADTHE_RATELIMIT_STORAGE_URL": "memory://"}
    flask = [str(BIN / "flask"), "--app", "app"]
    if url.startswith("postgresql"):
        import sqlalchemy as sa

        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    for cmd in (["db", "upgrade", "heads"], ["leadthe", "load-content"], ["leadthe", "seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    # more learners, each enrolled, so the mix is not one person's rows
    script = f"""
from app import app
from leadthe.extensions import db
from leadthe.auth.passwords import hash_password
from leadthe.models import User, Organization
import sqlalchemy as sa
with app.app_context():
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "Acme Corp"))
    h = hash_password("load-test-passphrase")
    for i in range({args.learners}):
        db.session.add(User(org_id=org.id, email=f"load{{i}}@acme.example", name=f"Load Learner {{i}}", password_hash=h))
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)

    port, bare_port = free_port(), free_port()
    log = tmp / "gunicorn.log"
    app_proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "app:app"],
                                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    bare_proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{bare_port}",
                                  "bench.load.bare_app:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        wait_for(bare_port)
        users = [sign_in(port, f"load{i}@acme.example", "load-test-passphrase") for i in range(args.learners)]
        lesson = "/courses/ai-foundations/lessons/what-generative-ai-is"
        for cookie, _ in users:  # enrol everyone (a POST each)
            cookies = dict(p.split("=", 1) for p in cookie.split("; "))
            _, html = fetch(port, "GET", "/courses/ai-foundations", cookies)
            token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
            fetch(port, "POST", "/courses/ai-foundations/enroll", cookies, {"csrf_token": token})
        user_env = {"LEADTHE_USERS": ";".join(f"{c}|{t}" for c, t in users), "LEADTHE_LESSON": lesson}
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        wrk(port, 3, args.connections, {**user_env, "LEADTHE_ONLY": lesson})  # warm-up
        results = {
            "50 people, 1 s pauses": people(port, users, args.seconds, lesson),
            "learner mix": wrk(port, args.seconds, args.connections, user_env),
        }
        # The machine's speed drifts between runs (other tenants, CPU boost): the two runs the ratio compares
        # alternate, each round gives a ratio of two neighbouring runs, and the median round is reported.
        rounds = []
        for _ in range(args.rounds):
            rounds.append((wrk(port, args.seconds, args.connections, {**user_env, "LEADTHE_ONLY": lesson}),
                           wrk(bare_port, args.seconds, args.connections, {"LEADTHE_ONLY": "/lesson"})))
        rounds.sort(key=lambda pair: float(pair[0]["rps"]) / float(pair[1]["rps"]))
        results["lesson page only"], results["bare Flask page"] = rounds[len(rounds) // 2]
        print(f"\n{backend}, gunicorn {args.workers} sync workers, {args.connections} connections, {args.seconds} s each")
        print(f"{'run':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, r in results.items():
            errors = int(r["non2xx3xx"]) + int(r["socket_errors"])
            print(f"{name:<22} {float(r['rps']):>8.0f} {float(r['p50_ms']):>8.1f} {float(r['p95_ms']):>8.1f} {float(r['p99_ms']):>8.1f} {errors:>7}")
        ratio = float(results["lesson page only"]["rps"]) / float(results["bare Flask page"]["rps"])
        each = ", ".join(f"{float(a['rps']):.0f}/{float(b['rps']):.0f} ({float(a['rps']) / float(b['rps']):.0%})"
                         for a, b in rounds)
        locked = log.read_text(errors="replace").count("database is locked")
        print(f"rounds, by ratio (lesson/bare req/s): {each}")
        print(f"lesson/bare throughput: {ratio:.0%} (goal >= 40%); 'database is locked' in the log: {locked}")
    finally:
        app_proc.terminate()
        bare_proc.terminate()
        app_proc.wait(20)
        bare_proc.wait(20)


if __name__ == "__main__":
    main()
