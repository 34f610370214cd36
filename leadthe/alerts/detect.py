"""The detectors behind the security alerts (issue 23).

Why at the moment of the event, and not a job reading the audit log every minute: the events that matter are
already written apart from their request (``audit.record_apart``: a failed log-in's request is rolled back, a
SCIM request's use is stamped apart), so a watcher on that same short transaction sees each event as it is
written, with its id, at the cost of one or two indexed statements; an alert reaches staff within the request
that completed the burst, with no worker needed and no scan of the whole log. Each check reads only rows of one
network or one account:

1. ``login.burst``: every ``login.failed`` adds a row to ``security_signal`` (network, the account tried: its id,
   or the fingerprint of an address without an account). Once ``SECURITY_LOGIN_BURST_ACCOUNTS`` (20) distinct
   accounts failed within ``SECURITY_ALERT_WINDOW_MINUTES`` (10) from one /24 (IPv4) or /64 (IPv6): one alert.
2. ``tenancy.miss_burst``: every 404 for a row of another company (``leadthe.tenancy``) is the audit event
   ``tenancy.cross_company_miss`` of the signed-in account; ``SECURITY_MISS_BURST`` (10) within the window: an
   alert (counted on the audit log's ``actor_id`` index).
3. ``credential.new_network``: a SCIM token's first use records its network; a later use from another network
   records it too and raises an alert (and the audit event ``credential.new_network`` in the company's log).

While an alert of the same kind and network (or account) is not closed and saw an event within the window,
further events update its ``count`` and ``last_seen`` and add their audit event ids: no second alert, no second
mail. On PostgreSQL a transaction-level advisory lock per network/account serialises the check, so two
requests finishing a burst at once raise one alert; SQLite's write lock does the same.

Everything here runs on the connection of ``write_apart`` (Core statements on the tables): the alerts are
platform-wide, never a company's rows seen through a tenant.
"""
from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from leadthe import audit
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.mail import mail_values
from leadthe.models import AuditEvent, OutboxMail, utcnow
from leadthe.models.alerts import CredentialNetwork, SecurityAlert, SecuritySignal
from leadthe.net import absolute_url
from leadthe.signals import cross_company_miss
from leadthe.tenancy import unscoped

LOGIN_BURST = "login.burst"
MISS_BURST = "tenancy.miss_burst"
NEW_NETWORK = "credential.new_network"
MISS_ACTION = "tenancy.cross_company_miss"  # the audit event of one such 404
LOGIN_FAILED = "login.failed"
MAX_EVENTS = 200  # audit event ids kept on one alert (the first ones and then the latest)
_STAMP_EVERY = timedelta(hours=1)  # a known network's last use is refreshed at most this often

KINDS = {
    LOGIN_BURST: _l("Failed log-ins for many accounts from one network"),
    MISS_BURST: _l("Many requests for other companies' records from one account"),
    NEW_NETWORK: _l("SCIM token used from a new network"),
}
CREDENTIALS = {"scim_token": _l("SCIM token")}
_log = logging.getLogger(__name__)


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to, as text; "" for something that is not an address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False))


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _window() -> timedelta:
    return timedelta(minutes=_setting("SECURITY_ALERT_WINDOW_MINUTES", 10))


