"""The lab runner against the fake model server: answers stored as they arrive, usage and quotas, each
failure ending with its code and the prompt kept, cancel, dead workers, the circuit breaker, grading."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.lab import quotas, runner
from leadthe.models import utcnow
from leadthe.models.course import Lesson
from leadthe.models.lab import LabRun, LabSettings, LabUsage
from tests.conftest import make_org, make_user
from tests.fake_openai import ANSWER, start_fake_model
from tests.helpers import make_course

KEY = "sk-test-key"
PROMPT = "You are a support lead. Summarise this note for a customer in 5 bullet points."
EXERCISE = {"task": "Summarise the meeting note for a customer in 5 bullet points.", "material": "Note: ...",
            "criteria": [{"check": "role", "label": "Says who the model should be"},
                         {"check": "audience", "label": "Names the audience"},
                         {"check": "format", "label": "Asks for an output format"}],
            "pass_mark": 70, "hints": ["Who reads it?"]}


@pytest.fixture(scope="module")
def fake():
    server = start_fake_model(api_key=KEY)
    server.stall_seconds = 30  # as the issue says: the runner's read timeout (1 s here) ends the wait
    yield server
    server.stop()


@pytest.fixture
def lab(app, fake):
    """A company with a learner, an exercise lesson and the fake model connected; fast timeouts."""
    saved = {k: app.config[k] for k in ("LAB_READ_TIMEOUT", "LAB_TOTAL_TIMEOUT", "LAB_CONNECT_TIMEOUT",
                                        "LAB_ALLOW_PRIVATE_URLS", "LAB_MAX_ANSWER_CHARS", "LAB_CONCURRENCY")}
    app.config.update(LAB_READ_TIMEOUT=1.0, LAB_TOTAL_TIMEOUT=10.0, LAB_CONNECT_TIMEOUT=2.0, LAB_ALLOW_PRIVATE_URLS=True,
                      LAB_MAX_ANSWER_CHARS=12000, LAB_CONCURRENCY=4)
    fake.slow_seconds = 20.0
    org = make_org(app, "Lab Co")
    user = make_user(app, org)
    with app.app_context():
        _, _, lesson, _ = make_course(org.id, "lab-course", "Lab course")
        lesson.kind, lesson.exercise = "exercise", EXERCISE
        db.session.add(LabSettings(org_id=org.id, provider="openai", base_url=fake.base_url, model="ok",
                                   provider_name="Fake model", api_key=KEY))
        db.session.commit()
        lesson_id = lesson.id
    yield Lab(app, fake, org.id, user, lesson_id)
    app.config.update(saved)


class Lab:
    def __init__(self, app, fake, org_id, user, lesson_id):
        self.app, self.fake, self.org_id, self.user, self.lesson_id = app, fake, org_id, user, lesson_id

    def model(self, name: str) -> None:
        with self.app.app_context():
            db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == self.org_id).values(model=name))
            db.session.commit()

    def send(self, prompt: str = PROMPT, kind: str = "answer", parent_id: int | None = None) -> int:
        with self.app.app_context():
            lesson = db.session.get(Lesson, self.lesson_id)
            parent = db.session.get(LabRun, parent_id) if parent_id else None
            run_id = runner.create_run(self.user, lesson, prompt, kind=kind, parent=parent).id
            db.session.commit()
            return run_id

    def run(self, name: str | None = None, prompt: str = PROMPT) -> LabRun:
        if name:
            self.model(name)
        run_id = self.send(prompt)
        with self.app.app_context():
            assert runner.run_pending() == 1
        return self.get(run_id)

    def get(self, run_id: int) -> LabRun:
        with self.app.app_context():
            return db.session.get(LabRun, run_id)

    def settings(self) -> LabSettings:
        with self.app.app_context():
            return db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == self.org_id))

    def usage(self) -> list[LabUsage]:
        with self.app.app_context():
            return db.session.scalars(sa.select(LabUsage).where(LabUsage.org_id == self.org_id)).all()


def test_a_streamed_answer_is_stored_with_its_model_and_usage(lab):
    run = lab.run("ok")
    assert run.status == "done" and run.error_code == "" and run.answer == ANSWER and run.prompt == PROMPT
    assert run.model == "ok" and run.tokens_out == len(ANSWER) // 4 and run.tokens_in > 0 and not run.tokens_estimated
    assert run.started_at and run.finished_at and run.claimed_until is None
    body = lab.fake.requests[-1]["body"]
    assert body["stream"] is True and body["messages"] == [{"role": "user", "content": PROMPT}]
    (usage,) = lab.usage()
    assert usage.user_id == lab.user.id and usage.day == utcnow().date()
    assert usage.tokens == run.tokens_in + run.tokens_out and usage.calls == 1
    second = lab.run()
    (usage,) = lab.usage()
    assert usage.calls == 2 and usage.tokens == run.tokens_in + run.tokens_out + second.tokens_in + second.tokens_out


def test_a_whole_answer_and_an_answer_without_usage(lab):
    whole = lab.run("no-stream")
    assert whole.status == "done" and whole.answer == ANSWER and not whole.tokens_estimated
    estimated = lab.run("no-usage")
    assert estimated.status == "done" and estimated.answer == ANSWER and estimated.tokens_estimated
    assert estimated.tokens_out == -(-len(ANSWER) // 4)
    (usage,) = lab.usage()
    assert usage.tokens == sum(r.tokens_in + r.tokens_out for r in (whole, estimated)) and usage.calls == 2


@pytest.mark.parametrize("model, code", [("unauthorized", "auth"), ("busy", "rate_limited"), ("broken", "server"),
                                         ("malformed", "malformed"), ("empty", "empty"), ("forbidden", "forbidden"),
                                         ("missing", "not_found")])
def test_each_failure_ends_the_run_with_its_code_and_the_prompt_kept(lab, model, code):
    run = lab.run(model)
    assert run.status == "failed" and run.error_code == code
    assert run.prompt == PROMPT and run.finished_at is not None and run.claimed_until is None


def test_a_stream_cut_halfway_keeps_the_partial_answer(lab):
    run = lab.run("cut")
    assert run.status == "failed" and run.error_code == "stopped" and run.prompt == PROMPT
    assert run.answer and ANSWER.startswith(run.answer) and len(run.answer) < len(ANSWER)
    assert run.tokens_estimated and run.tokens_out > 0


def test_a_stall_ends_with_a_timeout_within_the_read_timeout(lab):
    started = time.monotonic()
    run = lab.run("stall")
    assert time.monotonic() - started < 15  # read timeout 1 s; the fake stalls 30 s
    assert run.status == "failed" and run.error_code == "timeout" and run.prompt == PROMPT
    assert run.answer and ANSWER.startswith(run.answer)  # the first piece had come


def test_a_too_long_answer_is_cut_at_the_limit_and_the_run_ends_done_with_a_note(lab):
    lab.app.config["LAB_MAX_ANSWER_CHARS"] = 1000
    run = lab.run("long")
    assert run.status == "done" and run.error_code == "too_long" and len(run.answer) == 1000


def test_without_a_connected_model_the_run_fails_at_once_without_a_request(lab):
    with lab.app.app_context():
        db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == lab.org_id).values(provider="none"))
        db.session.commit()
    before = len(lab.fake.requests)
    run = lab.run()
    assert run.status == "failed" and run.error_code == "not_connected" and len(lab.fake.requests) == before


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_pool_streams_the_answer_into_the_row_and_cancel_keeps_what_came(lab):
    lab.fake.slow_seconds = 20.0  # 12 pieces, one every 1.7 s: time enough to cancel half-way on a busy machine
    lab.app.config["LAB_READ_TIMEOUT"] = 5.0  # (the fixture's 1 s would end it between two pieces)
    lab.model("slow")
    stop = threading.Event()
    runner.start_lab_runner(lab.app, stop)
    try:
        sent_before = len(lab.fake.sent)
        run_id = lab.send()
        first = wait_for(lambda: lab.get(run_id).answer, seconds=15)  # the first piece, before the answer is complete
        assert any(model == "slow" for model, _, _ in lab.fake.sent[sent_before:])
        assert ANSWER.startswith(first) and lab.get(run_id).status == "running"  # (bench/lab_load.py times it)
        with lab.app.app_context():
            runner.request_cancel(db.session.get(LabRun, run_id))
            db.session.commit()
        run = wait_for(lambda: (r := lab.get(run_id)).status != "running" and r, seconds=15)
        assert run.status == "cancelled" and run.error_code == "cancelled"
        assert run.answer and ANSWER.startswith(run.answer) and len(run.answer) < len(ANSWER)
        wait_for(lambda: lab.usage(), seconds=15)  # the cancelled run's tokens count too
    finally:
        stop.set()


def test_a_queued_run_cancelled_before_it_starts_never_reaches_the_model(lab):
    run_id = lab.send()
    with lab.app.app_context():
        run = db.session.get(LabRun, run_id)
        runner.request_cancel(run)
        assert run.status == "cancelled"
        db.session.commit()
    before = len(lab.fake.requests)
    with lab.app.app_context():
        assert runner.run_pending() == 0
    assert lab.get(run_id).status == "cancelled" and len(lab.fake.requests) == before


def test_a_run_whose_worker_died_ends_stopped(lab):
    dead, waiting, fresh = lab.send(), lab.send(), lab.send()
    now = utcnow()
    with lab.app.app_context():
        assert runner.claim(now, limit=3) == sorted([dead, waiting, fresh])
        assert runner.claim(now, limit=3) == []  # taken: nobody takes them twice
        db.session.execute(sa.update(LabRun).where(LabRun.id == dead).values(heartbeat_at=now - timedelta(seconds=30)))
        db.session.execute(sa.update(LabRun).where(LabRun.id == waiting).values(
            status="queued", started_at=None, heartbeat_at=None, created_at=now - timedelta(minutes=11)))
        db.session.commit()
        assert runner.expire_stalled(now) == 2
    for run_id in (dead, waiting):
        run = lab.get(run_id)
        assert run.status == "failed" and run.error_code == "stopped" and run.prompt == PROMPT
    assert lab.get(fresh).status == "running"
    # the page's poll: refresh() ends a dead run it is showing
    with lab.app.app_context():
        run = db.session.get(LabRun, fresh)
        assert runner.refresh(run, now + timedelta(seconds=5)).status == "running"
        assert runner.refresh(run, now + timedelta(seconds=17)).status == "failed"
        assert run.error_code == "stopped"
        db.session.commit()
    assert lab.get(fresh).status == "failed"


def test_three_provider_failures_pause_the_company_for_a_minute(lab):
    for _ in range(2):
        assert lab.run("broken").error_code == "server"
    assert lab.settings().failures == 2 and lab.settings().paused_until is None
    assert lab.run("busy").error_code == "rate_limited"
    paused_until = lab.settings().paused_until
    assert paused_until is not None and 55 <= (paused_until - utcnow()).total_seconds() <= 60
    lab.model("ok")
    before = len(lab.fake.requests)
    run = lab.run()
    assert run.status == "failed" and run.error_code == "paused" and len(lab.fake.requests) == before
    # a minute later one call goes through; a success resets the count
    with lab.app.app_context():
        db.session.execute(sa.update(LabSettings).where(LabSettings.org_id == lab.org_id).values(
            paused_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert lab.run().status == "done" and lab.settings().failures == 0
    # a wrong key is the admin's to fix, not the provider's trouble: it does not count
    assert lab.run("unauthorized").error_code == "auth" and lab.settings().failures == 0


def test_quotas_stop_the_next_prompt_with_a_clear_message(lab):
    colleague = make_user(lab.app, lab.org_id)
    with lab.app.test_request_context():
        settings = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == lab.org_id))
        settings.person_daily_tokens, settings.company_monthly_tokens = 500, 100_000
        db.session.commit()
        assert quotas.refusal(settings, lab.user) is None
    run = lab.run("ok")
    with lab.app.test_request_context():
        settings = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == lab.org_id))
        assert quotas.used(settings, lab.user) == (run.tokens_in + run.tokens_out,) * 2
        # another month, to keep today's run out of it: the day's tokens used up refuse the person until tomorrow
        now = datetime(2030, 3, 15, 12, tzinfo=timezone.utc)
        quotas._add(lab.org_id, lab.user.id, now.date(), tokens=500, calls=3)
        message = quotas.refusal(settings, lab.user, now)
        assert message and "500 tokens for today" in message and "16 Mar 2030, 00:00" in message
        assert quotas.refusal(settings, colleague, now) is None
        assert quotas.refusal(settings, lab.user, now + timedelta(days=1)) is None
        # the company's month used up refuses everyone until the first of the next month
        quotas._add(lab.org_id, colleague.id, date(2030, 3, 1), tokens=99_500)
        message = quotas.refusal(settings, lab.user, now + timedelta(days=1))
        assert message and "company has used its 100,000 tokens" in message and "1 Apr 2030" in message
        assert quotas.refusal(settings, colleague, now) == message
        assert quotas.refusal(settings, colleague, datetime(2030, 4, 1, tzinfo=timezone.utc)) is None
        db.session.rollback()


def test_passes_are_counted_with_the_best_score(lab):
    with lab.app.app_context():
        quotas.record_pass(lab.user, 70)
        quotas.record_pass(lab.user, 90)
        quotas.record_pass(lab.user, 80)
        db.session.commit()
    (usage,) = lab.usage()
    assert usage.exercises_passed == 3 and usage.best_score == 90 and usage.tokens == 0


def test_a_grading_run_asks_for_the_rubric_and_its_answer_can_be_read(lab):
    answer_id = lab.run("ok").id
    lab.model("grader")
    grading_id = lab.send(prompt="", kind="grading", parent_id=answer_id)
    with lab.app.app_context():
        assert runner.run_pending() == 1
    grading = lab.get(grading_id)
    assert grading.status == "done" and grading.kind == "grading"
    messages = lab.fake.requests[-1]["body"]["messages"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert "- [role] Says who the model should be" in system and "- [format] Asks for an output format" in system
    assert EXERCISE["task"] in system and PROMPT in user
    parsed = runner.parse_grading(grading.answer)
    assert [c["check"] for c in parsed["criteria"]] == ["role", "audience", "format"]
    assert all(c["met"] for c in parsed["criteria"]) and parsed["summary"]


def test_parse_grading_is_lenient_but_not_credulous():
    fenced = 'Here you go:\n```json\n{"criteria": [{"check": "[role]", "met": "yes", "comment": "ok"}], "summary": "Good."}\n```'
    assert runner.parse_grading(fenced) == {"criteria": [{"check": "role", "met": True, "comment": "ok"}], "summary": "Good."}
    assert runner.parse_grading('{"criteria": [{"check": "role", "met": "no"}]}')["criteria"][0]["met"] is False
    for nonsense in ("", "I cannot grade this.", "{not json}", '{"other": 1}', "[1, 2]"):
        assert runner.parse_grading(nonsense) is None


def test_worker_once_runs_the_queued_generations(lab):
    run_id = lab.send()
    result = lab.app.test_cli_runner().invoke(args=["leadthe", "worker", "--once"])
    assert result.exit_code == 0 and "lab runs: 1" in result.output
    assert lab.get(run_id).status == "done" and lab.get(run_id).answer == ANSWER


def test_the_pages_poll_ends_a_dead_run_in_a_get_request_without_writing_through_its_session(lab):
    run_id = lab.send()
    now = utcnow()
    with lab.app.app_context():
        assert runner.claim(now, limit=1) == [run_id]
    with lab.app.test_request_context("/", method="GET"):
        run = db.session.scalar(sa.select(LabRun).where(LabRun.id == run_id))
        assert runner.refresh(run, now + timedelta(seconds=17)) is run
        assert run.status == "failed" and run.error_code == "stopped"
        assert not db.session.dirty and not db.session.new  # the GET's session wrote nothing
        db.session.rollback()
    assert lab.get(run_id).status == "failed" and lab.get(run_id).prompt == PROMPT
