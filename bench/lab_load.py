"""Load benchmark of the practice lab: 20 generations in progress against a slow model while the learner mix
runs, on SQLite or PostgreSQL.

    .venv/bin/python bench/lab_load.py                                   # SQLite
    .venv/bin/python bench/lab_load.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/leadthe_bench

What runs (all on this machine):
- the fake OpenAI-compatible model (``tests/fake_openai.py``, model ``slow``: each answer spread over
  ``--slow`` seconds, default 20), in a child process;
- the app under gunicorn (``--workers`` sync workers, as ``bench/load/run_load.py``), no inline worker;
- ``leadthe worker`` in its own process: the job worker and the lab runner (``LAB_CONCURRENCY`` threads);
- 25 signed-in learners; 20 of them send a prompt on an exercise lesson at the same moment (the runs are
  created with ``leadthe.lab.runner.create_run``, as the lab page does), then 50 people play the learner
  mix (dashboard, catalogue, lesson, complete, search; about 1 s between requests) while the 20 answers
  stream.

Goals (issue 18): p95 of every page of the mix < 100 ms while the generations run; the first token reaches
the learner's page within 1 s of the model sending it. Each of the 20 learners polls its answer's fragment
(``GET …/lab/runs/<id>`` with ``HX-Request``) every 400 ms, as htmx does on the lab page, until the fragment
says the answer is complete: "first token" is the time from the fake model writing a run's first piece
(``server.sent``) to the first poll whose fragment shows it (the poll's own interval included).
Each of ``--rounds`` rounds (default 3) runs the mix without generations, then with them (the shared
machine's speed drifts; alternating and taking the median of the rounds cancels most of it).
"""
from __future__ import annotations

import argparse
import html
import http.client
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load.run_load import fetch, free_port, learner_mix, sign_in, wait_for  # noqa: E402
from tests.fake_openai import start_fake_model  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "load-test-passphrase"
EXERCISE = {"task": "Summarise the meeting note for a customer in 5 bullet points.",
            "material": "Meeting note: the delivery moves to Friday; the price stays the same.",
            "criteria": [{"check": "role", "label": "Says who the model should be"},
                         {"check": "audience", "label": "Names the audience"},
                         {"check": "format", "label": "Asks for an output format"}],
            "pass_mark": 70, "hints": ["Who will read the summary?"]}

def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def print_mix(title, latencies, errors, seconds):
    every = [v for values in latencies.values() for v in values]
    print(f"\n{title}: {len(every) / seconds:.0f} req/s, errors {errors}")
    print(f"  {'page':<58} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for path, values in latencies.items():
        print(f"  {path:<58} {len(values):>5} {pct(values, 0.5):>8.1f} {pct(values, 0.95):>8.1f} {max(values or [0]):>8.1f}")
    print(f"  {'all':<58} {len(every):>5} {pct(every, 0.5):>8.1f} {pct(every, 0.95):>8.1f} {max(every or [0]):>8.1f}")


def serve_fake(slow: float, commands, results) -> None:
    """The fake model (in a child process): sends its address, serves until told to stop, then sends when
    each stream's pieces were written, by prompt: {prompt: [(monotonic time, answer length so far)]}."""
    fake = start_fake_model(api_key="sk-bench")
    fake.slow_seconds = slow
    prompt_of_thread: dict[int, str] = {}
    sent: dict[str, list[tuple[float, int]]] = {}
    record, note_sent = fake.record, fake.note_sent

    def record_with_thread(**entry):  # which stream is which: each run's prompt is its own
        messages = (entry.get("body") or {}).get("messages") or [{}]
        prompt_of_thread[threading.get_ident()] = str(messages[-1].get("content", ""))
        record(**entry)

    def note_sent_per_stream(model, text):
        note_sent(model, text)
        pieces = sent.setdefault(prompt_of_thread.get(threading.get_ident(), ""), [])
        pieces.append((time.monotonic(), (pieces[-1][1] if pieces else 0) + len(text)))

    fake.record, fake.note_sent = record_with_thread, note_sent_per_stream
    results.put((fake.base_url, fake.pieces))
    while commands.get() != "stop":
        results.put(dict(sent))
    fake.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def generation_round(number, args, port, users, lesson, people, exercise, app, worker_pid, to_fake, results):
    """20 learners send a prompt at the same moment; the learner mix runs while the answers stream, and each of
    the 20 polls its answer's fragment every 400 ms as its page does (htmx), which adds their load too."""
    from leadthe.extensions import db
    from leadthe.lab.runner import create_run

    worker_cpu = cpu_seconds(worker_pid)
    window = time.monotonic()
    with app.app_context():
        prompts = {}
        for i, person in enumerate(people):
            text = f"You are a support lead (round {number}, #{i}). Summarise the note for a customer in 5 bullet points."
            prompts[create_run(person, exercise, text).id] = text
        db.session.commit()
        created = time.monotonic()
    run_ids = sorted(prompts)
    seen: dict[int, list[tuple[float, int]]] = {i: [] for i in run_ids}
    statuses: dict[int, str] = {}

    cookies_of = {f"load{i}@acme.example": dict(p.split("=", 1) for p in cookie.split("; "))
                  for i, (cookie, _) in enumerate(users)}
    owner = {run_id: cookies_of[people[i].email] for i, run_id in enumerate(sorted(prompts))}
    exercise_url = f"/courses/ai-foundations/lessons/{exercise.slug}/lab/runs/"

    def poll_one(run_id):
        """What htmx does on the learner's page: GET the answer fragment every 400 ms until it is complete."""
        deadline = time.monotonic() + args.slow + 60
        while time.monotonic() < deadline:
            status, body = hx_get(port, exercise_url + str(run_id), owner[run_id])
            now = time.monotonic()
            text = re.search(r'<pre class="lab-text">(.*?)</pre>', body, re.S)
            length = len(html.unescape(text.group(1))) if text else 0
            history = seen[run_id]
            if length and (not history or history[-1][1] != length):
                history.append((now, length))
            if "every 400ms" not in body:  # the finished fragment has no trigger: htmx stops polling
                statuses[run_id] = "done" if status == 200 and text else "failed"
                return
            time.sleep(0.4)

    def poll():
        pollers = [threading.Thread(target=poll_one, args=(run_id,), daemon=True) for run_id in run_ids]
        for thread in pollers:
            thread.start()
        for thread in pollers:
            thread.join()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    mix = learner_mix(port, users, args.seconds, lesson)
    poller.join()
    worker_cpu, window = cpu_seconds(worker_pid) - worker_cpu, time.monotonic() - window
    to_fake.put("report")
    sent = results.get(timeout=30)
    first, every, start = [], [], []
    for run_id in run_ids:
        pieces = sent.get(prompts[run_id], [])
        if pieces:
            start.append((pieces[0][0] - created) * 1000)
        for index, (sent_at, length) in enumerate(pieces):
            when = next((t for t, n in seen[run_id] if n >= length), None)
            if when is None:
                continue
            every.append((when - sent_at) * 1000)
            if index == 0:
                first.append((when - sent_at) * 1000)
    return {"mix": mix, "first": first, "every": every, "start": start, "statuses": set(statuses.values()),
            "done": sum(1 for s in statuses.values() if s == "done"), "cpu": worker_cpu, "window": window}


def hx_get(port, path, cookies):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "HX-Request": "true"})
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, body