def _lock(conn, key: str) -> None:
    """Serialise the check for one network or account (PostgreSQL; SQLite's write transaction already is)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))


_ALERT = SecurityAlert.__table__


def _bump_open(conn, kind: str, now, event_id: int, **match) -> bool:
    """Count the event on the kind's alert for this network/account that is not closed and saw an event within
    the window; False when there is none."""
    row = conn.execute(
        sa.select(_ALERT.c.id, _ALERT.c.details).where(
            _ALERT.c.kind == kind, _ALERT.c.status != "closed", _ALERT.c.last_seen >= now - _window(),
            *(_ALERT.c[name] == value for name, value in match.items()))
        .order_by(_ALERT.c.id.desc()).limit(1)).first()
    if row is None:
        return False
    details = dict(row.details or {})
    ids = list(details.get("event_ids", []))
    ids.append(event_id)
    details["event_ids"] = ids[:MAX_EVENTS // 2] + ids[MAX_EVENTS // 2:][-(MAX_EVENTS // 2):] if len(ids) > MAX_EVENTS else ids
    conn.execute(sa.update(_ALERT).where(_ALERT.c.id == row.id)
                 .values(count=_ALERT.c.count + 1, last_seen=now, details=details))
    return True


def _raise(conn, kind: str, *, now, first_seen, count: int, event_ids: list[int], org_id=None, network: str = "",
           actor_id=None, **extra) -> int:
    """A new open alert and its mail to the staff alert mailbox (no customer text in it); its id."""
    details = {"event_ids": [i for i in event_ids if i is not None][:MAX_EVENTS], **extra}
    alert_id = conn.execute(sa.insert(_ALERT).values(
        kind=kind, org_id=org_id, network=network, actor_id=actor_id, actor_ref="", first_seen=first_seen or now,
        last_seen=now, count=count, status="open", details=details).returning(_ALERT.c.id)).scalar_one()
    what = KINDS[kind]
    conn.execute(sa.insert(OutboxMail), [mail_values(
        current_app.config.get("SECURITY_ALERT_EMAIL") or current_app.config.get("SUPPORT_EMAIL", "support@leadthe.ai"),
        _l("Security alert #%(num)s: %(what)s", num=alert_id, what=what), "security_alert", kind="security_alert",
        locale="en", what=what, count=count, first_seen=first_seen or now, last_seen=now,
        company=org_id, link=absolute_url("alerts_staff.security_alert", alert_id=alert_id))])
    return alert_id


# --- 1. failed log-ins across many accounts from one network ------------------------------------------------

def _on_login_failed(conn, event_id: int, values: dict) -> None:
    network = network_of(values.get("ip", ""))
    if not network:
        return
    details = values.get("details") or {}
    account = f"u{values['subject_id']}" if values.get("subject_id") else f"e{details.get('email_hash', '')}"
    now = utcnow()
    conn.execute(sa.insert(SecuritySignal.__table__).values(kind=LOGIN_FAILED, network=network, account_key=account,
                                                             audit_event_id=event_id, created_at=now))
    _lock(conn, f"{LOGIN_BURST}:{network}")
    if _bump_open(conn, LOGIN_BURST, now, event_id, network=network):
        return
    sig = SecuritySignal.__table__
    recent = (sig.c.kind == LOGIN_FAILED, sig.c.network == network, sig.c.created_at >= now - _window())
    accounts, failures, first = conn.execute(
        sa.select(sa.func.count(sa.distinct(sig.c.account_key)), sa.func.count(), sa.func.min(sig.c.created_at))
        .where(*recent)).one()
    if accounts < _setting("SECURITY_LOGIN_BURST_ACCOUNTS", 20):
        return
    event_ids = list(conn.scalars(sa.select(sig.c.audit_event_id).where(*recent).order_by(sig.c.id).limit(MAX_EVENTS)))
    _raise(conn, LOGIN_BURST, now=now, first_seen=first, count=failures, event_ids=event_ids, network=network,
           accounts=accounts)


# --- 2. 404s on other companies' ids from one account ---------------------------------------------------------

def _on_cross_company_miss(table: str, object_id: int, owner_org_id: int) -> None:
    """``leadthe.tenancy`` answered 404 for another company's row: the signed-in account's audit event (written
    apart: the 404 is a refused request). Staff have no company and see every company's rows anyway."""
    if not has_request_context() or not current_user.is_authenticated or current_user.is_platform_staff:
        return
    audit.record_apart(MISS_ACTION, actor=current_user, record=table, record_id=object_id)


