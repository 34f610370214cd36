"""`flask --app app leadthe …` (also `python -m leadthe …`)."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timezone

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from leadthe.audit_chain import seal, verify
from leadthe.courses.content import ContentError, load_content
from leadthe.crypto import DataKeyError
from leadthe.demo import DEMO_PASSWORD, demo_code, demo_people, demo_staff, seed_demo
from leadthe.extensions import db
from leadthe.models import Organization
from leadthe.privacy.key_rotation import rotate_all
from leadthe.privacy.retention import RULES, apply_retention
from leadthe.scale import seed_scale
from leadthe.staff_accounts import create_or_promote_staff
from leadthe.storage import StorageError, storage
from leadthe.worker import drain_companions, run_forever, run_once, stop_on_sigterm

leadthe_cli = AppGroup("leadthe", help="LeadThe.AI operations.")


@leadthe_cli.command("seed-demo")
@click.option("--print-only", is_flag=True, help="Only print the demo log-ins if the demo company exists.")
def seed_demo_command(print_only: bool):
    """A demo company "Acme Corp" with an admin, a manager and learners in two teams (idempotent)."""
    people = demo_people() if print_only else seed_demo()
    if not people:
        click.echo("No demo company in this database.")
        return
    click.echo("Demo organisation: Acme Corp")
    for role, email in people:
        click.echo(f"  {role:<8} {email:<28} password: {DEMO_PASSWORD}")
    staff = demo_staff()
    if staff:
        click.echo("LeadThe.AI staff (development only). Two-step verification is on: after the password, get a code")
        click.echo("with `make demo-code EMAIL=<address>`, or add the account to an authenticator app with its otpauth link.")
        for role, email, uri in staff:
            click.echo(f"  {role:<8} {email:<28} password: {DEMO_PASSWORD}   code: make demo-code EMAIL={email}")
            click.echo(f"           {uri}")


@leadthe_cli.command("demo-code")
@click.argument("email")
def demo_code_command(email: str):
    """Development only: the current two-step code of a demo staff or DPO account (seed-demo made them)."""
    code = demo_code(email)
    if code is None:
        raise click.ClickException("not a demo staff account of this development database (or not development)")
    click.echo(code)


@leadthe_cli.command("has-data")
def has_data_command():
    """Exit 0 when the database already holds an organisation (used by `make run`)."""
    raise SystemExit(0 if db.session.scalar(sa.select(sa.func.count(Organization.id))) else 1)


@leadthe_cli.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@click.option("--now", "now_text", default=None, help="Pretend the time is this (ISO 8601), for tests and drills.")
def worker_command(once: bool, interval: float, now_text: str | None):
    """Send due mail from the outbox, run due jobs and the practice lab's queued generations."""
    if once:
        now = _parse_now(now_text)
        result = run_once(now)
        others = "".join(f"  {name}: {count}" for name, count in drain_companions(now).items())
        click.echo(f"mail: {result['mail']}  jobs: {result['jobs']}{others}")
        return
    click.echo(f"worker running every {interval:g}s when idle; Ctrl+C or SIGTERM stops it")
    stop = threading.Event()
    stop_on_sigterm(stop)
    try:
        run_forever(current_app._get_current_object(), interval, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    click.echo("worker stopped")


@leadthe_cli.command("retention")
@click.option("--now", "now_text", default=None, help="Apply the rules as of this time (ISO 8601); default: now.")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
def retention_command(now_text: str | None, dry_run: bool):
    """Apply the retention rules of the personal-data registry and print what was done, per rule."""
    held: dict[str, int] = {}
    results = apply_retention(_parse_now(now_text), dry_run=dry_run, held=held)
    click.echo("retention (dry run: nothing changed)" if dry_run else "retention")
    for rule_id, count in results.items():
        kept = f" (held: {held[rule_id]} kept by a legal hold)" if held.get(rule_id) else ""
        click.echo(f"  {RULES[rule_id][0]}: {count}{kept}")
    if held:
        click.echo(f"legal holds kept {sum(held.values())} due row(s) or account(s); they go after the hold ends")


@leadthe_cli.command("storage-check")
def storage_check_command():
    """Check that the file store (LEADTHE_STORAGE_URL) can be used: the folder, or the bucket and credentials."""
    try:
        where = storage().check()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the store is unreachable: say so, without a stack trace
        raise click.ClickException(f"the file store cannot be reached: {type(exc).__name__}: {exc}") from exc
    click.echo(f"file store ok: {where}")


audit_cli = AppGroup("audit", help="The tamper-evident audit log.")
leadthe_cli.add_command(audit_cli)


@audit_cli.command("seal")
def audit_seal_command():
    """Chain the audit events written since the last seal (the worker does this every minute)."""
    click.echo(f"sealed {seal()} audit event(s)")


@audit_cli.command("verify")
def audit_verify_command():
    """Seal, then check every audit chain; exit 1 naming the first broken event when one is broken."""
    sealed = seal()
    report = verify()
    click.echo(f"sealed {sealed} new event(s); checked {report.events} event(s) in {report.chains} chain(s)")
    if report.not_checkable:
        click.echo(f"  {report.not_checkable} event(s) digested with an earlier SECRET_KEY: links checked, personal fields not")
    if report.unsealed:
        click.echo(f"  {report.unsealed} event(s) younger than the safety window, not sealed yet")
    if report.intact:
        click.echo("every chain is intact")
        return
    click.echo(f"BROKEN: {report.breaks[0].describe()}", err=True)
    for brk in report.breaks[1:]:
        click.echo(f"  also {brk.describe()}", err=True)
    raise SystemExit(1)


@leadthe_cli.command("rotate-data-key")
@click.option("--batch-size", default=500, show_default=True, help="Rows re-encrypted per transaction.")
def rotate_data_key_command(batch_size: int):
    """Re-encrypt every encrypted value with the newest key of LEADTHE_DATA_KEY (comma-separated, newest first)."""
    keys = current_app.config.get("LEADTHE_DATA_KEYS") or []
    click.echo(f"re-encrypting with the newest of {len(keys)} data key(s)")
    try:
        counts = rotate_all(batch_size)
    except DataKeyError as exc:
        raise click.ClickException(f"{exc}. Keep the old key after the new one in LEADTHE_DATA_KEY until this has run.") from exc
    for column, count in counts.items():
        click.echo(f"  {column}: {count} re-encrypted")
    click.echo(f"done: {sum(counts.values())} value(s); the older keys can now be removed from LEADTHE_DATA_KEY")


@leadthe_cli.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice(["staff", "dpo"]), default="staff", show_default=True)
@click.option("--name", default=None)
def create_staff_command(email: str, role: str, name: str | None):
    """Create or promote a LeadThe.AI staff account (the only way to grant a platform role)."""
    password = os.environ.get("LEADTHE_NEW_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, created = create_or_promote_staff(email, role, password, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'created' if created else 'updated'} {role} account {user.email}")
    if not user.has_2fa:
        click.echo("two-step verification is required: the first log-in leads to its set-up, before any staff page")


def _parse_now(text: str | None):
    if not text:
        return None

    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@leadthe_cli.command("load-content")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
def load_content_command(path: str | None):
    """Load or update the curriculum from a content folder (default: the shipped starter curriculum).

    Courses, modules and lessons are matched by slug and updated in place; learners' progress is kept.
    Safe to run again: unchanged content changes nothing."""
    try:
        report = load_content(path)
    except ContentError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()  # a command is its own unit of work (requests commit in one_transaction_per_request)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"content loaded from {path or 'the starter curriculum'}: {report.summary()}")


@leadthe_cli.command("seed-scale")
@click.option("--users", default=10_000, show_default=True, help="People in the company.")
@click.option("--teams", default=500, show_default=True, help="Teams in the company.")
def seed_scale_command(users: int, teams: int):
    """A large demo company for benchmarks: N people, 500 teams, about a million progress rows."""
    seed_scale(users=users, teams=min(teams, max(users // 2, 1)))