def setup_script(learners, base_url):
    return f"""
import sqlalchemy as sa
from app import app
from leadthe.extensions import db
from leadthe.auth.passwords import hash_password
from leadthe.models import User, Organization
from leadthe.models.course import Course, CourseModule, Lesson
from leadthe.models.lab import LabSettings
with app.app_context():
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "Acme Corp"))
    h = hash_password({PASSWORD!r})
    for i in range({learners}):
        db.session.add(User(org_id=org.id, email=f"load{{i}}@acme.example", name=f"Load Learner {{i}}", password_hash=h))
    course = db.session.scalar(sa.select(Course).where(Course.slug == "ai-foundations"))
    module = db.session.scalar(sa.select(CourseModule).where(CourseModule.course_id == course.id).limit(1))
    last = db.session.scalar(sa.select(sa.func.max(Lesson.seq)).where(Lesson.course_id == course.id)) or 0
    db.session.add(Lesson(course_id=course.id, module_id=module.id, slug="lab-bench-exercise", title="Summarise for a customer",
                          kind="exercise", exercise={EXERCISE!r}, position=99, seq=last + 1, body_md="", body_html=""))
    db.session.add(LabSettings(org_id=org.id, provider="openai", base_url={base_url!r}, model="slow",
                               provider_name="Fake model", api_key="sk-bench"))
    db.session.commit()
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL URL (its public schema is dropped); default: SQLite in a temporary folder")
    parser.add_argument("--seconds", type=int, default=15, help="length of each learner-mix run")
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--slow", type=float, default=20.0, help="seconds the fake model takes for an answer")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--learners", type=int, default=25)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (mix without, mix with generations)")
    args = parser.parse_args()

    # the fake model in a process of its own, so that its 20 streams do not hold this process's interpreter
    # (and so the clients' timings); CLOCK_MONOTONIC is the machine's, so its times compare with ours
    context = multiprocessing.get_context("fork")
    to_fake, results = context.Queue(), context.Queue()
    fake_proc = context.Process(target=serve_fake, args=(args.slow, to_fake, results), daemon=True)
    fake_proc.start()
    base_url, pieces_per_answer = results.get(timeout=30)

    tmp = Path(tempfile.mkdtemp(prefix="leadthe-lab-load-"))
    url = args.pg or f"sqlite:///{tmp}/load.db"
    env = {**os.environ, "LEADTHE_ENV": "test", "LEADTHE_SECRET_KEY": "load-" + "s" * 40, "LEADTHE_INSTANCE_PATH": str(tmp),
           "LEADTHE_DATABASE_URL": url, "LEADTHE_INLINE_WORKER": "0", "LEADTHE_BCRYPT_ROUNDS": "4",
           "LEADTHE_RATELIMIT_STORAGE_URL": "memory://", "LEADTHE_LAB_ALLOW_PRIVATE_URLS": "1",
           "LEADTHE_LAB_CONCURRENCY": "24"}
    flask = [str(BIN / "flask"), "--app", "app"]
    import sqlalchemy as sa

    if url.startswith("postgresql"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    for cmd in (["db", "upgrade", "heads"], ["leadthe", "load-content"], ["leadthe", "seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", setup_script(args.learners, base_url)], cwd=ROOT, env=env, check=True)

    os.environ.update(env)  # this process creates the runs through the app, as the lab page does
    from app import app as leadthe_app
    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.models.course import Lesson

    port = free_port()
    log = tmp / "gunicorn.log"
    app_proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "app:app"],
                                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    worker_log = tmp / "worker.log"
    worker_proc = subprocess.Popen(flask + ["leadthe", "worker"], cwd=ROOT, env=env, stdout=worker_log.open("w"),
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(port)
        users = [sign_in(port, f"load{i}@acme.example", PASSWORD) for i in range(args.learners)]
        lesson = "/courses/ai-foundations/lessons/what-generative-ai-is"
        for cookie, _ in users:
            cookies = dict(p.split("=", 1) for p in cookie.split("; "))
            _, html = fetch(port, "GET", "/courses/ai-foundations", cookies)
            token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
            fetch(port, "POST", "/courses/ai-foundations/enroll", cookies, {"csrf_token": token})
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        load1 = os.getloadavg()[0]
        learner_mix(port, users, 3, lesson)  # warm-up
        with leadthe_app.app_context():
            exercise = db.session.scalar(sa.select(Lesson).where(Lesson.slug == "lab-bench-exercise"))
            people = db.session.scalars(sa.select(User).where(User.email.like("load%@acme.example")).order_by(User.id)
                                        .limit(args.generations)).all()
            db.session.expunge_all()
        rounds = []
        for number in range(args.rounds):
            baseline = None if args.no_baseline else learner_mix(port, users, args.seconds, lesson)
            rounds.append((baseline, generation_round(number, args, port, users, lesson, people, exercise, leadthe_app,
                                                      worker_proc.pid, to_fake, results)))
        load2 = os.getloadavg()[0]

        print(f"\n{backend}; gunicorn {args.workers} sync workers; worker process with the lab runner; fake model "
              f"'slow' ({args.slow:g} s an answer, {pieces_per_answer} pieces); {args.rounds} round(s), each a "
              f"{args.seconds} s learner mix without, then with {args.generations} generations; "
              f"load average {load1:.1f} -> {load2:.1f}")
        for number, (baseline, measured) in enumerate(rounds, 1):
            print(f"\n--- round {number}")
            if baseline is not None:
                print_mix("learner mix, no generations", *baseline, args.seconds)
            print_mix(f"learner mix, {args.generations} generations streaming", *measured["mix"], args.seconds)
        if args.rounds > 1:
            print("\nmedian of the rounds' p95 (ms), per page: without / with generations")
            for path in rounds[0][1]["mix"][0]:
                without = [pct(b[0][path], 0.95) for b, _ in rounds if b is not None]
                with_ = [pct(m["mix"][0][path], 0.95) for _, m in rounds]
                print(f"  {path:<58} {pct(without, 0.5) if without else float('nan'):>8.1f} / {pct(with_, 0.5):>8.1f}")
        first = [v for _, m in rounds for v in m["first"]]
        every = [v for _, m in rounds for v in m["every"]]
        start = [v for _, m in rounds for v in m["start"]]
        done = sum(m["done"] for _, m in rounds)
        print(f"\ngenerations: {done}/{args.rounds * args.generations} done, statuses "
              f"{sorted({s for _, m in rounds for s in m['statuses']})}")
        print(f"prompt stored -> the model's first piece (claim, call): p50 {pct(start, 0.5):.0f} ms, "
              f"max {max(start or [0]):.0f} ms")
        print(f"first token, model sent -> the learner's polled fragment shows it (every 400 ms): p50 {pct(first, 0.5):.0f} ms, "
              f"p95 {pct(first, 0.95):.0f} ms, max {max(first or [0]):.0f} ms (n={len(first)}; goal < 1000 ms)")
        print(f"every piece, same: p50 {pct(every, 0.5):.0f} ms, p95 {pct(every, 0.95):.0f} ms, "
              f"max {max(every or [0]):.0f} ms (n={len(every)})")
        cpu = sum(m["cpu"] for _, m in rounds)
        window = sum(m["window"] for _, m in rounds)
        print(f"worker process (lab runner) CPU while the generations ran: {cpu:.1f} s in {window:.0f} s "
              f"({cpu / window:.0%} of one core)")
        locked = log.read_text(errors="replace").count("database is locked") + \
            worker_log.read_text(errors="replace").count("database is locked")
        print(f"'database is locked' in the logs: {locked}")
    finally:
        app_proc.terminate()
        worker_proc.terminate()
        app_proc.wait(20)
        worker_proc.wait(20)
        to_fake.put("stop")
        fake_proc.join(10)


if __name__ == "__main__":
    main()
