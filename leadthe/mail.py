"""Outgoing mail through the transactional outbox.

``queue_mail`` only adds a row to the current transaction: the mail exists if and only if the change
that caused it commits. ``deliver_due`` (run by ``leadthe worker``) sends due rows over SMTP with
retries and exponential back-off; a crash between sending and marking leaves the row leased, and it is
retried after the lease runs out (at-least-once, with a stable Message-ID so receivers can de-duplicate).
"""
from __future__ import annotations

import logging
import quopri
import re
import smtplib
import ssl
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from babel.dates import format_date, format_time
from flask_babel import force_locale, get_locale

from leadthe.extensions import db
from leadthe.models import OutboxMail, User, utcnow
from leadthe.models.enums import MailStatus, UserStatus
from leadthe.net import CONTROL_CHARACTERS
from leadthe.tenancy import unscoped

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 12  # with back-off capped at 6 h, a little over two days of trying


def header_value(value: str) -> str:
    """One line for a mail header: a line break or other control character (from a ticket subject, a name
    imported by SCIM, ...) becomes a space; Python's e-mail package refuses a header that has one."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


MAIL_LANGUAGES = ("en", "de")


def recipient_locale(user=None, user_id: int | None = None) -> str:
    """The language a person reads their mail in: the one chosen for their account (English without one)."""
    if user is not None:
        locale = user.locale
    elif user_id is not None:
        locale = db.session.scalar(unscoped(sa.select(User.locale).where(User.id == user_id),
                                            reason="the language of the person a mail goes to"))
    else:
        locale = None
    locale = locale or "en"
    return locale if locale in MAIL_LANGUAGES else "en"


class _InMailLanguage:
    """A value that becomes text only when the mail is written, in the mail's language."""

    def __init__(self, render):
        self._render = render

    def __str__(self) -> str:
        return self._render(str(get_locale() or "en"))

    def __html__(self) -> str:
        return str(self)


def long_date(value: datetime, *, with_time: bool = False) -> _InMailLanguage:
    """A date for a mail body, written in the recipient's language ("06 December 2026", "6. Dezember 2026");
    ``with_time`` adds the time of day in UTC."""
    def render(language: str) -> str:
        if language == "en":
            return value.strftime("%d %B %Y, %H:%M UTC" if with_time else "%d %B %Y")
        text = format_date(value, "d. MMMM y", locale=language)
        return f"{text}, {format_time(value, 'HH:mm', locale=language)} UTC" if with_time else text
    return _InMailLanguage(render)


def queue_mail(to_addr: str, subject, template: str, *, kind: str, user=None, user_id: int | None = None,
               locale: str | None = None, headers=None, **context) -> OutboxMail:
    """Queue a mail in the recipient's language: ``locale`` if given (a mail to an address without an
    account), else the language of ``user`` / ``user_id``, else English (staff mailboxes). ``subject`` is
    usually a ``lazy_gettext`` string; it is translated here, with the body, in that language."""
    mail = OutboxMail(**mail_values(to_addr, subject, template, kind=kind, user=user, user_id=user_id, locale=locale,
                                    headers=headers, **context))
    db.session.add(mail)
    return mail


def mail_values(to_addr: str, subject, template: str, *, kind: str, user=None, user_id: int | None = None,
                locale: str | None = None, headers=None, **context) -> dict:
    """The outbox row ``queue_mail`` adds, as column values: for a job that queues a batch with ``queue_mails``."""
    locale = locale if locale in MAIL_LANGUAGES else recipient_locale(user, user_id)
    with force_locale(locale):
        body = render_template(f"mail/{template}.txt", **context)
        subject = str(subject)
    return {"to_addr": header_value(to_addr), "subject": header_value(subject), "body_text": body, "kind": kind,
            "user_id": user_id if user_id is not None else getattr(user, "id", None),
            "headers": {name: header_value(value) for name, value in (headers or {}).items()}}