def _on_miss_recorded(conn, event_id: int, values: dict) -> None:
    actor_id = values.get("actor_id")
    if actor_id is None:
        return
    now = utcnow()
    _lock(conn, f"{MISS_BURST}:{actor_id}")
    if _bump_open(conn, MISS_BURST, now, event_id, actor_id=actor_id):
        return
    ev = AuditEvent.__table__
    recent = (ev.c.actor_id == actor_id, ev.c.action == MISS_ACTION, ev.c.created_at >= now - _window())
    misses, first = conn.execute(sa.select(sa.func.count(), sa.func.min(ev.c.created_at)).where(*recent)).one()
    if misses < _setting("SECURITY_MISS_BURST", 10):
        return
    event_ids = list(conn.scalars(sa.select(ev.c.id).where(*recent).order_by(ev.c.id).limit(MAX_EVENTS)))
    _raise(conn, MISS_BURST, now=now, first_seen=first, count=misses, event_ids=event_ids,
           org_id=values.get("org_id"), network=network_of(values.get("ip", "")), actor_id=actor_id)


# --- 3. a credential used from a new network ------------------------------------------------------------------

def credential_used(conn, kind: str, credential_id: int, org_id: int, event_id: int | None, ip: str) -> None:
    """After a request authenticated by a company's credential (``kind`` "scim_token"), on the connection that
    wrote its audit event: the first use records the network; a network not seen before for this credential
    is recorded and raises ``credential.new_network``. Never fails the caller."""
    try:
        with conn.begin_nested():
            _check_network(conn, kind, credential_id, org_id, event_id, network_of(ip))
    except Exception:  # noqa: BLE001 - the request's own audit event and token stamp must stay
        _log.exception("credential network check failed")


def _check_network(conn, kind: str, credential_id: int, org_id: int, event_id: int | None, network: str) -> None:
    if not network:
        return
    cn = CredentialNetwork.__table__
    mine = (cn.c.kind == kind, cn.c.credential_id == credential_id)
    now = utcnow()
    seen = conn.execute(sa.select(cn.c.id, cn.c.last_seen).where(*mine, cn.c.network == network)).first()
    if seen is not None:
        if now - seen.last_seen > _STAMP_EVERY:
            conn.execute(sa.update(cn).where(cn.c.id == seen.id).values(last_seen=now))
        return
    known = conn.scalar(sa.select(sa.func.count()).select_from(cn).where(*mine))
    added = conn.execute(upsert(cn, conn).values(org_id=org_id, kind=kind, credential_id=credential_id, network=network,
                                                 first_seen=now, last_seen=now)
                         .on_conflict_do_nothing(index_elements=["kind", "credential_id", "network"]))
    if not known or not added.rowcount:  # the first use, or another request recorded it a moment ago
        return
    new_event = audit.record_apart(NEW_NETWORK, org_id=org_id, conn=conn, credential=kind, credential_id=credential_id)
    _raise(conn, NEW_NETWORK, now=now, first_seen=now, count=1, event_ids=[event_id, new_event], org_id=org_id,
           network=network, credential=kind, credential_id=credential_id)


# --- the staff console's badge ---------------------------------------------------------------------------------

def open_count() -> int:
    """Open alerts (not yet acknowledged), once per request: the staff navigation shows it on every page."""
    if "open_security_alerts" not in g:
        try:
            g.open_security_alerts = db.session.scalar(unscoped(
                sa.select(sa.func.count()).select_from(SecurityAlert).where(SecurityAlert.status == "open"),
                reason="platform staff: the alerts are platform-wide")) or 0
        except SQLAlchemyError:  # an error page while the database is failing still renders, without the badge
            g.open_security_alerts = 0
    return g.open_security_alerts


def connect_signals() -> None:
    """At app start-up (create_app): the audit watchers and the tenancy's 404 report."""
    audit.watch(LOGIN_FAILED, _on_login_failed)
    audit.watch(MISS_ACTION, _on_miss_recorded)
    cross_company_miss.connect(_on_cross_company_miss)
