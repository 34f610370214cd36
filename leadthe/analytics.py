"""First-party usage analytics: page views, only through the one gate (leadthe.consent.services).

What is stored is deliberately coarse: the feature and URL rule (no ids, no query strings), the referrer
reduced to an in-site rule or an outside host, browser/OS/device family (ua-parser), the country from an
offline table (iptocc, no network look-up) and the IP truncated to its network.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import iptocc
import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_login import current_user

from leadthe.account.security import UNKNOWN_BROWSER, UNKNOWN_OS, approximate_network, parse_agent
from leadthe.consent.services import ANALYTICS_COOKIE, may_record_analytics
from leadthe.database import write_transaction
from leadthe.models.consent import PageView

log = logging.getLogger(__name__)

SKIP_ENDPOINTS = {"static", "core.healthz", "courses.heartbeat", "ops.metrics"}
# The practice lab's own routes (``/courses/<slug>/lessons/<lesson>/lab/…``) are the answer's polling, its
# fragments and the prompt's posts: not page views. An exercise is counted as its lesson's page view, and
# the lab's figures are counts and scores (``LabUsage``), never its URLs or prompts.
SKIP_BLUEPRINTS = {"lab"}


def truncate_ip(ip: str) -> str:
    """The network part only (IPv4 /24, IPv6 /48), shared with the sessions page."""
    network = approximate_network(ip)
    return "" if network == "unknown" else network.split("/")[0]


def country_of(ip: str) -> str:
    try:
        return (iptocc.country_code(ip) or "")[:2]
    except (ValueError, TypeError):
        return ""


def agent_families(ua: str) -> tuple[str, str, str]:
    """Browser family, OS family and device type, from the same parser the sessions page uses."""
    device = parse_agent(ua or "")
    lowered = (ua or "").lower()
    kind = "bot" if any(w in lowered for w in ("bot", "spider", "crawl")) else "mobile" if device.mobile else "desktop"
    browser = "Other" if device.browser == UNKNOWN_BROWSER else device.browser
    os_name = "Other" if device.os == UNKNOWN_OS else device.os
    return browser[:40], os_name[:40], kind


def _referrer() -> str:
    ref = request.referrer or ""
    if not ref:
        return ""
    parts = urlsplit(ref)
    if parts.netloc == request.host:
        try:
            endpoint, _ = current_app.url_map.bind(request.host).match(parts.path)
            return f"site:{endpoint}"[:200]
        except Exception:  # noqa: BLE001 - an unknown in-site path is still in-site
            return "site:other"
    return (parts.hostname or "")[:200]


def not_a_page_view() -> None:
    """Called by a view whose GET answer is not someone looking at a page (a no-JavaScript refresh while a
    lab answer arrives, say), so it is not counted."""
    g.not_a_page_view = True


def is_page_view(response) -> bool:
    """A page someone looked at: a GET answered with HTML, not a poll, a fragment of the lab or a health check."""
    return (
        request.method == "GET"
        and request.endpoint is not None
        and request.endpoint not in SKIP_ENDPOINTS
        and request.blueprint not in SKIP_BLUEPRINTS
        and not g.get("not_a_page_view")
        and response.status_code == 200
        and response.mimetype == "text/html"
    )


def record_page_view(response):
    if not is_page_view(response):
        return response

    user = current_user if current_user and current_user.is_authenticated else None
    try:
        if not may_record_analytics(user):
            return response
        browser, os_name, device = agent_families(request.user_agent.string or "")
        rule = request.url_rule.rule if request.url_rule else request.path
        ip = request.remote_addr or ""
        with write_transaction() as conn:
            conn.execute(sa.insert(PageView).values(
                org_id=getattr(user, "org_id", None), user_id=getattr(user, "id", None),
                visitor_id=(request.cookies.get(ANALYTICS_COOKIE) or "")[:32],
                feature=(request.blueprint or "site")[:40], route=rule[:120], referrer=_referrer(),
                browser=browser, os=os_name, device=device, country=country_of(ip), ip_prefix=truncate_ip(ip),
            ))
    except Exception:  # noqa: BLE001 - analytics must never break a page
        log.exception("page view not recorded")
    return response


def init_analytics(app: Flask) -> None:
    app.after_request(record_page_view)