def queue_mails(rows: list[dict]) -> None:
    """Queue a batch of mails (``mail_values`` each) in one statement, in the current transaction; a job that
    mails many people at once stays a fixed number of statements."""
    if rows:
        db.session.execute(sa.insert(OutboxMail), rows)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def record_failure(row, exc: BaseException, now: datetime, *, max_attempts: int, due_field: str) -> str:
    """After a failed attempt (``row.attempts`` already counts it): retry later with back-off, or give up.
    Shared by outbox mail and jobs. Returns "retry" or "failed"."""
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts >= max_attempts:
        row.status = "failed"
        return "failed"
    row.status = "pending"
    setattr(row, due_field, now + backoff(row.attempts))
    return "retry"


def _smtp_connection(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if parts.scheme == "smtps":
        conn = smtplib.SMTP_SSL(host, port or 465, timeout=20, context=ssl.create_default_context())
    elif parts.scheme == "smtp":
        conn = smtplib.SMTP(host, port or 25, timeout=20)
        conn.ehlo()
        if conn.has_extn("starttls"):
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
    else:
        raise ValueError(f"unsupported LEADTHE_SMTP_URL scheme {parts.scheme!r}")
    if parts.username:
        conn.login(unquote(parts.username), unquote(parts.password or ""))
    return conn


def _build_message(mail: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = _message_id(mail)
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (mail.headers or {}).items():
        msg[name] = value
    msg.set_content(mail.body_text)
    return msg


_PLAIN = re.compile(r"[\x20-\x7e]*\Z")
_RECIPIENT_HEADERS = {"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", "from", "sender"}


def _wire_message(mail: OutboxMail):
    """What goes over SMTP: ``(sender, recipient, bytes)`` for the usual mail (every header plain ASCII and short
    enough not to be folded), written directly (Python's e-mail package parses every header it is given, which
    costs the worker more than the rest of a mail's way together); else the ``EmailMessage`` of
    ``_build_message``. A body whose lines all fit in 78 bytes goes as it is (7bit, or 8bit with umlauts), as
    ``EmailMessage`` writes it; one with a longer line (a paragraph on one line, as most of our mails have) goes
    quoted-printable, each line at most 76 characters."""
    sender = current_app.config["MAIL_FROM"]
    headers = [("From", sender), ("To", mail.to_addr), ("Subject", mail.subject), ("Date", format_datetime(mail.created_at)),
               ("Message-ID", _message_id(mail)), ("Auto-Submitted", "auto-generated"), *(mail.headers or {}).items()]
    if (any(name.lower() in _RECIPIENT_HEADERS for name, _ in headers[6:])
            or not all(_PLAIN.match(value) and len(name) + len(value) + 2 <= 78 for name, value in headers)):
        return _build_message(mail)
    body = mail.body_text.encode("utf-8").splitlines()
    if any(len(line) > 78 for line in body):
        encoding = "quoted-printable"
        payload = quopri.encodestring(b"\n".join(body) + b"\n").replace(b"\n", b"\r\n")
    else:
        try:
            b"".join(body).decode("ascii")
            encoding = "7bit"
        except UnicodeDecodeError:
            encoding = "8bit"
        payload = b"".join(line + b"\r\n" for line in body)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head += f'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: {encoding}\r\nMIME-Version: 1.0\r\n\r\n'
    return parseaddr(sender)[1], mail.to_addr, head.encode("ascii") + payload


def _message_id(mail: OutboxMail) -> str:
    # Stable per outbox row: a retry after a crash carries the same id, so receivers can de-duplicate.
    return f"<outbox-{mail.id}.{int(mail.created_at.timestamp())}@leadthe.ai>"


def _send(conn: smtplib.SMTP, message) -> None:
    if isinstance(message, tuple):
        sender, recipient, data = message
        conn.sendmail(sender, [recipient], data)
    else:
        conn.send_message(message)


def skip_locked() -> bool:
    """Whether the database can hand out queue rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL). SQLite has one
    writer at a time anyway; there the claim stays a compare-and-set per row."""
    return db.session.get_bind().dialect.name == "postgresql"


def lease_skip_locked(model, due, order: tuple, limit: int, values: dict) -> list[int]:
    """PostgreSQL: set ``values`` on up to ``limit`` rows of ``model`` matching ``due`` (first by ``order``), skipping
    rows another transaction holds, in one statement; the ids taken.

    The pick is a ``MATERIALIZED`` common table expression so it runs exactly once. Written as ``UPDATE … WHERE id
    IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` the planner may run the subquery again per row it joins, and each
    run, no longer seeing the rows just leased as due, picks the next n: one claim of 10 took 25 mails in CI."""
    picked = (sa.select(model.id).where(due).order_by(*order).limit(limit).with_for_update(skip_locked=True)
              .cte("picked").prefix_with("MATERIALIZED"))
    return list(db.session.scalars(
        sa.update(model).where(model.id.in_(sa.select(picked.c.id))).values(**values)
        .returning(model.id).execution_options(synchronize_session=False)))


def _mail_due(now: datetime):
    return sa.and_(OutboxMail.status.in_((MailStatus.PENDING, MailStatus.SENDING)), OutboxMail.next_attempt_at <= now)


def _claim(now: datetime, limit: int) -> list[int]:
    """Lease up to ``limit`` due mails, oldest first; each id is ours until the lease runs out.

    PostgreSQL: one statement (``lease_skip_locked``, a ``FOR UPDATE SKIP LOCKED`` pick then UPDATE … RETURNING):
    rows another worker is claiming right now are skipped, not waited on, so several workers take disjoint
    batches side by side. SQLite: read the due ids, then a compare-and-set per row (today's way)."""
    lease = {"status": MailStatus.SENDING, "next_attempt_at": now + LEASE}
    if skip_locked():
        claimed = lease_skip_locked(OutboxMail, _mail_due(now), (OutboxMail.next_attempt_at, OutboxMail.id), limit,
                                    lease)
    else:
        due = db.session.scalars(
            sa.select(OutboxMail.id).where(_mail_due(now))
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit)).all()
        claimed = []
        for mail_id in due:
            res = db.session.execute(sa.update(OutboxMail).where(OutboxMail.id == mail_id, _mail_due(now)).values(**lease))
            if res.rowcount == 1:
                claimed.append(mail_id)
    db.session.commit()
    return sorted(claimed)


def _release(ids: list[int], now: datetime) -> None:
    """Give leased but unsent mails back at once (a worker told to stop): due again, no attempt counted."""
    if ids:
        db.session.execute(sa.update(OutboxMail).where(OutboxMail.id.in_(ids), OutboxMail.status == MailStatus.SENDING,
                                                         OutboxMail.next_attempt_at == now + LEASE)
                           .values(status=MailStatus.PENDING, next_attempt_at=now).execution_options(synchronize_session=False))
        db.session.commit()


_OUTBOX = OutboxMail.__table__
_MARK_SENT = (_OUTBOX.update().where(_OUTBOX.c.id == sa.bindparam("mail_id"))
              .values(attempts=_OUTBOX.c.attempts + 1, status=MailStatus.SENT, sent_at=sa.bindparam("sent_at"), last_error=""))


@contextmanager
def _marking():
    """Where a mail is marked "sent" right after the relay took it: on PostgreSQL a connection of its own in
    autocommit mode that does not wait for the WAL flush, so each mark is one round-trip and no disk wait (a
    crash of the database server may lose the last fraction of a second of marks: those mails go again, with
    the same Message-ID, after their lease, as after a worker crash; the worker's own crash loses no mark).
    Elsewhere (SQLite) the session, one commit per mail."""
    if not skip_locked():
        yield None
        return
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET synchronous_commit TO OFF")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("RESET synchronous_commit")


def deliver_due(now: datetime | None = None, limit: int = 100, stop=None) -> dict:
    """Send what is due, up to ``limit`` mails claimed in one go. Returns counts: sent, retry, failed.

    Each mail is marked in its own short commit right after the relay took it. ``stop`` (a
    ``threading.Event``): once it is set, the mail being sent is finished and the rest of the batch is handed
    back at once for another worker."""
    url = current_app.config.get("SMTP_URL")
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not url:
        return counts  # development without SMTP: mail stays in the outbox (see /dev/mail)
    now = now or utcnow()
    ids = _claim(now, limit)
    if not ids:
        return counts
    # one query for the batch; the messages are built before the first commit expires the rows
    mails = db.session.scalars(sa.select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)
                               .execution_options(populate_existing=True)).all()
    batch = []
    for mail in mails:
        try:
            batch.append((mail.id, _wire_message(mail), None))
        except Exception as exc:  # noqa: BLE001 - a row that cannot be written as a mail fails alone
            batch.append((mail.id, None, exc))
    db.session.commit()  # nothing is held open while sending
    with _marking() as marks:
        conn = _send_batch(url, batch, marks, now, counts, stop)
    if conn is not None:
        try:
            conn.quit()
        except smtplib.SMTPException:
            pass
    return counts


