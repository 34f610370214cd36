"""OpenID Connect log-in: ``/sso/oidc/<key>/start`` and the callback ``/sso/oidc/callback``."""
from __future__ import annotations

from flask import abort

from leadthe.sso import bp


@bp.route("/sso/oidc/<key>/start")
def oidc_start(key):
    abort(404)


@bp.route("/sso/oidc/callback")
def oidc_callback():
    abort(404)
