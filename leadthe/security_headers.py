"""Headers sent with every response."""
from __future__ import annotations

from flask import Flask, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'none'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
])

# The one kind of page the browser may store (the service worker's offline copies), and only as it sets it.
OFFLINE_COPY = "courses.offline_lesson"
OFFLINE_CACHE = "private, no-cache"

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()"
)


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = PERMISSIONS_POLICY
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        if app.config.get("HSTS"):
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint == OFFLINE_COPY and h.get("Cache-Control") == OFFLINE_CACHE:
            # the offline copy of a lesson (issue 22, leadthe/courses/offline.py): nothing personal and no CSRF
            # token, so the browser's service worker may keep it; revalidated with its ETag on every use
            response.vary.add("HX-Request")
        elif request.endpoint != "static":
            # Pages can hold personal data and carry a CSRF token: never stored by the browser or a proxy.
            h["Cache-Control"] = "no-store"
            response.vary.add("HX-Request")
        return response
