"""The tamper-evident audit log: every audit event is chained to the previous one of its chain by a hash.

There is one chain per company (``org_id``) and one for the platform (``org_id`` NULL).

What is hashed. Erasure pseudonymises audit events (it blanks ``actor_id``, ``subject_id``, ``ip``,
``user_agent`` and ``details`` and sets ``actor_ref``/``subject_ref``), so the chain cannot cover those fields
themselves. When an event is written, ``personal_digest`` takes a keyed digest (HMAC-SHA-256) of them; the
chain covers (previous hash, sequence number, org_id, created_at, action, personal_digest) and never the
refs. Verification recomputes every link from these stored fields, and where an event is not pseudonymised
it also recomputes the digest from the personal fields, so editing a live row's details is found too; a
pseudonymised event must have its personal fields blank.

The key. The digest is keyed so that it cannot be used to guess an erased person's IP address or id (they
are few enough to try them all against a plain hash). The key is derived from ``SECRET_KEY`` with a label of
its own (the data key encrypts columns and is meant to rotate routinely; SECRET_KEY rarely changes). The
digest starts with the key's id: after SECRET_KEY changes, old digests cannot be rechecked against their
fields (verify counts them as "not checkable"), but every link of the chain still verifies, since the links
cover the stored digest, not the key.

Writing without deadlocks or forks. ``leadthe.audit.record`` (in the request's transaction) and
``record_apart`` (a short transaction of its own, possibly in the same request) write events *unchained*,
with only their digest: no writer ever takes a lock for the chain, so the two can never wait on each other.
``seal`` then chains them: in its own short transaction, under a single lock (a transaction-level advisory
lock on PostgreSQL; SQLite's write lock, ``BEGIN IMMEDIATE``), it appends each chain's unsealed events in id
order after the chain's head (``AuditChainHead``), assigning the next sequence number and hash, and moves the
head. Only one sealer runs at a time, so a chain cannot fork. It seals only events older than a safety window
(``AUDIT_SEAL_DELAY_SECONDS``, default 60): an event whose transaction commits late (a lower id committed after
a higher one) is then usually still in order, and if not it is simply appended later, never lost. The worker
seals every minute (job "audit.seal"); ``leadthe audit verify`` seals before verifying. Events not yet sealed
(at most a minute or two old) are not covered yet.

What verification finds: an edited action, time or digest (the link's hash), edited personal fields of a
live event (the digest), a removed event or events moved around (the next event's link to its predecessor,
or the sequence numbers), events cut off the end (the chain's head). The oldest events of a chain are removed
by retention (two years): a chain may therefore begin after sequence number 1, which is not reported. A
company can download its chain's head (``/admin/audit/chain-head.json``) and later check that the same event
still has the same hash.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from leadthe.database import write_transaction
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import AuditChainHead, AuditEvent
from leadthe.models.base import utcnow
from leadthe.tenancy import unscoped

GENESIS = "0" * 64  # the "previous hash" of a chain's first event
_LOCK_ID = 0x4C544143  # the advisory lock of the sealer (PostgreSQL)
_DIGEST_LABEL = b"leadthe-audit-personal-digest-v1"
_BATCH = 2000
RETENTION = timedelta(days=730)  # audit events are removed after two years (leadthe/privacy/retention.py)
BROKEN_ACTION = "audit.chain_broken"

_EV = AuditEvent.__table__
_HEAD = AuditChainHead.__table__


def _digest_key() -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), _DIGEST_LABEL, hashlib.sha256).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def personal_digest(actor_id, subject_id, ip, user_agent, details) -> str:
    """"<key id>:<HMAC>" of an event's personal fields, as written (the chain covers this, not the fields)."""
    key = _digest_key()
    body = json.dumps([actor_id, subject_id, ip or "", user_agent or "", details or {}], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{_key_id(key)}:{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"


def chain_name(org_id: int | None) -> str:
    return "platform" if org_id is None else f"org:{org_id}"


def _when(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def link_hash(prev: str, seq: int, org_id: int | None, created_at: datetime, action: str, digest: str) -> str:
    body = json.dumps([prev, seq, org_id, _when(created_at), action, digest], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


# --- sealing -----------------------------------------------------------------------------------------------

def _delay() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("AUDIT_SEAL_DELAY_SECONDS", 60)))


def seal(*, delay: timedelta | None = None) -> int:
    """Chain every unsealed event older than the safety window; returns how many were sealed."""
    cutoff = utcnow() - (_delay() if delay is None else delay)
    total = 0
    while True:
        count = _seal_batch(cutoff)
        total += count
        if count < _BATCH:
            return total


def _seal_batch(cutoff: datetime) -> int:
    with write_transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_ID})
        rows = conn.execute(
            sa.select(_EV.c.id, _EV.c.org_id, _EV.c.created_at, _EV.c.action, _EV.c.personal_digest, _EV.c.actor_id,
                      _EV.c.subject_id, _EV.c.ip, _EV.c.user_agent, _EV.c.details)
            .where(_EV.c.chain_seq.is_(None), _EV.c.created_at <= cutoff).order_by(_EV.c.id).limit(_BATCH)).all()
        if not rows:
            return 0
        heads = {h.chain: {"seq": h.seq, "hash": h.hash} for h in conn.execute(sa.select(_HEAD.c.chain, _HEAD.c.seq, _HEAD.c.hash))}
        known = set(heads)
        updates, now = [], utcnow()
        for row in rows:
            name = chain_name(row.org_id)
            head = heads.setdefault(name, {"seq": 0, "hash": GENESIS})
            # events written before the chain existed get their digest now (backfill)
            digest = row.personal_digest or personal_digest(row.actor_id, row.subject_id, row.ip, row.user_agent, row.details)
            seq = head["seq"] + 1
            new_hash = link_hash(head["hash"], seq, row.org_id, row.created_at, row.action, digest)
            updates.append({"b_id": row.id, "b_seq": seq, "b_prev": head["hash"], "b_hash": new_hash, "b_digest": digest})
            head.update(seq=seq, hash=new_hash, event_id=row.id, created_at=row.created_at, org_id=row.org_id)
        conn.execute(sa.update(_EV).where(_EV.c.id == sa.bindparam("b_id")).values(
            chain_seq=sa.bindparam("b_seq"), chain_prev=sa.bindparam("b_prev"), chain_hash=sa.bindparam("b_hash"),
            personal_digest=sa.bindparam("b_digest")), updates)
        moved = [{"b_chain": name, "b_org": h["org_id"], "b_seq": h["seq"], "b_hash": h["hash"], "b_event": h["event_id"],
                  "b_created": h["created_at"], "b_now": now} for name, h in heads.items() if "event_id" in h]
        fresh = [m for m in moved if m["b_chain"] not in known]
        if fresh:
            conn.execute(sa.insert(_HEAD), [{"chain": m["b_chain"], "org_id": m["b_org"], "seq": m["b_seq"], "hash": m["b_hash"],
                                             "event_id": m["b_event"], "event_created_at": m["b_created"], "sealed_at": now}
                                            for m in fresh])
        old = [m for m in moved if m["b_chain"] in known]
        if old:
            conn.execute(sa.update(_HEAD).where(_HEAD.c.chain == sa.bindparam("b_chain")).values(
                seq=sa.bindparam("b_seq"), hash=sa.bindparam("b_hash"), event_id=sa.bindparam("b_event"),
                event_created_at=sa.bindparam("b_created"), sealed_at=sa.bindparam("b_now")), old)
        return len(rows)