def _send_batch(url: str, batch: list, marks, now: datetime, counts: dict, stop) -> smtplib.SMTP | None:
    """Send the built messages of a claimed batch over one SMTP connection; returns the connection, still open."""
    conn = None
    for position, (mail_id, message, error) in enumerate(batch):
        if stop is not None and stop.is_set():
            _release([left[0] for left in batch[position:]], now)
            break
        try:
            if error is not None:
                raise error
            if conn is None:
                conn = _smtp_connection(url)
            _send(conn, message)
        except Exception as exc:  # noqa: BLE001 - one bad mail must not strand the rest of its batch
            log.warning("mail %s not sent: %s: %s", mail_id, type(exc).__name__, exc)
            if conn is not None and error is None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - already failing; the row records the real error
                    pass
                conn = None
            mail = db.session.get(OutboxMail, mail_id, populate_existing=True)
            mail.attempts += 1
            counts[record_failure(mail, exc, now, max_attempts=MAX_ATTEMPTS, due_field="next_attempt_at")] += 1
            db.session.commit()
        else:
            if marks is not None:
                marks.execute(_MARK_SENT, {"mail_id": mail_id, "sent_at": utcnow()})
            else:
                db.session.execute(_MARK_SENT, {"mail_id": mail_id, "sent_at": utcnow()})
                db.session.commit()
            counts["sent"] += 1
    return conn


