"""Fingerprinted static URLs: /static/css/app.css?v=<content hash>, cached for a year as immutable."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from leadthe.template_speed import url_for

_hashes: dict[str, str] = {}
SERVICE_WORKER = "js/sw.js"


def _file_hash(app: Flask, filename: str) -> str:
    if filename not in _hashes or app.debug:
        path = Path(app.static_folder) / filename
        _hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _hashes[filename]


class _SessionInterface(SecureCookieSessionInterface):
    """Static files never read or write the session, so shared caches may keep them (no Vary: Cookie)."""

    def save_session(self, app, session, response):
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_static(app: Flask) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.session_interface = _SessionInterface()

    @app.template_global()
    def static_url(filename: str) -> str:
        return url_for("static", filename=filename, v=_file_hash(app, filename))

    @app.after_request
    def _long_cache_for_fingerprinted(response):
        if request.endpoint == "static" and request.args.get("v") and response.status_code in (200, 304):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers.pop("Expires", None)
        if request.endpoint == "static" and (request.view_args or {}).get("filename") == SERVICE_WORKER:
            # registered with scope "/" (issue 22) although the script lives under /static/js/
            response.headers["Service-Worker-Allowed"] = "/"
        return response