# --- verifying ---------------------------------------------------------------------------------------------

@dataclass
class Break:
    chain: str
    event_id: int | None
    seq: int | None
    problem: str

    def describe(self) -> str:
        where = f"event {self.event_id} (sequence {self.seq})" if self.event_id is not None else "chain head"
        return f"chain {self.chain}: {where}: {self.problem}"


@dataclass
class Report:
    chains: int = 0
    events: int = 0
    not_checkable: int = 0
    unsealed: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def _personal_problem(row, key_id: str, key: bytes) -> str | None:
    personal = (row.actor_id, row.subject_id, row.ip or "", row.user_agent or "", row.details or {})
    if row.actor_ref or row.subject_ref:  # pseudonymised by an erasure: the personal fields must be blank
        if personal != (None, None, "", "", {}):
            return "pseudonymised event still holds personal fields"
        return None
    if not row.personal_digest.startswith(key_id + ":"):
        return "not checkable"
    body = json.dumps(list(personal), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if row.personal_digest != f"{key_id}:{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}":
        return "actor, subject, IP address, browser or details changed after the event was written"
    return None


def _link_problem(row, prev) -> str | None:
    if prev is not None and row.chain_seq != prev.chain_seq + 1:
        return f"sequence number {row.chain_seq} follows {prev.chain_seq}: events removed or reordered"
    expected_prev = prev.chain_hash if prev is not None else (GENESIS if row.chain_seq == 1 else row.chain_prev)
    if row.chain_prev != expected_prev:
        return "link to the previous event broken: an event before it was removed, reordered or changed"
    if link_hash(row.chain_prev, row.chain_seq, row.org_id, row.created_at, row.action, row.personal_digest) != row.chain_hash:
        return "action, time or digest changed after sealing (hash does not match)"
    return None


def verify() -> Report:
    """Check every sealed event of every chain and each chain's head; the first break per chain is reported."""
    report, key = Report(), _digest_key()
    key_id = _key_id(key)
    heads = {h.chain: h for h in db.session.scalars(unscoped(sa.select(AuditChainHead), reason="verifying every chain"))}
    report.unsealed = db.session.scalar(sa.select(sa.func.count()).select_from(_EV).where(_EV.c.chain_seq.is_(None)))
    rows = db.session.execute(sa.select(_EV).where(_EV.c.chain_seq.is_not(None))
                              .order_by(sa.func.coalesce(_EV.c.org_id, 0), _EV.c.chain_seq)
                              .execution_options(yield_per=2000))
    broken, last = set(), {}
    expired = utcnow() - RETENTION
    for row in rows:
        name = chain_name(row.org_id)
        report.events += 1
        prev = last.get(name)
        last[name] = row
        if name in broken:
            continue
        problem = _link_problem(row, prev) or _personal_problem(row, key_id, key)
        if problem == "not checkable":
            report.not_checkable += 1
        elif problem:
            broken.add(name)
            report.breaks.append(Break(name, row.id, row.chain_seq, problem))
    for name in sorted(set(heads) | set(last)):
        head, row = heads.get(name), last.get(name)
        if name in broken:
            continue
        if head is None:
            report.breaks.append(Break(name, row.id, row.chain_seq, "chain has no head: the head was removed"))
        elif row is None and head.event_created_at and head.event_created_at <= expired:
            continue  # every event of the chain reached the end of its retention and was removed
        elif row is None or (row.chain_seq, row.chain_hash) != (head.seq, head.hash):
            report.breaks.append(Break(name, head.event_id, head.seq,
                                       "the chain ends before its head: its last events were removed or changed"))
    report.chains = len(set(heads) | set(last))
    return report


# --- the chain head a company can keep ---------------------------------------------------------------------

def chain_head(org_id: int | None) -> dict:
    """The latest sealed link of a chain, as a company downloads it to keep its own copy."""
    head = db.session.scalar(unscoped(sa.select(AuditChainHead).where(AuditChainHead.chain == chain_name(org_id)),
                                      reason="the chain's own head, selected by the company's chain name"))
    return {
        "org_id": org_id, "chain": chain_name(org_id),
        "sequence": head.seq if head else 0, "hash": head.hash if head else GENESIS,
        "event_id": head.event_id if head else None,
        "created_at": head.event_created_at.isoformat() if head and head.event_created_at else None,
        "exported_at": utcnow().isoformat(),
        "verification": ("Keep this file. Later, ask LeadThe.AI to show the audit event with this sequence number "
                         "in your chain: its hash must still be the one above, and `leadthe audit verify` must "
                         "report the chain intact. Each event's hash is SHA-256 over the previous hash, its sequence "
                         "number, company id, time, action and a keyed digest of its personal fields."),
    }


# --- the worker --------------------------------------------------------------------------------------------

def run_seal(job) -> None:
    db.session.commit()  # end the worker's transaction first: on SQLite it holds the write lock seal() needs
    seal()


def _alerted() -> set[tuple]:
    stmt = unscoped(sa.select(AuditEvent.details).where(AuditEvent.action == BROKEN_ACTION),
                    reason="the platform's own alerts about broken chains")
    return {(d.get("chain"), d.get("event_id"), d.get("problem")) for d in db.session.scalars(stmt) if d}


def alert_breaks(report: Report) -> int:
    """Mail platform staff about each break not alerted before, and record it; returns how many were new."""
    done, new = _alerted(), 0
    addresses = sorted({current_app.config.get("SUPPORT_EMAIL", "support@leadthe.ai"),
                        current_app.config.get("DPO_EMAIL", "dpo@leadthe.ai")})
    for brk in report.breaks:
        if (brk.chain, brk.event_id, brk.problem) in done:
            continue
        new += 1
        with force_locale("en"):  # the staff mailboxes read English
            for address in addresses:
                queue_mail(address, f"Audit log chain broken ({brk.chain})", "audit_chain_broken",
                           kind="audit_staff", description=brk.describe())
        # a platform event (no company): the alert is about the log itself (leadthe.audit imports this module)
        db.session.add(AuditEvent(**_alert_fields(brk)))
    return new


def _alert_fields(brk: Break) -> dict:
    details = {"chain": brk.chain, "event_id": brk.event_id, "problem": brk.problem}
    return {"action": BROKEN_ACTION, "org_id": None, "details": details,
            "personal_digest": personal_digest(None, None, "", "", details)}


def run_verify(job) -> None:
    """Daily: seal, verify every chain, and alert staff once per break."""
    db.session.commit()  # as in run_seal
    seal()
    alert_breaks(verify())
