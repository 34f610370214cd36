"""First-party usage analytics: page views, only through the one gate (leadthe.consent.services).

What is stored is deliberately coarse: the feature and URL rule (no ids, no query strings), the referrer
reduced to an in-site rule or an outside host, browser/OS/device family (ua-parser), the country from an
offline table (iptocc, no network look-up) and the IP truncated to its network.
"""
from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, request
from flask_login import current_user

from leadthe.database import write_transaction
from leadthe.models.consent import PageView

log = logging.getLogger(__name__)

SKIP_ENDPOINTS = {"static", "core.healthz", "courses.heartbeat"}


def truncate_ip(ip: str) -> str:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def country_of(ip: str) -> str:
    try:
        import iptocc

        return (iptocc.country_code(ip) or "")[:2]
    except (ValueError, TypeError):
        return ""


@lru_cache(maxsize=2048)
def parse_agent(ua: str) -> tuple[str, str, str]:
    from ua_parser import parse

    result = parse(ua or "")
    browser = result.user_agent.family if result.user_agent else "Other"
    os_name = result.os.family if result.os else "Other"
    lowered = (ua or "").lower()
    device = "mobile" if ("mobi" in lowered or "android" in lowered) else "tablet" if ("ipad" in lowered or "tablet" in lowered) else "desktop"
    if "bot" in lowered or "spider" in lowered or "crawl" in lowered:
        device = "bot"
    return browser[:40], os_name[:40], device


def _referrer() -> str:
    ref = request.referrer or ""
    if not ref:
        return ""
    parts = urlsplit(ref)
    if parts.netloc == request.host:
        from flask import current_app

        try:
            endpoint, _ = current_app.url_map.bind(request.host).match(parts.path)
            return f"site:{endpoint}"[:200]
        except Exception:  # noqa: BLE001 - an unknown in-site path is still in-site
            return "site:other"
    return (parts.hostname or "")[:200]


def record_page_view(response):
    if (
        request.method != "GET"
        or request.endpoint in SKIP_ENDPOINTS
        or request.endpoint is None
        or response.status_code != 200
        or response.mimetype != "text/html"
    ):
        return response
    from leadthe.consent.services import ANALYTICS_COOKIE, may_record_analytics

    user = current_user if current_user and current_user.is_authenticated else None
    try:
        if not may_record_analytics(user):
            return response
        browser, os_name, device = parse_agent(request.user_agent.string or "")
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