def mail_everyone(progress, send_one, batch: int = 500, only=()) -> None:
    """Mail every active person once, in batches, for a broadcast (policy change, notice).

    ``progress`` is a row with ``last_user_id``, ``mailed`` and ``finished_at``; it moves in the same
    transaction as each batch's mail, so a worker killed half-way is resumed without mailing anyone twice.
    ``send_one(user_id, email, name, locale)`` queues one person's mail (in their language). ``only``: further
    conditions on ``User`` for a broadcast to some people (a sub-processor change: the companies' admins).
    """
    while progress.finished_at is None:
        people = db.session.execute(
            sa.select(User.id, User.email, User.name, User.locale).where(User.id > progress.last_user_id, User.status == UserStatus.ACTIVE, *only)
            .order_by(User.id).limit(batch)).all()
        if not people:
            progress.finished_at = utcnow()
            db.session.commit()
            break
        for person_id, email, name, locale in people:
            send_one(person_id, email, name, locale)
        progress.last_user_id = people[-1][0]
        progress.mailed += len(people)
        db.session.commit()


# "://", "www." and a dot between two words (also the full-width and ideographic dots some clients accept)
_LINKISH = re.compile(r"(?i)(://|\bwww[.\u3002\uff0e\uff61]|(?<=[\w-])[.\u3002\uff0e\uff61](?=[a-z][a-z0-9-]*\b))")


def customer_text(value, limit: int = 120) -> str:
    """Text a customer typed (a company name, a person's name) made safe for the body of a plain-text
    mail: one line, at most ``limit`` characters, and nothing a mail client would turn into a link
    (``evil.example/login`` becomes ``evil[.]example/login``). Never put it into a subject."""
    text = " ".join(str(value or "").split())[:limit]
    return _LINKISH.sub(lambda m: "[:]//" if m.group(1) == "://" else m.group(1)[:-1] + "[.]", text)
